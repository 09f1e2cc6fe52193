package bus_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/testkit"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

func TestStopWithin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		timeout time.Duration
		inTime  bool
	}{
		{"handler finishes in time", 5 * time.Second, true},
		{"slow handler is cancelled", 100 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := startBus(t, testkit.StartNATS(t))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			started := make(chan struct{})
			var cancelled atomic.Bool
			c, err := b.Consume(ctx, bus.ConsumerConfig{Durable: "writer", Backoff: fastBackoff},
				func(hctx context.Context, _ *gsv1.ChangeEvent, _ bus.Delivery) error {
					close(started)
					select {
					case <-time.After(time.Second): // finishes unless cancelled
					case <-hctx.Done():
						cancelled.Store(true)
					}
					return nil
				})
			if err != nil {
				t.Fatal(err)
			}
			publish(t, b, newEvent("e1", "tenant-a"))
			<-started
			if got := bus.StopWithin(tt.timeout, cancel, c); got != tt.inTime {
				t.Fatalf("StopWithin = %v, want %v", got, tt.inTime)
			}
			if cancelled.Load() == tt.inTime {
				t.Fatalf("handler cancelled = %v, want %v", cancelled.Load(), !tt.inTime)
			}
		})
	}
}
