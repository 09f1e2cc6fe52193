package bus_test

import (
	"context"
	"errors"
	"flag"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/protobuf/types/known/timestamppb"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/testkit"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// waitDeadline is how long a test waits for something that should happen.
const waitDeadline = 20 * time.Second

// testConfig is a bus config for a test server.
func testConfig(n *testkit.NATS) bus.Config {
	return bus.Config{URL: n.URL(), PublishTimeout: 2 * time.Second, Replicas: 1, DuplicateWindow: 2 * time.Minute}
}

// startBus connects to n, creates the streams and closes the bus at the end.
func startBus(t *testing.T, n *testkit.NATS, opts ...bus.Option) *bus.Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitDeadline)
	defer cancel()
	b, err := bus.Connect(ctx, testConfig(n), append([]bus.Option{bus.WithName(t.Name())}, opts...)...)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := b.EnsureStreams(ctx); err != nil {
		t.Fatalf("EnsureStreams: %v", err)
	}
	return b
}

// consume starts a consumer that is stopped when the test ends.
func consume(t *testing.T, b *bus.Bus, cfg bus.ConsumerConfig, h bus.Handler) *bus.Consumer {
	t.Helper()
	c, err := b.Consume(context.Background(), cfg, h)
	if err != nil {
		t.Fatalf("Consume: %v", err)
	}
	t.Cleanup(c.Stop)
	return c
}

// fastBackoff keeps retries quick in tests.
func fastBackoff(int) time.Duration { return 10 * time.Millisecond }

// newEvent is a valid Wix item event of a tenant.
func newEvent(sourceID, tenant string) *gsv1.ChangeEvent {
	return &gsv1.ChangeEvent{
		EventId:       change.EventID(gsv1.Origin_ORIGIN_WIX, "", sourceID),
		TenantId:      tenant,
		Origin:        gsv1.Origin_ORIGIN_WIX,
		SourceEventId: sourceID,
		OccurredAt:    timestamppb.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)),
		Kind:          gsv1.ChangeKind_CHANGE_KIND_ITEM_UPDATED,
		GalleryId:     "gallery-1",
		Item:          &gsv1.ItemSnapshot{ItemId: "item-" + sourceID, Title: "title " + sourceID},
	}
}

// publish publishes ev and fails the test on error.
func publish(t *testing.T, b *bus.Bus, ev *gsv1.ChangeEvent) bus.PublishResult {
	t.Helper()
	res, err := b.Publish(context.Background(), ev)
	if err != nil {
		t.Fatalf("Publish %s: %v", ev.GetEventId(), err)
	}
	return res
}

// waitFor polls cond until it holds, failing the test after waitDeadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// jetStream is a separate client view of the bus's server.
func jetStream(t *testing.T, b *bus.Bus) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(b.Conn())
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// streamMsgs is the number of messages stored in a stream.
func streamMsgs(t *testing.T, b *bus.Bus, name string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitDeadline)
	defer cancel()
	s, err := jetStream(t, b).Stream(ctx, name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("stream %s info: %v", name, err)
	}
	return info.State.Msgs
}

// settled reports whether a durable has nothing left to deliver or to settle.
func settled(t *testing.T, b *bus.Bus, durable string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitDeadline)
	defer cancel()
	c, err := jetStream(t, b).Consumer(ctx, change.Stream, durable)
	if err != nil {
		t.Fatalf("consumer %s: %v", durable, err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatalf("consumer %s info: %v", durable, err)
	}
	return info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0
}

// counterValue reads a counter's value for the given labels from a reader.
func counterValue(t *testing.T, r *sdkmetric.ManualReader, name string, labels ...attribute.KeyValue) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	want := attribute.NewSet(labels...)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				t.Fatalf("%s is %T, want an int64 sum", name, m.Data)
			}
			for _, dp := range sum.DataPoints {
				if dp.Attributes.Equals(&want) {
					return dp.Value
				}
			}
		}
	}
	return 0
}

// meter is a meter provider whose counters a test can read.
func meter(t *testing.T) (*sdkmetric.ManualReader, bus.Option) {
	t.Helper()
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() {
		if err := mp.Shutdown(context.Background()); err != nil {
			t.Errorf("meter shutdown: %v", err)
		}
	})
	return r, bus.WithMeterProvider(mp)
}

func TestConfigFlagsAndValidate(t *testing.T) {
	t.Parallel()
	var cfg bus.Config
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	want := bus.Config{URL: "nats://127.0.0.1:4222", PublishTimeout: 5 * time.Second, Replicas: 1, DuplicateWindow: 2 * time.Minute}
	if cfg != want {
		t.Fatalf("defaults %+v, want %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	tests := []struct {
		name    string
		change  func(*bus.Config)
		wantErr bool
	}{
		{"cluster urls", func(c *bus.Config) { c.URL = "nats://a:4222, nats://b:4222" }, false},
		{"url without scheme", func(c *bus.Config) { c.URL = "nats-0:4222" }, false},
		{"three replicas", func(c *bus.Config) { c.Replicas = 3 }, false},
		{"no url", func(c *bus.Config) { c.URL = "" }, true},
		{"zero publish timeout", func(c *bus.Config) { c.PublishTimeout = 0 }, true},
		{"zero replicas", func(c *bus.Config) { c.Replicas = 0 }, true},
		{"six replicas", func(c *bus.Config) { c.Replicas = 6 }, true},
		{"negative dedup window", func(c *bus.Config) { c.DuplicateWindow = -time.Second }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := want
			tt.change(&c)
			err := c.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate() = %v, want error: %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, bus.ErrConfig) {
				t.Fatalf("error %v does not wrap ErrConfig", err)
			}
		})
	}
}

func TestConnectGivesUpWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	cfg := bus.Config{URL: "nats://127.0.0.1:1", PublishTimeout: time.Second, Replicas: 1, DuplicateWindow: time.Minute}
	b, err := bus.Connect(ctx, cfg)
	if err == nil {
		b.Close()
		t.Fatal("Connect to a closed port succeeded")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Connect error %v, want the context's deadline", err)
	}
}

func TestCloseTwice(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), waitDeadline)
	defer cancel()
	b, err := bus.Connect(ctx, testConfig(n))
	if err != nil {
		t.Fatal(err)
	}
	if !b.Ready() {
		t.Fatal("a connected bus is not ready")
	}
	if err := b.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if b.Ready() {
		t.Fatal("a closed bus is ready")
	}
	if _, err := b.Publish(ctx, newEvent("e1", "tenant-a")); !errors.Is(err, bus.ErrUnavailable) {
		t.Fatalf("Publish on a closed bus: %v, want ErrUnavailable", err)
	}
}

func TestEnsureStreamsIsIdempotent(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	b := startBus(t, n)
	publish(t, b, newEvent("e1", "tenant-a"))
	if err := b.EnsureStreams(context.Background()); err != nil {
		t.Fatalf("second EnsureStreams: %v", err)
	}
	if got := streamMsgs(t, b, change.Stream); got != 1 {
		t.Fatalf("after a second EnsureStreams the stream has %d messages, want 1", got)
	}
	ctx := context.Background()
	for name, wantAge := range map[string]time.Duration{change.Stream: 7 * 24 * time.Hour, change.DeadLetterStream: 30 * 24 * time.Hour} {
		s, err := jetStream(t, b).Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		cfg := s.CachedInfo().Config
		if cfg.Storage != jetstream.FileStorage || cfg.MaxAge != wantAge || cfg.Duplicates != 2*time.Minute {
			t.Fatalf("stream %s: storage %v max age %s dedup %s", name, cfg.Storage, cfg.MaxAge, cfg.Duplicates)
		}
	}
}
