package throttle_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"gallerysync.dev/libs/throttle"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// gcraMapping is a MappingService that implements Throttle with the generic
// cell rate algorithm in memory, as the mapping service does in its store.
type gcraMapping struct {
	gsv1.UnimplementedMappingServiceServer
	now func() time.Time

	mu    sync.Mutex
	tat   map[string]time.Time // theoretical arrival time per tenant bucket
	calls []*gsv1.ThrottleRequest
}

func newGCRA(now func() time.Time) *gcraMapping {
	return &gcraMapping{now: now, tat: make(map[string]time.Time)}
}

func (g *gcraMapping) Throttle(_ context.Context, req *gsv1.ThrottleRequest) (*gsv1.ThrottleResponse, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls = append(g.calls, proto.CloneOf(req))
	period := req.GetPeriod().AsDuration()
	if req.GetTenantId() == "" || req.GetBucket() == "" || req.GetLimit() <= 0 || period <= 0 || req.GetBurst() < 1 {
		return nil, status.Error(codes.InvalidArgument, "bad throttle request")
	}
	cost := max(1, req.GetCost())
	interval := period / time.Duration(req.GetLimit())
	key := req.GetTenantId() + "\x00" + req.GetBucket()
	now := g.now()
	tat := g.tat[key]
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(time.Duration(cost) * interval)
	if allowAt := next.Add(-time.Duration(req.GetBurst()) * interval); allowAt.After(now) {
		return &gsv1.ThrottleResponse{Allowed: false, RetryAfter: durationpb.New(allowAt.Sub(now))}, nil
	}
	g.tat[key] = next
	return &gsv1.ThrottleResponse{Allowed: true}, nil
}

func (g *gcraMapping) callCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.calls)
}

// serve runs srv on a real loopback gRPC listener and returns a client.
func serve(t *testing.T, srv gsv1.MappingServiceServer) gsv1.MappingServiceClient {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	gsv1.RegisterMappingServiceServer(s, srv)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(lis)
	}()
	t.Cleanup(func() {
		s.Stop()
		<-done
	})
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return gsv1.NewMappingServiceClient(conn)
}

// clock is a fake time that only sleeps move.
type clock struct {
	mu    sync.Mutex
	t     time.Time
	slept []time.Duration
	// during runs inside each sleep, e.g. another replica taking tokens.
	during func()
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.slept = append(c.slept, d)
	during := c.during
	c.mu.Unlock()
	if during != nil {
		during()
	}
	return ctx.Err()
}

func (c *clock) sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

func TestWait(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		limit  int
		period time.Duration
		burst  int
		calls  int
		// wantSleeps are the waits slept in the last call.
		wantSleeps []time.Duration
		// limited is the RetryAfter of the *LimitedError the last call returns.
		limited time.Duration
		// noWait sets the max wait to 0: every wait is handed back.
		noWait bool
	}{
		{name: "within the burst nothing waits", limit: 10, period: time.Second, burst: 3, calls: 3},
		{name: "a short wait is slept", limit: 10, period: time.Second, burst: 1, calls: 2, wantSleeps: []time.Duration{100 * time.Millisecond}},
		{name: "waits up to the max are slept", limit: 1, period: 2 * time.Second, burst: 1, calls: 2, wantSleeps: []time.Duration{2 * time.Second}},
		{name: "a long wait is handed back", limit: 1, period: time.Minute, burst: 1, calls: 2, limited: time.Minute},
		{name: "Wix's limit allows a burst of 20", limit: 200, period: time.Minute, burst: 20, calls: 21, limited: 300 * time.Millisecond, noWait: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			srv := newGCRA(clk.now)
			opts := []throttle.Option{throttle.WithClock(clk.now), throttle.WithSleep(clk.sleep), throttle.WithBurst(tc.burst)}
			if tc.noWait {
				opts = append(opts, throttle.WithMaxWait(0))
			}
			s := throttle.NewShared(serve(t, srv), throttle.BucketWix, tc.limit, tc.period, opts...)
			var err error
			for i := range tc.calls {
				if err != nil {
					t.Fatalf("call %d of %d: %v", i, tc.calls, err)
				}
				err = s.Wait(t.Context(), "tenant-a")
			}
			if tc.limited > 0 {
				limited, ok := errors.AsType[*throttle.LimitedError](err)
				if !ok || limited.RetryAfter != tc.limited {
					t.Fatalf("last Wait = %v, want a *LimitedError after %s", err, tc.limited)
				}
			} else if err != nil {
				t.Fatalf("last Wait = %v", err)
			}
			if got := clk.sleeps(); !equalDurations(got, tc.wantSleeps) {
				t.Errorf("slept %v, want %v", got, tc.wantSleeps)
			}
		})
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLimitedWaitTakesNothing(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := throttle.NewShared(serve(t, newGCRA(clk.now)), throttle.BucketWix, 1, time.Minute,
		throttle.WithClock(clk.now), throttle.WithSleep(clk.sleep))
	ctx := t.Context()
	if err := s.Wait(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, ok := errors.AsType[*throttle.LimitedError](s.Wait(ctx, "t")); !ok {
			t.Fatal("Wait on an empty bucket did not return *LimitedError")
		}
	}
	// Refusals did not push the bucket further out: after one period the
	// next request goes at once.
	clk.mu.Lock()
	clk.t = clk.t.Add(time.Minute)
	clk.mu.Unlock()
	if err := s.Wait(ctx, "t"); err != nil {
		t.Errorf("Wait one period later = %v", err)
	}
	if n := len(clk.sleeps()); n != 0 {
		t.Errorf("slept %d times", n)
	}
}

func TestWaitCountsEverySleepTowardsMaxWait(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newGCRA(clk.now)
	client := serve(t, srv)
	s := throttle.NewShared(client, throttle.BucketWix, 1, time.Second,
		throttle.WithClock(clk.now), throttle.WithSleep(clk.sleep), throttle.WithMaxWait(2500*time.Millisecond))
	if err := s.Wait(t.Context(), "t"); err != nil {
		t.Fatal(err)
	}
	// From now on another replica takes the token each time this one
	// sleeps for it.
	other := throttle.NewShared(client, throttle.BucketWix, 1, time.Second, throttle.WithMaxWait(0))
	clk.mu.Lock()
	clk.during = func() {
		if err := other.Wait(context.Background(), "t"); err != nil {
			t.Errorf("other replica: %v", err)
		}
	}
	clk.mu.Unlock()
	err := s.Wait(t.Context(), "t")
	if _, ok := errors.AsType[*throttle.LimitedError](err); !ok {
		t.Fatalf("Wait = %v, want *LimitedError once 2.5s are used up", err)
	}
	if got, want := clk.sleeps(), []time.Duration{time.Second, time.Second}; !equalDurations(got, want) {
		t.Errorf("slept %v, want %v", got, want)
	}
}

func TestTenantsHaveOwnBuckets(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := throttle.NewShared(serve(t, newGCRA(clk.now)), throttle.BucketWix, 1, time.Minute,
		throttle.WithClock(clk.now), throttle.WithSleep(clk.sleep))
	ctx := t.Context()
	if err := s.Wait(ctx, "busy"); err != nil {
		t.Fatal(err)
	}
	if _, ok := errors.AsType[*throttle.LimitedError](s.Wait(ctx, "busy")); !ok {
		t.Fatal("busy tenant not limited")
	}
	if err := s.Wait(ctx, "quiet"); err != nil {
		t.Errorf("quiet tenant waited on the busy one: %v", err)
	}
}

func TestWaitAsksForTheConfiguredRate(t *testing.T) {
	t.Parallel()
	srv := newGCRA(time.Now)
	client := serve(t, srv)
	limit, period := throttle.Wix()
	if err := throttle.NewShared(client, throttle.BucketWix, limit, period).Wait(t.Context(), "tenant-a"); err != nil {
		t.Fatal(err)
	}
	if err := throttle.NewShared(client, "mastodon:c1", 300, 5*time.Minute, throttle.WithBurst(7)).Wait(t.Context(), "tenant-b"); err != nil {
		t.Fatal(err)
	}
	want := []*gsv1.ThrottleRequest{
		{TenantId: "tenant-a", Bucket: "wix", Limit: 200, Period: durationpb.New(time.Minute), Burst: 20, Cost: 1},
		{TenantId: "tenant-b", Bucket: "mastodon:c1", Limit: 300, Period: durationpb.New(5 * time.Minute), Burst: 7, Cost: 1},
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.calls) != len(want) {
		t.Fatalf("%d Throttle calls, want %d", len(srv.calls), len(want))
	}
	for i := range want {
		if !proto.Equal(srv.calls[i], want[i]) {
			t.Errorf("call %d = %v, want %v", i, srv.calls[i], want[i])
		}
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	srv := newGCRA(time.Now)
	// Real clock and sleep: the second Wait sleeps 10s unless canceled.
	s := throttle.NewShared(serve(t, srv), throttle.BucketWix, 1, 10*time.Second, throttle.WithMaxWait(time.Minute))
	if err := s.Wait(t.Context(), "t"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Wait(ctx, "t") }()
	deadline := time.Now().Add(10 * time.Second)
	for srv.callCount() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("second Wait never asked the bucket")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Wait after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait kept sleeping after its context was canceled")
	}
}

func TestWaitErrors(t *testing.T) {
	t.Parallel()
	// A mapping service without Throttle: its error is returned, and it is
	// not mistaken for a rate limit.
	bare := serve(t, &struct {
		gsv1.UnimplementedMappingServiceServer
	}{})
	err := throttle.NewShared(bare, throttle.BucketWix, 10, time.Second).Wait(t.Context(), "t")
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("Wait against a server without Throttle = %v", err)
	}
	if _, ok := errors.AsType[*throttle.LimitedError](err); ok {
		t.Error("an RPC failure reported as a rate limit")
	}
	srv := newGCRA(time.Now)
	client := serve(t, srv)
	for _, s := range []*throttle.Shared{
		throttle.NewShared(client, throttle.BucketWix, 0, time.Second),
		throttle.NewShared(client, throttle.BucketWix, 10, 0),
		throttle.NewShared(client, throttle.BucketWix, 10, time.Second, throttle.WithBurst(0)),
	} {
		if err := s.Wait(t.Context(), "t"); !errors.Is(err, throttle.ErrConfig) {
			t.Errorf("Wait with a bad rate = %v, want ErrConfig", err)
		}
	}
	if n := srv.callCount(); n != 0 {
		t.Errorf("%d Throttle calls with a bad rate, want 0", n)
	}
}
