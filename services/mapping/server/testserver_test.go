package server

import (
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/seal"
	"gallerysync.dev/services/mapping/store"
	"gallerysync.dev/services/mapping/store/boltstore"
)

func newKey(t *testing.T) string {
	t.Helper()
	key := make([]byte, seal.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(key)
}

func newSealer(t *testing.T, encoded string) *seal.Sealer {
	t.Helper()
	key, err := seal.DecodeKey(encoded)
	if err != nil {
		t.Fatal(err)
	}
	s, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

func openBolt(t *testing.T) *boltstore.Store {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "mapping.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// serve runs svc on a real TCP listener and returns a client connected to it.
func serve(t *testing.T, svc *Service) gsv1.MappingServiceClient {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	gsv1.RegisterMappingServiceServer(srv, svc)
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(lis) })
	t.Cleanup(func() {
		srv.GracefulStop()
		wg.Wait()
	})
	return gsv1.NewMappingServiceClient(dial(t, lis.Addr().String()))
}

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// newClient serves a fresh service over an embedded store.
func newClient(t *testing.T) (gsv1.MappingServiceClient, store.Store) {
	t.Helper()
	st := openBolt(t)
	return serve(t, NewService(st, newSealer(t, newKey(t)), testLogger(t))), st
}

func wantCode(t *testing.T, what string, err error, code codes.Code) {
	t.Helper()
	if got := status.Code(err); got != code {
		t.Fatalf("%s: code %v (%v), want %v", what, got, err, code)
	}
}
