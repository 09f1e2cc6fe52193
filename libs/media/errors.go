package media

import (
	"errors"
	"fmt"
)

// Errors a fetch returns that retrying cannot fix: the URL or its content is
// not acceptable, so the caller should give up on the item (dead letter).
var (
	// ErrInvalidURL: the URL does not parse or is not http/https.
	ErrInvalidURL = errors.New("media: invalid url")
	// ErrHostNotAllowed: the URL, or a redirect, points outside the allow list.
	ErrHostNotAllowed = errors.New("media: host not allowed")
	// ErrTooLarge: the body is larger than the fetcher's limit.
	ErrTooLarge = errors.New("media: too large")
	// ErrUnsupportedMedia: the body is neither an image nor a video.
	ErrUnsupportedMedia = errors.New("media: unsupported media type")
	// ErrBadStatus: the host answered with a client error (e.g. 404, 403).
	ErrBadStatus = errors.New("media: unexpected status")
)

// RetryableError marks a failure that may pass on a later attempt: a network
// error, a timeout, a 5xx or 429 answer.
type RetryableError struct {
	Err error
}

// Error implements error.
func (e *RetryableError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *RetryableError) Unwrap() error { return e.Err }

// Retryable reports true; callers that must not import this package can test
// for the method instead of the type.
func (e *RetryableError) Retryable() bool { return true }

// IsRetryable reports whether a fetch error may pass on a later attempt.
func IsRetryable(err error) bool {
	var r *RetryableError
	return errors.As(err, &r)
}

// IsPermanent reports whether a fetch error is one retrying cannot fix.
func IsPermanent(err error) bool {
	for _, target := range []error{ErrInvalidURL, ErrHostNotAllowed, ErrTooLarge, ErrUnsupportedMedia, ErrBadStatus} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

func retryable(format string, args ...any) error {
	return &RetryableError{Err: fmt.Errorf(format, args...)}
}
