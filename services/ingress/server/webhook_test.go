package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.opentelemetry.io/otel/attribute"

	"gallerysync.dev/libs/wix/wixtest"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

func TestSignedWebhookIsPublishedOnce(t *testing.T) {
	t.Parallel()
	h := startIngress(t)
	body := hook("ev-1", "item-1").Sign(t, h.key)

	if status, text := h.post(body); status != http.StatusOK {
		t.Fatalf("first delivery: %d %q, want 200", status, text)
	}
	got := h.stored()
	if len(got) != 1 {
		t.Fatalf("stream holds %d events, want 1", len(got))
	}
	ev := got[0]
	checks := []struct {
		field     string
		got, want any
	}{
		{"event_id", ev.GetEventId(), "wix:ev-1"},
		{"source_event_id", ev.GetSourceEventId(), "ev-1"},
		{"tenant_id", ev.GetTenantId(), testTenant},
		{"origin", ev.GetOrigin(), gsv1.Origin_ORIGIN_WIX},
		{"kind", ev.GetKind(), gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED},
		{"gallery_id", ev.GetGalleryId(), testGallery},
		{"item_id", ev.GetItem().GetItemId(), "item-1"},
		{"title", ev.GetItem().GetTitle(), "Harbour at dawn"},
		{"media_id", ev.GetItem().GetMediaId(), "11062b_item-1~mv2.jpeg"},
		{"identity", ev.GetIdentity().GetType(), gsv1.IdentityType_IDENTITY_TYPE_WIX_USER},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
		}
	}
	if ev.GetItem().GetContentHash() == "" || ev.GetOccurredAt() == nil {
		t.Errorf("event lacks content hash or occurred_at: %v", ev)
	}

	// Wix retries: the same event, signed anew, must not be stored again.
	if status, text := h.post(hook("ev-1", "item-1").Sign(t, h.key)); status != http.StatusOK {
		t.Fatalf("retry: %d %q, want 200", status, text)
	}
	if n := len(h.stored()); n != 1 {
		t.Fatalf("after a retry the stream holds %d events, want 1", n)
	}
	if got := h.counter("gallerysync.ingress.duplicates"); got != 1 {
		t.Errorf("duplicates counter = %d, want 1", got)
	}
	if got := h.counter("gallerysync.ingress.published"); got != 1 {
		t.Errorf("published counter = %d, want 1", got)
	}
	if got := h.counter("gallerysync.ingress.received"); got != 2 {
		t.Errorf("received counter = %d, want 2", got)
	}
}

func TestWebhookSpanNamesTenant(t *testing.T) {
	t.Parallel()
	h := startIngress(t)
	if status, _ := h.post(hook("ev-span", "item-1").Sign(t, h.key)); status != http.StatusOK {
		t.Fatalf("status %d, want 200", status)
	}
	var found bool
	for _, s := range h.spans.Ended() {
		if s.Name() != "POST /webhooks/wix" {
			continue
		}
		found = true
		attrs := attribute.NewSet(s.Attributes()...)
		if v, _ := attrs.Value("gallerysync.tenant_id"); v.AsString() != testTenant {
			t.Errorf("span tenant = %q, want %q", v.AsString(), testTenant)
		}
		if v, _ := attrs.Value("http.response.status_code"); v.AsInt64() != http.StatusOK {
			t.Errorf("span status code = %d, want 200", v.AsInt64())
		}
	}
	if !found {
		t.Fatal("no server span for the webhook")
	}
}

func TestRefusedWebhooksPublishNothing(t *testing.T) {
	t.Parallel()
	h := startIngress(t)
	other := wixtest.GenerateKey(t)
	good := hook("ev-bad", "item-1")
	claims := good.Claims(t)
	pemBytes := wixtest.PublicKeyPEM(t, &h.key.PublicKey)
	brokenEnvelope := wixtest.SignClaims(t, jwt.SigningMethodRS256, h.key, jwt.MapClaims{"data": "{not json"})
	noTenant := good
	noTenant.InstanceID = ""
	expired := good
	expired.ExpiresAt = good.IssuedAt.Add(-24 * time.Hour)
	padded := append(good.Sign(t, h.key), bytes.Repeat([]byte(" "), maxBody)...)

	tests := []struct {
		name   string
		body   []byte
		status int
		reason string
	}{
		{"signed by another key", good.Sign(t, other), http.StatusUnauthorized, "signature"},
		{"alg none", wixtest.SignClaims(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims), http.StatusUnauthorized, "signature"},
		{"HS256 keyed with the public key", wixtest.SignClaims(t, jwt.SigningMethodHS256, pemBytes, claims), http.StatusUnauthorized, "signature"},
		{"expired", expired.Sign(t, h.key), http.StatusUnauthorized, "signature"},
		{"empty body", nil, http.StatusUnauthorized, "signature"},
		{"broken envelope", brokenEnvelope, http.StatusBadRequest, "malformed"},
		{"no instanceId", noTenant.Sign(t, h.key), http.StatusBadRequest, "malformed"},
		{"valid token padded past the limit", padded, http.StatusRequestEntityTooLarge, "too_large"},
		{"oversize garbage", bytes.Repeat([]byte("a"), maxBody+1), http.StatusRequestEntityTooLarge, "too_large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := h.counter("gallerysync.ingress.rejected", attribute.String("reason", tc.reason))
			if status, text := h.post(tc.body); status != tc.status {
				t.Fatalf("status %d %q, want %d", status, text, tc.status)
			}
			if after := h.counter("gallerysync.ingress.rejected", attribute.String("reason", tc.reason)); after != before+1 {
				t.Errorf("rejected{reason=%s} went from %d to %d, want +1", tc.reason, before, after)
			}
		})
	}
	if n := len(h.stored()); n != 0 {
		t.Fatalf("stream holds %d events after refused webhooks, want 0", n)
	}
	// Nothing of a token may reach the logs: not the signature, not the payload.
	logs := h.logs.String()
	for _, tc := range tests {
		for _, part := range strings.Split(string(tc.body), ".") {
			if len(part) > 16 && strings.Contains(logs, part) {
				t.Errorf("logs contain part of the %q body", tc.name)
			}
		}
	}
}

func TestChunkedOversizeBody(t *testing.T) {
	t.Parallel()
	h := startIngress(t)
	// No Content-Length: the limit must hold while reading.
	body := io.MultiReader(bytes.NewReader(hook("ev-chunk", "item-1").Sign(t, h.key)), strings.NewReader(strings.Repeat(" ", maxBody)))
	if status, text := h.do(http.MethodPost, "/webhooks/wix", io.NopCloser(body)); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d %q, want 413", status, text)
	}
	if n := len(h.stored()); n != 0 {
		t.Fatalf("stream holds %d events, want 0", n)
	}
}

func TestUnsupportedEventIsAcknowledged(t *testing.T) {
	t.Parallel()
	h := startIngress(t)
	productCreated := hook("ev-product", "item-1")
	productCreated.EventType = "wix.stores.v1.product_created"
	productCreated.Event = map[string]any{
		"id": "ev-product", "entityFqdn": "wix.stores.v1.product", "slug": "created", "entityId": "p1",
		"eventTime":    "2026-03-01T12:00:00Z",
		"createdEvent": map[string]any{"entity": map[string]any{"id": "p1", "name": "mug"}},
	}
	if status, text := h.post(productCreated.Sign(t, h.key)); status != http.StatusOK || text != "ignored" {
		t.Fatalf("status %d %q, want 200 ignored", status, text)
	}
	if n := len(h.stored()); n != 0 {
		t.Fatalf("stream holds %d events, want 0", n)
	}
	if got := h.counter("gallerysync.ingress.unsupported", attribute.String("event_type", productCreated.EventType)); got != 1 {
		t.Errorf("unsupported{event_type} = %d, want 1", got)
	}
}

func TestOwnAppEventIsPublishedAndMarked(t *testing.T) {
	t.Parallel()
	h := startIngress(t)
	own := hook("ev-own", "item-1")
	own.Identity = map[string]any{"identityType": "APP", "appId": testAppID}
	if status, text := h.post(own.Sign(t, h.key)); status != http.StatusOK {
		t.Fatalf("status %d %q, want 200", status, text)
	}
	got := h.stored()
	if len(got) != 1 || got[0].GetIdentity().GetAppId() != testAppID {
		t.Fatalf("stored %v, want one event carrying our app id", got)
	}
	if n := h.counter("gallerysync.ingress.published", attribute.Bool("own_app", true)); n != 1 {
		t.Errorf("published{own_app=true} = %d, want 1", n)
	}
}

func TestBusOutageAnswers503ThenRecovers(t *testing.T) {
	t.Parallel()
	h := startIngress(t)
	if status, _ := h.do(http.MethodGet, "/readyz", nil); status != http.StatusOK {
		t.Fatalf("/readyz = %d before the outage, want 200", status)
	}

	h.nats.Shutdown()
	body := hook("ev-outage", "item-1").Sign(t, h.key)
	if status, text := h.post(body); status != http.StatusServiceUnavailable {
		t.Fatalf("webhook during outage: %d %q, want 503", status, text)
	}
	waitFor(t, "/readyz to report the outage", func() bool {
		status, _ := h.do(http.MethodGet, "/readyz", nil)
		return status == http.StatusServiceUnavailable
	})
	if got := h.counter("gallerysync.ingress.rejected", attribute.String("reason", "unavailable")); got != 1 {
		t.Errorf("rejected{reason=unavailable} = %d, want 1", got)
	}

	h.nats.Restart()
	waitFor(t, "/readyz to recover", func() bool {
		status, _ := h.do(http.MethodGet, "/readyz", nil)
		return status == http.StatusOK
	})
	// Wix retries the refused event; now it is stored, once.
	if status, text := h.post(body); status != http.StatusOK {
		t.Fatalf("retry after restart: %d %q, want 200", status, text)
	}
	got := h.stored()
	if len(got) != 1 || got[0].GetEventId() != "wix:ev-outage" {
		t.Fatalf("stream holds %v, want only wix:ev-outage", got)
	}
}

func TestProbesAndMethods(t *testing.T) {
	t.Parallel()
	h := startIngress(t)
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{http.MethodGet, "/healthz", http.StatusOK, "ok"},
		{http.MethodGet, "/readyz", http.StatusOK, "ready"},
		{http.MethodGet, "/metrics", http.StatusOK, "metrics here"},
		{http.MethodGet, "/webhooks/wix", http.StatusMethodNotAllowed, ""},
		{http.MethodPut, "/webhooks/wix", http.StatusMethodNotAllowed, ""},
		{http.MethodPost, "/healthz", http.StatusMethodNotAllowed, ""},
		{http.MethodGet, "/nope", http.StatusNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			status, body := h.do(tc.method, tc.path, nil)
			if status != tc.status || (tc.body != "" && body != tc.body) {
				t.Fatalf("%d %q, want %d %q", status, body, tc.status, tc.body)
			}
		})
	}
}

func TestLogsOneDebugLinePerRequest(t *testing.T) {
	t.Parallel()
	h := startIngress(t)
	body := hook("ev-log", "item-1").Sign(t, h.key)
	if status, _ := h.post(body); status != http.StatusOK {
		t.Fatalf("status %d, want 200", status)
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["route"] == "/webhooks/wix" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 1 || lines[0]["level"] != "DEBUG" || lines[0]["tenant"] != testTenant || lines[0]["event_id"] != "ev-log" {
		t.Fatalf("webhook log lines %v, want one DEBUG line naming tenant and event", lines)
	}
	if strings.Contains(h.logs.String(), strings.Split(string(body), ".")[1]) {
		t.Error("logs contain the token payload")
	}
}
