package boltstore

import (
	"context"
	"sync"
	"time"

	"gallerysync.dev/services/mapping/store"
)

// buckets holds the rate-limit buckets of the embedded store in memory,
// under a mutex, rather than in the file: the embedded store serves a single
// process, so memory is shared by every caller there is, and a bucket is
// worth no disk write per request. A restart forgets them, which starts every
// bucket full again: at most one extra burst per restart.
type buckets struct {
	mu sync.Mutex
	// tat is each bucket's theoretical arrival time in Unix microseconds.
	tat map[string]int64
}

func newBuckets() *buckets { return &buckets{tat: map[string]int64{}} }

// take runs store.Rate.Take on the bucket named k.
func (b *buckets) take(k string, r store.Rate, cost int, now time.Time) store.ThrottleResult {
	b.mu.Lock()
	defer b.mu.Unlock()
	next, res := r.Take(now.UnixMicro(), b.tat[k], cost)
	if res.Allowed {
		b.tat[k] = next
	}
	return res
}

// forget drops the buckets that are full again at now: they need no state.
func (b *buckets) forget(now time.Time) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, us := 0, now.UnixMicro()
	for k, tat := range b.tat {
		if tat <= us {
			delete(b.tat, k)
			n++
		}
	}
	return n
}

// Throttle implements store.ThrottleStore.
func (s *Store) Throttle(ctx context.Context, tenantID, bucketName string, rate store.Rate, cost int) (store.ThrottleResult, error) {
	rate, cost, err := store.CheckThrottle(bucketName, rate, cost)
	if err := check(ctx, store.CheckID("tenant_id", tenantID), err); err != nil {
		return store.ThrottleResult{}, err
	}
	return s.buckets.take(string(key([]string{tenantID}, bucketName)), rate, cost, time.Now()), nil
}
