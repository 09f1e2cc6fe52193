package pinterestsim

import "time"

// windowKey identifies one user's counter under one limit.
type windowKey struct {
	accountID string
	limit     int // index in the limits
}

// window is a fixed window aligned to the Unix epoch.
type window struct {
	start time.Time
	count int
}

// limiter counts calls per user and limit. The Server's mutex guards it.
type limiter struct {
	limits  []Limit
	windows map[windowKey]*window
}

func newLimiter(limits []Limit) *limiter {
	return &limiter{limits: limits, windows: map[windowKey]*window{}}
}

// admit reports whether a call of the category may proceed now, and counts
// it when it may. A refused call counts against nothing.
func (l *limiter) admit(accountID, category string, now time.Time) bool {
	var hits []*window
	for i, lim := range l.limits {
		if lim.Requests <= 0 || lim.Period <= 0 || (lim.Category != CategoryAll && lim.Category != category) {
			continue
		}
		key := windowKey{accountID: accountID, limit: i}
		start := now.Truncate(lim.Period)
		w := l.windows[key]
		if w == nil || !w.start.Equal(start) {
			w = &window{start: start}
			l.windows[key] = w
		}
		if w.count >= lim.Requests {
			return false
		}
		hits = append(hits, w)
	}
	for _, w := range hits {
		w.count++
	}
	return true
}
