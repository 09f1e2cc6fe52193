package writer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/wix"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Echo markers this writer sets before it writes to Wix, so the webhook the
// write causes is known to the platform-writer as ours, even when it
// arrives before the mapping records the result. The platform-writer checks
// exactly these (side WIX):
//   - object "new:<link>:<hash>" with the content hash of an item being created;
//   - object "<wix item id>" with the content hash an update leaves;
//   - object "<wix item id>" with the hash "deleted" for a delete.
const (
	newItemEchoPrefix = "new:"
	deletedEchoHash   = "deleted"
	// echoTTL outlasts Wix's webhook delivery of our write by far, and is
	// short enough that a real edit with equal content later is not eaten.
	echoTTL = 10 * time.Minute
)

// Keys of ItemMapping.external_attrs this writer keeps. It adds them to what
// is there and never removes the platform-writer's own keys.
const (
	// attrPlatformMedia is the platform media (its id, else its URL) the
	// Wix image was imported from, so an update re-imports only when the
	// platform's media changed.
	attrPlatformMedia = "platform_media"
	// attrWixFile is the Media Manager file of the Wix image.
	attrWixFile = "wix_file_id"
	// attrPlatformMediaID is the platform-writer's record of the platform
	// media it posted; it stands in for attrPlatformMedia on items that
	// were first made on Wix.
	attrPlatformMediaID = "media_id"
)

// job is one event applied to one link.
type job struct {
	ev      *gsv1.ChangeEvent
	link    *gsv1.Link
	version time.Time
	hash    string
}

func newJob(ev *gsv1.ChangeEvent, l *gsv1.Link) job {
	return job{ev: ev, link: l, version: eventVersion(ev), hash: eventHash(ev)}
}

func (j job) tenant() string           { return j.ev.GetTenantId() }
func (j job) linkID() string           { return j.link.GetLinkId() }
func (j job) gallery() string          { return j.link.GetGalleryId() }
func (j job) platform() string         { return j.ev.GetPlatform() }
func (j job) item() *gsv1.ItemSnapshot { return j.ev.GetItem() }
func (j job) externalID() string       { return j.ev.GetItem().GetItemId() }
func (j job) deleted() bool            { return j.ev.GetKind() == gsv1.ChangeKind_CHANGE_KIND_ITEM_DELETED }
func (j job) intentKey() string        { return "wix-create:" + j.linkID() + ":" + j.externalID() }
func (j job) goneKey() string          { return "wix-writer:gone:" + j.linkID() + ":" + j.externalID() }

// newEchoObject is the echo marker object of a Wix item being created with
// content hash h.
func (j job) newEchoObject(h string) string { return newItemEchoPrefix + j.linkID() + ":" + h }

// logAttrs name the job in a log line.
func (j job) logAttrs() []any {
	return []any{slog.String("tenant", j.tenant()), slog.String("link", j.linkID()),
		slog.String("external_id", j.externalID()), slog.String("event_id", j.ev.GetEventId())}
}

// eventVersion orders states of one item: the item's own modification time,
// or the event's time when the snapshot has none (deletes).
func eventVersion(ev *gsv1.ChangeEvent) time.Time {
	if u := ev.GetItem().GetUpdatedAt(); u != nil {
		return u.AsTime()
	}
	return ev.GetOccurredAt().AsTime()
}

// eventHash is the platform content hash the event carries, or computes it.
func eventHash(ev *gsv1.ChangeEvent) string {
	if h := ev.GetItem().GetContentHash(); h != "" {
		return h
	}
	return change.Hash(ev.GetItem())
}

// mediaIdentity names the platform media of a snapshot: its id, else its URL.
func mediaIdentity(s *gsv1.ItemSnapshot) string {
	if id := s.GetMediaId(); id != "" {
		return id
	}
	return s.GetMediaUrl()
}

// wixHash is the content hash the Wix webhook about it will carry: ingress
// normalizes webhook items with wix.Snapshot.
func wixHash(it wix.Item) string { return change.Hash(wix.Snapshot(it)) }

// syncItem brings the link's Wix item to the event's state, level
// triggered: the event says "platform item X now looks like this" and the
// mapping says what was applied last, so duplicate, late and reordered
// events do no harm. It runs under the item's lease and returns the op it
// performed (for the span).
func (w *Writer) syncItem(ctx context.Context, j job, m *gsv1.ItemMapping) (string, error) {
	if m.GetState() == gsv1.ItemState_ITEM_STATE_DELETED {
		// Deleted on one side and carried to the other: platform ids are
		// not reused, so anything later about this item is late.
		return w.skip(ctx, j, "deleted", "event for a deleted item")
	}
	if v := m.GetExternalVersion(); v != nil && v.AsTime().After(j.version) {
		return w.skip(ctx, j, "older", "stale event")
	}
	own, err := w.ownPlatformWrite(ctx, j, m)
	if err != nil {
		return "", err
	}
	if own {
		w.counters.add(ctx, w.counters.echoDropped, j.platform())
		trace.SpanFromContext(ctx).AddEvent("echo dropped", trace.WithAttributes(attribute.Bool("gallerysync.echo_marker", true)))
		return "echo", nil
	}
	if j.deleted() {
		return w.deleteItem(ctx, j, m)
	}
	switch m.GetState() {
	case gsv1.ItemState_ITEM_STATE_SYNCED:
		if m.GetExternalHash() == j.hash {
			// The content is what was last synced: our own echo (the
			// platform-writer's post coming back) or a duplicate under
			// another event id.
			w.counters.add(ctx, w.counters.echoDropped, j.platform())
			trace.SpanFromContext(ctx).AddEvent("echo dropped")
			return "echo", nil
		}
		return w.updateItem(ctx, j, m)
	case gsv1.ItemState_ITEM_STATE_UNSPECIFIED:
		if m != nil {
			return "", fmt.Errorf("%w: mapping of %s has no state", errInvalidEvent, j.externalID())
		}
		return w.createItem(ctx, j)
	default:
		// The platform-writer is creating this item's external side right
		// now (or crashed doing so); it settles it, then this event applies.
		return "", fmt.Errorf("item %s is %s on the platform side", m.GetWixItemId(), m.GetState())
	}
}

func (w *Writer) skip(ctx context.Context, j job, reason, msg string) (string, error) {
	w.counters.add(ctx, w.counters.stale, j.platform(), reasonKey.String(reason))
	trace.SpanFromContext(ctx).AddEvent(msg)
	w.log.DebugContext(ctx, msg, j.logAttrs()...)
	return "skip", nil
}

// ownPlatformWrite reports whether the event is the echo of a write the
// platform-writer made (or is making) on the platform. It marks every write
// before making it (see its README): a new post under "new:<link>:<hash>"
// (its id is not known yet, and its watcher event may beat the mapping), an
// edit under the post's id with the hash the platform will show, a delete
// under the post's id with "deleted".
func (w *Writer) ownPlatformWrite(ctx context.Context, j job, m *gsv1.ItemMapping) (bool, error) {
	req := &gsv1.CheckEchoRequest{TenantId: j.tenant(), Side: gsv1.Side_SIDE_PLATFORM, ObjectId: j.externalID(), ContentHash: j.hash}
	switch {
	case j.deleted():
		req.ContentHash = platformDeletedMark
	case m.GetState() != gsv1.ItemState_ITEM_STATE_SYNCED:
		req.ObjectId = newItemMarkPrefix + j.linkID() + ":" + j.hash
	}
	resp, err := w.mapping.CheckEcho(ctx, req)
	if err != nil {
		return false, fmt.Errorf("check echo: %w", err)
	}
	return resp.GetEcho(), nil
}

// The platform-writer's marker conventions (services/platform-writer README).
const (
	newItemMarkPrefix   = "new:"
	platformDeletedMark = "deleted"
)

// markEcho announces a Wix write to the platform-writer before it is made.
func (w *Writer) markEcho(ctx context.Context, j job, object, hash string) error {
	_, err := w.mapping.MarkEcho(ctx, &gsv1.MarkEchoRequest{
		TenantId: j.tenant(), Side: gsv1.Side_SIDE_WIX, ObjectId: object, ContentHash: hash, Ttl: durationpb.New(echoTTL),
	})
	if err != nil {
		return fmt.Errorf("mark echo %s: %w", object, err)
	}
	return nil
}

// synced fills in what a Wix write left: both ids, both hashes, both
// versions and the media the image came from. base is the mapping to
// update (nil for a new one); its other attributes are kept.
func synced(j job, base *gsv1.ItemMapping, it wix.Item, externalHash, platformMedia, fileID string) *gsv1.ItemMapping {
	m := &gsv1.ItemMapping{TenantId: j.tenant(), LinkId: j.linkID()}
	if base != nil {
		m = proto.Clone(base).(*gsv1.ItemMapping)
		m.UpdatedAt = nil
	}
	m.WixItemId = it.ID
	m.ExternalId = j.externalID()
	m.State = gsv1.ItemState_ITEM_STATE_SYNCED
	m.WixHash = wixHash(it)
	m.ExternalHash = externalHash
	m.SortOrder = it.SortOrder
	if !it.UpdatedDate.IsZero() {
		m.WixVersion = timestamppb.New(it.UpdatedDate)
	}
	m.ExternalVersion = timestamppb.New(j.version)
	attrs := make(map[string]string, len(m.GetExternalAttrs())+2)
	for k, v := range m.GetExternalAttrs() {
		attrs[k] = v
	}
	if platformMedia != "" {
		attrs[attrPlatformMedia] = platformMedia
	}
	if fileID != "" {
		attrs[attrWixFile] = fileID
	}
	m.ExternalAttrs = attrs
	return m
}

// remoteError counts a failed Wix call and adds context.
func (w *Writer) remoteError(ctx context.Context, j job, call string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("wix %s: %w", call, err)
	}
	w.counters.add(ctx, w.counters.remoteErrors, j.platform(), kindKey.String(remoteErrorKind(err)))
	return fmt.Errorf("wix %s: %w", call, err)
}
