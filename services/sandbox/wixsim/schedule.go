package wixsim

import (
	"container/heap"
	"context"
	"slices"
	"sync"
	"time"
)

// schedule is a queue of work items that each become due at a time of
// their own. Workers take what is due; what they took stays "in flight"
// until they hand it back with done, so that the owner can tell when
// nothing is left (DrainWebhooks) and how much is pending per site.
type schedule[T comparable] struct {
	mu       sync.Mutex
	items    timedHeap[T]
	seq      uint64
	inflight []T
	changed  chan struct{}
}

func newSchedule[T comparable]() *schedule[T] {
	return &schedule[T]{changed: make(chan struct{})}
}

// timed is one entry: due time first, then queueing order, so that
// entries due together come out first in, first out.
type timed[T any] struct {
	v   T
	due time.Time
	seq uint64
}

type timedHeap[T any] []timed[T]

func (h timedHeap[T]) Len() int { return len(h) }
func (h timedHeap[T]) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].seq < h[j].seq
}
func (h timedHeap[T]) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timedHeap[T]) Push(x any)   { *h = append(*h, x.(timed[T])) }
func (h *timedHeap[T]) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// notifyLocked wakes every waiting worker and DrainWebhooks caller.
func (q *schedule[T]) notifyLocked() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// push queues vs, all due at due, in the order given and at once, so that
// a worker sees either none or all of them.
func (q *schedule[T]) push(due time.Time, vs ...T) {
	if len(vs) == 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, v := range vs {
		q.seq++
		heap.Push(&q.items, timed[T]{v: v, due: due, seq: q.seq})
	}
	q.notifyLocked()
}

// take blocks until at least one entry is due, then removes up to max of
// the due entries (every due entry when max <= 0) in due order and marks
// them in flight. It returns false when ctx is done.
func (q *schedule[T]) take(ctx context.Context, max int) ([]T, bool) {
	for {
		q.mu.Lock()
		now := time.Now()
		var out []T
		for len(q.items) > 0 && !q.items[0].due.After(now) && (max <= 0 || len(out) < max) {
			out = append(out, heap.Pop(&q.items).(timed[T]).v)
		}
		if len(out) > 0 {
			q.inflight = append(q.inflight, out...)
			q.mu.Unlock()
			return out, true
		}
		var wait <-chan time.Time
		var timer *time.Timer
		if len(q.items) > 0 {
			timer = time.NewTimer(q.items[0].due.Sub(now))
			wait = timer.C
		}
		changed := q.changed
		q.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-changed:
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

// done ends v's time in flight; with again set it is queued anew, due at due.
func (q *schedule[T]) done(v T, again bool, due time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if i := slices.Index(q.inflight, v); i >= 0 {
		q.inflight = slices.Delete(q.inflight, i, i+1)
	}
	if again {
		q.seq++
		heap.Push(&q.items, timed[T]{v: v, due: due, seq: q.seq})
	}
	q.notifyLocked()
}

// count is the number of entries queued or in flight that match.
func (q *schedule[T]) count(match func(T) bool) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, e := range q.items {
		if match(e.v) {
			n++
		}
	}
	for _, v := range q.inflight {
		if match(v) {
			n++
		}
	}
	return n
}

// state reports whether nothing is queued or in flight, and a channel
// closed at the next change.
func (q *schedule[T]) state() (idle bool, changed <-chan struct{}) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) == 0 && len(q.inflight) == 0, q.changed
}
