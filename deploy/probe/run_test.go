package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// startHealth serves the standard gRPC health service on a free loopback
// port; the whole server is SERVING, "up.Service" SERVING and
// "down.Service" NOT_SERVING.
func startHealth(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	h := health.NewServer()
	h.SetServingStatus("up.Service", healthpb.HealthCheckResponse_SERVING)
	h.SetServingStatus("down.Service", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(srv, h)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return ln.Addr().String()
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func TestRun(t *testing.T) {
	t.Parallel()
	grpcAddr := startHealth(t)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz":
			_, _ = w.Write([]byte("ok\n"))
		default:
			http.Error(w, "bus not ready", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(web.Close)
	closed := closedAddr(t)

	tests := []struct {
		name    string
		args    []string
		wantErr error // nil: healthy; errUnhealthy: answered, not healthy; errUsage; other: any error
	}{
		{"http 200", []string{web.URL + "/readyz"}, nil},
		{"http 503", []string{web.URL + "/other"}, errUnhealthy},
		{"http nothing listening", []string{"http://" + closed + "/readyz"}, errAny},
		{"grpc whole server serving", []string{"grpc://" + grpcAddr}, nil},
		{"grpc service serving", []string{"grpc://" + grpcAddr + "/up.Service"}, nil},
		{"grpc service not serving", []string{"grpc://" + grpcAddr + "/down.Service"}, errUnhealthy},
		{"grpc unknown service", []string{"grpc://" + grpcAddr + "/nope.Service"}, errUnhealthy},
		{"grpc nothing listening", []string{"grpc://" + closed}, errAny},
		{"grpc against an http/1 server", []string{"-timeout", "1s", "grpc://" + web.Listener.Addr().String()}, errAny},
		{"no target", nil, errUsage},
		{"two targets", []string{web.URL, web.URL}, errUsage},
		{"relative target", []string{"readyz"}, errUsage},
		{"other scheme", []string{"tcp://127.0.0.1:1"}, errUsage},
		{"bad timeout", []string{"-timeout", "0s", web.URL}, errUsage},
		{"unknown flag", []string{"-x", web.URL}, errUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), tt.args)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("run(%q) = %v, want healthy", tt.args, err)
			case tt.wantErr == errAny && err == nil:
				t.Fatalf("run(%q) = nil, want an error", tt.args)
			case tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("run(%q) = %v, want %v", tt.args, err, tt.wantErr)
			}
		})
	}
}

// errAny stands for "some error" in the table above.
var errAny = errors.New("any error")
