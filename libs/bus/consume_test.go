package bus_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/testkit"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

func TestConsumeRefusesBadConfig(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	b := startBus(t, n)
	ok := func(context.Context, *gsv1.ChangeEvent, bus.Delivery) error { return nil }
	tests := []struct {
		name string
		cfg  bus.ConsumerConfig
		h    bus.Handler
	}{
		{"no durable", bus.ConsumerConfig{}, ok},
		{"durable with a dot", bus.ConsumerConfig{Durable: "a.b"}, ok},
		{"durable with a space", bus.ConsumerConfig{Durable: "a b"}, ok},
		{"negative max deliver", bus.ConsumerConfig{Durable: "d", MaxDeliver: -1}, ok},
		{"negative concurrency", bus.ConsumerConfig{Durable: "d", Concurrency: -2}, ok},
		{"tiny ack wait", bus.ConsumerConfig{Durable: "d", AckWait: time.Millisecond}, ok},
		{"empty filter", bus.ConsumerConfig{Durable: "d", FilterSubjects: []string{""}}, ok},
		{"nil handler", bus.ConsumerConfig{Durable: "d"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := b.Consume(context.Background(), tt.cfg, tt.h)
			if err == nil {
				c.Stop()
				t.Fatal("Consume accepted a bad config")
			}
			if !errors.Is(err, bus.ErrConfig) {
				t.Fatalf("error %v does not wrap ErrConfig", err)
			}
		})
	}
}

func TestDefaultBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		delivery int
		base     time.Duration
	}{
		{1, 200 * time.Millisecond},
		{2, 400 * time.Millisecond},
		{4, 1600 * time.Millisecond},
		{8, 25600 * time.Millisecond},
		{9, 30 * time.Second},
		{1000, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.delivery), func(t *testing.T) {
			t.Parallel()
			lo, hi := time.Duration(float64(tt.base)*0.8), min(time.Duration(float64(tt.base)*1.2), 30*time.Second)
			for range 200 {
				if d := bus.DefaultBackoff(tt.delivery); d < lo || d > hi {
					t.Fatalf("DefaultBackoff(%d) = %s, want within [%s, %s]", tt.delivery, d, lo, hi)
				}
			}
		})
	}
}

func TestRetryAfterRedelivers(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	reader, withMeter := meter(t)
	b := startBus(t, n, withMeter)
	var mu sync.Mutex
	var deliveries []uint64
	// MaxDeliver 2, yet three retries: back-pressure never dead-letters.
	consume(t, b, bus.ConsumerConfig{Durable: "writer", MaxDeliver: 2, Backoff: fastBackoff}, func(_ context.Context, _ *gsv1.ChangeEvent, d bus.Delivery) error {
		mu.Lock()
		defer mu.Unlock()
		deliveries = append(deliveries, d.NumDelivered)
		if d.NumDelivered <= 3 {
			return bus.RetryAfter(errors.New("429 too many requests"), 20*time.Millisecond)
		}
		return nil
	})
	publish(t, b, newEvent("e1", "tenant-a"))
	waitFor(t, "fourth delivery settled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(deliveries) == 4 && settled(t, b, "writer")
	})
	mu.Lock()
	got := fmt.Sprint(deliveries)
	mu.Unlock()
	if got != "[1 2 3 4]" {
		t.Fatalf("deliveries %s, want [1 2 3 4]", got)
	}
	labels := []attribute.KeyValue{attribute.String("consumer", "writer"), attribute.String("subject", "changes.wix")}
	if v := counterValue(t, reader, "gallerysync.bus.retried", labels...); v != 3 {
		t.Errorf("retried = %d, want 3", v)
	}
	waitFor(t, "ack counted", func() bool { return counterValue(t, reader, "gallerysync.bus.acked", labels...) == 1 })
	if m := streamMsgs(t, b, change.DeadLetterStream); m != 0 {
		t.Fatalf("dead-letter stream holds %d messages, want 0", m)
	}
}

// deadLetterFor waits for the dead letter of a durable and returns it.
func deadLetterFor(t *testing.T, b *bus.Bus, durable string) *jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	s, err := jetStream(t, b).Stream(ctx, change.DeadLetterStream)
	if err != nil {
		t.Fatal(err)
	}
	var msg *jetstream.RawStreamMsg
	waitFor(t, "dead letter of "+durable, func() bool {
		msg, err = s.GetLastMsgForSubject(ctx, change.DeadLetterSubject(durable))
		return err == nil
	})
	return msg
}

func TestDeadLetter(t *testing.T) {
	t.Parallel()
	payload, err := proto.Marshal(newEvent("e1", "tenant-a"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		payload    []byte
		maxDeliver int
		handler    func(d bus.Delivery) error
		wantCalls  int
		wantError  string
	}{
		{
			name: "permanent", payload: payload, maxDeliver: 8,
			handler:   func(bus.Delivery) error { return bus.Permanent(errors.New("gallery is gone")) },
			wantCalls: 1, wantError: "gallery is gone",
		},
		{
			name: "max deliver exhausted", payload: payload, maxDeliver: 3,
			handler:   func(d bus.Delivery) error { return fmt.Errorf("still broken on try %d", d.NumDelivered) },
			wantCalls: 3, wantError: "still broken on try 3",
		},
		{
			name: "handler panic", payload: payload, maxDeliver: 2,
			handler:   func(bus.Delivery) error { panic("nil map") },
			wantCalls: 2, wantError: "handler panic: nil map",
		},
		{
			name: "undecodable payload", payload: []byte{0xff, 0xff, 0xff}, maxDeliver: 8,
			handler:   func(bus.Delivery) error { return nil },
			wantCalls: 0, wantError: "decode change event",
		},
		{
			name: "decodes but invalid", payload: []byte{}, maxDeliver: 8,
			handler:   func(bus.Delivery) error { return nil },
			wantCalls: 0, wantError: "no event id",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := testkit.StartNATS(t)
			reader, withMeter := meter(t)
			b := startBus(t, n, withMeter)
			var calls atomic.Int32
			consume(t, b, bus.ConsumerConfig{Durable: "writer", MaxDeliver: tt.maxDeliver, Backoff: fastBackoff},
				func(_ context.Context, _ *gsv1.ChangeEvent, d bus.Delivery) error {
					calls.Add(1)
					return tt.handler(d)
				})

			// Published raw, so a payload the bus would refuse can be sent.
			traceparent := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
			msg := &nats.Msg{Subject: change.WixSubject("tenant-a"), Data: tt.payload, Header: nats.Header{"traceparent": {traceparent}}}
			ack, err := jetStream(t, b).PublishMsg(context.Background(), msg)
			if err != nil {
				t.Fatal(err)
			}

			dl := deadLetterFor(t, b, "writer")
			waitFor(t, "original settled", func() bool { return settled(t, b, "writer") })
			if got := int(calls.Load()); got != tt.wantCalls {
				t.Errorf("handler called %d times, want %d", got, tt.wantCalls)
			}
			if string(dl.Data) != string(tt.payload) {
				t.Errorf("dead letter payload %x, want the original %x", dl.Data, tt.payload)
			}
			wantDeliveries := strconv.Itoa(max(tt.wantCalls, 1))
			for k, want := range map[string]string{
				bus.HeaderSubject:    change.WixSubject("tenant-a"),
				bus.HeaderDeliveries: wantDeliveries,
				bus.HeaderConsumer:   "writer",
				"traceparent":        traceparent,
				"Nats-Msg-Id":        "writer:" + strconv.FormatUint(ack.Sequence, 10),
			} {
				if got := dl.Header.Get(k); got != want {
					t.Errorf("dead letter header %s = %q, want %q", k, got, want)
				}
			}
			if got := dl.Header.Get(bus.HeaderError); !strings.Contains(got, tt.wantError) {
				t.Errorf("dead letter error %q, want it to contain %q", got, tt.wantError)
			}
			if m := streamMsgs(t, b, change.DeadLetterStream); m != 1 {
				t.Errorf("dead-letter stream holds %d messages, want 1", m)
			}
			labels := []attribute.KeyValue{attribute.String("consumer", "writer"), attribute.String("subject", "changes.wix")}
			if v := counterValue(t, reader, "gallerysync.bus.dead_lettered", labels...); v != 1 {
				t.Errorf("dead_lettered = %d, want 1", v)
			}
		})
	}
}

func TestDeadLetterWaitsForItsStream(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	b := startBus(t, n)
	ctx := context.Background()
	if err := jetStream(t, b).DeleteStream(ctx, change.DeadLetterStream); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	consume(t, b, bus.ConsumerConfig{Durable: "writer", Backoff: fastBackoff}, func(context.Context, *gsv1.ChangeEvent, bus.Delivery) error {
		calls.Add(1)
		return bus.Permanent(errors.New("cannot apply"))
	})
	ev := newEvent("e1", "tenant-a")
	publish(t, b, ev)

	// With nowhere to park it, the message must stay and come back.
	waitFor(t, "redelivery while the dead-letter stream is missing", func() bool { return calls.Load() >= 2 })
	if err := b.EnsureStreams(ctx); err != nil {
		t.Fatal(err)
	}
	dl := deadLetterFor(t, b, "writer")
	var got gsv1.ChangeEvent
	if err := proto.Unmarshal(dl.Data, &got); err != nil || !proto.Equal(&got, ev) {
		t.Fatalf("dead letter holds %v (%v), want the event", &got, err)
	}
	waitFor(t, "original settled", func() bool { return settled(t, b, "writer") })
}

func TestStoppedConsumerResumesWithoutLossOrRepeat(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	b := startBus(t, n)
	const total = 100
	for i := range total {
		publish(t, b, newEvent(fmt.Sprintf("e%02d", i), "tenant-a"))
	}

	var mu sync.Mutex
	firstAcked := map[string]bool{}
	release := make(chan struct{})
	reached := make(chan struct{})
	var handled atomic.Int32
	cfg := bus.ConsumerConfig{Durable: "writer", Concurrency: 4, Backoff: fastBackoff}
	first, err := b.Consume(context.Background(), cfg, func(_ context.Context, ev *gsv1.ChangeEvent, _ bus.Delivery) error {
		if handled.Add(1) == 5 {
			close(reached)
		}
		if handled.Load() > 5 {
			// Still running when Stop is called: Stop must wait for it.
			<-release
		}
		mu.Lock()
		firstAcked[ev.GetEventId()] = true
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	<-reached
	stopped := make(chan struct{})
	go func() {
		first.Stop()
		close(stopped)
	}()
	close(release)
	<-stopped
	first.Stop()

	mu.Lock()
	acked := len(firstAcked)
	mu.Unlock()
	if acked < 5 || acked >= total {
		t.Fatalf("first consumer handled %d events before stopping, want between 5 and %d", acked, total-1)
	}

	var second received
	consume(t, b, cfg, second.handler)
	waitFor(t, "the rest consumed", func() bool { return second.total() >= total-acked && settled(t, b, "writer") })

	seen := map[string]int{}
	second.mu.Lock()
	for _, ev := range second.events {
		seen[ev.GetEventId()]++
	}
	second.mu.Unlock()
	for i := range total {
		id := newEvent(fmt.Sprintf("e%02d", i), "tenant-a").GetEventId()
		switch {
		case firstAcked[id] && seen[id] > 0:
			t.Errorf("%s acked by the first consumer was delivered again", id)
		case !firstAcked[id] && seen[id] != 1:
			t.Errorf("%s delivered %d times to the second consumer, want 1", id, seen[id])
		}
	}
}

func TestCancelledContextHandsMessageBack(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	b := startBus(t, n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan struct{})
	var sawCancel atomic.Bool
	c, err := b.Consume(ctx, bus.ConsumerConfig{Durable: "writer", MaxDeliver: 1}, func(hctx context.Context, _ *gsv1.ChangeEvent, _ bus.Delivery) error {
		close(started)
		<-hctx.Done()
		sawCancel.Store(true)
		return hctx.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	publish(t, b, newEvent("e1", "tenant-a"))
	<-started
	cancel()
	c.Stop()
	if !sawCancel.Load() {
		t.Fatal("handler did not see its context cancelled")
	}

	// A failure caused by shutting down is no verdict on the message: even
	// with MaxDeliver 1 it is redelivered, not dead-lettered.
	var got received
	consume(t, b, bus.ConsumerConfig{Durable: "writer", MaxDeliver: 1}, got.handler)
	waitFor(t, "redelivery to the next consumer", func() bool { return got.total() == 1 && settled(t, b, "writer") })
	got.mu.Lock()
	d := got.deliv[0]
	got.mu.Unlock()
	// More than 2 when the hand-back reached the stopping consumer again
	// before its fetching had ended; it gave it back once more.
	if d.NumDelivered < 2 {
		t.Fatalf("redelivery %+v, want delivery 2 or later", d)
	}
	if m := streamMsgs(t, b, change.DeadLetterStream); m != 0 {
		t.Fatalf("dead-letter stream holds %d messages, want 0", m)
	}
}

func TestTraceContextReachesHandler(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	b := startBus(t, n, bus.WithTracerProvider(tp))

	handlerSpans := make(chan trace.SpanContext, 1)
	consume(t, b, bus.ConsumerConfig{Durable: "writer"}, func(ctx context.Context, _ *gsv1.ChangeEvent, _ bus.Delivery) error {
		handlerSpans <- trace.SpanContextFromContext(ctx)
		return nil
	})

	ctx, root := tp.Tracer("test").Start(context.Background(), "webhook")
	res, err := b.Publish(ctx, newEvent("e1", "tenant-a"))
	root.End()
	if err != nil {
		t.Fatal(err)
	}
	var inHandler trace.SpanContext
	select {
	case inHandler = <-handlerSpans:
	case <-time.After(waitDeadline):
		t.Fatal("handler not called")
	}
	if inHandler.TraceID() != root.SpanContext().TraceID() {
		t.Fatalf("handler trace id %s, want the publisher's %s", inHandler.TraceID(), root.SpanContext().TraceID())
	}

	// The wire carries the W3C header under its lower-case name.
	stored, err := jetStream(t, b).Stream(context.Background(), change.Stream)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := stored.GetMsg(context.Background(), res.Sequence)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := raw.Header["traceparent"]; !ok {
		t.Fatalf("stored headers %v have no traceparent", raw.Header)
	}
	wire := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": raw.Header.Get("traceparent")})
	if got := trace.SpanContextFromContext(wire).TraceID(); got != root.SpanContext().TraceID() {
		t.Fatalf("stored traceparent has trace id %s, want %s", got, root.SpanContext().TraceID())
	}

	var send, process sdktrace.ReadOnlySpan
	waitFor(t, "send and process spans", func() bool {
		for _, s := range exp.GetSpans().Snapshots() {
			switch s.Name() {
			case "send changes.wix":
				send = s
			case "process changes.wix":
				process = s
			}
		}
		return send != nil && process != nil
	})
	if send.SpanKind() != trace.SpanKindProducer || send.Parent().SpanID() != root.SpanContext().SpanID() {
		t.Errorf("send span kind %v parent %s, want producer under the publisher's span", send.SpanKind(), send.Parent().SpanID())
	}
	if process.SpanKind() != trace.SpanKindConsumer || process.Parent().SpanID() != send.SpanContext().SpanID() || !process.Parent().IsRemote() {
		t.Errorf("process span kind %v parent %v, want consumer under the remote send span", process.SpanKind(), process.Parent())
	}
	if process.SpanContext().SpanID() != inHandler.SpanID() {
		t.Errorf("handler runs in span %s, want the process span %s", inHandler.SpanID(), process.SpanContext().SpanID())
	}
	for _, tt := range []struct {
		span sdktrace.ReadOnlySpan
		want map[attribute.Key]string
	}{
		{send, map[attribute.Key]string{"messaging.system": "nats", "messaging.operation.type": "send", "messaging.destination.name": change.WixSubject("tenant-a")}},
		{process, map[attribute.Key]string{"messaging.system": "nats", "messaging.operation.type": "process", "messaging.destination.name": change.WixSubject("tenant-a"), "messaging.consumer.group.name": "writer"}},
	} {
		got := map[attribute.Key]string{}
		for _, kv := range tt.span.Attributes() {
			got[kv.Key] = kv.Value.Emit()
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("span %s attribute %s = %q, want %q", tt.span.Name(), k, got[k], v)
			}
		}
	}
}
