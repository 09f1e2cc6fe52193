package writer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"gallerysync.dev/libs/platforms"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// job is one event applied to one link.
type job struct {
	ev      *gsv1.ChangeEvent
	t       target
	version time.Time
	hash    string
}

func (j job) tenant() string { return j.ev.GetTenantId() }
func (j job) linkID() string { return j.t.link.GetLinkId() }
func (j job) album() string  { return j.t.link.GetAlbumId() }
func (j job) itemID() string { return j.ev.GetItem().GetItemId() }

// syncItem brings the link's external item to the event's state, level
// triggered: the event says "item X now looks like this" and the mapping
// says what was applied last, so duplicate, late and reordered events do no
// harm. It returns the op it performed (for the span).
func (w *Writer) syncItem(ctx context.Context, ev *gsv1.ChangeEvent, t target) (string, error) {
	j := job{ev: ev, t: t, version: eventVersion(ev), hash: eventHash(ev)}
	m, err := w.getItem(ctx, j)
	if err != nil {
		return "", err
	}
	if m != nil && m.GetWixVersion() != nil {
		applied := m.GetWixVersion().AsTime()
		// The item was deleted at or after this event: a late create or
		// update must not bring it back.
		if m.GetState() == gsv1.ItemState_ITEM_STATE_DELETED && !applied.Before(j.version) {
			return w.skip(ctx, j, "deleted", "event for a deleted item")
		}
		// A newer state is already on the platform: this event is late.
		if applied.After(j.version) {
			return w.skip(ctx, j, "older", "stale event")
		}
	}
	own, err := w.ownWixWrite(ctx, j, m)
	if err != nil {
		return "", err
	}
	if own {
		w.counters.add(ctx, w.counters.echoDropped)
		trace.SpanFromContext(ctx).AddEvent("echo dropped", trace.WithAttributes(echoMarkerAttr.Bool(true)))
		return "echo", nil
	}
	if j.ev.GetKind() == gsv1.ChangeKind_CHANGE_KIND_ITEM_DELETED {
		return w.deleteItem(ctx, j, m)
	}
	if m.GetState() == gsv1.ItemState_ITEM_STATE_SYNCED && m.GetWixHash() == j.hash {
		// The content is what was last synced: our own echo (a write we
		// made to Wix coming back) or a duplicate under another event id.
		w.counters.add(ctx, w.counters.echoDropped)
		trace.SpanFromContext(ctx).AddEvent("echo dropped")
		return "echo", nil
	}
	if m.GetState() != gsv1.ItemState_ITEM_STATE_SYNCED && j.ev.GetItem().GetMediaUrl() == "" {
		// A gallery item without media (a text item) has nothing to post
		// on a media platform; it is created once it gets media.
		w.counters.add(ctx, w.counters.ignored, kindKey.String("no_media"))
		trace.SpanFromContext(ctx).AddEvent("item without media")
		return "skip", nil
	}
	switch m.GetState() {
	case gsv1.ItemState_ITEM_STATE_SYNCED:
		return w.updateItem(ctx, j, m)
	case gsv1.ItemState_ITEM_STATE_PENDING_CREATE:
		// A create was decided but its result never recorded (a crash or a
		// failed mapping write): repeat it under the same key, which the
		// platform answers with the item the first attempt made, if any.
		return w.createItem(ctx, j, m, m.GetIntentKey())
	default:
		return w.createItem(ctx, j, m, "")
	}
}

// Echo markers. The wix-writer sets them on the Wix side before it writes
// to Wix, so the webhook its write causes is known as ours even before the
// mapping records the result (the webhook may well arrive first); this
// writer sets the same kinds on the platform side before every platform
// write (see markPlatformEcho), for the wix-writer to check.
const (
	// newItemEchoPrefix + link + ":" + hash marks a Wix item being created.
	newItemEchoPrefix = "new:"
	// deletedEchoHash marks a Wix item being deleted.
	deletedEchoHash = "deleted"
)

// ownWixWrite reports whether the event is the echo of a write the
// wix-writer made (or is making) to Wix.
func (w *Writer) ownWixWrite(ctx context.Context, j job, m *gsv1.ItemMapping) (bool, error) {
	req := &gsv1.CheckEchoRequest{TenantId: j.tenant(), Side: gsv1.Side_SIDE_WIX, ObjectId: j.itemID(), ContentHash: j.hash}
	switch {
	case j.ev.GetKind() == gsv1.ChangeKind_CHANGE_KIND_ITEM_DELETED:
		req.ContentHash = deletedEchoHash
	case m.GetState() != gsv1.ItemState_ITEM_STATE_SYNCED:
		req.ObjectId = newItemEchoPrefix + j.linkID() + ":" + j.hash
	}
	resp, err := w.mapping.CheckEcho(ctx, req)
	if err != nil {
		return false, fmt.Errorf("check echo: %w", err)
	}
	return resp.GetEcho(), nil
}

func (w *Writer) skip(ctx context.Context, j job, reason, msg string) (string, error) {
	w.counters.add(ctx, w.counters.stale, reasonKey.String(reason))
	trace.SpanFromContext(ctx).AddEvent(msg)
	w.log.DebugContext(ctx, msg, slog.String("tenant", j.tenant()), slog.String("link", j.linkID()),
		slog.String("item", j.itemID()), slog.String("event_id", j.ev.GetEventId()))
	return "skip", nil
}

// createItem records the intent, makes the external item, records the result.
// m is the current mapping (nil when none); key is the intent to reuse, ""
// for a new one.
func (w *Writer) createItem(ctx context.Context, j job, m *gsv1.ItemMapping, key string) (string, error) {
	if key == "" {
		var err error
		if key, err = newIntentKey(); err != nil {
			return "", err
		}
	}
	pending := w.base(j, m)
	pending.State = gsv1.ItemState_ITEM_STATE_PENDING_CREATE
	pending.IntentKey = key
	// No external item exists for this intent yet (an old one, if any, is
	// gone); the id is filled in once the create is recorded.
	pending.ExternalId = ""
	pending.ExternalAttrs = nil
	// The intent is stored before the remote call: whatever happens after
	// it, the next attempt finds the key and cannot create a second item.
	pm, err := w.putItem(ctx, pending, m.GetRevision())
	if err != nil {
		return "", err
	}
	c := content(j.ev.GetItem())
	remote, err := w.create(ctx, j, c, key)
	if err != nil {
		return "", err
	}
	synced := proto.Clone(pm).(*gsv1.ItemMapping)
	w.markSynced(synced, j, remote, c)
	if _, err := w.putItem(ctx, synced, pm.GetRevision()); err != nil {
		return "", err
	}
	w.counters.add(ctx, w.counters.applied, opKey.String(opCreate))
	return opCreate, nil
}

// updateItem writes a changed item, or only records the new Wix state when
// nothing the platform shows changes (e.g. a reorder on a platform without
// order).
func (w *Writer) updateItem(ctx context.Context, j job, m *gsv1.ItemMapping) (string, error) {
	c := content(j.ev.GetItem())
	next := w.base(j, m)
	if w.adapter.Fingerprint(j.album(), c) == lastFingerprint(m) {
		next.WixHash = j.hash
		next.WixVersion = timestamppb.New(j.version)
		next.SortOrder = c.SortOrder
		if _, err := w.putItem(ctx, next, m.GetRevision()); err != nil {
			return "", err
		}
		w.counters.add(ctx, w.counters.applied, opKey.String(opNoop))
		return opNoop, nil
	}
	if err := w.markPlatformEcho(ctx, j, m.GetExternalId(), w.adapter.Expect(j.album(), c)); err != nil {
		return "", err
	}
	if err := w.pacer.wait(ctx, j.tenant(), j.t.conn.ID, opUpdate); err != nil {
		return "", err
	}
	remote, err := w.adapter.Update(ctx, j.t.conn, j.album(), platforms.Remote{ID: m.GetExternalId(), Attrs: m.GetExternalAttrs()}, c)
	if errors.Is(err, platforms.ErrNotFound) {
		// Deleted on the platform side. Wix is the source of this change,
		// so the item is made again, under a fresh intent.
		w.log.InfoContext(ctx, "external item gone; creating it again", slog.String("tenant", j.tenant()),
			slog.String("link", j.linkID()), slog.String("item", j.itemID()), slog.String("external_id", m.GetExternalId()))
		return w.createItem(ctx, j, m, "")
	}
	if err != nil {
		return "", w.remoteError(ctx, "update", err)
	}
	w.markSynced(next, j, remote, c)
	if _, err := w.putItem(ctx, next, m.GetRevision()); err != nil {
		return "", err
	}
	w.counters.add(ctx, w.counters.applied, opKey.String(opUpdate))
	return opUpdate, nil
}

// deleteItem removes the external item and leaves a tombstone, so a late
// create or update of the item does not bring it back.
func (w *Writer) deleteItem(ctx context.Context, j job, m *gsv1.ItemMapping) (string, error) {
	op := opNoop
	tomb := w.base(j, m)
	switch m.GetState() {
	case gsv1.ItemState_ITEM_STATE_SYNCED:
		if err := w.delete(ctx, j, platforms.Remote{ID: m.GetExternalId(), Attrs: m.GetExternalAttrs()}); err != nil {
			return "", err
		}
		op = opDelete
	case gsv1.ItemState_ITEM_STATE_PENDING_CREATE:
		if m.GetIntentKey() == "" {
			break
		}
		// A create may or may not have reached the platform. Repeating it
		// under its key returns the item if it did; then it is deleted.
		remote, err := w.create(ctx, j, content(j.ev.GetItem()), m.GetIntentKey())
		if err != nil {
			return "", err
		}
		if err := w.delete(ctx, j, remote); err != nil {
			return "", err
		}
		tomb.ExternalId = remote.ID
		tomb.ExternalAttrs = remote.Attrs
		op = opDelete
	}
	tomb.State = gsv1.ItemState_ITEM_STATE_DELETED
	tomb.WixVersion = timestamppb.New(j.version)
	if _, err := w.putItem(ctx, tomb, m.GetRevision()); err != nil {
		return "", err
	}
	w.counters.add(ctx, w.counters.applied, opKey.String(op))
	return op, nil
}

// base is the mapping to write next: a copy of the current one, or a new
// one for the job's item.
func (w *Writer) base(j job, m *gsv1.ItemMapping) *gsv1.ItemMapping {
	if m != nil {
		next := proto.Clone(m).(*gsv1.ItemMapping)
		next.UpdatedAt = nil
		return next
	}
	return &gsv1.ItemMapping{TenantId: j.tenant(), LinkId: j.linkID(), WixItemId: j.itemID()}
}

// markSynced records what was written: both ids, both hashes and the
// version. The external hash is the one the platform shows (Remote.Hash,
// what its watcher will report), so a platform event carrying it is known
// as in sync; the adapter's fingerprint of what was written goes into the
// attributes, for skipping writes that would change nothing.
func (w *Writer) markSynced(m *gsv1.ItemMapping, j job, r platforms.Remote, c platforms.Content) {
	m.State = gsv1.ItemState_ITEM_STATE_SYNCED
	m.ExternalId = r.ID
	m.ExternalAttrs = make(map[string]string, len(r.Attrs)+1)
	for k, v := range r.Attrs {
		m.ExternalAttrs[k] = v
	}
	m.ExternalAttrs[platforms.AttrFingerprint] = w.adapter.Fingerprint(j.album(), c)
	m.WixHash = j.hash
	m.ExternalHash = r.Hash
	if m.ExternalHash == "" {
		m.ExternalHash = w.adapter.Expect(j.album(), c)
	}
	m.WixVersion = timestamppb.New(j.version)
	m.SortOrder = c.SortOrder
}

// lastFingerprint is the fingerprint of the content last written; mappings
// written before the fingerprint moved to the attributes kept it as the
// external hash.
func lastFingerprint(m *gsv1.ItemMapping) string {
	if fp, ok := m.GetExternalAttrs()[platforms.AttrFingerprint]; ok {
		return fp
	}
	return m.GetExternalHash()
}

// create marks the platform echo of a new item, then makes it.
func (w *Writer) create(ctx context.Context, j job, c platforms.Content, key string) (platforms.Remote, error) {
	if h := w.adapter.Expect(j.album(), c); h != "" {
		if err := w.markPlatformEcho(ctx, j, newItemEchoPrefix+j.linkID()+":"+h, h); err != nil {
			return platforms.Remote{}, err
		}
	}
	if err := w.pacer.wait(ctx, j.tenant(), j.t.conn.ID, opCreate); err != nil {
		return platforms.Remote{}, err
	}
	remote, err := w.adapter.Create(ctx, j.t.conn, j.album(), c, key)
	if err != nil {
		return platforms.Remote{}, w.remoteError(ctx, "create", err)
	}
	// Now that the item has an id, mark its first state under that id too:
	// a watcher may report that state late, after the mapping moved on to a
	// newer one, and it is still our own.
	if err := w.markPlatformEcho(ctx, j, remote.ID, remote.Hash); err != nil {
		return platforms.Remote{}, err
	}
	return remote, nil
}

// delete marks the platform echo of a deletion, then deletes.
func (w *Writer) delete(ctx context.Context, j job, r platforms.Remote) error {
	if r.ID != "" {
		if err := w.markPlatformEcho(ctx, j, r.ID, deletedEchoHash); err != nil {
			return err
		}
	}
	if err := w.pacer.wait(ctx, j.tenant(), j.t.conn.ID, opDelete); err != nil {
		return err
	}
	if err := w.adapter.Delete(ctx, j.t.conn, r); err != nil {
		return w.remoteError(ctx, "delete", err)
	}
	return nil
}

// platformEchoTTL is how long a platform echo marker lives: long enough for
// the watcher's event of the write to reach the wix-writer, even behind a
// backlog, and short enough that a real change with the same content later
// is not taken for an echo.
const platformEchoTTL = 10 * time.Minute

// markPlatformEcho records, before a remote write, the hash the platform will
// show for object once the write is done, so that the wix-writer drops the
// change event the write causes even when it arrives before the mapping
// records the result. An empty hash (the adapter cannot predict it) marks
// nothing.
func (w *Writer) markPlatformEcho(ctx context.Context, j job, object, hash string) error {
	if object == "" || hash == "" {
		return nil
	}
	_, err := w.mapping.MarkEcho(ctx, &gsv1.MarkEchoRequest{
		TenantId: j.tenant(), Side: gsv1.Side_SIDE_PLATFORM, ObjectId: object, ContentHash: hash,
		Ttl: durationpb.New(platformEchoTTL),
	})
	if err != nil {
		return fmt.Errorf("mark platform echo %s: %w", object, err)
	}
	return nil
}

// remoteError counts a failed platform call and adds context.
func (w *Writer) remoteError(ctx context.Context, call string, err error) error {
	w.counters.add(ctx, w.counters.remoteErrors, kindKey.String(remoteErrorKind(err)))
	return fmt.Errorf("%s %s: %w", w.cfg.Platform, call, err)
}

func (w *Writer) getItem(ctx context.Context, j job) (*gsv1.ItemMapping, error) {
	resp, err := w.mapping.GetItem(ctx, &gsv1.GetItemRequest{
		TenantId: j.tenant(), LinkId: j.linkID(), Key: &gsv1.GetItemRequest_WixItemId{WixItemId: j.itemID()},
	})
	if status.Code(err) == codes.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get item %s: %w", j.itemID(), err)
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
