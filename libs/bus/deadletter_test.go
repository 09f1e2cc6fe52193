package bus_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/testkit"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// ofTenant is a dead-letter filter for one tenant's events.
func ofTenant(tenant string) func(*gsv1.ChangeEvent) bool {
	return func(ev *gsv1.ChangeEvent) bool { return ev != nil && ev.GetTenantId() == tenant }
}

// deadLetters lists dead letters and fails the test on error.
func deadLetters(t *testing.T, b *bus.Bus, filter func(*gsv1.ChangeEvent) bool, limit int) []bus.DeadLetter {
	t.Helper()
	dls, err := b.DeadLetters(context.Background(), filter, limit)
	if err != nil {
		t.Fatalf("DeadLetters: %v", err)
	}
	return dls
}

func TestDeadLettersListsByFilterNewestFirst(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	b := startBus(t, n)
	consume(t, b, bus.ConsumerConfig{Durable: "writer", Backoff: fastBackoff}, func(_ context.Context, ev *gsv1.ChangeEvent, _ bus.Delivery) error {
		return bus.Permanent(errors.New("refused: " + ev.GetItem().GetItemId()))
	})
	for _, ev := range []*gsv1.ChangeEvent{
		newEvent("a1", "tenant-a"), newEvent("b1", "tenant-b"), newEvent("a2", "tenant-a"), newEvent("a3", "tenant-a"),
	} {
		publish(t, b, ev)
		// One at a time, so the dead letters are stored in publish order.
		want := streamMsgs(t, b, change.Stream)
		waitFor(t, "dead letter of "+ev.GetEventId(), func() bool { return streamMsgs(t, b, change.DeadLetterStream) == want })
	}

	tests := []struct {
		name   string
		filter func(*gsv1.ChangeEvent) bool
		limit  int
		want   []string
	}{
		{"one tenant", ofTenant("tenant-a"), 10, []string{"item-a3", "item-a2", "item-a1"}},
		{"limit keeps the newest", ofTenant("tenant-a"), 2, []string{"item-a3", "item-a2"}},
		{"other tenant", ofTenant("tenant-b"), 10, []string{"item-b1"}},
		{"no filter", nil, 10, []string{"item-a3", "item-a2", "item-b1", "item-a1"}},
		{"nobody's", ofTenant("tenant-c"), 10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dls := deadLetters(t, b, tt.filter, tt.limit)
			var got []string
			for _, dl := range dls {
				got = append(got, dl.Event.GetItem().GetItemId())
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("dead letters %v, want %v", got, tt.want)
			}
		})
	}

	dl := deadLetters(t, b, ofTenant("tenant-b"), 1)[0]
	if dl.Subject != change.WixSubject("tenant-b") || dl.Consumer != "writer" || dl.Deliveries != 1 ||
		dl.Error != "refused: item-b1" || dl.Time.IsZero() || dl.Sequence == 0 {
		t.Fatalf("dead letter %+v: want subject, consumer, error, one delivery, a time and a sequence", dl)
	}
	one, err := b.DeadLetter(context.Background(), dl.Sequence)
	if err != nil || one.Event.GetEventId() != dl.Event.GetEventId() {
		t.Fatalf("DeadLetter(%d) = %+v, %v; want the event of tenant-b", dl.Sequence, one, err)
	}
	if _, err := b.DeadLetters(context.Background(), nil, 0); !errors.Is(err, bus.ErrConfig) {
		t.Fatalf("limit 0: error %v, want ErrConfig", err)
	}
}

func TestReplayRepublishesWithTraceAndRemoves(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	b := startBus(t, n, bus.WithTracerProvider(tp))

	var fixed atomic.Bool
	applied := make(chan trace.SpanContext, 4)
	consume(t, b, bus.ConsumerConfig{Durable: "writer", MaxDeliver: 2, Backoff: fastBackoff}, func(ctx context.Context, ev *gsv1.ChangeEvent, _ bus.Delivery) error {
		if !fixed.Load() {
			return errors.New("platform refused the token")
		}
		applied <- trace.SpanContextFromContext(ctx)
		return nil
	})
	ctx, root := tp.Tracer("test").Start(context.Background(), "webhook")
	if _, err := b.Publish(ctx, newEvent("e1", "tenant-a")); err != nil {
		t.Fatal(err)
	}
	root.End()
	var dls []bus.DeadLetter
	waitFor(t, "dead letter after two deliveries", func() bool {
		dls = deadLetters(t, b, ofTenant("tenant-a"), 10)
		return len(dls) == 1
	})
	if dls[0].Deliveries != 2 {
		t.Fatalf("deliveries %d, want 2", dls[0].Deliveries)
	}

	fixed.Store(true)
	if err := b.Replay(context.Background(), dls[0].Sequence); err != nil {
		t.Fatalf("Replay: %v", err)
	}
	select {
	case sc := <-applied:
		if sc.TraceID() != root.SpanContext().TraceID() {
			t.Fatalf("replayed event in trace %s, want the original %s", sc.TraceID(), root.SpanContext().TraceID())
		}
	case <-time.After(waitDeadline):
		t.Fatal("replayed event was not delivered")
	}
	if left := deadLetters(t, b, nil, 10); len(left) != 0 {
		t.Fatalf("after replay %d dead letters are listed, want none", len(left))
	}
	if err := b.Replay(context.Background(), dls[0].Sequence); !errors.Is(err, bus.ErrNoDeadLetter) {
		t.Fatalf("second replay: error %v, want ErrNoDeadLetter", err)
	}
	if _, err := b.DeadLetter(context.Background(), 9999); !errors.Is(err, bus.ErrNoDeadLetter) {
		t.Fatalf("unknown sequence: error %v, want ErrNoDeadLetter", err)
	}
}

func TestDeadLettersOfUndecodablePayload(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	b := startBus(t, n)
	consume(t, b, bus.ConsumerConfig{Durable: "writer"}, func(context.Context, *gsv1.ChangeEvent, bus.Delivery) error { return nil })
	// Bytes that are no ChangeEvent: the consumer dead-letters them at once.
	if _, err := jetStream(t, b).Publish(context.Background(), change.WixSubject("tenant-a"), []byte{0xff, 0xff, 0xff}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "dead letter", func() bool { return streamMsgs(t, b, change.DeadLetterStream) == 1 })
	if got := deadLetters(t, b, ofTenant("tenant-a"), 10); len(got) != 0 {
		t.Fatalf("a tenant filter matched %d undecodable dead letters, want none", len(got))
	}
	all := deadLetters(t, b, nil, 10)
	if len(all) != 1 || all[0].Event != nil || all[0].Subject != change.WixSubject("tenant-a") {
		t.Fatalf("unfiltered: %+v, want one dead letter without event on the original subject", all)
	}
}

func TestDeadLettersReadsPastOneBatch(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	b := startBus(t, n)
	consume(t, b, bus.ConsumerConfig{Durable: "writer", Concurrency: 1}, func(context.Context, *gsv1.ChangeEvent, bus.Delivery) error {
		return bus.Permanent(errors.New("refused"))
	})
	const total = 300 // more than one fetch of dead letters
	for i := range total {
		publish(t, b, newEvent("e"+strconv.Itoa(i), "tenant-a"))
	}
	waitFor(t, "every dead letter", func() bool { return streamMsgs(t, b, change.DeadLetterStream) == total })
	if all := deadLetters(t, b, nil, 1000); len(all) != total {
		t.Fatalf("%d dead letters listed, want %d", len(all), total)
	}
	newest := deadLetters(t, b, nil, 5)
	if len(newest) != 5 || newest[0].Sequence != total || newest[4].Sequence != total-4 {
		t.Fatalf("newest five: %d, first sequence %d: want sequences %d down to %d", len(newest), newest[0].Sequence, total, total-4)
	}
}
