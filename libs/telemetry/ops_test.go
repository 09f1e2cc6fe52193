package telemetry

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
)

func TestOpsServer(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("m 1\n")) })
	o, err := StartOpsServer("127.0.0.1:0", ready.Load, metrics, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer o.Stop(context.Background())
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + o.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name  string
		ready bool
		path  string
		code  int
	}{
		{"alive", false, "/healthz", 200},
		{"not ready", false, "/readyz", 503},
		{"ready", true, "/readyz", 200},
		{"metrics", false, "/metrics", 200},
		{"unknown", false, "/nope", 404},
	}
	for _, tt := range tests {
		ready.Store(tt.ready)
		if code, body := get(tt.path); code != tt.code {
			t.Errorf("%s: GET %s = %d %q, want %d", tt.name, tt.path, code, body, tt.code)
		}
	}
}
