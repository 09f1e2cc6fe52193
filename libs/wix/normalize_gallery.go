package wix

import (
	"encoding/json"
	"fmt"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Slugs of the entity events: an entity's own created/updated/deleted
// (the Pro Gallery's, an App Installation's), and the Pro Gallery item
// events (wix-api.md 2.3).
const (
	SlugCreated     = "created"
	SlugUpdated     = "updated"
	SlugDeleted     = "deleted"
	SlugItemCreated = "gallery_item_created"
	SlugItemUpdated = "gallery_item_updated"
	SlugItemDeleted = "gallery_item_deleted"
)

// proGalleryFqdnMark is common to both documented FQDN spellings,
// "wix.pro_gallery.v2.gallery" and "wix.pro_gallery.gallery_v2".
const proGalleryFqdnMark = "pro_gallery"

// itemEventBody is the action body of the item events: {item} on create,
// {updatedItem} on update, {itemId} on delete.
type itemEventBody struct {
	Item        json.RawMessage `json:"item"`
	UpdatedItem json.RawMessage `json:"updatedItem"`
	ItemID      string          `json:"itemId"`
	GalleryID   string          `json:"galleryId"`
}

// normalizeGallery maps a Pro Gallery event: the gallery's own events and
// its items' events.
func normalizeGallery(env *Envelope) (*gsv1.ChangeEvent, error) {
	switch env.Event.Slug {
	case SlugCreated:
		return galleryEvent(env, gsv1.ChangeKind_CHANGE_KIND_GALLERY_CREATED)
	case SlugUpdated:
		return galleryEvent(env, gsv1.ChangeKind_CHANGE_KIND_GALLERY_UPDATED)
	case SlugDeleted:
		return galleryEvent(env, gsv1.ChangeKind_CHANGE_KIND_GALLERY_DELETED)
	case SlugItemCreated:
		return itemEvent(env, gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED)
	case SlugItemUpdated:
		return itemEvent(env, gsv1.ChangeKind_CHANGE_KIND_ITEM_UPDATED)
	case SlugItemDeleted:
		return itemEvent(env, gsv1.ChangeKind_CHANGE_KIND_ITEM_DELETED)
	}
	return nil, unsupported(env)
}

// galleryEvent names the gallery; its content (name, items) is not carried,
// since Wix sends no items with it and the writer reads what it needs.
// entityId is the gallery id; the entity's own id stands in when it is absent.
func galleryEvent(env *Envelope, kind gsv1.ChangeKind) (*gsv1.ChangeEvent, error) {
	ev := &env.Event
	at, err := eventTime(ev)
	if err != nil {
		return nil, err
	}
	gallery := ev.EntityID
	if gallery == "" {
		var entity struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(ev.Body, &entity); err != nil {
			return nil, fmt.Errorf("%w: event %s gallery: %w", ErrMalformed, ev.ID, err)
		}
		gallery = entity.ID
	}
	if gallery == "" {
		return nil, fmt.Errorf("%w: event %s names no gallery", ErrMalformed, ev.ID)
	}
	out := newEvent(env, ev.ID, kind, at)
	out.GalleryId = gallery
	return finish(out)
}

func itemEvent(env *Envelope, kind gsv1.ChangeKind) (*gsv1.ChangeEvent, error) {
	ev := &env.Event
	at, err := eventTime(ev)
	if err != nil {
		return nil, err
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
		snap, err := snapshot(raw, at)
		if err != nil {
			return nil, fmt.Errorf("%w: event %s item: %w", ErrMalformed, ev.ID, err)
		}
		item = snap
	}
	if err := checkItem(item); err != nil {
		return nil, fmt.Errorf("%w: event %s: %w", ErrMalformed, ev.ID, err)
	}
	out := newEvent(env, ev.ID, kind, at)
	out.GalleryId = galleryID(ev.EntityID, item.GetItemId(), body.GalleryID)
	out.Item = item
	return finish(out)
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

func checkItem(s *gsv1.ItemSnapshot) error {
	return checkFields(
		field{"item id", s.GetItemId(), MaxIDBytes},
		field{"media id", s.GetMediaId(), MaxIDBytes},
		field{"title", s.GetTitle(), MaxTextBytes},
		field{"description", s.GetDescription(), MaxTextBytes},
		field{"alt text", s.GetAltText(), MaxTextBytes},
		field{"link url", s.GetLinkUrl(), MaxURLBytes},
		field{"media url", s.GetMediaUrl(), MaxURLBytes},
		field{"permalink", s.GetPermalink(), MaxURLBytes},
		field{"mime type", s.GetMimeType(), MaxIDBytes},
	)
}
