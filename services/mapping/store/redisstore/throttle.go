package redisstore

import (
	"context"
	"fmt"
	"time"

	"gallerysync.dev/services/mapping/store"
)

// Throttle implements store.ThrottleStore with throttleScript. A bucket's
// key expires when the bucket is full again, so idle buckets take no memory.
func (s *Store) Throttle(ctx context.Context, tenantID, bucket string, rate store.Rate, cost int) (store.ThrottleResult, error) {
	rate, cost, err := store.CheckThrottle(bucket, rate, cost)
	if err := first(store.CheckID("tenant_id", tenantID), err); err != nil {
		return store.ThrottleResult{}, err
	}
	res, err := s.scripts.throttle.Run(ctx, s.rdb, []string{keysOf(tenantID).throttle(bucket)},
		rate.IntervalMicros(), rate.Burst, cost).Int64Slice()
	if err == nil && len(res) != 2 {
		err = fmt.Errorf("unexpected script reply %v", res)
	}
	if err != nil {
		return store.ThrottleResult{}, fmt.Errorf("throttle %s: %w", bucket, err)
	}
	if res[0] == 1 {
		return store.ThrottleResult{Allowed: true}, nil
	}
	return store.ThrottleResult{RetryAfter: time.Duration(res[1]) * time.Microsecond}, nil
}
