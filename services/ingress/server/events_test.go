package server_test

import (
	"net/http"
	"testing"
	"time"

	"gallerysync.dev/libs/wix/wixtest"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

const (
	testFile       = "033c14_581d63228a0346aaa42768dd15e74016~mv2.jpg"
	otherAppID     = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	originInstance = "77c0d2e1-3f4a-4b5c-9d8e-1f2a3b4c5d6e"
)

// appHook is a legacy app lifecycle webhook (bare payload) for tenant,
// signed at iat.
func appHook(eventType, tenant, appID string, iat time.Time) wixtest.Webhook {
	return wixtest.Webhook{
		EventType:  eventType,
		InstanceID: tenant,
		Event:      wixtest.AppPayload(appID, originInstance),
		IssuedAt:   iat,
		ExpiresAt:  iat.Add(time.Hour),
	}
}

// fileReadyHook is a Media Manager File Ready webhook for a file imported
// for an external post.
func fileReadyHook(eventID, tenant string) wixtest.Webhook {
	now := time.Now().UTC()
	return wixtest.Webhook{
		EventType:  "wix.media.site_media.v1.file_descriptor_file_ready",
		InstanceID: tenant,
		Identity:   map[string]any{"identityType": "APP", "appId": testAppID},
		Event: wixtest.FileEvent("file_ready", eventID, testFile, now, map[string]any{
			"file":         wixtest.File(testFile, "harbour.jpg", 1536, 2048),
			"externalInfo": wixtest.ExternalInfo(testAppID, "mastodon:1098"),
		}),
		IssuedAt:  now,
		ExpiresAt: now.Add(time.Hour),
	}
}

// galleryDeletedHook is a Pro Gallery Gallery Deleted webhook.
func galleryDeletedHook(eventID, tenant string) wixtest.Webhook {
	now := time.Now().UTC()
	return wixtest.Webhook{
		EventType:  "wix.pro_gallery.gallery_v2_deleted",
		InstanceID: tenant,
		Identity:   map[string]any{"identityType": "WIX_USER", "wixUserId": "51a0c3d2"},
		Event:      wixtest.GalleryEvent("deleted", eventID, testGallery, now),
		IssuedAt:   now,
		ExpiresAt:  now.Add(time.Hour),
	}
}

func TestEveryProductEventIsPublishedOnItsSubject(t *testing.T) {
	t.Parallel()
	h := startIngress(t)
	iat := time.Now().UTC().Truncate(time.Second)
	deliveries := []struct {
		name string
		hook wixtest.Webhook
		// want is the answer text; "ok" events are stored.
		want string
	}{
		{"install", appHook("AppInstalled", testTenant, testAppID, iat), "ok"},
		{"Wix retries the install, signed anew", appHook("AppInstalled", testTenant, testAppID, iat), "ok"},
		{"install of another app", appHook("AppInstalled", testTenant, otherAppID, iat), "ignored"},
		{"removal", appHook("AppRemoved", testTenant, testAppID, iat.Add(time.Minute)), "ok"},
		{"reinstall", appHook("wix.app_management.apps.app_instance.v1.app_instance_installed", testTenant, testAppID, iat.Add(time.Hour)), "ok"},
		{"file ready", fileReadyHook("ev-file", testTenant), "ok"},
		{"gallery deleted", galleryDeletedHook("ev-gallery-deleted", testTenant), "ok"},
	}
	for _, d := range deliveries {
		if status, text := h.post(d.hook.Sign(t, h.key)); status != http.StatusOK || text != d.want {
			t.Fatalf("%s: %d %q, want 200 %q", d.name, status, text, d.want)
		}
	}

	want := []struct {
		subject string
		kind    gsv1.ChangeKind
	}{
		{"changes.app." + testTenant, gsv1.ChangeKind_CHANGE_KIND_APP_INSTALLED},
		{"changes.app." + testTenant, gsv1.ChangeKind_CHANGE_KIND_APP_REMOVED},
		{"changes.app." + testTenant, gsv1.ChangeKind_CHANGE_KIND_APP_INSTALLED},
		{"changes.media." + testTenant, gsv1.ChangeKind_CHANGE_KIND_MEDIA_READY},
		{"changes.wix." + testTenant, gsv1.ChangeKind_CHANGE_KIND_GALLERY_DELETED},
	}
	got := h.storedMessages()
	if len(got) != len(want) {
		t.Fatalf("stream holds %d events, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].subject != w.subject || got[i].event.GetKind() != w.kind {
			t.Errorf("message %d: %s on %q, want %s on %q", i, got[i].event.GetKind(), got[i].subject, w.kind, w.subject)
		}
	}
	if o := got[0].event.GetOriginInstanceId(); o != originInstance {
		t.Errorf("install origin_instance_id = %q, want %q", o, originInstance)
	}
	if m := got[3].event.GetMedia(); m.GetFileId() != testFile || len(m.GetExternalIds()) != 1 || m.GetExternalIds()[0] != "mastodon:1098" {
		t.Errorf("file ready media = %v, want file %s for mastodon:1098", m, testFile)
	}
	if n := h.counter("gallerysync.ingress.duplicates"); n != 1 {
		t.Errorf("duplicates = %d, want 1 (the retried install)", n)
	}
}
