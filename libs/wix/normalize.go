package wix

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gallerysync.dev/libs/change"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Slugs of the Pro Gallery item events (wix-api.md 2.3).
const (
	SlugItemCreated = "gallery_item_created"
	SlugItemUpdated = "gallery_item_updated"
	SlugItemDeleted = "gallery_item_deleted"
)

// proGalleryFqdnMark is common to both documented FQDN spellings,
// "wix.pro_gallery.v2.gallery" and "wix.pro_gallery.gallery_v2".
const proGalleryFqdnMark = "pro_gallery"

// Size limits on snapshot fields. They bound what one event can carry into
// the bus and the writers; Wix's own limits are lower.
const (
	MaxTextBytes = 10_000
	MaxURLBytes  = 2_048
	MaxIDBytes   = 512
)

// itemEventBody is the action body of the item events: {item} on create,
// {updatedItem} on update, {itemId} on delete.
type itemEventBody struct {
	Item        json.RawMessage `json:"item"`
	UpdatedItem json.RawMessage `json:"updatedItem"`
	ItemID      string          `json:"itemId"`
	GalleryID   string          `json:"galleryId"`
}

// Normalize turns a verified Pro Gallery item event into a ChangeEvent.
// Events that are not synced wrap ErrUnsupported; an item event whose body
// cannot be read, or whose result does not pass change.Validate, wraps
// ErrMalformed. Routing is on slug and FQDN, not on the eventType string,
// because Wix has documented two spellings of the latter.
func Normalize(env *Envelope) (*gsv1.ChangeEvent, error) {
	if env == nil {
		return nil, fmt.Errorf("%w: no envelope", ErrMalformed)
	}
	ev := &env.Event
	kind, ok := itemKind(ev)
	if !ok {
		return nil, fmt.Errorf("%w: event %q (fqdn %q, slug %q)", ErrUnsupported, env.EventType, ev.EntityFqdn, ev.Slug)
	}
	if ev.EventTime.IsZero() {
		return nil, fmt.Errorf("%w: event %s has no eventTime", ErrMalformed, ev.ID)
	}
	var body itemEventBody
	if err := json.Unmarshal(ev.Body, &body); err != nil {
		return nil, fmt.Errorf("%w: event %s body: %w", ErrMalformed, ev.ID, err)
	}
	var item *gsv1.ItemSnapshot
	if kind == gsv1.ChangeKind_CHANGE_KIND_ITEM_DELETED {
		item = &gsv1.ItemSnapshot{ItemId: body.ItemID}
	} else {
		raw := body.Item
		if kind == gsv1.ChangeKind_CHANGE_KIND_ITEM_UPDATED || len(raw) == 0 {
			raw = firstPresent(body.UpdatedItem, body.Item)
		}
		snap, err := snapshot(raw, ev.EventTime)
		if err != nil {
			return nil, fmt.Errorf("%w: event %s item: %w", ErrMalformed, ev.ID, err)
		}
		item = snap
	}
	if err := checkLimits(item); err != nil {
		return nil, fmt.Errorf("%w: event %s: %w", ErrMalformed, ev.ID, err)
	}
	out := &gsv1.ChangeEvent{
		EventId:        change.EventID(gsv1.Origin_ORIGIN_WIX, "", ev.ID),
		TenantId:       env.InstanceID,
		Origin:         gsv1.Origin_ORIGIN_WIX,
		SourceEventId:  ev.ID,
		OccurredAt:     timestamppb.New(ev.EventTime),
		Kind:           kind,
		GalleryId:      galleryID(ev.EntityID, item.GetItemId(), body.GalleryID),
		Item:           item,
		Identity:       identityProto(env.Identity),
		OriginatedFrom: ev.OriginatedFrom,
	}
	if len(out.GetGalleryId()) > MaxIDBytes {
		return nil, fmt.Errorf("%w: event %s: gallery id is %d bytes, limit %d", ErrMalformed, ev.ID, len(out.GetGalleryId()), MaxIDBytes)
	}
	if err := change.Validate(out); err != nil {
		return nil, fmt.Errorf("%w: event %s: %w", ErrMalformed, ev.ID, err)
	}
	return out, nil
}

func itemKind(ev *DomainEvent) (gsv1.ChangeKind, bool) {
	if !strings.Contains(ev.EntityFqdn, proGalleryFqdnMark) {
		return gsv1.ChangeKind_CHANGE_KIND_UNSPECIFIED, false
	}
	switch ev.Slug {
	case SlugItemCreated:
		return gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED, true
	case SlugItemUpdated:
		return gsv1.ChangeKind_CHANGE_KIND_ITEM_UPDATED, true
	case SlugItemDeleted:
		return gsv1.ChangeKind_CHANGE_KIND_ITEM_DELETED, true
	}
	return gsv1.ChangeKind_CHANGE_KIND_UNSPECIFIED, false
}

// galleryID picks the gallery an item event belongs to. The reference has
// entityId carry the gallery id on item events, but one Wix example shows the
// item id there instead (wix-api.md 2.3 and 7: UNCONFIRMED). So when entityId
// equals the item id, a galleryId in the body is used; without one the
// gallery is left empty rather than guessed, and the writer resolves it from
// the item mapping.
func galleryID(entityID, itemID, bodyGalleryID string) string {
	if entityID != "" && entityID != itemID {
		return entityID
	}
	return bodyGalleryID
}

func firstPresent(raws ...json.RawMessage) json.RawMessage {
	for _, r := range raws {
		if len(r) > 0 && string(r) != "null" {
			return r
		}
	}
	return nil
}

func identityProto(id Identity) *gsv1.Identity {
	out := &gsv1.Identity{AppId: id.AppID, WixUserId: id.WixUserID}
	switch id.Type {
	case "ANONYMOUS_VISITOR":
		out.Type = gsv1.IdentityType_IDENTITY_TYPE_ANONYMOUS_VISITOR
	case "MEMBER":
		out.Type = gsv1.IdentityType_IDENTITY_TYPE_MEMBER
	case "WIX_USER":
		out.Type = gsv1.IdentityType_IDENTITY_TYPE_WIX_USER
	case "APP":
		out.Type = gsv1.IdentityType_IDENTITY_TYPE_APP
	default:
		out.Type = gsv1.IdentityType_IDENTITY_TYPE_UNSPECIFIED
	}
	return out
}

func checkLimits(s *gsv1.ItemSnapshot) error {
	for _, f := range []struct {
		name, value string
		limit       int
	}{
		{"item id", s.GetItemId(), MaxIDBytes},
		{"media id", s.GetMediaId(), MaxIDBytes},
		{"title", s.GetTitle(), MaxTextBytes},
		{"description", s.GetDescription(), MaxTextBytes},
		{"link url", s.GetLinkUrl(), MaxURLBytes},
		{"media url", s.GetMediaUrl(), MaxURLBytes},
	} {
		if len(f.value) > f.limit {
			return fmt.Errorf("%s is %d bytes, limit %d", f.name, len(f.value), f.limit)
		}
	}
	return nil
}

// updatedAt is the item's own version time, which orders versions of one
// item better than the event time; the event time stands in when it is absent.
func updatedAt(updatedDate string, eventTime time.Time) (time.Time, error) {
	if updatedDate == "" {
		return eventTime, nil
	}
	t, err := time.Parse(time.RFC3339Nano, updatedDate)
	if err != nil {
		return time.Time{}, fmt.Errorf("updatedDate: %w", err)
	}
	return t, nil
}
