package wixsim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// DeliveryTimeout is how long Wix waits for the receiver's 200.
const DeliveryTimeout = 1250 * time.Millisecond

// delivery is one webhook on its way, first attempt or retry. Copies made
// by Faults.Duplicate are deliveries of their own.
type delivery struct {
	instanceID string
	eventID    string
	payload    string
	// issued is the JWT iat of every attempt: when the event happened.
	issued time.Time
	// failures counts failed attempts so far; failFirst is how many of the
	// first attempts fail without being sent (Faults.FailFirst).
	failures  int
	failFirst int
	// queued orders a batch under Faults.Reorder.
	queued uint64
}

// DrainWebhooks waits until no webhook is queued, scheduled for a retry or
// in flight and no import is still processing (its File Ready or File
// Failed webhook is yet to come). Run must be running for anything to
// move; with Wix's real retry schedule a failing receiver keeps it waiting
// until ctx ends.
func (s *Server) DrainWebhooks(ctx context.Context) error {
	for {
		idleHooks, hooksChanged := s.queue.state()
		idleImports, importsChanged := s.imports.state()
		if idleHooks && idleImports {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("drain webhooks: %w", ctx.Err())
		case <-hooksChanged:
		case <-importsChanged:
		}
	}
}

// deliverLoop is the webhook worker owned by Run. It takes every delivery
// that is due as one batch and sends the batch in queueing order, or
// newest first under Faults.Reorder.
func (s *Server) deliverLoop(ctx context.Context) {
	for {
		batch, ok := s.queue.take(ctx, 0)
		if !ok {
			return
		}
		if s.currentFaults().Reorder {
			slices.SortFunc(batch, func(a, b *delivery) int { return cmp.Compare(b.queued, a.queued) })
		}
		for i, d := range batch {
			if !s.deliver(ctx, d) {
				// Shutting down: what was not attempted stays queued as it was.
				for _, rest := range batch[i+1:] {
					s.queue.done(rest, true, time.Now())
				}
				return
			}
		}
	}
}

// deliver makes one attempt and books its outcome; false means ctx ended
// and cut the attempt short, which is not counted as a failure.
func (s *Server) deliver(ctx context.Context, d *delivery) bool {
	var err error
	if d.failures < d.failFirst {
		err = errFaultInjected
	} else {
		err = s.attempt(ctx, d)
	}
	if err != nil && ctx.Err() != nil {
		s.queue.done(d, true, time.Now())
		return false
	}
	if err == nil {
		s.stats.update(d.instanceID, func(c *counters) { c.webhooksDelivered++ })
		s.queue.done(d, false, time.Time{})
		return true
	}
	s.stats.update(d.instanceID, func(c *counters) { c.attemptsFailed++ })
	if d.failures < len(s.cfg.Retry) {
		delay := s.cfg.Retry[d.failures]
		d.failures++
		s.log.Info("webhook delivery failed; will retry",
			"instance_id", d.instanceID, "event_id", d.eventID, "failures", d.failures, "retry_in", delay, "err", err)
		s.queue.done(d, true, time.Now().Add(delay))
		return true
	}
	s.stats.update(d.instanceID, func(c *counters) { c.webhooksDropped++ })
	s.log.Warn("webhook dropped after the last retry",
		"instance_id", d.instanceID, "event_id", d.eventID, "failures", d.failures+1, "err", err)
	s.queue.done(d, false, time.Time{})
	return true
}

// errNotOK is a delivery answered with a status other than 200.
var errNotOK = errors.New("receiver did not answer 200")

// errFaultInjected is an attempt Faults.FailFirst counts as failed unsent.
var errFaultInjected = errors.New("attempt failed by Faults.FailFirst; not sent")

// attempt POSTs one signed webhook and wants 200 within DeliveryTimeout.
func (s *Server) attempt(ctx context.Context, d *delivery) error {
	body, err := s.sign(d.payload, d.issued)
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

// pushWebhooks queues the payloads of one change as one batch, with the
// copies and delay the faults in force ask for. The caller holds s.mu, so
// batches are queued in the order the changes happened.
func (s *Server) pushWebhooks(instanceID string, events []queuedEvent) {
	if s.cfg.WebhookURL == "" || len(events) == 0 {
		return
	}
	f := s.currentFaults()
	var batch []*delivery
	for _, ev := range events {
		for range 1 + f.Duplicate {
			s.queued++
			batch = append(batch, &delivery{
				instanceID: instanceID,
				eventID:    ev.id,
				payload:    ev.payload,
				issued:     ev.issued,
				failFirst:  f.FailFirst,
				queued:     s.queued,
			})
		}
	}
	s.stats.update(instanceID, func(c *counters) { c.webhooksQueued += int64(len(batch)) })
	s.queue.push(time.Now().Add(f.Delay), batch...)
}

// queuedEvent is an encoded webhook ready to be queued.
type queuedEvent struct {
	id      string
	payload string
	issued  time.Time
}
