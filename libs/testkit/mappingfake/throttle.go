package mappingfake

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Throttle implements gsv1.MappingServiceServer with the generic cell rate
// algorithm the service runs: with the interval T = period/limit, a call of
// cost c takes next = max(TAT, now) + c·T and is allowed when next − now ≤
// burst·T. So a full bucket allows burst at once, then one every T.
func (f *Fake) Throttle(_ context.Context, r *gsv1.ThrottleRequest) (*gsv1.ThrottleResponse, error) {
	if err := required("tenant_id", r.GetTenantId(), "bucket", r.GetBucket()); err != nil {
		return nil, err
	}
	period := r.GetPeriod().AsDuration()
	burst, cost := max(r.GetBurst(), 1), max(r.GetCost(), 1)
	switch {
	case r.GetLimit() < 1:
		return nil, invalid("limit: at least 1 required")
	case r.GetPeriod() == nil || r.GetPeriod().CheckValid() != nil || period <= 0:
		return nil, invalid("period: must be positive")
	case r.GetBurst() < 0 || r.GetCost() < 0:
		return nil, invalid("burst and cost: must not be negative")
	case cost > burst:
		return nil, invalid("cost: exceeds burst, so it could never be allowed")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.throttle++
	if f.allowAllRate {
		return &gsv1.ThrottleResponse{Allowed: true}, nil
	}
	now := f.now()
	interval := period / time.Duration(r.GetLimit())
	k := pair{r.GetTenantId(), r.GetBucket()}
	start := f.tats[k]
	if start.Before(now) {
		start = now
	}
	next := start.Add(time.Duration(cost) * interval)
	if wait := next.Sub(now) - time.Duration(burst)*interval; wait > 0 {
		return &gsv1.ThrottleResponse{RetryAfter: durationpb.New(wait)}, nil
	}
	f.tats[k] = next
	return &gsv1.ThrottleResponse{Allowed: true}, nil
}
