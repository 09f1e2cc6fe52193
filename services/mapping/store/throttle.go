package store

import (
	"fmt"
	"time"
)

// MaxThrottleWindow bounds how long an empty bucket takes to fill up again
// (burst emission intervals). It keeps every time the algorithm handles, in
// microseconds since 1970, exact in the 53-bit numbers of the Redis script.
const MaxThrottleWindow = 366 * 24 * time.Hour

// Rate is a rate limit of the generic cell rate algorithm (GCRA): Limit
// tokens per Period on average and at most Burst at once.
//
// A bucket is a single time, its theoretical arrival time TAT: when the
// bucket will be full again. With the emission interval T = Period/Limit
// (rounded up to whole microseconds, so the rate never exceeds Limit per
// Period), a request of cost c at time now computes
//
//	next = max(TAT, now) + c·T
//
// and is allowed when next − now ≤ Burst·T; then TAT becomes next. Otherwise
// nothing is taken and the request fits after next − Burst·T − now. So a full
// bucket allows Burst tokens at once, then one every T, and an idle bucket
// refills one token per T up to Burst. For cost 1 this is the classic GCRA
// with delay tolerance τ = T·(Burst−1): allowed when TAT − now ≤ τ. A bucket
// whose TAT has passed is full and needs no state, so backends may forget it.
type Rate struct {
	Limit  int
	Period time.Duration
	Burst  int
}

// ThrottleResult is the answer of one Throttle call.
type ThrottleResult struct {
	// Allowed is true when the tokens were taken.
	Allowed bool
	// RetryAfter is, when not allowed, how long until the cost fits.
	RetryAfter time.Duration
}

// CheckThrottle validates a bucket name, a rate and a cost and returns the
// rate and cost with defaults applied: burst 0 means 1, cost 0 means 1.
func CheckThrottle(bucket string, r Rate, cost int) (Rate, int, error) {
	if err := CheckKey("bucket", bucket); err != nil {
		return r, cost, err
	}
	if r.Burst == 0 {
		r.Burst = 1
	}
	if cost == 0 {
		cost = 1
	}
	switch {
	case r.Limit < 1:
		return r, cost, fmt.Errorf("%w limit: %d, at least 1 required", ErrInvalid, r.Limit)
	case r.Period <= 0:
		return r, cost, fmt.Errorf("%w period: %v, must be positive", ErrInvalid, r.Period)
	case r.Period > MaxThrottleWindow:
		return r, cost, fmt.Errorf("%w period: %v, at most %v allowed", ErrInvalid, r.Period, MaxThrottleWindow)
	case r.Limit > int(r.Period/time.Microsecond):
		return r, cost, fmt.Errorf("%w limit: %d per %v is more than one per microsecond", ErrInvalid, r.Limit, r.Period)
	case r.Burst < 0:
		return r, cost, fmt.Errorf("%w burst: %d is negative", ErrInvalid, r.Burst)
	case cost < 0:
		return r, cost, fmt.Errorf("%w cost: %d is negative", ErrInvalid, cost)
	case cost > r.Burst:
		return r, cost, fmt.Errorf("%w cost: %d exceeds burst %d, so it could never be allowed", ErrInvalid, cost, r.Burst)
	}
	if t := r.IntervalMicros(); int64(r.Burst) > MaxThrottleWindow.Microseconds()/t {
		return r, cost, fmt.Errorf("%w burst: %d tokens of %v each refill in more than %v", ErrInvalid,
			r.Burst, time.Duration(t)*time.Microsecond, MaxThrottleWindow)
	}
	return r, cost, nil
}

// IntervalMicros is the emission interval T in whole microseconds, rounded
// up. It needs a rate that CheckThrottle accepted.
func (r Rate) IntervalMicros() int64 {
	per := int64(r.Limit) * int64(time.Microsecond)
	return (int64(r.Period) + per - 1) / per
}

// Take runs the algorithm on one bucket. now and tat are Unix microseconds
// (a tat of 0 is a full bucket); r and cost must have passed CheckThrottle.
// It returns the bucket's new TAT, which is tat itself when nothing was taken.
// The Redis store runs the same steps in a script.
func (r Rate) Take(now, tat int64, cost int) (int64, ThrottleResult) {
	t := r.IntervalMicros()
	next := max(tat, now) + int64(cost)*t
	if allowAt := next - int64(r.Burst)*t; allowAt > now {
		return tat, ThrottleResult{RetryAfter: time.Duration(allowAt-now) * time.Microsecond}
	}
	return next, ThrottleResult{Allowed: true}
}
