package wixsim

import (
	"sync"
	"time"
)

// limiter is a sliding-window log per app instance: a call is allowed when
// fewer than limit calls were allowed in the window before it. Refused calls
// do not count, so a client that backs off recovers after the window.
type limiter struct {
	limit  int
	window time.Duration

	mu   sync.Mutex
	logs map[string][]time.Time
}

func newLimiter(limit int, window time.Duration) *limiter {
	return &limiter{limit: limit, window: window, logs: map[string][]time.Time{}}
}

// allow records a call at now for the instance and reports whether it fits.
func (l *limiter) allow(instanceID string, now time.Time) bool {
	if l.limit < 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	log := l.logs[instanceID]
	cut := now.Add(-l.window)
	i := 0
	for i < len(log) && !log[i].After(cut) {
		i++
	}
	log = log[i:]
	if len(log) >= l.limit {
		l.logs[instanceID] = log
		return false
	}
	l.logs[instanceID] = append(log, now)
	return true
}
