package writer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/platforms"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Span attribute keys. Credentials are never recorded.
const (
	tenantAttr = attribute.Key("gallerysync.tenant")
	eventAttr  = attribute.Key("gallerysync.event_id")
	kindAttr   = attribute.Key("gallerysync.kind")
	galleryKey = attribute.Key("gallerysync.gallery")
	itemAttr   = attribute.Key("gallerysync.item")
	linkAttr   = attribute.Key("gallerysync.link")
	opAttr     = attribute.Key("gallerysync.op")
	// echoMarkerAttr says an echo was recognised by the wix-writer's marker.
	echoMarkerAttr = attribute.Key("gallerysync.echo_marker")
)

// Apply brings every linked album on this writer's platform to the state of
// the Wix item the event names. It returns nil when the event is done (also
// when there was nothing to do), or an error already shaped for the bus:
// bus.RetryAfter, bus.Permanent or a plain error for a backed-off retry.
func (w *Writer) Apply(ctx context.Context, ev *gsv1.ChangeEvent) error {
	ctx, span := w.tracer.Start(ctx, "platform-writer.apply", trace.WithAttributes(
		tenantAttr.String(ev.GetTenantId()),
		eventAttr.String(ev.GetEventId()),
		kindAttr.String(ev.GetKind().String()),
		galleryKey.String(ev.GetGalleryId()),
		itemAttr.String(ev.GetItem().GetItemId()),
	))
	defer span.End()
	err := outcome(w.apply(ctx, ev), w.now())
	if err != nil {
		span.RecordError(err)
		span.SetStatus(otelcodes.Error, "apply failed")
	}
	return err
}

func (w *Writer) apply(ctx context.Context, ev *gsv1.ChangeEvent) error {
	// This writer carries Wix changes to the platform; platform-origin
	// events belong to the wix-writer and gallery events have no item to
	// write. They are acknowledged, not failed: nothing here will change that.
	if ev.GetOrigin() != gsv1.Origin_ORIGIN_WIX || !change.IsItemKind(ev.GetKind()) {
		w.counters.add(ctx, w.counters.ignored, kindKey.String(ev.GetKind().String()))
		w.log.DebugContext(ctx, "event ignored", slog.String("event_id", ev.GetEventId()),
			slog.String("origin", ev.GetOrigin().String()), slog.String("kind", ev.GetKind().String()))
		return nil
	}
	if err := change.Validate(ev); err != nil {
		return fmt.Errorf("%w: %w", errInvalidEvent, err)
	}
	if ev.GetGalleryId() == "" {
		// An empty gallery would list every link of the tenant.
		return fmt.Errorf("%w: item event without gallery id", errInvalidEvent)
	}
	tenant := ev.GetTenantId()
	// Every platform's writer sees every Wix change; most galleries are
	// linked to one platform, so the others stop here, before any dedup work.
	targets, err := w.targets(ctx, ev)
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		return nil
	}
	dedupKey := w.dedupKey(ev)
	seen, err := w.mapping.CheckDedup(ctx, &gsv1.CheckDedupRequest{TenantId: tenant, Key: dedupKey})
	if err != nil {
		return fmt.Errorf("check dedup: %w", err)
	}
	if seen.GetSeen() {
		// Wix retried a webhook it had delivered (it retries for ~47 h,
		// past the bus's duplicate window) or the bus redelivered.
		w.counters.add(ctx, w.counters.deduplicated)
		trace.SpanFromContext(ctx).AddEvent("deduplicated")
		return nil
	}
	var retry, perm []error
	for _, t := range targets {
		if err := w.applyLink(ctx, ev, t); err != nil {
			if isPermanent(err) {
				perm = append(perm, fmt.Errorf("link %s: %w", t.link.GetLinkId(), err))
			} else {
				retry = append(retry, fmt.Errorf("link %s: %w", t.link.GetLinkId(), err))
			}
		}
	}
	// Links that are done stay done on a retry (their mapping says so), so
	// a retry is cheap; it is preferred while any link can still succeed.
	if len(retry) > 0 {
		return errors.Join(retry...)
	}
	if len(perm) > 0 {
		return errors.Join(perm...)
	}
	_, err = w.mapping.MarkDedup(ctx, &gsv1.MarkDedupRequest{TenantId: tenant, Key: dedupKey, Ttl: durationpb.New(w.cfg.DedupTTL)})
	if err != nil {
		// Everything was applied; a redelivery finds the mappings in sync.
		return fmt.Errorf("mark dedup: %w", err)
	}
	return nil
}

// dedupKey scopes the event id to this platform: every platform's writer
// sees the same Wix event and must apply it once for itself.
func (w *Writer) dedupKey(ev *gsv1.ChangeEvent) string {
	return "platform-writer:" + w.cfg.Platform + ":" + ev.GetEventId()
}

// target is one link this writer applies an event to.
type target struct {
	link *gsv1.Link
	conn platforms.Connection
}

// targets are the gallery's active links whose connection is on this
// writer's platform; links on other platforms are other writers' work.
func (w *Writer) targets(ctx context.Context, ev *gsv1.ChangeEvent) ([]target, error) {
	tenant := ev.GetTenantId()
	resp, err := w.mapping.ListLinks(ctx, &gsv1.ListLinksRequest{TenantId: tenant, GalleryId: ev.GetGalleryId()})
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	conns := map[string]*gsv1.Connection{}
	var out []target
	for _, l := range resp.GetLinks() {
		if l.GetState() != gsv1.LinkState_LINK_STATE_ACTIVE || l.GetGalleryId() != ev.GetGalleryId() {
			continue
		}
		c, ok := conns[l.GetConnectionId()]
		if !ok {
			got, err := w.mapping.GetConnection(ctx, &gsv1.GetConnectionRequest{TenantId: tenant, ConnectionId: l.GetConnectionId()})
			switch {
			case status.Code(err) == codes.NotFound:
				w.log.WarnContext(ctx, "link names a missing connection", slog.String("tenant", tenant),
					slog.String("link", l.GetLinkId()), slog.String("connection", l.GetConnectionId()))
			case err != nil:
				return nil, fmt.Errorf("get connection %s: %w", l.GetConnectionId(), err)
			default:
				c = got.GetConnection()
			}
			conns[l.GetConnectionId()] = c
		}
		if c == nil || c.GetPlatform() != w.cfg.Platform {
			continue
		}
		out = append(out, target{link: l, conn: platformConn(c)})
	}
	return out, nil
}

// applyLink applies the event to one link while holding the item's lease,
// so that two events of one item never interleave their steps.
func (w *Writer) applyLink(ctx context.Context, ev *gsv1.ChangeEvent, t target) error {
	ctx, span := w.tracer.Start(ctx, "platform-writer.link", trace.WithAttributes(
		tenantAttr.String(ev.GetTenantId()),
		linkAttr.String(t.link.GetLinkId()),
		itemAttr.String(ev.GetItem().GetItemId()),
	))
	defer span.End()
	held, err := w.locker.Acquire(ctx, ev.GetTenantId(), "item:"+t.link.GetLinkId()+":"+ev.GetItem().GetItemId())
	if err != nil {
		return err
	}
	op, err := w.syncItem(held.Context(), ev, t)
	// The item is settled: free it before the bookkeeping below.
	held.Release()
	if err != nil {
		span.RecordError(err)
		span.SetStatus(otelcodes.Error, "link failed")
		if isPermanent(err) {
			w.appendLog(ctx, ev, t, "failed", err.Error())
		}
		return err
	}
	span.SetAttributes(opAttr.String(op))
	w.appendLog(ctx, ev, t, op, "")
	return nil
}

// appendLog adds the action to the link's sync log, the owner's per-item
// history. It is best effort: the write is done and recorded in the
// mapping; a missing history line is no reason to redo it.
func (w *Writer) appendLog(ctx context.Context, ev *gsv1.ChangeEvent, t target, action, detail string) {
	_, err := w.mapping.AppendLog(ctx, &gsv1.AppendLogRequest{
		TenantId: ev.GetTenantId(),
		LinkId:   t.link.GetLinkId(),
		Entry: &gsv1.LogEntry{
			WixItemId: ev.GetItem().GetItemId(),
			Target:    gsv1.Side_SIDE_PLATFORM,
			Action:    action,
			Detail:    truncate(detail, 512),
			EventId:   ev.GetEventId(),
		},
	})
	if err != nil && status.Code(err) != codes.NotFound { // NotFound: the link was removed meanwhile
		w.log.WarnContext(ctx, "append sync log", slog.String("tenant", ev.GetTenantId()),
			slog.String("link", t.link.GetLinkId()), slog.Any("error", err))
	}
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// eventVersion orders states of one item: the item's own modification time,
// or the event's time when the snapshot has none (deletes).
func eventVersion(ev *gsv1.ChangeEvent) time.Time {
	if u := ev.GetItem().GetUpdatedAt(); u != nil {
		return u.AsTime()
	}
	return ev.GetOccurredAt().AsTime()
}

// eventHash is the Wix content hash the event carries, or computes it.
func eventHash(ev *gsv1.ChangeEvent) string {
	if h := ev.GetItem().GetContentHash(); h != "" {
		return h
	}
	return change.Hash(ev.GetItem())
}

// content is what the adapter writes for a Wix item.
func content(item *gsv1.ItemSnapshot) platforms.Content {
	return platforms.Content{
		Title:       item.GetTitle(),
		Description: item.GetDescription(),
		LinkURL:     item.GetLinkUrl(),
		AltText:     altText(item),
		MediaURL:    item.GetMediaUrl(),
		MimeType:    item.GetMimeType(),
		SortOrder:   item.GetSortOrder(),
	}
}

// altText is the image's alt text on Wix, or its title when it has none.
func altText(item *gsv1.ItemSnapshot) string {
	if a := item.GetAltText(); a != "" {
		return a
	}
	return item.GetTitle()
}

// platformConn is the adapter's view of a stored connection.
func platformConn(c *gsv1.Connection) platforms.Connection {
	return platforms.Connection{
		ID:          c.GetConnectionId(),
		BaseURL:     c.GetBaseUrl(),
		AccountID:   c.GetAccountId(),
		Credentials: c.GetCredentials(),
	}
}
