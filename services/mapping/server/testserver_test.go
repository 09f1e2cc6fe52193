package server

import (
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"gallerysync.dev/libs/testkit"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/seal"
	"gallerysync.dev/services/mapping/store"
	"gallerysync.dev/services/mapping/store/boltstore"
	"gallerysync.dev/services/mapping/store/redisstore"
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

// onEachStore runs test in parallel subtests against a fresh service over
// each backend: the embedded store and a real redis-server.
func onEachStore(t *testing.T, test func(t *testing.T, c gsv1.MappingServiceClient, st store.Store)) {
	t.Helper()
	backends := []struct {
		name string
		open func(t *testing.T) store.Store
	}{
		{"embedded", func(t *testing.T) store.Store { return openBolt(t) }},
		{"redis", func(t *testing.T) store.Store {
			client := redis.NewClient(&redis.Options{Addr: testkit.StartRedis(t).Addr()})
			t.Cleanup(func() { _ = client.Close() })
			return redisstore.New(client)
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			st := b.open(t)
			test(t, serve(t, NewService(st, newSealer(t, newKey(t)), testLogger(t))), st)
		})
	}
}

func wantCode(t *testing.T, what string, err error, code codes.Code) {
	t.Helper()
	if got := status.Code(err); got != code {
		t.Fatalf("%s: code %v (%v), want %v", what, got, err, code)
	}
}
