package wixsim

import (
	"maps"
	"net/http"
	"sync"
)

// counters are the running totals of one site.
type counters struct {
	calls             map[string]int64
	rateLimited       int64
	webhooksQueued    int64
	webhooksDelivered int64
	attemptsFailed    int64
	webhooksDropped   int64
}

// statsBook holds the counters of every site.
type statsBook struct {
	mu    sync.Mutex
	sites map[string]*counters
}

func newStatsBook() *statsBook {
	return &statsBook{sites: map[string]*counters{}}
}

// update runs f on the instance's counters under the lock.
func (b *statsBook) update(instanceID string, f func(c *counters)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.sites[instanceID]
	if !ok {
		c = &counters{calls: map[string]int64{}}
		b.sites[instanceID] = c
	}
	f(c)
}

func (b *statsBook) call(instanceID, op string) {
	b.update(instanceID, func(c *counters) { c.calls[op]++ })
}

func (b *statsBook) rateLimited(instanceID string) {
	b.update(instanceID, func(c *counters) { c.rateLimited++ })
}

func (b *statsBook) snapshot(instanceID string) Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.sites[instanceID]
	if !ok {
		return Stats{Calls: map[string]int64{}}
	}
	return Stats{
		Calls:                 maps.Clone(c.calls),
		RateLimited:           c.rateLimited,
		WebhooksQueued:        c.webhooksQueued,
		WebhooksDelivered:     c.webhooksDelivered,
		WebhookAttemptsFailed: c.attemptsFailed,
		WebhooksDropped:       c.webhooksDropped,
	}
}

// Stats returns the counters of a site; an unknown site has all zeros.
func (s *Server) Stats(instanceID string) Stats {
	st := s.stats.snapshot(instanceID)
	st.WebhooksPending = s.queue.count(func(d *delivery) bool { return d.instanceID == instanceID })
	st.ImportsPending = s.pendingImports(instanceID)
	return st
}

// handleStats is GET /_sandbox/stats?instanceId=.
func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("instanceId")
	if id == "" {
		writeError(w, invalid(violation("instanceId", "REQUIRED_FIELD", "must not be empty")))
		return
	}
	if !s.hasSite(id) {
		writeError(w, siteNotFound(id))
		return
	}
	writeJSON(w, http.StatusOK, s.Stats(id))
}
