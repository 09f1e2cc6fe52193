package writer

import (
	"errors"
	"math/rand/v2"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/lease"
	"gallerysync.dev/libs/media"
	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/throttle"
)

// Retry pacing for conditions that clear by themselves quickly.
const (
	// shortRetry is the pause before retrying after a busy item lock or a
	// lost compare-and-set: another writer is finishing that item right now.
	shortRetry = 250 * time.Millisecond
	// minRateLimitWait keeps a reset in the past (clock skew) from causing
	// an immediate retry storm.
	minRateLimitWait = time.Second
)

var (
	// errLocked: another writer holds the item's lease.
	errLocked = lease.ErrBusy
	// errInvalidEvent: the event can never be applied as given.
	errInvalidEvent = errors.New("event cannot be applied")
)

// outcome turns an Apply failure into what the bus should do with the
// message: wait for a rate limit to reset, retry soon (lock, CAS), give up
// (dead letter) when retrying cannot fix it, or back off (anything else:
// network, 5xx, mapping unavailable).
func outcome(err error, now time.Time) error {
	if err == nil {
		return nil
	}
	var rl *platforms.RateLimitError
	var paced *throttle.LimitedError
	switch {
	case errors.As(err, &rl):
		return bus.RetryAfter(err, jitter(max(rl.Reset.Sub(now), minRateLimitWait)))
	case errors.As(err, &paced):
		// Our own pacing: come back when the account's budget allows.
		return bus.RetryAfter(err, jitter(max(paced.RetryAfter, shortRetry)))
	case errors.Is(err, errLocked), status.Code(err) == codes.Aborted:
		return bus.RetryAfter(err, jitter(shortRetry))
	case isPermanent(err):
		return bus.Permanent(err)
	default:
		return err
	}
}

// isPermanent reports whether retrying err cannot help.
func isPermanent(err error) bool {
	return errors.Is(err, platforms.ErrPermanent) ||
		errors.Is(err, errInvalidEvent) ||
		media.IsPermanent(err) ||
		status.Code(err) == codes.InvalidArgument
}

// jitter adds up to 20% so that writers that failed together do not retry
// together.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}
