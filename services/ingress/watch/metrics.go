package watch

import (
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// instrumentationName names this package's meter.
const instrumentationName = "gallerysync.dev/services/ingress/watch"

// Metric attribute keys; tenants are never labels.
const (
	platformKey = attribute.Key("platform")
	kindKey     = attribute.Key("kind")
	viaKey      = attribute.Key("via")
	stageKey    = attribute.Key("stage")
	resultKey   = attribute.Key("result")
)

// instruments are the watch metrics.
type instruments struct {
	// published counts events newly stored, by platform, kind and how the
	// change was found (stream, reconcile, webhook).
	published metric.Int64Counter
	// duplicates counts events the bus already had (the same state seen twice).
	duplicates metric.Int64Counter
	// leases counts lease outcomes: acquired, lost, released.
	leases metric.Int64Counter
	// watched is the number of connections this replica watches.
	watched metric.Int64UpDownCounter
	// errors counts failures by stage: scan, connection, watch, publish,
	// cursor, lease, reconcile.
	errors metric.Int64Counter
	// webhooks counts platform webhooks by result.
	webhooks metric.Int64Counter
}

func newInstruments(m metric.Meter) (instruments, error) {
	var (
		in   instruments
		errs [6]error
	)
	in.published, errs[0] = m.Int64Counter("gallerysync.ingress.watch.published",
		metric.WithDescription("Platform changes stored on the bus as a new change event"), metric.WithUnit("{event}"))
	in.duplicates, errs[1] = m.Int64Counter("gallerysync.ingress.watch.duplicates",
		metric.WithDescription("Platform changes the bus already had"), metric.WithUnit("{event}"))
	in.leases, errs[2] = m.Int64Counter("gallerysync.ingress.watch.leases",
		metric.WithDescription("Watch leases acquired, lost and released"), metric.WithUnit("{lease}"))
	in.watched, errs[3] = m.Int64UpDownCounter("gallerysync.ingress.watch.connections",
		metric.WithDescription("Connections watched by this replica"), metric.WithUnit("{connection}"))
	in.errors, errs[4] = m.Int64Counter("gallerysync.ingress.watch.errors",
		metric.WithDescription("Watch failures by stage"), metric.WithUnit("{error}"))
	in.webhooks, errs[5] = m.Int64Counter("gallerysync.ingress.watch.webhooks",
		metric.WithDescription("Platform webhooks by result"), metric.WithUnit("{webhook}"))
	for _, err := range errs {
		if err != nil {
			return instruments{}, fmt.Errorf("watch metrics: %w", err)
		}
	}
	return in, nil
}
