// Package throttle paces requests to rate-limited APIs with buckets shared by
// every replica: the buckets live in the mapping service (MappingService.
// Throttle), so N writers together stay within one tenant's limit.
//
// A short wait is slept where the request is made; a long one is handed back
// as a *LimitedError, so the worker can serve other tenants meanwhile and
// come back later. That keeps one busy tenant from holding every worker.
package throttle

import (
	"context"
	"errors"
	"fmt"
	"time"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

// BucketWix is the bucket of Wix REST calls; Wix limits each app instance
// (tenant) on its own.
const BucketWix = "wix"

// Default settings of Shared.
const (
	DefaultMaxWait = 2 * time.Second
	// defaultBurstShare is the part of the limit a full bucket lets go at once.
	defaultBurstShare = 10
)

// Wix returns Wix's documented limit: 200 requests per minute per app
// instance (wix-api.md 5.1).
func Wix() (limit int, period time.Duration) { return 200, time.Minute }

// LimitedError says a request must wait longer than is spent in Wait.
type LimitedError struct {
	// RetryAfter is when the caller should come back.
	RetryAfter time.Duration
}

// Error implements error.
func (e *LimitedError) Error() string {
	return fmt.Sprintf("rate limited: retry after %s", e.RetryAfter)
}

// ErrConfig is wrapped by Wait when the limit it was built with cannot be
// enforced (no positive rate).
var ErrConfig = errors.New("throttle: invalid limit")

// Option tunes a Shared.
type Option func(*Shared)

// WithBurst sets how many requests a full bucket lets go at once (default
// limit/10, at least 1).
func WithBurst(n int) Option { return func(s *Shared) { s.burst = n } }

// WithMaxWait sets the longest wait slept in Wait (default 2s); a longer one
// returns a *LimitedError.
func WithMaxWait(d time.Duration) Option { return func(s *Shared) { s.maxWait = d } }

// WithClock sets the clock that measures how long Wait has waited.
func WithClock(now func() time.Time) Option { return func(s *Shared) { s.now = now } }

// WithSleep sets how Wait sleeps; it returns early with ctx's error.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(s *Shared) { s.sleep = sleep }
}

// Shared is a limiter of one bucket per tenant, kept by the mapping service.
// It is safe for concurrent use.
type Shared struct {
	client  gsv1.MappingServiceClient
	bucket  string
	limit   int
	period  time.Duration
	burst   int
	maxWait time.Duration
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error
}

// NewShared returns a limiter allowing limit requests per period in each
// tenant's bucket, shared through the mapping service.
func NewShared(client gsv1.MappingServiceClient, bucket string, limit int, period time.Duration, opts ...Option) *Shared {
	s := &Shared{
		client:  client,
		bucket:  bucket,
		limit:   limit,
		period:  period,
		burst:   max(1, limit/defaultBurstShare),
		maxWait: DefaultMaxWait,
		now:     time.Now,
		sleep:   sleepCtx,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Wait returns when one more request of the tenant may be sent. When the
// bucket needs longer than the max wait (counting what was already waited)
// it returns a *LimitedError without taking anything from the bucket.
func (s *Shared) Wait(ctx context.Context, tenant string) error {
	if s.limit <= 0 || s.period <= 0 || s.burst <= 0 || s.limit > maxInt32 || s.burst > maxInt32 {
		return fmt.Errorf("%w: %d per %s, burst %d", ErrConfig, s.limit, s.period, s.burst)
	}
	start := s.now()
	var slept time.Duration
	for {
		resp, err := s.client.Throttle(ctx, &gsv1.ThrottleRequest{
			TenantId: tenant,
			Bucket:   s.bucket,
			Limit:    int32(s.limit),
			Period:   durationpb.New(s.period),
			Burst:    int32(s.burst),
			Cost:     1,
		})
		if err != nil {
			return fmt.Errorf("throttle %s/%s: %w", tenant, s.bucket, err)
		}
		if resp.GetAllowed() {
			return nil
		}
		wait := max(0, resp.GetRetryAfter().AsDuration())
		// Both the clock and the sum of sleeps count, so a clock that
		// stands still (or a sleep that returns early) cannot loop forever.
		waited := max(s.now().Sub(start), slept)
		if waited+wait > s.maxWait {
			return &LimitedError{RetryAfter: wait}
		}
		if err := s.sleep(ctx, wait); err != nil {
			return fmt.Errorf("throttle %s/%s: %w", tenant, s.bucket, err)
		}
		// A denial with no wait still counts a little, so the loop ends.
		slept += max(wait, time.Millisecond)
	}
}

const maxInt32 = 1<<31 - 1

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
