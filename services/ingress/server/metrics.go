package server

import (
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metric attribute keys. No tenant id is ever a label: tenants are many, and
// they are on the spans.
const (
	reasonKey    = attribute.Key("reason")
	eventTypeKey = attribute.Key("event_type")
	ownAppKey    = attribute.Key("own_app")
	// maxLabelBytes bounds an event type used as a label.
	maxLabelBytes = 100
)

// instruments are the ingress metrics.
type instruments struct {
	received    metric.Int64Counter
	published   metric.Int64Counter
	duplicates  metric.Int64Counter
	unsupported metric.Int64Counter
	rejected    metric.Int64Counter
	duration    metric.Float64Histogram
	// refusedTenant counts events of removed tenants, answered 200 unpublished.
	refusedTenant metric.Int64Counter
	// tenantCheckErrors counts failed tenant checks; their events went through.
	tenantCheckErrors metric.Int64Counter
}

func newInstruments(m metric.Meter) (instruments, error) {
	var (
		in   instruments
		errs [8]error
	)
	in.received, errs[0] = m.Int64Counter("gallerysync.ingress.received",
		metric.WithDescription("Webhooks received"), metric.WithUnit("{webhook}"))
	in.published, errs[1] = m.Int64Counter("gallerysync.ingress.published",
		metric.WithDescription("Webhooks stored on the bus as a new change event"), metric.WithUnit("{webhook}"))
	in.duplicates, errs[2] = m.Int64Counter("gallerysync.ingress.duplicates",
		metric.WithDescription("Webhooks whose event the bus already had (Wix retries)"), metric.WithUnit("{webhook}"))
	in.unsupported, errs[3] = m.Int64Counter("gallerysync.ingress.unsupported",
		metric.WithDescription("Valid webhooks of events that are not synced, by event type"), metric.WithUnit("{webhook}"))
	in.rejected, errs[4] = m.Int64Counter("gallerysync.ingress.rejected",
		metric.WithDescription("Webhooks answered with an error status, by reason"), metric.WithUnit("{webhook}"))
	in.duration, errs[5] = m.Float64Histogram("gallerysync.ingress.duration",
		metric.WithDescription("Time from receiving a webhook to answering it"), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.25, 2.5))
	in.refusedTenant, errs[6] = m.Int64Counter("gallerysync.ingress.refused_tenant",
		metric.WithDescription("Valid webhooks of tenants whose app was removed, acknowledged and not published"), metric.WithUnit("{webhook}"))
	in.tenantCheckErrors, errs[7] = m.Int64Counter("gallerysync.ingress.tenant_check_errors",
		metric.WithDescription("Tenant checks that failed; the webhook was then accepted"), metric.WithUnit("{check}"))
	for _, err := range errs {
		if err != nil {
			return instruments{}, fmt.Errorf("ingress metrics: %w", err)
		}
	}
	return in, nil
}

// metricLabel bounds a label taken from a webhook (only verified ones get
// here, but a label must never grow without limit).
func metricLabel(s string) string {
	switch {
	case s == "":
		return "unknown"
	case len(s) > maxLabelBytes:
		return strings.ToValidUTF8(s[:maxLabelBytes], "")
	}
	return s
}
