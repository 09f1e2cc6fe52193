package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/wix/wixtest"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/ingress/server"
)

// answeringPublisher answers every publish with a fixed result. The real bus
// is covered by the tests above; this one pins down which publish failure
// becomes which status, including the ones a healthy bus never gives.
type answeringPublisher struct {
	res bus.PublishResult
	err error
	// block makes Publish wait for its context to end.
	block bool
}

func (p answeringPublisher) Publish(ctx context.Context, _ *gsv1.ChangeEvent) (bus.PublishResult, error) {
	if p.block {
		<-ctx.Done()
		return bus.PublishResult{}, fmt.Errorf("publish: %w", ctx.Err())
	}
	return p.res, p.err
}

func (p answeringPublisher) Ready() bool { return p.err == nil }

func TestPublishOutcomeStatus(t *testing.T) {
	t.Parallel()
	key := wixtest.GenerateKey(t)
	tests := []struct {
		name   string
		pub    answeringPublisher
		status int
	}{
		{"acked", answeringPublisher{res: bus.PublishResult{Sequence: 7}}, http.StatusOK},
		{"acked duplicate", answeringPublisher{res: bus.PublishResult{Sequence: 7, Duplicate: true}}, http.StatusOK},
		{"bus unavailable", answeringPublisher{err: fmt.Errorf("publish: %w", bus.ErrUnavailable)}, http.StatusServiceUnavailable},
		{"no ack within the publish timeout", answeringPublisher{block: true}, http.StatusServiceUnavailable},
		{"event refused as invalid", answeringPublisher{err: fmt.Errorf("publish: %w", change.ErrInvalid)}, http.StatusBadRequest},
		{"stream refused the message", answeringPublisher{err: errors.New("nats: maximum messages exceeded")}, http.StatusInternalServerError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, err := server.New(server.Config{
				HTTPAddr:        "127.0.0.1:0",
				MaxBodyBytes:    maxBody,
				WixPublicKey:    string(wixtest.PublicKeyPEM(t, &key.PublicKey)),
				PublishTimeout:  100 * time.Millisecond,
				ShutdownTimeout: time.Second,
			}, server.Deps{Publisher: tc.pub})
			if err != nil {
				t.Fatal(err)
			}
			// Served through Handler, so the listener New bound goes unused.
			if err := srv.Close(); err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(srv.Handler())
			t.Cleanup(ts.Close)
			h := &harness{t: t, base: ts.URL, client: ts.Client()}
			ready, _ := h.do(http.MethodGet, "/readyz", nil)
			if (ready == http.StatusOK) != tc.pub.Ready() {
				t.Errorf("/readyz = %d with Ready() %v", ready, tc.pub.Ready())
			}
			if status, text := h.post(hook("ev-status", "item-1").Sign(t, key)); status != tc.status {
				t.Fatalf("status %d %q, want %d", status, text, tc.status)
			}
		})
	}
}
