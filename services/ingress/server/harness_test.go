package server_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/protobuf/proto"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/testkit"
	"gallerysync.dev/libs/wix/wixtest"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/ingress/server"
)

const (
	testTenant  = "9c1e2f4a-7b3d-4c5e-8f60-1a2b3c4d5e6f"
	testGallery = "4937b26c-5cf1-4d8e-9a2b-0c1d2e3f4a5b"
	testAppID   = "f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9"
	maxBody     = 64 << 10
)

// harness is a running ingress on a real bus and a real JetStream server.
type harness struct {
	t       testing.TB
	nats    *testkit.NATS
	bus     *bus.Bus
	srv     *server.Server
	base    string
	key     *rsa.PrivateKey
	client  *http.Client
	metrics *sdkmetric.ManualReader
	spans   *tracetest.SpanRecorder
	logs    *syncBuffer
	// reader inspects the stream on a connection of its own.
	reader jetstream.JetStream
}

// syncBuffer collects log lines written from many requests at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harnessConfig is how startIngress sets the server up.
type harnessConfig struct {
	level   slog.Level
	tenants server.TenantState
}

// harnessOption changes the harness defaults: debug logs, no tenant check.
type harnessOption func(*harnessConfig)

// withLogLevel keeps logs at level and above.
func withLogLevel(level slog.Level) harnessOption {
	return func(c *harnessConfig) { c.level = level }
}

// withTenants gives the server a tenant check.
func withTenants(ts server.TenantState) harnessOption {
	return func(c *harnessConfig) { c.tenants = ts }
}

// startIngress starts NATS, the bus with its streams, and the server, and
// stops them in reverse when the test ends.
func startIngress(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	cfg := harnessConfig{level: slog.LevelDebug}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := &harness{
		t:       t,
		nats:    testkit.StartNATS(t),
		key:     wixtest.GenerateKey(t),
		metrics: sdkmetric.NewManualReader(),
		spans:   tracetest.NewSpanRecorder(),
		logs:    &syncBuffer{},
		client: &http.Client{
			Timeout:   10 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: 64},
		},
	}
	b, err := bus.Connect(ctx, bus.Config{
		URL:             h.nats.URL(),
		PublishTimeout:  2 * time.Second,
		Replicas:        1,
		DuplicateWindow: 2 * time.Minute,
	}, bus.WithName("ingress-test"))
	if err != nil {
		t.Fatalf("bus: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("bus close: %v", err)
		}
	})
	if err := b.EnsureStreams(ctx); err != nil {
		t.Fatalf("streams: %v", err)
	}
	h.bus = b

	nc, err := nats.Connect(h.nats.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatalf("reader connection: %v", err)
	}
	t.Cleanup(nc.Close)
	if h.reader, err = jetstream.New(nc); err != nil {
		t.Fatalf("reader jetstream: %v", err)
	}

	h.srv, err = server.New(server.Config{
		HTTPAddr:        "127.0.0.1:0",
		MaxBodyBytes:    maxBody,
		WixPublicKey:    string(wixtest.PublicKeyPEM(t, &h.key.PublicKey)),
		WixAppID:        testAppID,
		PublishTimeout:  time.Second,
		ShutdownTimeout: 5 * time.Second,
	}, server.Deps{
		Publisher: b,
		Logger:    slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: cfg.level})),
		Meter:     sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.metrics)),
		Tracer:    sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(h.spans)),
		Metrics:   http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "metrics here") }),
		Tenants:   cfg.tenants,
	})
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	h.base = "http://" + h.srv.Addr()
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.srv.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("server run: %v", err)
		}
	})
	return h
}

func (h *harness) url(path string) string { return h.base + path }

// post sends body to the Wix webhook route and returns status and body.
func (h *harness) post(body []byte) (int, string) {
	h.t.Helper()
	return h.do(http.MethodPost, "/webhooks/wix", bytes.NewReader(body))
}

func (h *harness) do(method, path string, body io.Reader) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url(path), body)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain")
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("read response: %v", err)
	}
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// hook is a Gallery Item Created webhook for item itemID in event eventID.
func hook(eventID, itemID string) wixtest.Webhook {
	now := time.Now().UTC()
	return wixtest.Webhook{
		EventType:  "wix.pro_gallery.gallery_v2_gallery_item_created",
		InstanceID: testTenant,
		Identity:   map[string]any{"identityType": "WIX_USER", "wixUserId": "51a0c3d2"},
		Event: wixtest.ItemEvent("gallery_item_created", eventID, testGallery, now,
			map[string]any{"item": wixtest.Item(itemID, "Harbour at dawn", 1644317968.985, now)}),
		IssuedAt:  now,
		ExpiresAt: now.Add(time.Hour),
	}
}

// stored returns every change event in the CHANGES stream.
func (h *harness) stored() []*gsv1.ChangeEvent {
	h.t.Helper()
	var out []*gsv1.ChangeEvent
	for _, m := range h.storedMessages() {
		out = append(out, m.event)
	}
	return out
}

// storedMessage is one message of the CHANGES stream.
type storedMessage struct {
	subject string
	event   *gsv1.ChangeEvent
}

// storedMessages returns every message in the CHANGES stream with its subject.
func (h *harness) storedMessages() []storedMessage {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := h.reader.Stream(ctx, change.Stream)
	if err != nil {
		h.t.Fatalf("stream: %v", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		h.t.Fatalf("stream info: %v", err)
	}
	var out []storedMessage
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		msg, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			h.t.Fatalf("get message %d: %v", seq, err)
		}
		ev := &gsv1.ChangeEvent{}
		if err := proto.Unmarshal(msg.Data, ev); err != nil {
			h.t.Fatalf("message %d is not a ChangeEvent: %v", seq, err)
		}
		if want := change.Subject(ev); msg.Subject != want {
			h.t.Errorf("message %d on subject %q, want %q", seq, msg.Subject, want)
		}
		out = append(out, storedMessage{subject: msg.Subject, event: ev})
	}
	return out
}

// counter sums a counter's data points whose attributes include want.
func (h *harness) counter(name string, want ...attribute.KeyValue) int64 {
	h.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := h.metrics.Collect(context.Background(), &rm); err != nil {
		h.t.Fatalf("collect metrics: %v", err)
	}
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				h.t.Fatalf("metric %s is %T, want an int64 sum", name, m.Data)
			}
		points:
			for _, dp := range sum.DataPoints {
				for _, kv := range want {
					if v, ok := dp.Attributes.Value(kv.Key); !ok || v != kv.Value {
						continue points
					}
				}
				total += dp.Value
			}
		}
	}
	return total
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
