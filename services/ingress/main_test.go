package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"gallerysync.dev/libs/testkit"
	"gallerysync.dev/libs/wix/wixtest"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
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

// removedTenants is a mapping service that knows one tenant, removed.
type removedTenants struct {
	gsv1.UnimplementedMappingServiceServer
	tenant string
}

func (m removedTenants) GetTenant(_ context.Context, req *gsv1.GetTenantRequest) (*gsv1.GetTenantResponse, error) {
	if req.GetTenantId() != m.tenant {
		return nil, status.Error(codes.NotFound, "no such tenant")
	}
	return &gsv1.GetTenantResponse{Tenant: &gsv1.Tenant{TenantId: m.tenant, State: gsv1.TenantState_TENANT_STATE_REMOVED}}, nil
}

// TestRunAsksMappingAboutTenants wires -mapping-addr to a mapping service
// that knows a removed tenant: its events are acknowledged, not published,
// while another tenant's are published.
func TestRunAsksMappingAboutTenants(t *testing.T) {
	const removed, active = "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a", "9c1e2f4a-7b3d-4c5e-8f60-1a2b3c4d5e6f"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	grpcSrv := grpc.NewServer()
	gsv1.RegisterMappingServiceServer(grpcSrv, removedTenants{tenant: removed})
	served := make(chan error, 1)
	go func() { served <- grpcSrv.Serve(ln) }()
	t.Cleanup(func() {
		grpcSrv.Stop()
		if err := <-served; err != nil {
			t.Errorf("mapping serve: %v", err)
		}
	})

	n := testkit.StartNATS(t)
	key := wixtest.GenerateKey(t)
	addr := fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))
	env := map[string]string{
		"GALLERYSYNC_NATS_URL":       n.URL(),
		"GALLERYSYNC_WIX_PUBLIC_KEY": string(wixtest.PublicKeyPEM(t, &key.PublicKey)),
		"GALLERYSYNC_MAPPING_ADDR":   ln.Addr().String(),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-http-addr", addr, "-log-level", "warn"}, func(k string) string { return env[k] })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run = %v", err)
		}
	})

	post := func(tenant, eventID string) (int, string) {
		now := time.Now().UTC()
		body := wixtest.Webhook{
			EventType:  "wix.pro_gallery.gallery_v2_deleted",
			InstanceID: tenant,
			Event:      wixtest.GalleryEvent("deleted", eventID, "4937b26c-5cf1-4d8e-9a2b-0c1d2e3f4a5b", now),
			IssuedAt:   now,
			ExpiresAt:  now.Add(time.Hour),
		}.Sign(t, key)
		resp, err := http.Post("http://"+addr+"/webhooks/wix", "text/plain", bytes.NewReader(body))
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		text, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(text))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, text := post(active, "ev-active")
		if code == http.StatusOK && text == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("active tenant's webhook: %d %q, want 200 ok within 30s", code, text)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, text := post(removed, "ev-removed"); code != http.StatusOK || text != "ignored" {
		t.Fatalf("removed tenant's webhook: %d %q, want 200 ignored", code, text)
	}
}

// TestRunServesMastodonWebhooksOnlyWithASecret: the receiver answers (here
// 401 to an unsigned body) when -mastodon-webhook-secret is set, and the
// route does not exist otherwise.
func TestRunServesMastodonWebhooksOnlyWithASecret(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	grpcSrv := grpc.NewServer()
	gsv1.RegisterMappingServiceServer(grpcSrv, removedTenants{})
	served := make(chan error, 1)
	go func() { served <- grpcSrv.Serve(ln) }()
	t.Cleanup(func() {
		grpcSrv.Stop()
		if err := <-served; err != nil {
			t.Errorf("mapping serve: %v", err)
		}
	})
	n := testkit.StartNATS(t)
	key := wixtest.GenerateKey(t)
	for _, tc := range []struct {
		name   string
		secret string
		want   int
	}{
		{"with a secret", "s3cret", http.StatusUnauthorized},
		{"without", "", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))
			env := map[string]string{
				"GALLERYSYNC_NATS_URL":                n.URL(),
				"GALLERYSYNC_WIX_PUBLIC_KEY":          string(wixtest.PublicKeyPEM(t, &key.PublicKey)),
				"GALLERYSYNC_MAPPING_ADDR":            ln.Addr().String(),
				"GALLERYSYNC_MASTODON_WEBHOOK_SECRET": tc.secret,
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, []string{"-http-addr", addr, "-log-level", "error"}, func(k string) string { return env[k] })
			}()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("run = %v", err)
				}
			}()
			deadline := time.Now().Add(30 * time.Second)
			for {
				resp, err := http.Post("http://"+addr+"/webhooks/mastodon", "application/json", strings.NewReader(`{"event":"status.created"}`))
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == tc.want {
						return
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("POST /webhooks/mastodon: %v, want status %d within 30s", err, tc.want)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}
