package bus

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"gallerysync.dev/libs/change"
)

// Headers of a dead-lettered message, next to the original payload.
const (
	HeaderError      = "Gs-Error"
	HeaderSubject    = "Gs-Subject"
	HeaderDeliveries = "Gs-Deliveries"
	HeaderConsumer   = "Gs-Consumer"
	// maxErrorHeader keeps a long error from bloating every dead letter.
	maxErrorHeader = 1024
)

// settleContext bounds one settle call. It outlives a cancelled consumer
// context, so a handler that finished during shutdown still gets its ack.
func (c *Consumer) settleContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), c.bus.cfg.PublishTimeout)
}

// attrs are the metric labels of one message.
func (c *Consumer) attrs(d Delivery) metric.MeasurementOption {
	return metric.WithAttributes(consumerKey.String(c.cfg.Durable), subjectKey.String(subjectRoot(d.Subject)))
}

// ack settles a handled message and waits for the server to confirm, so an
// acked message is not delivered again.
func (c *Consumer) ack(ctx context.Context, msg jetstream.Msg, d Delivery) {
	actx, cancel := c.settleContext(ctx)
	defer cancel()
	if err := msg.DoubleAck(actx); err != nil {
		// Unconfirmed: the server redelivers after AckWait and the handler,
		// being idempotent, applies nothing twice.
		c.bus.log.WarnContext(ctx, "ack", c.logAttrs(d, err)...)
		return
	}
	c.bus.counters.acked.Add(ctx, 1, c.attrs(d))
}

// fail settles a message whose handling failed: dead-letter it, or hand it
// back for a later delivery.
func (c *Consumer) fail(ctx context.Context, msg jetstream.Msg, d Delivery, err error) {
	span := trace.SpanFromContext(ctx)
	span.RecordError(err)
	span.SetStatus(codes.Error, "handler failed")
	var perm *permanentError
	var retry *retryAfterError
	switch {
	case errors.As(err, &perm):
		c.deadLetter(ctx, msg, d, err)
	case c.ctx.Err() != nil:
		// Shutting down: the failure may be ours, not the message's, so it
		// neither waits nor moves towards the dead-letter stream here; the
		// next delivery decides.
		c.nak(ctx, msg, d, 0)
	case errors.As(err, &retry):
		// Back-pressure (a rate limit, a busy item), not a broken message:
		// it waits as long as asked and never moves towards the dead letters.
		c.bus.log.DebugContext(ctx, "handler asked for a retry", c.logAttrs(d, err)...)
		c.nak(ctx, msg, d, retry.after)
	case d.NumDelivered >= uint64(c.cfg.MaxDeliver):
		c.deadLetter(ctx, msg, d, err)
	default:
		c.bus.log.WarnContext(ctx, "handler failed", c.logAttrs(d, err)...)
		c.nak(ctx, msg, d, c.cfg.Backoff(int(d.NumDelivered)))
	}
}

// nak asks for redelivery after delay.
func (c *Consumer) nak(ctx context.Context, msg jetstream.Msg, d Delivery, delay time.Duration) {
	var err error
	if delay > 0 {
		err = msg.NakWithDelay(delay)
	} else {
		err = msg.Nak()
	}
	if err != nil {
		// The server redelivers after AckWait anyway.
		c.bus.log.WarnContext(ctx, "nak", c.logAttrs(d, err)...)
		return
	}
	c.bus.counters.retried.Add(ctx, 1, c.attrs(d))
}

// deadLetter copies the message to the dead-letter stream and, once that is
// stored, terminates it. The copy's id is consumer plus stream sequence, so
// a second attempt after a crash stores nothing new.
func (c *Consumer) deadLetter(ctx context.Context, msg jetstream.Msg, d Delivery, cause error) {
	h := nats.Header{}
	h.Set(HeaderError, headerValue(cause.Error()))
	h.Set(HeaderSubject, d.Subject)
	h.Set(HeaderDeliveries, strconv.FormatUint(d.NumDelivered, 10))
	h.Set(HeaderConsumer, c.cfg.Durable)
	orig := headerCarrier(msg.Headers())
	for _, k := range []string{"traceparent", "tracestate"} {
		if v := orig.Get(k); v != "" {
			h[k] = []string{v}
		}
	}
	dl := &nats.Msg{Subject: change.DeadLetterSubject(c.cfg.Durable), Data: msg.Data(), Header: h}
	id := c.cfg.Durable + ":" + strconv.FormatUint(d.StreamSequence, 10)
	if _, err := c.bus.publishMsg(context.WithoutCancel(ctx), dl, id); err != nil {
		// Keep the message: it comes back and the dead-letter is tried again.
		c.bus.log.ErrorContext(ctx, "dead-letter", c.logAttrs(d, err)...)
		c.nak(ctx, msg, d, c.cfg.Backoff(int(d.NumDelivered)))
		return
	}
	if err := msg.TermWithReason("dead-lettered"); err != nil {
		// Redelivered later and dead-lettered again under the same id.
		c.bus.log.WarnContext(ctx, "terminate", c.logAttrs(d, err)...)
	}
	c.bus.counters.deadLettered.Add(ctx, 1, c.attrs(d))
	c.bus.log.WarnContext(ctx, "dead-lettered", c.logAttrs(d, cause)...)
}

// logAttrs describe a delivery in a log line.
func (c *Consumer) logAttrs(d Delivery, err error) []any {
	return []any{
		slog.String("consumer", c.cfg.Durable),
		slog.String("subject", d.Subject),
		slog.Uint64("stream_seq", d.StreamSequence),
		slog.Uint64("delivery", d.NumDelivered),
		slog.Any("error", err),
	}
}

// headerValue makes text safe for one header line.
func headerValue(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	if len(s) > maxErrorHeader {
		s = strings.ToValidUTF8(s[:maxErrorHeader], "")
	}
	return s
}
