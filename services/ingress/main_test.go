package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gallerysync.dev/libs/testkit"
	"gallerysync.dev/libs/wix/wixtest"
)

// TestRunServesUntilCancelled wires the real pieces from flags and
// environment, serves a probe, and stops cleanly when the context ends.
func TestRunServesUntilCancelled(t *testing.T) {
	n := testkit.StartNATS(t)
	key := wixtest.GenerateKey(t)
	keyFile := filepath.Join(t.TempDir(), "wix.pem")
	if err := os.WriteFile(keyFile, wixtest.PublicKeyPEM(t, &key.PublicKey), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))
	env := map[string]string{"GALLERYSYNC_NATS_URL": n.URL(), "GALLERYSYNC_WIX_PUBLIC_KEY_FILE": keyFile}
	args := []string{"-http-addr", addr, "-log-level", "warn"}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }) }()
	t.Cleanup(cancel)

	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("run returned before serving: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not 200 within 30s (last error %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run = %v, want nil on a clean stop", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return within 30s of cancellation")
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
	}{
		{"no key", []string{"-nats-url", "nats://127.0.0.1:1"}},
		{"unknown flag", []string{"-no-such-flag"}},
		{"bad log level", []string{"-log-level", "loud", "-wix-public-key", "x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := run(context.Background(), tc.args, func(string) string { return "" }); err == nil {
				t.Fatal("run accepted bad configuration")
			}
		})
	}
}
