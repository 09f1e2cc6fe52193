package writer

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"gallerysync.dev/libs/throttle"
	"gallerysync.dev/libs/wix"
)

// instrumentationName names this package's tracer and meter.
const instrumentationName = "gallerysync.dev/services/wix-writer/writer"

// Metric attributes. Tenants, links and items are never labels: they would
// make a series per customer. The platform label is the adapter an event
// came from, a short fixed list.
const (
	targetKey   = attribute.Key("target")
	platformKey = attribute.Key("platform")
	opKey       = attribute.Key("op")
	reasonKey   = attribute.Key("reason")
	kindKey     = attribute.Key("kind")
)

// targetWix labels every writer metric of this service, so that the
// platform-writer's series of the same names stay apart in one process.
const targetWix = "wix"

// Apply outcomes counted by gallerysync.writer.applied.
const (
	opCreate = "create"
	opUpdate = "update"
	opDelete = "delete"
	// opNoop: the mapping moved on but nothing on Wix had to change.
	opNoop = "noop"
	// opAdopt: a Wix item made by an earlier, interrupted attempt was found
	// and recorded instead of creating another.
	opAdopt = "adopt"
)

// counters are the writer's metrics.
type counters struct {
	applied       metric.Int64Counter
	echoDropped   metric.Int64Counter
	deduplicated  metric.Int64Counter
	stale         metric.Int64Counter
	reconciled    metric.Int64Counter
	refusedTenant metric.Int64Counter
	ignored       metric.Int64Counter
	lifecycle     metric.Int64Counter
	remoteErrors  metric.Int64Counter
}

func newCounters(mp metric.MeterProvider) (*counters, error) {
	m := mp.Meter(instrumentationName)
	c := &counters{}
	for _, def := range []struct {
		dst  *metric.Int64Counter
		name string
		desc string
	}{
		{&c.applied, "gallerysync.writer.applied", "Item changes applied per link, by op (create, update, delete, noop, adopt)."},
		{&c.echoDropped, "gallerysync.writer.echo_dropped", "Item events dropped because their content is what was last synced."},
		{&c.deduplicated, "gallerysync.writer.deduplicated", "Events dropped because their event id was already processed."},
		{&c.stale, "gallerysync.writer.stale", "Item events older than the state already applied, or for a deleted item."},
		{&c.reconciled, "gallerysync.writer.reconciled", "Wix items of an interrupted create found again and adopted instead of created twice."},
		{&c.refusedTenant, "gallerysync.writer.refused_tenant", "Events dropped because their tenant removed the app."},
		{&c.ignored, "gallerysync.writer.ignored", "Events this writer does not apply, by kind."},
		{&c.lifecycle, "gallerysync.writer.lifecycle", "App lifecycle events applied to the tenant, by kind (installed, removed)."},
		{&c.remoteErrors, "gallerysync.writer.remote_errors", "Failed Wix calls, by kind."},
	} {
		ctr, err := m.Int64Counter(def.name, metric.WithDescription(def.desc), metric.WithUnit("{event}"))
		if err != nil {
			return nil, fmt.Errorf("counter %s: %w", def.name, err)
		}
		*def.dst = ctr
	}
	return c, nil
}

// add counts one event; platform is the event's source adapter ("" for
// events that come from no platform).
func (c *counters) add(ctx context.Context, ctr metric.Int64Counter, platform string, attrs ...attribute.KeyValue) {
	attrs = append(attrs, targetKey.String(targetWix))
	if platform != "" {
		attrs = append(attrs, platformKey.String(platform))
	}
	ctr.Add(ctx, 1, metric.WithAttributes(attrs...))
}

// remoteErrorKind names the class of a failed Wix call.
func remoteErrorKind(err error) string {
	var limited *throttle.LimitedError
	switch {
	case errors.As(err, &limited), errors.Is(err, wix.ErrRateLimited):
		return "rate_limited"
	case errors.Is(err, wix.ErrNotFound):
		return "not_found"
	case wix.IsRetryable(err):
		return "retryable"
	case isPermanent(err):
		return "permanent"
	default:
		return "other"
	}
}
