// Package lease serializes work on one item across all replicas of all
// writers: a short lease on a key, held in the mapping service and renewed
// while the work runs, so two writers never interleave their steps on one
// item and a crashed holder frees it once its lease runs out.
package lease

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// ErrBusy is returned when another owner held the key for a whole TTL.
var ErrBusy = errors.New("lease held by another owner")

// Polling of a busy key: most holders finish within milliseconds (a writer
// dropping an echo), so it starts fast and slows down.
const (
	firstPoll      = 10 * time.Millisecond
	maxPoll        = 250 * time.Millisecond
	releaseTimeout = 5 * time.Second
)

// Locker takes leases for one process.
type Locker struct {
	mapping gsv1.MappingServiceClient
	ttl     time.Duration
	log     *slog.Logger
	// id makes owners unique per process and seq per lease, because the
	// mapping service's lease is re-entrant for one owner and two
	// goroutines of one process must still exclude each other.
	id  string
	seq atomic.Uint64
}

// New returns a Locker whose leases last ttl and are renewed every ttl/3.
// name prefixes the owner recorded with each lease (e.g. the consumer).
func New(mapping gsv1.MappingServiceClient, name string, ttl time.Duration, log *slog.Logger) (*Locker, error) {
	var id [6]byte
	if _, err := crand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("lease owner id: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Locker{mapping: mapping, ttl: ttl, log: log, id: name + "/" + hex.EncodeToString(id[:])}, nil
}

// Lease is a held key. Its Context is cancelled when the lease is lost, so
// work stops once another owner may have taken over.
type Lease struct {
	ctx     context.Context
	release func()
}

// Context is cancelled when the lease is lost or released.
func (l *Lease) Context() context.Context { return l.ctx }

// Release stops the renewal and gives the key back.
func (l *Lease) Release() { l.release() }

// Acquire takes the lease on key. While another owner holds it, it waits,
// polling, for up to one TTL (the holder finishes, or its lease runs out if
// it crashed), then returns ErrBusy.
func (l *Locker) Acquire(ctx context.Context, tenant, key string) (*Lease, error) {
	owner := l.id + "/" + strconv.FormatUint(l.seq.Add(1), 10)
	req := &gsv1.AcquireLockRequest{TenantId: tenant, Key: key, Owner: owner, Ttl: durationpb.New(l.ttl)}
	deadline := time.NewTimer(l.ttl)
	defer deadline.Stop()
	pause := firstPoll
	for {
		resp, err := l.mapping.AcquireLock(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("acquire lock %s: %w", key, err)
		}
		if resp.GetAcquired() {
			break
		}
		wait := time.NewTimer(jitter(pause))
		pause = min(2*pause, maxPoll)
		select {
		case <-ctx.Done():
			wait.Stop()
			return nil, fmt.Errorf("acquire lock %s: %w", key, ctx.Err())
		case <-deadline.C:
			wait.Stop()
			return nil, fmt.Errorf("%w: %s", ErrBusy, key)
		case <-wait.C:
		}
	}

	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var wg sync.WaitGroup
	// Keep the lease alive while the work runs (a media upload may take
	// longer than one TTL); AcquireLock extends it for its owner.
	wg.Go(func() { l.renew(lctx, cancel, done, req) })
	return &Lease{ctx: lctx, release: func() {
		close(done)
		wg.Wait()
		cancel()
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer rcancel()
		if _, err := l.mapping.ReleaseLock(rctx, &gsv1.ReleaseLockRequest{TenantId: tenant, Key: key, Owner: owner}); err != nil {
			// The lease runs out by itself after its TTL.
			l.log.WarnContext(ctx, "release item lock", slog.String("key", key), slog.Any("error", err))
		}
	}}, nil
}

// renew extends the lease every third of its TTL until done; a lease found
// lost cancels the work.
func (l *Locker) renew(ctx context.Context, cancel context.CancelFunc, done <-chan struct{}, req *gsv1.AcquireLockRequest) {
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			resp, err := l.mapping.AcquireLock(ctx, req)
			switch {
			case err != nil && ctx.Err() != nil:
				return
			case err != nil:
				l.log.WarnContext(ctx, "extend item lock", slog.String("key", req.GetKey()), slog.Any("error", err))
			case !resp.GetAcquired():
				l.log.WarnContext(ctx, "item lock lost; stopping", slog.String("key", req.GetKey()))
				cancel()
				return
			}
		}
	}
}

// jitter adds up to 20% so that waiters do not ask in step.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}
