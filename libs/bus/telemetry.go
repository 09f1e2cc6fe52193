package bus

import (
	"context"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// instrumentationName names the tracer and meter of this package.
const instrumentationName = "gallerysync.dev/libs/bus"

// Metric attribute keys. Subjects are reduced to their root (the subject
// without its tenant token) so no tenant ever becomes a label.
const (
	subjectKey  = attribute.Key("subject")
	consumerKey = attribute.Key("consumer")
)

// messagingSystem is the semconv attribute naming this transport.
func messagingSystem() attribute.KeyValue { return semconv.MessagingSystemKey.String("nats") }

// counters are the bus metrics.
type counters struct {
	published    metric.Int64Counter
	duplicates   metric.Int64Counter
	acked        metric.Int64Counter
	retried      metric.Int64Counter
	deadLettered metric.Int64Counter
}

func newCounters(mp metric.MeterProvider) (counters, error) {
	m := mp.Meter(instrumentationName)
	var c counters
	for _, def := range []struct {
		dst  *metric.Int64Counter
		name string
		desc string
	}{
		{&c.published, "gallerysync.bus.published", "Events stored by JetStream, duplicates included."},
		{&c.duplicates, "gallerysync.bus.duplicates", "Publishes JetStream dropped as duplicates of an earlier event id."},
		{&c.acked, "gallerysync.bus.acked", "Deliveries handled and acknowledged."},
		{&c.retried, "gallerysync.bus.retried", "Deliveries handed back for a later retry."},
		{&c.deadLettered, "gallerysync.bus.dead_lettered", "Messages moved to the dead-letter stream."},
	} {
		ctr, err := m.Int64Counter(def.name, metric.WithDescription(def.desc), metric.WithUnit("{message}"))
		if err != nil {
			return counters{}, fmt.Errorf("counter %s: %w", def.name, err)
		}
		*def.dst = ctr
	}
	return c, nil
}

// subjectRoot drops the last token (the tenant) of a change subject:
// changes.wix.T1 -> changes.wix, changes.platform.mastodon.T1 ->
// changes.platform.mastodon.
func subjectRoot(subject string) string {
	if i := strings.LastIndexByte(subject, '.'); i > 0 {
		return subject[:i]
	}
	return subject
}

// headerCarrier lets the W3C propagator read and write NATS headers with the
// lower-case keys the standard uses (http.Header would canonicalize them).
type headerCarrier nats.Header

// Get implements propagation.TextMapCarrier; an exact key wins, then any case.
func (h headerCarrier) Get(key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	for k, v := range h {
		if strings.EqualFold(k, key) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// Set implements propagation.TextMapCarrier.
func (h headerCarrier) Set(key, value string) { h[key] = []string{value} }

// Keys implements propagation.TextMapCarrier.
func (h headerCarrier) Keys() []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	return keys
}

// newPropagator is the W3C trace context and baggage propagator the bus
// speaks on the wire, whatever the process's global propagator is.
func newPropagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// startPublishSpan opens the producer span of one publish.
func startPublishSpan(ctx context.Context, tr trace.Tracer, subject, msgID string) (context.Context, trace.Span) {
	return tr.Start(ctx, "send "+subjectRoot(subject),
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(
			messagingSystem(),
			semconv.MessagingOperationTypeSend,
			semconv.MessagingOperationName("send"),
			semconv.MessagingDestinationName(subject),
			semconv.MessagingMessageID(msgID),
		))
}
