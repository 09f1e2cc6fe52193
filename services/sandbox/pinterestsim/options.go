package pinterestsim

import "time"

// Option configures a Server built by New.
type Option func(*options)

type options struct {
	limits     []Limit
	now        func() time.Time
	pinUpdates bool
}

// WithLimits replaces the rate limits (StandardLimits by default; none
// disables rate limiting).
func WithLimits(l ...Limit) Option {
	return func(o *options) { o.limits = append([]Limit(nil), l...) }
}

// WithClock replaces the time source; tests use it to cross rate limit
// windows and to date boards and Pins.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithPinUpdates says whether PATCH /pins/{pin_id} is open to the app
// (default true, as in Pinterest's API sandbox). The endpoint is a beta
// "not available to all apps"; when closed it answers 403 like any refused
// permission.
func WithPinUpdates(enabled bool) Option {
	return func(o *options) { o.pinUpdates = enabled }
}

// Rate limit categories of the endpoints (the spec's x-ratelimit-category).
const (
	CategoryAll      = ""
	CategoryOrgRead  = "org_read"
	CategoryOrgWrite = "org_write"
)

// Limit is a per-user fixed-window rate limit over one category of
// endpoints (CategoryAll: every authenticated call). Past Requests calls in
// a window of Period the API answers 429; refused calls do not count.
type Limit struct {
	Category string
	Requests int
	Period   time.Duration
}

// StandardLimits is the universal limit Pinterest documents for Standard
// access: 100 requests per second per user per app. The per-category
// limits of the rate limit table are not confirmed, so they are left out.
func StandardLimits() []Limit {
	return []Limit{{Category: CategoryAll, Requests: 100, Period: time.Second}}
}

// TrialLimits is the universal limit Pinterest documents for Trial access:
// 1000 requests per day.
func TrialLimits() []Limit {
	return []Limit{{Category: CategoryAll, Requests: 1000, Period: 24 * time.Hour}}
}
