package watch

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/platforms"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// How a change was found, as a metric label.
const (
	viaStream    = "stream"
	viaReconcile = "reconcile"
	viaWebhook   = "webhook"
)

// source is where an item was seen: one tenant's connection on a platform,
// with the connection's active two-way links.
type source struct {
	tenant     string
	connection string
	platform   string
	links      []*gsv1.Link
}

// emitter turns what a platform shows into platform-origin change events
// and publishes them; the watchers and the webhook receiver share it.
type emitter struct {
	mapping gsv1.MappingServiceClient
	pub     Publisher
	log     *slog.Logger
	inst    instruments
	now     func() time.Time
}

// publish publishes o once for every album of the source it belongs to:
// o.Album, or, for a deletion whose album the platform did not say, every
// album whose mapping knows the item. The kind is created when no link of
// the album maps the item yet, else updated (deleted for a deletion).
func (e *emitter) publish(ctx context.Context, src source, o platforms.Observed, via string) error {
	byAlbum, err := e.albums(ctx, src, o)
	if err != nil {
		return err
	}
	for _, album := range sortedKeys(byAlbum) {
		kind := gsv1.ChangeKind_CHANGE_KIND_ITEM_DELETED
		if !o.Deleted {
			known, err := e.mapped(ctx, src.tenant, byAlbum[album], o.ID)
			if err != nil {
				return err
			}
			kind = gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED
			if known {
				kind = gsv1.ChangeKind_CHANGE_KIND_ITEM_UPDATED
			}
		}
		if err := e.send(ctx, src, album, o, kind, via); err != nil {
			return err
		}
	}
	return nil
}

// send publishes one event and waits for the bus's ack.
func (e *emitter) send(ctx context.Context, src source, album string, o platforms.Observed, kind gsv1.ChangeKind, via string) error {
	ev := newEvent(src, album, o, kind, e.now())
	res, err := e.pub.Publish(ctx, ev)
	if err != nil {
		e.inst.errors.Add(ctx, 1, metric.WithAttributes(platformKey.String(src.platform), stageKey.String("publish")))
		return fmt.Errorf("publish %s: %w", ev.GetEventId(), err)
	}
	attrs := metric.WithAttributes(platformKey.String(src.platform), kindKey.String(kindLabel(kind)), viaKey.String(via))
	if res.Duplicate {
		e.inst.duplicates.Add(ctx, 1, attrs)
	} else {
		e.inst.published.Add(ctx, 1, attrs)
	}
	e.log.DebugContext(ctx, "platform change published", slog.String("tenant", src.tenant),
		slog.String("connection", src.connection), slog.String("album", album), slog.String("item", o.ID),
		slog.String("kind", kindLabel(kind)), slog.String("via", via), slog.Bool("duplicate", res.Duplicate))
	return nil
}

// albums maps each album o belongs to onto the source's links of it.
func (e *emitter) albums(ctx context.Context, src source, o platforms.Observed) (map[string][]*gsv1.Link, error) {
	out := map[string][]*gsv1.Link{}
	for _, l := range src.links {
		switch {
		case o.Album != "":
			if l.GetAlbumId() == o.Album {
				out[o.Album] = append(out[o.Album], l)
			}
		case o.Deleted:
			known, err := e.mapped(ctx, src.tenant, []*gsv1.Link{l}, o.ID)
			if err != nil {
				return nil, err
			}
			if known {
				out[l.GetAlbumId()] = append(out[l.GetAlbumId()], l)
			}
		}
	}
	return out, nil
}

// mapped reports whether any of the links maps the external item.
func (e *emitter) mapped(ctx context.Context, tenant string, links []*gsv1.Link, externalID string) (bool, error) {
	for _, l := range links {
		_, err := e.mapping.GetItem(ctx, &gsv1.GetItemRequest{
			TenantId: tenant, LinkId: l.GetLinkId(), Key: &gsv1.GetItemRequest_ExternalId{ExternalId: externalID},
		})
		switch status.Code(err) {
		case codes.OK:
			return true, nil
		case codes.NotFound:
		default:
			return false, fmt.Errorf("get item %s of link %s: %w", externalID, l.GetLinkId(), err)
		}
	}
	return false, nil
}

// newEvent is the platform-origin event for o in album. Its source event
// id names the state (item and its update time) within the tenant's
// connection and album, so the same state seen twice (stream, webhook,
// listing) is published once, while one item in two albums, or on two
// tenants' connections to one account, is an event for each.
func newEvent(src source, album string, o platforms.Observed, kind gsv1.ChangeKind, now time.Time) *gsv1.ChangeEvent {
	at := o.UpdatedAt
	if at.IsZero() {
		at = now
	}
	sourceID := src.tenant + "/" + src.connection + "/" + album + "/" + o.ID + ":" + strconv.FormatInt(at.UnixNano(), 10)
	item := &gsv1.ItemSnapshot{ItemId: o.ID}
	if kind == gsv1.ChangeKind_CHANGE_KIND_ITEM_DELETED {
		sourceID += ":deleted"
	} else {
		item.Title = o.Content.Title
		item.Description = o.Content.Description
		item.LinkUrl = o.Content.LinkURL
		item.MediaUrl = o.Content.MediaURL
		item.MimeType = o.Content.MimeType
		item.AltText = o.Content.AltText
		// The platform's order (AT Protocol positions) is the item's sort order.
		item.SortOrder = o.Content.SortOrder
		item.Permalink = o.Permalink
		item.UpdatedAt = timestamppb.New(at)
		item.ContentHash = o.Hash
	}
	return &gsv1.ChangeEvent{
		EventId:       change.EventID(gsv1.Origin_ORIGIN_PLATFORM, src.platform, sourceID),
		TenantId:      src.tenant,
		Origin:        gsv1.Origin_ORIGIN_PLATFORM,
		Platform:      src.platform,
		SourceEventId: sourceID,
		OccurredAt:    timestamppb.New(at),
		Kind:          kind,
		AlbumId:       album,
		ConnectionId:  src.connection,
		Item:          item,
	}
}

func kindLabel(k gsv1.ChangeKind) string {
	switch k {
	case gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED:
		return "created"
	case gsv1.ChangeKind_CHANGE_KIND_ITEM_UPDATED:
		return "updated"
	case gsv1.ChangeKind_CHANGE_KIND_ITEM_DELETED:
		return "deleted"
	}
	return "other"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
