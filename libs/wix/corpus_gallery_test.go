package wix

import (
	"encoding/json"
	"fmt"
	"testing"

	"gallerysync.dev/libs/wix/wixtest"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// withEntity moves a gallery event's entity under key of its body variant,
// as an object or as a JSON string.
func withEntity(t testing.TB, ev map[string]any, variant, key string, asString bool) map[string]any {
	t.Helper()
	old, _ := ev[variant].(map[string]any)
	var entity any
	for _, v := range old {
		entity = v
	}
	if entity == nil {
		entity = map[string]any{"id": galleryA}
	}
	if asString {
		b, err := json.Marshal(entity)
		if err != nil {
			t.Fatal(err)
		}
		entity = string(b)
	}
	ev[variant] = map[string]any{key: entity}
	return ev
}

// galleryCorpus holds the Pro Gallery gallery events in every documented
// variant: both FQDN spellings, plain and *AsJson body keys, bodies as
// objects and as strings, a person or our app as the actor.
func galleryCorpus(t testing.TB) []corpusCase {
	t.Helper()
	at := testEventTime()
	slugs := []struct {
		slug, variant, plainKey, jsonKey string
		kind                             gsv1.ChangeKind
	}{
		{SlugCreated, "createdEvent", "entity", "entityAsJson", gsv1.ChangeKind_CHANGE_KIND_GALLERY_CREATED},
		{SlugUpdated, "updatedEvent", "currentEntity", "currentEntityAsJson", gsv1.ChangeKind_CHANGE_KIND_GALLERY_UPDATED},
		{SlugDeleted, "deletedEvent", "deletedEntity", "deletedEntityAsJson", gsv1.ChangeKind_CHANGE_KIND_GALLERY_DELETED},
	}
	fqdns := []struct{ fqdn, eventTypePrefix string }{
		{wixtest.FqdnV2Gallery, "wix.pro_gallery.v2.gallery_"},
		{wixtest.FqdnGalleryV2, "wix.pro_gallery.gallery_v2_"},
	}
	bodies := []struct {
		name     string
		json     bool
		asString bool
	}{{"plain key", false, false}, {"plain key as string", false, true}, {"AsJson key", true, false}, {"AsJson key as string", true, true}}

	var cases []corpusCase
	n := 0
	for _, s := range slugs {
		for _, f := range fqdns {
			for _, b := range bodies {
				n++
				id := fmt.Sprintf("ev-gallery-%s-%d", s.slug, n)
				ev := wixtest.GalleryEvent(s.slug, id, galleryA, at)
				ev["entityFqdn"] = f.fqdn
				key := s.plainKey
				if b.json {
					key = s.jsonKey
				}
				ev = withEntity(t, ev, s.variant, key, b.asString)
				identity, idProto := wixUser(), wixUserProto()
				if n%2 == 0 {
					identity, idProto = ourApp(), appProto()
				}
				cases = append(cases, corpusCase{
					name:    "gallery " + s.slug + ", " + f.fqdn + ", " + b.name,
					hook:    webhook(f.eventTypePrefix+s.slug, ev, identity),
					want:    wantEvent(id, s.kind, galleryA, nil, idProto),
					subject: wixSubject,
				})
			}
		}
	}

	noEntityID := wixtest.GalleryEvent(SlugUpdated, "ev-gallery-no-entity-id", galleryA, at)
	delete(noEntityID, "entityId")
	deletedNoID := wixtest.GalleryEvent(SlugDeleted, "ev-gallery-deleted-no-id", galleryA, at)
	delete(deletedNoID, "entityId")
	noTime := wixtest.GalleryEvent(SlugCreated, "ev-gallery-no-time", galleryA, at)
	delete(noTime, "eventTime")
	otherSlug := wixtest.GalleryEvent(SlugCreated, "ev-gallery-published", galleryA, at)
	otherSlug["slug"] = "gallery_published"
	noEventID := wixtest.GalleryEvent(SlugCreated, "", galleryA, at)

	return append(cases,
		corpusCase{
			name:    "gallery updated without entityId names the gallery in its entity",
			hook:    webhook("wix.pro_gallery.v2.gallery_updated", noEntityID, wixUser()),
			want:    wantEvent("ev-gallery-no-entity-id", gsv1.ChangeKind_CHANGE_KIND_GALLERY_UPDATED, galleryA, nil, wixUserProto()),
			subject: wixSubject,
		},
		corpusCase{name: "gallery deleted naming no gallery", hook: webhook("wix.pro_gallery.v2.gallery_deleted", deletedNoID, wixUser()), err: ErrMalformed},
		corpusCase{name: "gallery event without eventTime", hook: webhook("wix.pro_gallery.v2.gallery_created", noTime, wixUser()), err: ErrMalformed},
		corpusCase{name: "gallery event of another slug", hook: webhook("wix.pro_gallery.v2.gallery_gallery_published", otherSlug, wixUser()), err: ErrUnsupported},
		corpusCase{name: "gallery event without event id", hook: webhook("wix.pro_gallery.v2.gallery_created", noEventID, wixUser()), err: ErrMalformed},
	)
}
