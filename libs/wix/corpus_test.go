package wix

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/wix/wixtest"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const (
	tenant    = "9c1e2f4a-7b3d-4c5e-8f60-1a2b3c4d5e6f"
	galleryA  = "4937b26c-5cf1-4d8e-9a2b-0c1d2e3f4a5b"
	itemA     = "a045b201-6d2e-4f3a-8b4c-5d6e7f8a9b0c"
	appID     = "f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9"
	wixUserID = "51a0c3d2-1e4f-4a5b-9c8d-7e6f5a4b3c2d"
)

// testEventTime is the eventTime of every corpus event.
func testEventTime() time.Time { return time.Date(2026, 3, 1, 12, 32, 37, 513965000, time.UTC) }

// testReceivedAt is when the corpus verifier accepts every webhook.
func testReceivedAt() time.Time { return time.Date(2026, 3, 1, 12, 33, 0, 0, time.UTC) }

// Subjects the corpus events go to (change.Subject).
const (
	wixSubject   = "changes.wix." + tenant
	appSubject   = "changes.app." + tenant
	mediaSubject = "changes.media." + tenant
)

// corpusCase is one webhook and what Verify then Normalize (given our app
// id) must make of it.
type corpusCase struct {
	name string
	hook wixtest.Webhook
	// want is the ChangeEvent expected; nil when err is expected instead.
	want *gsv1.ChangeEvent
	// subject is the bus subject want is published on.
	subject string
	// err is the sentinel Verify or Normalize must return.
	err error
}

// webhookCorpus is every webhook shape the service must understand, plus the
// valid ones it must leave alone.
func webhookCorpus(t testing.TB) []corpusCase {
	t.Helper()
	var cases []corpusCase
	for _, group := range [][]corpusCase{itemCorpus(t), galleryCorpus(t), mediaCorpus(t), lifecycleCorpus(t)} {
		cases = append(cases, group...)
	}
	return cases
}

func wixUser() map[string]any {
	return map[string]any{"identityType": "WIX_USER", "wixUserId": wixUserID}
}

func ourApp() map[string]any {
	return map[string]any{"identityType": "APP", "appId": appID}
}

func webhook(eventType string, ev map[string]any, identity map[string]any) wixtest.Webhook {
	return wixtest.Webhook{EventType: eventType, InstanceID: tenant, Identity: identity, Event: ev}
}

// withAction replaces an event's actionEvent with one carrying body under
// key, either as an object or as a JSON string.
func withAction(t testing.TB, ev map[string]any, key string, body any, asString bool) map[string]any {
	t.Helper()
	if asString {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		body = string(b)
	}
	ev["actionEvent"] = map[string]any{key: body}
	return ev
}

// wantImage is the snapshot of wixtest.Item(id, title, sortOrder, updated).
func wantImage(id, title string, sortOrder float64, updated time.Time) *gsv1.ItemSnapshot {
	fileID := "11062b_" + id + "~mv2.jpeg"
	s := &gsv1.ItemSnapshot{
		ItemId:      id,
		Title:       title,
		Description: "About " + title,
		LinkUrl:     "https://example.com/" + id,
		MediaUrl:    "https://static.wixstatic.com/media/" + fileID,
		MediaId:     fileID,
		MimeType:    "image/jpeg",
		Width:       6446,
		Height:      4298,
		SortOrder:   sortOrder,
		UpdatedAt:   timestamppb.New(updated),
	}
	s.ContentHash = change.Hash(s)
	return s
}

func wantEvent(eventID string, kind gsv1.ChangeKind, gallery string, item *gsv1.ItemSnapshot, id *gsv1.Identity) *gsv1.ChangeEvent {
	return &gsv1.ChangeEvent{
		EventId:       "wix:" + eventID,
		TenantId:      tenant,
		Origin:        gsv1.Origin_ORIGIN_WIX,
		SourceEventId: eventID,
		OccurredAt:    timestamppb.New(testEventTime()),
		Kind:          kind,
		GalleryId:     gallery,
		Item:          item,
		Identity:      id,
	}
}

func wixUserProto() *gsv1.Identity {
	return &gsv1.Identity{Type: gsv1.IdentityType_IDENTITY_TYPE_WIX_USER, WixUserId: wixUserID}
}

func appProto() *gsv1.Identity {
	return &gsv1.Identity{Type: gsv1.IdentityType_IDENTITY_TYPE_APP, AppId: appID}
}

func withSnapshot(s *gsv1.ItemSnapshot, edit func(*gsv1.ItemSnapshot)) *gsv1.ItemSnapshot {
	edit(s)
	s.ContentHash = change.Hash(s)
	return s
}

// itemCorpus holds the Pro Gallery item events, plus the valid webhooks
// that are not synced.
func itemCorpus(t testing.TB) []corpusCase {
	t.Helper()
	eventTime := testEventTime()
	const (
		created = "wix.pro_gallery.v2.gallery_gallery_item_created"
		updated = "wix.pro_gallery.gallery_v2_gallery_item_updated"
		deleted = "wix.pro_gallery.v2.gallery_gallery_item_deleted"
	)
	upd := eventTime.Add(-2 * time.Second)
	item := func() map[string]any { return wixtest.Item(itemA, "Harbour at dawn", 1644317968.985, upd) }
	createdEv := func(id string) map[string]any {
		return wixtest.ItemEvent(SlugItemCreated, id, galleryA, eventTime, map[string]any{"item": item()})
	}
	updatedEv := func(id string) map[string]any {
		ev := wixtest.ItemEvent(SlugItemUpdated, id, galleryA, eventTime, map[string]any{"updatedItem": item()})
		ev["entityFqdn"] = wixtest.FqdnGalleryV2
		return ev
	}
	image := func() *gsv1.ItemSnapshot { return wantImage(itemA, "Harbour at dawn", 1644317968.985, upd) }
	createdKind, updatedKind, deletedKind := gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED, gsv1.ChangeKind_CHANGE_KIND_ITEM_UPDATED, gsv1.ChangeKind_CHANGE_KIND_ITEM_DELETED

	var cases []corpusCase
	for _, v := range []struct {
		key      string
		asString bool
	}{{"body", false}, {"body", true}, {"bodyAsJson", false}, {"bodyAsJson", true}} {
		suffix := v.key
		if v.asString {
			suffix += " as string"
		}
		id := "ev-created-" + strings.ReplaceAll(suffix, " ", "-")
		cases = append(cases, corpusCase{
			name: "item created, " + suffix,
			hook: webhook(created, withAction(t, createdEv(id), v.key, map[string]any{"item": item()}, v.asString), wixUser()),
			want: wantEvent(id, createdKind, galleryA, image(), wixUserProto()),
		})
		id = "ev-updated-" + strings.ReplaceAll(suffix, " ", "-")
		cases = append(cases, corpusCase{
			name: "item updated, " + suffix,
			hook: webhook(updated, withAction(t, updatedEv(id), v.key, map[string]any{"updatedItem": item()}, v.asString), ourApp()),
			want: wantEvent(id, updatedKind, galleryA, image(), appProto()),
		})
		id = "ev-deleted-" + strings.ReplaceAll(suffix, " ", "-")
		cases = append(cases, corpusCase{
			name: "item deleted, " + suffix,
			hook: webhook(deleted, withAction(t, wixtest.ItemEvent(SlugItemDeleted, id, galleryA, eventTime, nil), v.key, map[string]any{"itemId": itemA}, v.asString), wixUser()),
			want: wantEvent(id, deletedKind, galleryA, &gsv1.ItemSnapshot{ItemId: itemA}, wixUserProto()),
		})
	}

	layersAsObjects := webhook(updated, updatedEv("ev-objects"), ourApp())
	layersAsObjects.EnvelopeAsObject, layersAsObjects.EventAsObject, layersAsObjects.IdentityAsObject = true, true, true

	cascade := wixtest.ItemEvent(SlugItemDeleted, "ev-cascade", galleryA, eventTime, map[string]any{"itemId": itemA})
	cascade["originatedFrom"] = "Gallery Deleted"
	wantCascade := wantEvent("ev-cascade", deletedKind, galleryA, &gsv1.ItemSnapshot{ItemId: itemA}, appProto())
	wantCascade.OriginatedFrom = "Gallery Deleted"

	entityIsItem := wixtest.ItemEvent(SlugItemUpdated, "ev-entity-item", itemA, eventTime, map[string]any{"updatedItem": item(), "galleryId": galleryA})
	entityIsItemNoGallery := wixtest.ItemEvent(SlugItemUpdated, "ev-entity-item-2", itemA, eventTime, map[string]any{"updatedItem": item()})

	noUpdatedDate := item()
	delete(noUpdatedDate, "updatedDate")

	sdkImage := item()
	sdkImage["image"] = map[string]any{"imageInfo": "wix:image://v1/11062b_sdk~mv2.png/harbour%20dawn.png#originWidth=1200&originHeight=800"}
	numericStrings := item()
	numericStrings["sortOrder"] = "12.5"
	numericStrings["image"].(map[string]any)["imageInfo"].(map[string]any)["width"] = "640"

	video := item()
	delete(video, "image")
	video["type"] = "VIDEO"
	video["video"] = map[string]any{"type": "WIX_MEDIA", "videoInfo": map[string]any{
		"id": "11062b_vid",
		"resolutions": []any{
			map[string]any{"url": "https://video.wixstatic.com/video/11062b_vid/480p/mp4/file.mp4", "width": 854, "height": 480, "format": "mp4"},
			map[string]any{"url": "https://video.wixstatic.com/video/11062b_vid/1080p/mp4/file.mp4", "width": 1920, "height": 1080, "format": "mp4"},
		},
	}}

	altText := item()
	altText["image"].(map[string]any)["imageInfo"].(map[string]any)["altText"] = "Boats in the harbour at dawn"
	sdkAltText := item()
	sdkAltText["image"] = map[string]any{"imageInfo": "wix:image://v1/11062b_sdk~mv2.png/harbour.png#originWidth=1200&originHeight=800"}
	longAltText := item()
	longAltText["image"].(map[string]any)["imageInfo"].(map[string]any)["altText"] = strings.Repeat("a", MaxTextBytes+1)
	otherProduct := map[string]any{
		"id": "ev-product", "entityFqdn": "wix.stores.v1.product", "slug": "created", "entityId": "p1",
		"eventTime":    eventTime.Format(time.RFC3339Nano),
		"createdEvent": map[string]any{"entityAsJson": `{"id":"p1"}`},
	}
	itemSlugOtherFqdn := createdEv("ev-other-fqdn")
	itemSlugOtherFqdn["entityFqdn"] = "wix.blog.v3.post"

	longTitle := item()
	longTitle["title"] = strings.Repeat("t", MaxTextBytes+1)
	longURL := item()
	longURL["link"] = map[string]any{"url": "https://example.com/" + strings.Repeat("a", MaxURLBytes)}
	noItemID := item()
	delete(noItemID, "id")
	noEventTime := createdEv("ev-no-time")
	delete(noEventTime, "eventTime")
	badTenant := webhook(created, createdEv("ev-bad-tenant"), wixUser())
	badTenant.InstanceID = "tenant.with.dots"

	cases = append(cases,
		corpusCase{
			name: "item updated, every layer an object",
			hook: layersAsObjects,
			want: wantEvent("ev-objects", updatedKind, galleryA, image(), appProto()),
		},
		corpusCase{
			name: "item deleted by gallery delete cascade",
			hook: webhook(deleted, cascade, ourApp()),
			want: wantCascade,
		},
		corpusCase{
			name: "entityId is the item id, body names the gallery",
			hook: webhook(updated, entityIsItem, wixUser()),
			want: wantEvent("ev-entity-item", updatedKind, galleryA, image(), wixUserProto()),
		},
		corpusCase{
			name: "entityId is the item id, no gallery in body",
			hook: webhook(updated, entityIsItemNoGallery, wixUser()),
			want: wantEvent("ev-entity-item-2", updatedKind, "", image(), wixUserProto()),
		},
		corpusCase{
			name: "item without updatedDate takes the event time",
			hook: webhook(created, wixtest.ItemEvent(SlugItemCreated, "ev-no-updated", galleryA, eventTime, map[string]any{"item": noUpdatedDate}), wixUser()),
			want: wantEvent("ev-no-updated", createdKind, galleryA, withSnapshot(image(), func(s *gsv1.ItemSnapshot) { s.UpdatedAt = timestamppb.New(eventTime) }), wixUserProto()),
		},
		corpusCase{
			name: "image as SDK wix:image reference",
			hook: webhook(created, wixtest.ItemEvent(SlugItemCreated, "ev-sdk", galleryA, eventTime, map[string]any{"item": sdkImage}), wixUser()),
			want: wantEvent("ev-sdk", createdKind, galleryA, withSnapshot(image(), func(s *gsv1.ItemSnapshot) {
				s.MediaId, s.MediaUrl, s.MimeType = "11062b_sdk~mv2.png", "https://static.wixstatic.com/media/11062b_sdk~mv2.png", "image/png"
				s.Width, s.Height = 1200, 800
			}), wixUserProto()),
		},
		corpusCase{
			name: "numbers sent as strings",
			hook: webhook(created, wixtest.ItemEvent(SlugItemCreated, "ev-strings", galleryA, eventTime, map[string]any{"item": numericStrings}), wixUser()),
			want: wantEvent("ev-strings", createdKind, galleryA, withSnapshot(image(), func(s *gsv1.ItemSnapshot) {
				s.SortOrder, s.Width = 12.5, 640
			}), wixUserProto()),
		},
		corpusCase{
			name: "video item takes its largest rendition",
			hook: webhook(created, wixtest.ItemEvent(SlugItemCreated, "ev-video", galleryA, eventTime, map[string]any{"item": video}), wixUser()),
			want: wantEvent("ev-video", createdKind, galleryA, withSnapshot(image(), func(s *gsv1.ItemSnapshot) {
				s.MediaId, s.MediaUrl, s.MimeType = "11062b_vid", "https://video.wixstatic.com/video/11062b_vid/1080p/mp4/file.mp4", "video/mp4"
				s.Width, s.Height = 1920, 1080
			}), wixUserProto()),
		},
		corpusCase{
			name: "no identity",
			hook: webhook(created, createdEv("ev-anon"), nil),
			want: wantEvent("ev-anon", createdKind, galleryA, image(), &gsv1.Identity{}),
		},
		corpusCase{
			name: "image with alt text",
			hook: webhook(created, wixtest.ItemEvent(SlugItemCreated, "ev-alt", galleryA, eventTime, map[string]any{"item": altText}), wixUser()),
			want: wantEvent("ev-alt", createdKind, galleryA, withSnapshot(image(), func(s *gsv1.ItemSnapshot) {
				s.AltText = "Boats in the harbour at dawn"
			}), wixUserProto()),
		},
		corpusCase{
			name: "SDK image reference has no alt text",
			hook: webhook(updated, wixtest.ItemEvent(SlugItemUpdated, "ev-sdk-alt", galleryA, eventTime, map[string]any{"updatedItem": sdkAltText}), ourApp()),
			want: wantEvent("ev-sdk-alt", updatedKind, galleryA, withSnapshot(image(), func(s *gsv1.ItemSnapshot) {
				s.MediaId, s.MediaUrl, s.MimeType = "11062b_sdk~mv2.png", "https://static.wixstatic.com/media/11062b_sdk~mv2.png", "image/png"
				s.Width, s.Height = 1200, 800
			}), appProto()),
		},
		corpusCase{
			name: "alt text over the limit",
			hook: webhook(created, wixtest.ItemEvent(SlugItemCreated, "ev-long-alt", galleryA, eventTime, map[string]any{"item": longAltText}), wixUser()),
			err:  ErrMalformed,
		},
		corpusCase{name: "legacy event without DomainEvent", hook: webhook("PaidPlanChanged", map[string]any{"appId": appID, "vendorProductId": "premium"}, nil), err: ErrUnsupported},
		corpusCase{name: "gallery event type without DomainEvent", hook: webhook(created, map[string]any{"item": item()}, wixUser()), err: ErrMalformed},
		corpusCase{name: "unknown event type", hook: webhook("wix.stores.v1.product_created", otherProduct, ourApp()), err: ErrUnsupported},
		corpusCase{name: "item slug on another entity", hook: webhook("wix.blog.v3.post_gallery_item_created", itemSlugOtherFqdn, wixUser()), err: ErrUnsupported},
		corpusCase{
			name: "title over the limit",
			hook: webhook(created, wixtest.ItemEvent(SlugItemCreated, "ev-long-title", galleryA, eventTime, map[string]any{"item": longTitle}), wixUser()),
			err:  ErrMalformed,
		},
		corpusCase{
			name: "link url over the limit",
			hook: webhook(created, wixtest.ItemEvent(SlugItemCreated, "ev-long-url", galleryA, eventTime, map[string]any{"item": longURL}), wixUser()),
			err:  ErrMalformed,
		},
		corpusCase{
			name: "item without id",
			hook: webhook(created, wixtest.ItemEvent(SlugItemCreated, "ev-no-item-id", galleryA, eventTime, map[string]any{"item": noItemID}), wixUser()),
			err:  ErrMalformed,
		},
		corpusCase{
			name: "created without item",
			hook: webhook(created, wixtest.ItemEvent(SlugItemCreated, "ev-no-item", galleryA, eventTime, map[string]any{}), wixUser()),
			err:  ErrMalformed,
		},
		corpusCase{name: "item event without eventTime", hook: webhook(created, noEventTime, wixUser()), err: ErrMalformed},
		corpusCase{name: "instanceId that cannot name a subject", hook: badTenant, err: ErrMalformed},
	)
	for i := range cases {
		if cases[i].want != nil {
			cases[i].subject = wixSubject
		}
	}
	return cases
}
