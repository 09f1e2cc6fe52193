package writer

import (
	"errors"
	"math/rand/v2"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/lease"
	"gallerysync.dev/libs/throttle"
	"gallerysync.dev/libs/wix"
)

// Retry pacing for conditions that clear by themselves.
const (
	// shortRetry is the pause before retrying after a busy item lock or a
	// lost compare-and-set: another writer is finishing that item right now.
	shortRetry = 250 * time.Millisecond
	// wixRateLimitWait is the pause after a 429 from Wix, which documents
	// no Retry-After; its limit is per minute, so half of one is a fair wait.
	wixRateLimitWait = 30 * time.Second
	// minThrottleWait keeps a shared-bucket answer of "almost now" from
	// turning into a tight redelivery loop.
	minThrottleWait = 100 * time.Millisecond
)

var (
	// errLocked: another writer holds the item's lease.
	errLocked = lease.ErrBusy
	// errInvalidEvent: the event can never be applied as given.
	errInvalidEvent = errors.New("event cannot be applied")
	// errHostNotAllowed: the media URL is not on an allowed host, so Wix is
	// not asked to fetch it.
	errHostNotAllowed = errors.New("media host not allowed")
)

// outcome turns an Apply failure into what the bus should do with the
// message: wait for a rate limit, retry soon (lock, CAS), give up (dead
// letter) when retrying cannot fix it, or back off (anything else: network,
// 5xx, mapping unavailable, media still processing).
func outcome(err error) error {
	if err == nil {
		return nil
	}
	var limited *throttle.LimitedError
	switch {
	case errors.As(err, &limited):
		return bus.RetryAfter(err, jitter(max(limited.RetryAfter, minThrottleWait)))
	case errors.Is(err, wix.ErrRateLimited):
		wait := wixRateLimitWait
		if apiErr, ok := errors.AsType[*wix.APIError](err); ok && apiErr.RetryAfter > 0 {
			// Wix documents no Retry-After, but one sent (by Wix or a
			// proxy in front of it) says best when to come back.
			wait = max(apiErr.RetryAfter, minThrottleWait)
		}
		return bus.RetryAfter(err, jitter(wait))
	case errors.Is(err, errLocked), status.Code(err) == codes.Aborted:
		return bus.RetryAfter(err, jitter(shortRetry))
	case isPermanent(err):
		return bus.Permanent(err)
	default:
		return err
	}
}

// isPermanent reports whether retrying err cannot help: Wix refused the
// request as such (400, 401/403, a gallery that is gone), the media failed
// to import, the media host is not allowed, or the event is malformed.
func isPermanent(err error) bool {
	if wix.IsRetryable(err) {
		return false
	}
	return errors.Is(err, wix.ErrInvalidRequest) ||
		errors.Is(err, wix.ErrUnauthorized) ||
		errors.Is(err, wix.ErrFileFailed) ||
		errors.Is(err, wix.ErrNotFound) ||
		errors.Is(err, errHostNotAllowed) ||
		errors.Is(err, errInvalidEvent) ||
		status.Code(err) == codes.InvalidArgument
}

// jitter adds up to 20% so that writers that failed together do not retry
// together.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}
