package writer

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"gallerysync.dev/libs/platforms"
)

// instrumentationName names this package's tracer and meter.
const instrumentationName = "gallerysync.dev/services/platform-writer/writer"

// Metric attributes. Tenants, links and items are never labels: they would
// make a series per customer.
const (
	platformKey = attribute.Key("platform")
	opKey       = attribute.Key("op")
	reasonKey   = attribute.Key("reason")
	kindKey     = attribute.Key("kind")
)

// Apply outcomes counted by gallerysync.writer.applied.
const (
	opCreate = "create"
	opUpdate = "update"
	opDelete = "delete"
	// opNoop: the mapping moved on but nothing on the platform had to change.
	opNoop = "noop"
)

// counters are the writer's metrics.
type counters struct {
	platform     attribute.KeyValue
	applied      metric.Int64Counter
	echoDropped  metric.Int64Counter
	deduplicated metric.Int64Counter
	stale        metric.Int64Counter
	ignored      metric.Int64Counter
	remoteErrors metric.Int64Counter
}

func newCounters(mp metric.MeterProvider, platform string) (*counters, error) {
	m := mp.Meter(instrumentationName)
	c := &counters{platform: platformKey.String(platform)}
	for _, def := range []struct {
		dst  *metric.Int64Counter
		name string
		desc string
	}{
		{&c.applied, "gallerysync.writer.applied", "Item changes applied per link, by op (create, update, delete, noop)."},
		{&c.echoDropped, "gallerysync.writer.echo_dropped", "Item events dropped because their content is what was last synced."},
		{&c.deduplicated, "gallerysync.writer.deduplicated", "Events dropped because their event id was already processed."},
		{&c.stale, "gallerysync.writer.stale", "Item events older than the state already applied, or for a deleted item."},
		{&c.ignored, "gallerysync.writer.ignored", "Events this writer does not apply (not Wix item changes)."},
		{&c.remoteErrors, "gallerysync.writer.remote_errors", "Failed platform calls, by kind."},
	} {
		ctr, err := m.Int64Counter(def.name, metric.WithDescription(def.desc), metric.WithUnit("{event}"))
		if err != nil {
			return nil, fmt.Errorf("counter %s: %w", def.name, err)
		}
		*def.dst = ctr
	}
	return c, nil
}

func (c *counters) add(ctx context.Context, ctr metric.Int64Counter, attrs ...attribute.KeyValue) {
	ctr.Add(ctx, 1, metric.WithAttributes(append(attrs, c.platform)...))
}

// remoteErrorKind names the class of a failed platform call.
func remoteErrorKind(err error) string {
	var rl *platforms.RateLimitError
	switch {
	case errors.As(err, &rl):
		return "rate_limited"
	case errors.Is(err, platforms.ErrNotFound):
		return "not_found"
	case isPermanent(err):
		return "permanent"
	case platforms.IsRetryable(err):
		return "retryable"
	default:
		return "other"
	}
}
