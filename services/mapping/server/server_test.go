package server

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"gallerysync.dev/libs/testkit"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store/boltstore"
)

func embeddedConfig(t *testing.T) Config {
	return Config{
		GRPCAddr: "127.0.0.1:0", Store: StoreEmbedded, DataDir: t.TempDir(),
		SecretKey: newKey(t), ShutdownTimeout: 5 * time.Second,
	}
}

// run starts s.Run and returns a stop function that cancels it and returns
// Run's error.
func run(t *testing.T, s *Server) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var (
		wg     sync.WaitGroup
		runErr error
	)
	wg.Go(func() { runErr = s.Run(ctx) })
	var once sync.Once
	stop = func() error {
		once.Do(func() {
			cancel()
			wg.Wait()
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func healthOf(t *testing.T, conn grpc.ClientConnInterface, service string) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	resp, err := healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		t.Fatalf("health check %q: %v", service, err)
	}
	return resp.Status
}

func TestServerServesAndStops(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cfg := embeddedConfig(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(ctx, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(s.Addr(), ":0") {
		t.Fatalf("Addr %s is not the bound port", s.Addr())
	}
	stop := run(t, s)
	conn := dial(t, s.Addr())

	t.Run("health", func(t *testing.T) {
		for _, service := range []string{"", "gallerysync.v1.MappingService"} {
			if st := healthOf(t, conn, service); st != healthpb.HealthCheckResponse_SERVING {
				t.Fatalf("health of %q is %v, want SERVING", service, st)
			}
		}
	})
	t.Run("reflection", func(t *testing.T) {
		stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(&reflectionpb.ServerReflectionRequest{
			MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
		}); err != nil {
			t.Fatal(err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, svc := range resp.GetListServicesResponse().GetService() {
			names = append(names, svc.Name)
		}
		for _, want := range []string{"gallerysync.v1.MappingService", "grpc.health.v1.Health"} {
			if !slices.Contains(names, want) {
				t.Fatalf("reflection lists %v, want %s among them", names, want)
			}
		}
		_ = stream.CloseSend()
	})

	secret := "token-that-must-stay-secret"
	client := gsv1.NewMappingServiceClient(conn)
	_, err = client.PutConnection(ctx, &gsv1.PutConnectionRequest{Connection: &gsv1.Connection{
		TenantId: "t1", ConnectionId: "c1", Platform: "mastodon", Credentials: []byte(secret),
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := client.GetConnection(ctx, &gsv1.GetConnectionRequest{TenantId: "t1", ConnectionId: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Connection.Credentials) != secret {
		t.Fatalf("credentials round trip gave %q", got.Connection.Credentials)
	}

	if err := stop(); err != nil {
		t.Fatalf("Run returned %v after cancel, want nil", err)
	}
	if _, err := client.GetTenant(ctx, &gsv1.GetTenantRequest{TenantId: "t1"}); status.Code(err) != codes.Unavailable {
		t.Fatalf("call after stop: %v, want Unavailable", err)
	}

	// Run closed the store: the file opens again, with the credentials sealed.
	st, err := boltstore.Open(filepath.Join(cfg.DataDir, "mapping.db"), boltstore.WithOpenTimeout(time.Second))
	if err != nil {
		t.Fatalf("store file after Run: %v", err)
	}
	defer st.Close()
	raw, err := st.GetConnection(ctx, "t1", "c1")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw.Credentials, []byte(secret)) {
		t.Fatal("credentials are stored in clear")
	}
	if strings.Contains(logs.String(), secret) || strings.Contains(logs.String(), cfg.SecretKey) {
		t.Fatalf("logs reveal a secret:\n%s", logs.String())
	}
	if err := s.Run(ctx); !errors.Is(err, ErrRunTwice) {
		t.Fatalf("second Run: %v, want ErrRunTwice", err)
	}
}

func TestShutdownCutsStuckCalls(t *testing.T) {
	t.Parallel()
	cfg := embeddedConfig(t)
	cfg.ShutdownTimeout = 200 * time.Millisecond
	entered := make(chan struct{})
	stuck := grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if info.FullMethod == gsv1.MappingService_GetTenant_FullMethodName {
			close(entered)
			<-ctx.Done() // a call that never finishes on its own
			return nil, ctx.Err()
		}
		return h(ctx, req)
	})
	s, err := New(t.Context(), cfg, testLogger(t), stuck)
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, s)
	client := gsv1.NewMappingServiceClient(dial(t, s.Addr()))
	var (
		wg      sync.WaitGroup
		callErr error
	)
	wg.Go(func() {
		_, callErr = client.GetTenant(context.Background(), &gsv1.GetTenantRequest{TenantId: "t"})
	})
	<-entered
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	wg.Wait()
	if callErr == nil {
		t.Fatal("the stuck call succeeded")
	}
}

func TestServerWithRedis(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := testkit.StartRedis(t)
	cfg := embeddedConfig(t)
	cfg.Store, cfg.RedisAddr = StoreRedis, r.Addr()
	s, err := New(ctx, cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, s)
	conn := dial(t, s.Addr())
	client := gsv1.NewMappingServiceClient(conn)
	if _, err := client.PutTenant(ctx, &gsv1.PutTenantRequest{Tenant: &gsv1.Tenant{TenantId: "t1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.GetTenant(ctx, &gsv1.GetTenantRequest{TenantId: "t1"}); err != nil {
		t.Fatal(err)
	}
	link, err := client.PutLink(ctx, &gsv1.PutLinkRequest{Link: &gsv1.Link{TenantId: "t1", LinkId: "l1", GalleryId: "g1", ConnectionId: "c1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutCursor(ctx, &gsv1.PutCursorRequest{TenantId: "t1", Key: "watch:c1", Value: "109876"}); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name   string
		before func()
		want   healthpb.HealthCheckResponse_ServingStatus
	}{
		{"redis up", func() {}, healthpb.HealthCheckResponse_SERVING},
		{"redis down", r.Kill, healthpb.HealthCheckResponse_NOT_SERVING},
		{"redis back", r.Restart, healthpb.HealthCheckResponse_SERVING},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.before()
			deadline := time.Now().Add(15 * time.Second)
			for {
				s.checkHealth(ctx) // what the periodic watch does
				got := healthOf(t, conn, "")
				if got == st.want {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("health %v, want %v", got, st.want)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	t.Run("watcher state survives the restart", func(t *testing.T) {
		cursor, err := client.GetCursor(ctx, &gsv1.GetCursorRequest{TenantId: "t1", Key: "watch:c1"})
		if err != nil || cursor.Value != "109876" {
			t.Fatalf("cursor after the Redis restart: %v, %v; want 109876", cursor, err)
		}
		scan, err := client.ScanLinks(ctx, &gsv1.ScanLinksRequest{})
		if err != nil || len(scan.Links) != 1 || !proto.Equal(scan.Links[0], link.Link) {
			t.Fatalf("scan after the Redis restart: %v, %v; want only %v", scan, err, link.Link)
		}
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestNewFailsCleanly(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = busy.Close() })
	cases := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no secret key", func(c *Config) { c.SecretKey = "" }, "-secret-key is required"},
		{"short secret key", func(c *Config) { c.SecretKey = "c2hvcnQ=" }, "5 bytes, want 32"},
		{"unknown store", func(c *Config) { c.Store = "postgres" }, `-store "postgres"`},
		{"bad listen address", func(c *Config) { c.GRPCAddr = "nowhere" }, "-grpc-addr"},
		{"no shutdown timeout", func(c *Config) { c.ShutdownTimeout = 0 }, "-shutdown-timeout"},
		{"bad redis address", func(c *Config) { c.Store, c.RedisAddr = StoreRedis, "redis" }, "-redis-addr"},
		{"redis not running", func(c *Config) {
			c.Store, c.RedisAddr = StoreRedis, "127.0.0.1:"+strconv.Itoa(testkit.FreePort(t))
		}, "ping redis"},
		{"port in use", func(c *Config) { c.GRPCAddr = busy.Addr().String() }, "listen on"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := embeddedConfig(t)
			tc.mod(&cfg)
			s, err := New(t.Context(), cfg, testLogger(t))
			if err == nil {
				_ = s.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
			if cfg.SecretKey != "" && strings.Contains(err.Error(), cfg.SecretKey) {
				t.Fatal("error reveals the secret key")
			}
			if cfg.Store == StoreEmbedded {
				// A failed New must not keep the store file locked.
				st, err := boltstore.Open(filepath.Join(cfg.DataDir, "mapping.db"), boltstore.WithOpenTimeout(time.Second))
				if err != nil {
					t.Fatalf("store file still held after failed New: %v", err)
				}
				_ = st.Close()
			}
		})
	}
}

func TestCloseWithoutRun(t *testing.T) {
	t.Parallel()
	cfg := embeddedConfig(t)
	s, err := New(t.Context(), cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The port and the store file are free again.
	l, err := net.Listen("tcp", s.Addr())
	if err != nil {
		t.Fatalf("listen on the closed server's address: %v", err)
	}
	_ = l.Close()
	st, err := boltstore.Open(filepath.Join(cfg.DataDir, "mapping.db"), boltstore.WithOpenTimeout(time.Second))
	if err != nil {
		t.Fatalf("store file still held after Close: %v", err)
	}
	_ = st.Close()
}

func TestFlags(t *testing.T) {
	t.Parallel()
	var cfg Config
	fs := flag.NewFlagSet("mapping", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse([]string{"-store=redis", "-redis-addr=a:1, b:2", "-secret-key=" + newKey(t)}); err != nil {
		t.Fatal(err)
	}
	want := Config{GRPCAddr: "127.0.0.1:9090", Store: StoreRedis, DataDir: ".data/mapping", RedisAddr: "a:1, b:2",
		SecretKey: cfg.SecretKey, ShutdownTimeout: 10 * time.Second}
	if cfg != want {
		t.Fatalf("parsed %+v, want %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if addrs := cfg.redisAddrs(); !slices.Equal(addrs, []string{"a:1", "b:2"}) {
		t.Fatalf("redis addresses %q", addrs)
	}
}
