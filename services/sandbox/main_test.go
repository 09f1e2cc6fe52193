package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunServesUntilCancelled(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	env := map[string]string{"GALLERYSYNC_WIX_KEY_FILE": keyFile, "GALLERYSYNC_MASTODON_LIMITS": "unlimited"}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", addr, "-webhook-url", "", "-log-level", "warn"}, func(k string) string { return env[k] })
	}()

	deadline := time.Now().Add(20 * time.Second)
	var index string
	for index == "" {
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v", err)
		default:
		}
		if resp, err := http.Get("http://" + addr + "/"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			index = string(b)
		}
		if time.Now().After(deadline) {
			t.Fatal("sandbox did not come up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(index, "Mountain trail") {
		t.Fatalf("index does not show the seeded demo:\n%s", index)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{name: "bad flag", args: []string{"-no-such-flag"}},
		{name: "bad limits", args: []string{"-mastodon-limits", "strict"}},
		{name: "bad env", env: map[string]string{"GALLERYSYNC_WIX_RATE_LIMIT": "lots"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, func(k string) string { return tt.env[k] })
			if err == nil {
				t.Fatal("run accepted a bad configuration")
			}
		})
	}
}
