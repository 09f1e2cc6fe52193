package writer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"gallerysync.dev/libs/change"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Span attribute keys. Credentials and tokens are never recorded.
const (
	tenantAttr   = attribute.Key("gallerysync.tenant")
	eventAttr    = attribute.Key("gallerysync.event_id")
	kindAttr     = attribute.Key("gallerysync.kind")
	platformAttr = attribute.Key("gallerysync.platform")
	albumAttr    = attribute.Key("gallerysync.album")
	itemAttr     = attribute.Key("gallerysync.item")
	linkAttr     = attribute.Key("gallerysync.link")
	wixItemAttr  = attribute.Key("gallerysync.wix_item")
	opAttr       = attribute.Key("gallerysync.op")
)

// Apply brings the linked Wix galleries to the state of the platform item
// the event names, or carries an app install or removal to the tenant. It
// returns nil when the event is done (also when there was nothing to do), or
// an error already shaped for the bus: bus.RetryAfter, bus.Permanent or a
// plain error for a backed-off retry.
func (w *Writer) Apply(ctx context.Context, ev *gsv1.ChangeEvent) error {
	ctx, span := w.tracer.Start(ctx, "wix-writer.apply", trace.WithAttributes(
		tenantAttr.String(ev.GetTenantId()),
		eventAttr.String(ev.GetEventId()),
		kindAttr.String(ev.GetKind().String()),
		platformAttr.String(ev.GetPlatform()),
		albumAttr.String(ev.GetAlbumId()),
		itemAttr.String(ev.GetItem().GetItemId()),
	))
	defer span.End()
	err := outcome(w.apply(ctx, ev))
	if err != nil {
		span.RecordError(err)
		span.SetStatus(otelcodes.Error, "apply failed")
	}
	return err
}

func (w *Writer) apply(ctx context.Context, ev *gsv1.ChangeEvent) error {
	lifecycle := ev.GetKind() == gsv1.ChangeKind_CHANGE_KIND_APP_INSTALLED || ev.GetKind() == gsv1.ChangeKind_CHANGE_KIND_APP_REMOVED
	platformItem := ev.GetOrigin() == gsv1.Origin_ORIGIN_PLATFORM && change.IsItemKind(ev.GetKind())
	if !lifecycle && !platformItem {
		// Wix-origin item changes are the platform-writer's; gallery and
		// media events have no item to write here. They are acknowledged,
		// not failed: nothing here will change that.
		w.counters.add(ctx, w.counters.ignored, ev.GetPlatform(), kindKey.String(ev.GetKind().String()))
		w.log.DebugContext(ctx, "event ignored", slog.String("event_id", ev.GetEventId()),
			slog.String("origin", ev.GetOrigin().String()), slog.String("kind", ev.GetKind().String()))
		return nil
	}
	if err := change.Validate(ev); err != nil {
		return fmt.Errorf("%w: %w", errInvalidEvent, err)
	}
	if platformItem && (ev.GetConnectionId() == "" || ev.GetAlbumId() == "") {
		// Without both the link filter would match links of other albums.
		return fmt.Errorf("%w: platform item event without connection or album", errInvalidEvent)
	}
	tenant := ev.GetTenantId()
	dedupKey := "wix-writer:" + ev.GetEventId()
	seen, err := w.mapping.CheckDedup(ctx, &gsv1.CheckDedupRequest{TenantId: tenant, Key: dedupKey})
	if err != nil {
		return fmt.Errorf("check dedup: %w", err)
	}
	if seen.GetSeen() {
		// The source repeated an event past the bus's duplicate window, or
		// the bus redelivered one that was done.
		w.counters.add(ctx, w.counters.deduplicated, ev.GetPlatform())
		trace.SpanFromContext(ctx).AddEvent("deduplicated")
		return nil
	}
	if lifecycle {
		err = w.applyLifecycle(ctx, ev)
	} else {
		err = w.applyItem(ctx, ev)
	}
	if err != nil {
		return err
	}
	_, err = w.mapping.MarkDedup(ctx, &gsv1.MarkDedupRequest{TenantId: tenant, Key: dedupKey, Ttl: durationpb.New(w.cfg.DedupTTL)})
	if err != nil {
		// Everything was applied; a redelivery finds the mappings in sync.
		return fmt.Errorf("mark dedup: %w", err)
	}
	return nil
}

// applyItem applies a platform item change to every linked gallery.
func (w *Writer) applyItem(ctx context.Context, ev *gsv1.ChangeEvent) error {
	removed, err := w.tenantRemoved(ctx, ev.GetTenantId())
	if err != nil {
		return err
	}
	if removed {
		w.counters.add(ctx, w.counters.refusedTenant, ev.GetPlatform())
		trace.SpanFromContext(ctx).AddEvent("tenant removed")
		return nil
	}
	links, err := w.targets(ctx, ev)
	if err != nil {
		return err
	}
	var retry, perm []error
	for _, l := range links {
		if err := w.applyLink(ctx, ev, l); err != nil {
			if isPermanent(err) {
				perm = append(perm, fmt.Errorf("link %s: %w", l.GetLinkId(), err))
			} else {
				retry = append(retry, fmt.Errorf("link %s: %w", l.GetLinkId(), err))
			}
		}
	}
	// Links that are done stay done on a retry (their mapping says so), so
	// a retry is cheap; it is preferred while any link can still succeed.
	if len(retry) > 0 {
		return errors.Join(retry...)
	}
	return errors.Join(perm...)
}

// tenantRemoved reports whether the app was removed from the tenant's site;
// its events are dropped from then on. An unknown tenant is not refused:
// it has no links, so nothing is written anyway.
func (w *Writer) tenantRemoved(ctx context.Context, tenant string) (bool, error) {
	resp, err := w.mapping.GetTenant(ctx, &gsv1.GetTenantRequest{TenantId: tenant})
	switch {
	case status.Code(err) == codes.NotFound:
		return false, nil
	case err != nil:
		return false, fmt.Errorf("get tenant: %w", err)
	}
	return resp.GetTenant().GetState() == gsv1.TenantState_TENANT_STATE_REMOVED, nil
}

// targets are the active two-way links of the event's connection and album:
// a one-way link carries Wix changes to the platform only.
func (w *Writer) targets(ctx context.Context, ev *gsv1.ChangeEvent) ([]*gsv1.Link, error) {
	resp, err := w.mapping.ListLinks(ctx, &gsv1.ListLinksRequest{
		TenantId: ev.GetTenantId(), ConnectionId: ev.GetConnectionId(), AlbumId: ev.GetAlbumId(),
	})
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var out []*gsv1.Link
	for _, l := range resp.GetLinks() {
		if l.GetState() != gsv1.LinkState_LINK_STATE_ACTIVE || l.GetDirection() != gsv1.Direction_DIRECTION_TWO_WAY ||
			l.GetConnectionId() != ev.GetConnectionId() || l.GetAlbumId() != ev.GetAlbumId() || l.GetGalleryId() == "" {
			continue
		}
		out = append(out, l)
	}
	return out, nil
}

// applyLink applies the event to one link while holding the item's lease,
// so that two events of one item never interleave their steps.
func (w *Writer) applyLink(ctx context.Context, ev *gsv1.ChangeEvent, l *gsv1.Link) error {
	ctx, span := w.tracer.Start(ctx, "wix-writer.link", trace.WithAttributes(
		tenantAttr.String(ev.GetTenantId()),
		linkAttr.String(l.GetLinkId()),
		itemAttr.String(ev.GetItem().GetItemId()),
	))
	defer span.End()
	j := newJob(ev, l)
	op, err := w.lockedSync(ctx, j)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(otelcodes.Error, "link failed")
		if isPermanent(err) {
			w.appendLog(ctx, j, "failed", err.Error())
		}
		return err
	}
	span.SetAttributes(opAttr.String(op))
	w.appendLog(ctx, j, op, "")
	return nil
}

// appendLog adds the action to the link's sync log, the owner's per-item
// history, under the item's Wix id when the mapping knows it. It is best
// effort: a missing history line is no reason to redo a write.
func (w *Writer) appendLog(ctx context.Context, j job, action, detail string) {
	entry := &gsv1.LogEntry{ExternalId: j.externalID(), Target: gsv1.Side_SIDE_WIX, Action: action,
		Detail: truncate(detail, 512), EventId: j.ev.GetEventId()}
	if m, err := w.getItem(ctx, j); err == nil {
		entry.WixItemId = m.GetWixItemId()
	}
	_, err := w.mapping.AppendLog(ctx, &gsv1.AppendLogRequest{TenantId: j.tenant(), LinkId: j.linkID(), Entry: entry})
	if err != nil && status.Code(err) != codes.NotFound { // NotFound: the link was removed meanwhile
		w.log.WarnContext(ctx, "append sync log", slog.String("tenant", j.tenant()),
			slog.String("link", j.linkID()), slog.Any("error", err))
	}
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// maxLockHops bounds how often the lock key may change under us: each hop
// means another writer created or adopted the item in between.
const maxLockHops = 3

// lockedSync takes the item's lease and syncs it. The lease key is the one
// the platform-writer uses for a mapped item ("item:<link>:<wix item id>"),
// so the two writers never work on one item at once; an item not mapped yet
// has no Wix id, so it is keyed by its external id instead. The mapping is
// read again under the lease, and if it moved to another key meanwhile the
// lease is swapped.
func (w *Writer) lockedSync(ctx context.Context, j job) (string, error) {
	m, err := w.getItem(ctx, j)
	if err != nil {
		return "", err
	}
	for range maxLockHops {
		key := lockKey(j, m)
		held, err := w.locker.Acquire(ctx, j.tenant(), key)
		if err != nil {
			return "", err
		}
		cur, err := w.getItem(held.Context(), j)
		if err != nil {
			held.Release()
			return "", err
		}
		if lockKey(j, cur) != key {
			held.Release()
			m = cur
			continue
		}
		op, err := w.syncItem(held.Context(), j, cur)
		held.Release()
		return op, err
	}
	return "", fmt.Errorf("%w: item %s kept moving", errLocked, j.externalID())
}

// lockKey is the lease key of the job's item given its mapping.
func lockKey(j job, m *gsv1.ItemMapping) string {
	if m.GetWixItemId() != "" {
		return "item:" + j.linkID() + ":" + m.GetWixItemId()
	}
	return "item:" + j.linkID() + ":x:" + j.externalID()
}

// getItem reads the link's mapping of the job's external item, nil if none.
func (w *Writer) getItem(ctx context.Context, j job) (*gsv1.ItemMapping, error) {
	resp, err := w.mapping.GetItem(ctx, &gsv1.GetItemRequest{
		TenantId: j.tenant(), LinkId: j.linkID(), Key: &gsv1.GetItemRequest_ExternalId{ExternalId: j.externalID()},
	})
	if status.Code(err) == codes.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get item %s: %w", j.externalID(), err)
	}
	return resp.GetItem(), nil
}

// putItem writes with compare-and-set; a lost race (codes.Aborted) makes the
// whole event retry, which re-reads the mapping and decides again.
func (w *Writer) putItem(ctx context.Context, m *gsv1.ItemMapping, expected int64) (*gsv1.ItemMapping, error) {
	resp, err := w.mapping.PutItem(ctx, &gsv1.PutItemRequest{Item: m, ExpectedRevision: expected})
	if err != nil {
		return nil, fmt.Errorf("put item %s (%s): %w", m.GetWixItemId(), m.GetState(), err)
	}
	return resp.GetItem(), nil
}
