package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/wix"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

const wixRoute = "/webhooks/wix"

// Span attributes of a webhook once it is understood.
const (
	tenantAttr    = attribute.Key("gallerysync.tenant_id")
	eventIDAttr   = attribute.Key("gallerysync.event_id")
	eventTypeAttr = attribute.Key("wix.event_type")
	ownAppAttr    = attribute.Key("wix.own_app")
	removedAttr   = attribute.Key("gallerysync.tenant_removed")
)

// tenantCheckTimeout bounds the question whether a tenant was removed: the
// check must leave the publish most of Wix's 1.25 s, and on timeout the
// event is accepted.
const tenantCheckTimeout = 250 * time.Millisecond

// Why a webhook was refused; the values are the "reason" metric label.
const (
	reasonTooLarge    = "too_large"
	reasonRead        = "read"
	reasonSignature   = "signature"
	reasonMalformed   = "malformed"
	reasonInvalid     = "invalid"
	reasonUnavailable = "unavailable"
	reasonPublish     = "publish"
)

// outcome is how one webhook was answered.
type outcome struct {
	status int
	// reason is set for refusals (any status but 200).
	reason string
	// body is the short text answered; never an internal error.
	body string
	// err is the cause of a refusal, logged at warn.
	err error
	// unsupported marks a valid event that is not synced.
	unsupported bool
	// refused marks a valid event of a tenant whose app was removed.
	refused   bool
	duplicate bool
	eventType string
	tenant    string
	eventID   string
	ownApp    bool
}

// handleWix answers one Wix webhook. Wix retries anything but a 200 for
// about two days, so the status says exactly whether retrying can help:
// 401/400/413 cannot (and the event is lost loudly, in logs and metrics),
// 503 can, and 200 comes only after JetStream stored the event.
func (s *Server) handleWix(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx, span := s.tracer.Start(r.Context(), "POST "+wixRoute,
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(
			semconv.HTTPRequestMethodKey.String(r.Method),
			semconv.HTTPRoute(wixRoute),
			semconv.URLPath(r.URL.Path),
		))
	defer span.End()
	s.inst.received.Add(ctx, 1)

	out := s.receiveWix(ctx, span, w, r)
	writeText(w, out.status, out.body)

	span.SetAttributes(semconv.HTTPResponseStatusCode(out.status))
	if out.status >= http.StatusInternalServerError {
		span.SetStatus(codes.Error, out.reason)
	}
	if out.err != nil {
		span.RecordError(out.err)
	}
	s.record(ctx, out, time.Since(start))
}

// receiveWix runs a webhook through read, verify, normalize and publish.
func (s *Server) receiveWix(ctx context.Context, span trace.Span, w http.ResponseWriter, r *http.Request) outcome {
	if r.ContentLength > s.cfg.MaxBodyBytes {
		return outcome{status: http.StatusRequestEntityTooLarge, reason: reasonTooLarge, body: "body too large"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return outcome{status: http.StatusRequestEntityTooLarge, reason: reasonTooLarge, body: "body too large"}
		}
		return outcome{status: http.StatusBadRequest, reason: reasonRead, body: "cannot read body", err: err}
	}

	env, err := s.verifier.Verify(body)
	if err != nil {
		if errors.Is(err, wix.ErrSignature) {
			return outcome{status: http.StatusUnauthorized, reason: reasonSignature, body: "invalid signature", err: err}
		}
		return outcome{status: http.StatusBadRequest, reason: reasonMalformed, body: "malformed webhook", err: err}
	}
	out := outcome{eventType: env.EventType, tenant: env.InstanceID, eventID: env.Event.ID}
	out.ownApp = s.cfg.WixAppID != "" && env.Identity.Type == "APP" && env.Identity.AppID == s.cfg.WixAppID
	span.SetAttributes(
		tenantAttr.String(out.tenant),
		eventIDAttr.String(out.eventID),
		eventTypeAttr.String(out.eventType),
		ownAppAttr.Bool(out.ownApp),
	)

	ev, err := wix.Normalize(env, s.normalize...)
	switch {
	case errors.Is(err, wix.ErrUnsupported):
		out.status, out.body, out.unsupported = http.StatusOK, "ignored", true
		return out
	case err != nil:
		out.status, out.reason, out.body, out.err = http.StatusBadRequest, reasonMalformed, "malformed webhook", err
		return out
	}
	// App events have no Wix event id; theirs is derived in Normalize.
	out.eventID = ev.GetSourceEventId()
	span.SetAttributes(eventIDAttr.String(out.eventID))

	if s.tenantRemoved(ctx, ev) {
		span.SetAttributes(removedAttr.Bool(true))
		out.status, out.body, out.refused = http.StatusOK, "ignored", true
		return out
	}

	// The publish is not cancelled when Wix hangs up: the event id makes a
	// finished publish and Wix's retry of it one stored message.
	pubCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.PublishTimeout)
	defer cancel()
	res, err := s.pub.Publish(pubCtx, ev)
	switch {
	case err == nil:
		out.status, out.body, out.duplicate = http.StatusOK, "ok", res.Duplicate
	case errors.Is(err, bus.ErrUnavailable), errors.Is(err, context.DeadlineExceeded), pubCtx.Err() != nil:
		out.status, out.reason, out.body, out.err = http.StatusServiceUnavailable, reasonUnavailable, "bus unavailable, retry later", err
	case errors.Is(err, change.ErrInvalid):
		out.status, out.reason, out.body, out.err = http.StatusBadRequest, reasonInvalid, "invalid event", err
	default:
		out.status, out.reason, out.body, out.err = http.StatusInternalServerError, reasonPublish, "publish failed", err
	}
	return out
}

// tenantRemoved reports whether ev must be refused because its tenant's app
// was removed. An install always passes, or a reinstall could never get
// through. When the check fails the event is accepted: refusing it would
// have Wix retry for two days, and a removed tenant's links are paused in
// the mapping service anyway.
func (s *Server) tenantRemoved(ctx context.Context, ev *gsv1.ChangeEvent) bool {
	if s.tenants == nil || ev.GetKind() == gsv1.ChangeKind_CHANGE_KIND_APP_INSTALLED {
		return false
	}
	checkCtx, cancel := context.WithTimeout(ctx, tenantCheckTimeout)
	defer cancel()
	removed, err := s.tenants.Removed(checkCtx, ev.GetTenantId())
	if err != nil {
		s.inst.tenantCheckErrors.Add(ctx, 1)
		s.log.LogAttrs(ctx, slog.LevelWarn, "tenant check failed, event accepted",
			slog.String("tenant", ev.GetTenantId()),
			slog.String("event_id", ev.GetSourceEventId()),
			slog.String("error", err.Error()))
		return false
	}
	return removed
}

// record counts and logs one answered webhook. The body and token are never
// logged; errors from the wix package name fields, not their content.
func (s *Server) record(ctx context.Context, out outcome, took time.Duration) {
	s.inst.duration.Record(ctx, took.Seconds(), metric.WithAttributes(semconv.HTTPResponseStatusCode(out.status)))
	switch {
	case out.reason != "":
		s.inst.rejected.Add(ctx, 1, metric.WithAttributes(reasonKey.String(out.reason)))
	case out.refused:
		s.inst.refusedTenant.Add(ctx, 1)
	case out.unsupported:
		s.inst.unsupported.Add(ctx, 1, metric.WithAttributes(eventTypeKey.String(metricLabel(out.eventType))))
	case out.duplicate:
		s.inst.duplicates.Add(ctx, 1)
	default:
		s.inst.published.Add(ctx, 1, metric.WithAttributes(ownAppKey.Bool(out.ownApp)))
	}

	attrs := []slog.Attr{
		slog.String("route", wixRoute),
		slog.Int("status", out.status),
		slog.Duration("took", took),
	}
	if out.tenant != "" {
		attrs = append(attrs,
			slog.String("tenant", out.tenant),
			slog.String("event_id", out.eventID),
			slog.String("event_type", out.eventType))
	}
	switch {
	case out.reason != "":
		attrs = append(attrs, slog.String("reason", out.reason))
		if out.err != nil {
			attrs = append(attrs, slog.String("error", out.err.Error()))
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, "webhook refused", attrs...)
	case out.refused:
		s.log.LogAttrs(ctx, slog.LevelDebug, "webhook ignored: tenant removed", attrs...)
	case out.unsupported:
		s.log.LogAttrs(ctx, slog.LevelDebug, "webhook ignored", attrs...)
	default:
		attrs = append(attrs, slog.Bool("duplicate", out.duplicate), slog.Bool("own_app", out.ownApp))
		s.log.LogAttrs(ctx, slog.LevelDebug, "webhook published", attrs...)
	}
}
