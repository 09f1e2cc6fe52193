package mastodonsim

import (
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// family names an independent rate limit counter.
type family int

const (
	familyAll family = iota
	familyMedia
	familyDeletes
)

// rule is one limit that applies to a request.
type rule struct {
	family family
	window time.Duration
	limit  int
}

var (
	mediaUploadPath  = regexp.MustCompile(`^/api/v\d+/media$`)
	statusDeletePath = regexp.MustCompile(`^/api/v1/statuses/\d+$`)
)

// rulesFor lists the limits a request counts against, as Mastodon's
// Rack::Attack throttles select them.
func (l Limits) rulesFor(method, path string) []rule {
	var rules []rule
	if l.PerAccount > 0 && l.Window > 0 {
		rules = append(rules, rule{family: familyAll, window: l.Window, limit: l.PerAccount})
	}
	if l.Media > 0 && l.MediaWindow > 0 && method == http.MethodPost && mediaUploadPath.MatchString(path) {
		rules = append(rules, rule{family: familyMedia, window: l.MediaWindow, limit: l.Media})
	}
	if l.Deletes > 0 && l.DeleteWindow > 0 && method == http.MethodDelete && statusDeletePath.MatchString(path) {
		rules = append(rules, rule{family: familyDeletes, window: l.DeleteWindow, limit: l.Deletes})
	}
	return rules
}

// windowKey identifies one account's counter in one family.
type windowKey struct {
	accountID string
	family    family
}

// window is a fixed window aligned to the Unix epoch, like Rack::Attack's.
type window struct {
	start time.Time
	count int
}

// limiter counts requests per account and family. The Server's mutex guards it.
type limiter struct {
	windows map[windowKey]*window
}

func newLimiter() *limiter { return &limiter{windows: map[windowKey]*window{}} }

// verdict is the outcome of counting one request: the limit to report in
// the headers and whether the request must be refused.
type verdict struct {
	limit     int
	remaining int
	reset     time.Time
	throttled bool
}

// hit counts a request against every rule and reports on the one closest to
// exhaustion (or the one that is exhausted). ok is false when no rule applies.
func (l *limiter) hit(accountID string, rules []rule, now time.Time) (v verdict, ok bool) {
	for _, r := range rules {
		key := windowKey{accountID: accountID, family: r.family}
		start := alignWindow(now, r.window)
		w := l.windows[key]
		if w == nil || !w.start.Equal(start) {
			w = &window{start: start}
			l.windows[key] = w
		}
		w.count++
		cur := verdict{
			limit:     r.limit,
			remaining: max(r.limit-w.count, 0),
			reset:     start.Add(r.window),
			throttled: w.count > r.limit,
		}
		switch {
		case !ok:
			v, ok = cur, true
		case v.throttled:
		case cur.throttled || cur.remaining < v.remaining:
			v = cur
		}
	}
	return v, ok
}

func alignWindow(now time.Time, d time.Duration) time.Time {
	ns := now.UnixNano()
	return time.Unix(0, ns-ns%int64(d)).UTC()
}

// setHeaders writes the documented rate limit headers; the reset time is an
// ISO 8601 timestamp with microseconds, as Mastodon renders it.
func (v verdict) setHeaders(h http.Header) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(v.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(v.remaining))
	h.Set("X-RateLimit-Reset", v.reset.UTC().Format("2006-01-02T15:04:05.000000Z07:00"))
}
