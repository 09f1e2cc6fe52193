package mastodonsim

import (
	"strings"
	"time"
)

// Option configures a Server built by New.
type Option func(*options)

type options struct {
	baseURL   string
	limits    Limits
	now       func() time.Time
	heartbeat time.Duration
}

// WithBaseURL sets the public URL the handler is reachable at, such as
// "http://127.0.0.1:8090/mastodon". Status, media, tag and Link URLs are built
// from it. Without it they are built from the request's Host header.
func WithBaseURL(u string) Option {
	return func(o *options) { o.baseURL = strings.TrimRight(u, "/") }
}

// WithLimits replaces the rate limits (DefaultLimits by default).
func WithLimits(l Limits) Option {
	return func(o *options) { o.limits = l }
}

// WithClock replaces the time source; tests use it to cross window boundaries
// and to expire idempotency keys without waiting.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithHeartbeat sets how often an open stream gets a ":thump" heartbeat
// comment (default 15s); tests shorten it.
func WithHeartbeat(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.heartbeat = d
		}
	}
}

// Limits are per-account fixed-window rate limits. A zero count disables that
// family. Every authenticated request counts against PerAccount; media
// uploads also count against Media, status deletes also against Deletes.
type Limits struct {
	// Window and PerAccount bound all authenticated API requests.
	Window     time.Duration
	PerAccount int
	// MediaWindow and Media bound POST /api/v1/media and POST /api/v2/media.
	MediaWindow time.Duration
	Media       int
	// DeleteWindow and Deletes bound DELETE /api/v1/statuses/:id.
	DeleteWindow time.Duration
	Deletes      int
}

// DefaultLimits returns Mastodon's documented defaults: 300 requests per 5
// minutes per account, 30 media uploads per 30 minutes and 30 status deletes
// per 30 minutes.
func DefaultLimits() Limits {
	return Limits{
		Window:       5 * time.Minute,
		PerAccount:   300,
		MediaWindow:  30 * time.Minute,
		Media:        30,
		DeleteWindow: 30 * time.Minute,
		Deletes:      30,
	}
}

// Unlimited returns limits that never throttle and add no rate limit headers.
func Unlimited() Limits { return Limits{} }
