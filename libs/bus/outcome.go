package bus

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Default retry pacing.
const (
	backoffBase   = 200 * time.Millisecond
	backoffCap    = 30 * time.Second
	backoffJitter = 0.2
)

// retryAfterError asks for redelivery after a given pause.
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return fmt.Sprintf("retry after %s: %v", e.after, e.err) }
func (e *retryAfterError) Unwrap() error { return e.err }

// permanentError says that retrying cannot help.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// RetryAfter is a handler result asking for the message again after d, for
// example when a rate limit resets then. It is back-pressure, not failure:
// it never dead-letters the message, however often it is asked for (the
// deliveries still count, so a later plain failure may be the last one).
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		err = errors.New("retry requested")
	}
	return &retryAfterError{err: err, after: d}
}

// Permanent is a handler result saying the message can never be applied:
// it is dead-lettered at once instead of retried.
func Permanent(err error) error {
	if err == nil {
		err = errors.New("permanent failure")
	}
	return &permanentError{err: err}
}

// DefaultBackoff is the pause before redelivery after the given failed
// delivery (1 for the first): 200ms doubling each time, with ±20% jitter so
// replicas that failed together do not retry together, never above 30s.
func DefaultBackoff(delivery int) time.Duration {
	d := backoffBase
	for i := 1; i < delivery && d < backoffCap; i++ {
		d *= 2
	}
	jitter := 1 + backoffJitter*(2*rand.Float64()-1)
	return min(time.Duration(float64(d)*jitter), backoffCap)
}

// IsRetryAfter reports whether err asks for a later delivery (RetryAfter):
// back-pressure that a handler must not count as a failed attempt.
func IsRetryAfter(err error) bool {
	var r *retryAfterError
	return errors.As(err, &r)
}
