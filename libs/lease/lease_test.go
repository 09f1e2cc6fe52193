package lease_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"gallerysync.dev/libs/lease"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// locks is the lease part of the mapping service: re-entrant for one owner,
// expiring after the TTL, released only by its owner.
type locks struct {
	gsv1.UnimplementedMappingServiceServer
	mu   sync.Mutex
	held map[string]struct {
		owner   string
		expires time.Time
	}
	// steal, when set, hands the next renewal's key to another owner.
	steal bool
}

func (l *locks) AcquireLock(_ context.Context, r *gsv1.AcquireLockRequest) (*gsv1.AcquireLockResponse, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := r.GetTenantId() + "/" + r.GetKey()
	if l.steal {
		l.held[k] = struct {
			owner   string
			expires time.Time
		}{"thief", time.Now().Add(time.Hour)}
		l.steal = false
	}
	h, ok := l.held[k]
	if ok && h.owner != r.GetOwner() && time.Now().Before(h.expires) {
		return &gsv1.AcquireLockResponse{}, nil
	}
	h.owner, h.expires = r.GetOwner(), time.Now().Add(r.GetTtl().AsDuration())
	l.held[k] = h
	return &gsv1.AcquireLockResponse{Acquired: true}, nil
}

func (l *locks) ReleaseLock(_ context.Context, r *gsv1.ReleaseLockRequest) (*gsv1.ReleaseLockResponse, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := r.GetTenantId() + "/" + r.GetKey()
	if h, ok := l.held[k]; ok && h.owner == r.GetOwner() {
		delete(l.held, k)
		return &gsv1.ReleaseLockResponse{Released: true}, nil
	}
	return &gsv1.ReleaseLockResponse{}, nil
}

func start(t *testing.T) (*locks, gsv1.MappingServiceClient) {
	t.Helper()
	l := &locks{held: map[string]struct {
		owner   string
		expires time.Time
	}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	gsv1.RegisterMappingServiceServer(srv, l)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); srv.Stop(); <-done })
	return l, gsv1.NewMappingServiceClient(conn)
}

func TestOneHolderAtATime(t *testing.T) {
	t.Parallel()
	_, mc := start(t)
	a, _ := lease.New(mc, "a", 2*time.Second, nil)
	b, _ := lease.New(mc, "b", 2*time.Second, nil)
	ctx := context.Background()
	first, err := a.Acquire(ctx, "t1", "item:1")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan time.Time, 1)
	go func() {
		second, err := b.Acquire(ctx, "t1", "item:1")
		if err != nil {
			t.Error(err)
			close(got)
			return
		}
		got <- time.Now()
		second.Release()
	}()
	time.Sleep(100 * time.Millisecond)
	released := time.Now()
	first.Release()
	at, ok := <-got
	if !ok {
		return
	}
	if at.Before(released) {
		t.Fatal("the second holder got the lease before the first released it")
	}
	// Other keys and tenants are independent.
	other, err := b.Acquire(ctx, "t2", "item:1")
	if err != nil {
		t.Fatalf("another tenant's key: %v", err)
	}
	other.Release()
}

func TestBusyForATTLIsErrBusy(t *testing.T) {
	t.Parallel()
	_, mc := start(t)
	a, _ := lease.New(mc, "a", time.Second, nil)
	b, _ := lease.New(mc, "b", 300*time.Millisecond, nil)
	held, err := a.Acquire(context.Background(), "t1", "item:1")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	if _, err := b.Acquire(context.Background(), "t1", "item:1"); !errors.Is(err, lease.ErrBusy) {
		t.Fatalf("Acquire of a held key = %v, want ErrBusy", err)
	}
}

func TestLostLeaseStopsTheWork(t *testing.T) {
	t.Parallel()
	l, mc := start(t)
	a, _ := lease.New(mc, "a", 300*time.Millisecond, nil)
	held, err := a.Acquire(context.Background(), "t1", "item:1")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	l.mu.Lock()
	l.steal = true
	l.mu.Unlock()
	select {
	case <-held.Context().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the work's context was not cancelled when the lease was lost")
	}
}
