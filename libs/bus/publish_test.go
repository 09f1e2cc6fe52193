package bus_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"google.golang.org/protobuf/proto"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/testkit"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// received collects what a handler was given.
type received struct {
	mu     sync.Mutex
	events []*gsv1.ChangeEvent
	deliv  []bus.Delivery
}

func (r *received) handler(_ context.Context, ev *gsv1.ChangeEvent, d bus.Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	r.deliv = append(r.deliv, d)
	return nil
}

// count is how many deliveries carried the event id.
func (r *received) count(eventID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.events {
		if ev.GetEventId() == eventID {
			n++
		}
	}
	return n
}

func (r *received) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func TestPublishConsumeDeduplicates(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	reader, withMeter := meter(t)
	b := startBus(t, n, withMeter)
	var got received
	consume(t, b, bus.ConsumerConfig{Durable: "writer", FilterSubjects: []string{change.WixFilter()}}, got.handler)

	first := newEvent("e1", "tenant-a")
	res := publish(t, b, first)
	if res.Duplicate || res.Sequence != 1 {
		t.Fatalf("first publish %+v, want sequence 1, not duplicate", res)
	}
	again := publish(t, b, proto.Clone(first).(*gsv1.ChangeEvent))
	if !again.Duplicate || again.Sequence != res.Sequence {
		t.Fatalf("second publish %+v, want a duplicate of sequence %d", again, res.Sequence)
	}
	marker := newEvent("e2", "tenant-a")
	publish(t, b, marker)

	waitFor(t, "both events handled and settled", func() bool {
		return got.count(marker.GetEventId()) == 1 && got.count(first.GetEventId()) >= 1 && settled(t, b, "writer")
	})
	if c := got.count(first.GetEventId()); c != 1 || got.total() != 2 {
		t.Fatalf("event delivered %d times, %d deliveries in all; want 1 and 2", c, got.total())
	}
	if m := streamMsgs(t, b, change.Stream); m != 2 {
		t.Fatalf("stream holds %d messages, want 2", m)
	}
	got.mu.Lock()
	for i, ev := range got.events {
		want := first
		if ev.GetEventId() == marker.GetEventId() {
			want = marker
		}
		if !proto.Equal(ev, want) {
			t.Errorf("handler got %v, want %v", ev, want)
		}
		if d := got.deliv[i]; d.NumDelivered != 1 || d.Subject != change.WixSubject("tenant-a") || d.StreamSequence == 0 {
			t.Errorf("delivery %+v", d)
		}
	}
	got.mu.Unlock()

	wix := attribute.String("subject", "changes.wix")
	consumer := attribute.String("consumer", "writer")
	if v := counterValue(t, reader, "gallerysync.bus.published", wix); v != 3 {
		t.Errorf("published = %d, want 3", v)
	}
	if v := counterValue(t, reader, "gallerysync.bus.duplicates", wix); v != 1 {
		t.Errorf("duplicates = %d, want 1", v)
	}
	waitFor(t, "acks counted", func() bool { return counterValue(t, reader, "gallerysync.bus.acked", consumer, wix) == 2 })
}

func TestPublishRefusesInvalidEvent(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	b := startBus(t, n)
	modified := func(f func(*gsv1.ChangeEvent)) *gsv1.ChangeEvent {
		ev := newEvent("x", "tenant-a")
		f(ev)
		return ev
	}
	tests := []struct {
		name  string
		event *gsv1.ChangeEvent
	}{
		{"nil", nil},
		{"no event id", modified(func(ev *gsv1.ChangeEvent) { ev.EventId = "" })},
		{"no tenant", modified(func(ev *gsv1.ChangeEvent) { ev.TenantId = "" })},
		{"tenant with a dot", modified(func(ev *gsv1.ChangeEvent) { ev.TenantId = "a.b" })},
		{"tenant wildcard", modified(func(ev *gsv1.ChangeEvent) { ev.TenantId = ">" })},
		{"no origin", modified(func(ev *gsv1.ChangeEvent) { ev.Origin = gsv1.Origin_ORIGIN_UNSPECIFIED })},
		{"item event without item", modified(func(ev *gsv1.ChangeEvent) { ev.Item = nil })},
		{"platform without name", modified(func(ev *gsv1.ChangeEvent) { ev.Origin = gsv1.Origin_ORIGIN_PLATFORM })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.Publish(context.Background(), tt.event)
			if !errors.Is(err, change.ErrInvalid) {
				t.Fatalf("Publish error %v, want change.ErrInvalid", err)
			}
			if errors.Is(err, bus.ErrUnavailable) {
				t.Fatalf("invalid event reported as bus unavailable: %v", err)
			}
		})
	}
	if m := streamMsgs(t, b, change.Stream); m != 0 {
		t.Fatalf("stream holds %d messages after refused publishes, want 0", m)
	}
}

func TestPublishUnavailableUntilRestart(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	b := startBus(t, n)
	var running received
	consume(t, b, bus.ConsumerConfig{Durable: "running", Backoff: fastBackoff}, running.handler)
	before := newEvent("before", "tenant-a")
	publish(t, b, before)
	if !b.Ready() {
		t.Fatal("bus not ready after a successful publish")
	}
	waitFor(t, "event consumed before the outage", func() bool { return running.count(before.GetEventId()) == 1 })

	n.Shutdown()
	_, err := b.Publish(context.Background(), newEvent("during", "tenant-a"))
	if !errors.Is(err, bus.ErrUnavailable) {
		t.Fatalf("Publish with the server down: %v, want ErrUnavailable", err)
	}
	waitFor(t, "not ready while the server is down", func() bool { return !b.Ready() })

	n.Restart()
	waitFor(t, "ready after restart", b.Ready)
	after := newEvent("after", "tenant-a")
	waitFor(t, "publish after restart", func() bool {
		_, err := b.Publish(context.Background(), after)
		return err == nil
	})
	if m := streamMsgs(t, b, change.Stream); m != 2 {
		t.Fatalf("stream holds %d messages after restart, want 2 (one from before)", m)
	}
	waitFor(t, "the running consumer picks up after the restart", func() bool {
		return running.count(after.GetEventId()) == 1 && settled(t, b, "running")
	})
	if c := running.count(before.GetEventId()); c != 1 {
		t.Fatalf("event acked before the restart delivered %d times, want 1", c)
	}

	var fresh received
	consume(t, b, bus.ConsumerConfig{Durable: "fresh"}, fresh.handler)
	waitFor(t, "a new consumer reads both events", func() bool {
		return fresh.count(before.GetEventId()) == 1 && fresh.count(after.GetEventId()) == 1
	})
}
