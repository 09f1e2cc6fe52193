package platforms_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"gallerysync.dev/libs/media"
	"gallerysync.dev/libs/platforms"
)

func TestIsRetryable(t *testing.T) {
	t.Parallel()
	cause := errors.New("connection reset")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errors.New("odd"), false},
		{"transient", fmt.Errorf("post: %w", &platforms.TransientError{Err: cause}), true},
		{"media retryable", fmt.Errorf("fetch: %w", &media.RetryableError{Err: cause}), true},
		{"rate limited", &platforms.RateLimitError{Reset: time.Now(), Err: cause}, true},
		{"deadline", fmt.Errorf("post: %w", context.DeadlineExceeded), true},
		{"permanent", fmt.Errorf("post: %w", platforms.ErrPermanent), false},
		{"permanent beats transient", fmt.Errorf("%w: %w", platforms.ErrPermanent, &platforms.TransientError{Err: cause}), false},
		{"not found", fmt.Errorf("put: %w", platforms.ErrNotFound), false},
		{"media permanent", fmt.Errorf("fetch: %w", media.ErrHostNotAllowed), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := platforms.IsRetryable(tc.err); got != tc.want {
				t.Fatalf("IsRetryable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestRateLimitErrorUnwraps(t *testing.T) {
	t.Parallel()
	reset := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	err := fmt.Errorf("create: %w", &platforms.RateLimitError{Reset: reset, Err: platforms.ErrPermanent})
	var rl *platforms.RateLimitError
	if !errors.As(err, &rl) || !rl.Reset.Equal(reset) {
		t.Fatalf("errors.As did not find the reset in %v", err)
	}
	if !errors.Is(err, platforms.ErrPermanent) {
		t.Fatalf("cause lost: %v", err)
	}
}
