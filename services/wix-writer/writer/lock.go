package writer

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// releaseTimeout bounds giving a lease back, also during shutdown.
const releaseTimeout = 5 * time.Second

// firstLockPoll is the first pause before asking again for a busy item lock.
const firstLockPoll = 10 * time.Millisecond

// lease is a held item lock. Its ctx is cancelled when the lease is lost,
// so work stops once another writer may have taken over the item.
type lease struct {
	ctx     context.Context
	release func()
}

// lock takes the item's lease. While another writer holds it, it waits here,
// polling, for up to one LockTTL (the holder finishes, or its lease expires
// if it crashed) before asking the bus for a retry: every redelivery counts
// towards MaxDeliver, so burning them on a busy lock could dead-letter a
// good event while a slow upload holds the item.
func (w *Writer) lock(ctx context.Context, tenant, key string) (*lease, error) {
	owner := w.id + "/" + strconv.FormatUint(w.seq.Add(1), 10)
	req := &gsv1.AcquireLockRequest{TenantId: tenant, Key: key, Owner: owner, Ttl: durationpb.New(w.cfg.LockTTL)}
	deadline := time.NewTimer(w.cfg.LockTTL)
	defer deadline.Stop()
	pause := firstLockPoll
	for {
		resp, err := w.mapping.AcquireLock(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("acquire lock %s: %w", key, err)
		}
		if resp.GetAcquired() {
			break
		}
		// Most holders finish within milliseconds (the other writer
		// dropping an echo), so start polling fast and slow down.
		wait := time.NewTimer(jitter(pause))
		pause = min(2*pause, shortRetry)
		select {
		case <-ctx.Done():
			wait.Stop()
			return nil, fmt.Errorf("acquire lock %s: %w", key, ctx.Err())
		case <-deadline.C:
			wait.Stop()
			return nil, fmt.Errorf("%w: %s", errLocked, key)
		case <-wait.C:
		}
	}

	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	// Keep the lease alive while the work runs (a media upload may take
	// longer than one LockTTL); AcquireLock extends it for its owner.
	go func() {
		defer wg.Done()
		t := time.NewTicker(w.cfg.LockTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				resp, err := w.mapping.AcquireLock(lctx, req)
				switch {
				case err != nil && lctx.Err() != nil:
					return
				case err != nil:
					w.log.WarnContext(lctx, "extend item lock", slog.String("key", key), slog.Any("error", err))
				case !resp.GetAcquired():
					w.log.WarnContext(lctx, "item lock lost; stopping", slog.String("key", key))
					cancel()
					return
				}
			}
		}
	}()
	return &lease{ctx: lctx, release: func() {
		close(done)
		wg.Wait()
		cancel()
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer rcancel()
		if _, err := w.mapping.ReleaseLock(rctx, &gsv1.ReleaseLockRequest{TenantId: tenant, Key: key, Owner: owner}); err != nil {
			// The lease expires by itself after LockTTL.
			w.log.WarnContext(ctx, "release item lock", slog.String("key", key), slog.Any("error", err))
		}
	}}, nil
}
