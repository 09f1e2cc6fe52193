package wixsim

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DeliveryTimeout is how long Wix waits for the receiver's 200.
const DeliveryTimeout = 1250 * time.Millisecond

// delivery is one webhook on its way, first attempt or retry.
type delivery struct {
	instanceID string
	eventID    string
	payload    string
	failures   int
	due        time.Time
	seq        uint64
}

// deliveryHeap orders deliveries by due time, then by queueing order, so
// first attempts go out FIFO and a retry waits for its time without
// holding back newer events.
type deliveryHeap []*delivery

func (h deliveryHeap) Len() int { return len(h) }
func (h deliveryHeap) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].seq < h[j].seq
}
func (h deliveryHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *deliveryHeap) Push(x any)   { *h = append(*h, x.(*delivery)) }
func (h *deliveryHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	*h = old[:len(old)-1]
	return d
}

// queue holds the deliveries not yet done.
type queue struct {
	mu       sync.Mutex
	items    deliveryHeap
	seq      uint64
	inflight *delivery
	wake     chan struct{}
	changed  chan struct{}
}

func newQueue() *queue {
	return &queue{wake: make(chan struct{}, 1), changed: make(chan struct{})}
}

// notifyLocked wakes the worker and every DrainWebhooks waiter.
func (q *queue) notifyLocked() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
	close(q.changed)
	q.changed = make(chan struct{})
}

func (q *queue) push(d *delivery) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq++
	d.seq = q.seq
	heap.Push(&q.items, d)
	q.notifyLocked()
}

// next blocks until a delivery is due and marks it in flight; false when
// ctx is done.
func (q *queue) next(ctx context.Context) (*delivery, bool) {
	for {
		q.mu.Lock()
		var timer *time.Timer
		var wait <-chan time.Time
		if len(q.items) > 0 {
			head := q.items[0]
			d := time.Until(head.due)
			if d <= 0 {
				heap.Pop(&q.items)
				q.inflight = head
				q.mu.Unlock()
				return head, true
			}
			timer = time.NewTimer(d)
			wait = timer.C
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-q.wake:
		case <-wait:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return nil, false
		}
	}
}

// finish ends the in-flight delivery, putting it back when retry is set.
func (q *queue) finish(d *delivery, retry bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.inflight = nil
	if retry {
		q.seq++
		d.seq = q.seq
		heap.Push(&q.items, d)
	}
	q.notifyLocked()
}

// pending counts the site's deliveries queued, scheduled or in flight.
func (q *queue) pending(instanceID string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, d := range q.items {
		if d.instanceID == instanceID {
			n++
		}
	}
	if q.inflight != nil && q.inflight.instanceID == instanceID {
		n++
	}
	return n
}

// state reports whether nothing is queued or in flight, and a channel
// closed at the next change.
func (q *queue) state() (idle bool, changed <-chan struct{}) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) == 0 && q.inflight == nil, q.changed
}

// DrainWebhooks waits until no webhook is queued, scheduled for a retry or
// in flight. Run must be running for the queue to move; with Wix's real
// retry schedule a failing receiver keeps it waiting until ctx ends.
func (s *Server) DrainWebhooks(ctx context.Context) error {
	for {
		idle, changed := s.queue.state()
		if idle {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("drain webhooks: %w", ctx.Err())
		case <-changed:
		}
	}
}

// deliverLoop is the worker owned by Run.
func (s *Server) deliverLoop(ctx context.Context) {
	for {
		d, ok := s.queue.next(ctx)
		if !ok {
			return
		}
		err := s.attempt(ctx, d)
		if err != nil && ctx.Err() != nil {
			// Shutting down: the attempt was cut short, not refused.
			s.queue.finish(d, true)
			return
		}
		if err == nil {
			s.stats.update(d.instanceID, func(c *counters) { c.webhooksDelivered++ })
			s.queue.finish(d, false)
			continue
		}
		s.stats.update(d.instanceID, func(c *counters) { c.attemptsFailed++ })
		if d.failures < len(s.cfg.Retry) {
			delay := s.cfg.Retry[d.failures]
			d.failures++
			d.due = time.Now().Add(delay)
			s.log.Info("webhook delivery failed; will retry",
				"instance_id", d.instanceID, "event_id", d.eventID, "failures", d.failures, "retry_in", delay, "err", err)
			s.queue.finish(d, true)
			continue
		}
		s.stats.update(d.instanceID, func(c *counters) { c.webhooksDropped++ })
		s.log.Warn("webhook dropped after the last retry",
			"instance_id", d.instanceID, "event_id", d.eventID, "failures", d.failures+1, "err", err)
		s.queue.finish(d, false)
	}
}

// errNotOK is a delivery answered with a status other than 200.
var errNotOK = errors.New("receiver did not answer 200")

// attempt POSTs one signed webhook and wants 200 within DeliveryTimeout.
func (s *Server) attempt(ctx context.Context, d *delivery) error {
	body, err := s.sign(d.payload)
	if err != nil {
		return fmt.Errorf("sign webhook %s: %w", d.eventID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, DeliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.WebhookURL, strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("build webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("User-Agent", "wixsim-webhooks")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("post webhook %s: %w", d.eventID, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("post webhook %s: status %d: %w", d.eventID, resp.StatusCode, errNotOK)
	}
	return nil
}
