package writer_test

import (
	"context"
	"fmt"
	"google.golang.org/protobuf/types/known/durationpb"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/wix"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// webhookHash is the content hash ingress computes for the Wix item as Wix
// now has it, i.e. what the item's next webhook will carry.
func (h *harness) webhookHash(wixItemID string) string {
	h.t.Helper()
	it, err := h.wixAPI.GetItem(context.Background(), tenant, gallery, wixItemID)
	if err != nil {
		h.t.Fatalf("get wix item %s: %v", wixItemID, err)
	}
	return change.Hash(wix.Snapshot(it))
}

// onlyItem returns the gallery's one item, failing unless there is exactly one.
func (h *harness) onlyItem() fakeItem {
	h.t.Helper()
	items := h.wix.items(tenant, gallery)
	if len(items) != 1 {
		h.t.Fatalf("gallery holds %d items, want 1: %+v", len(items), items)
	}
	return items[0]
}

func TestCreateUpdateDeleteWriteOnceEach(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()

	ev := itemEvent("e1", created, "post-1", "Sunset", 1)
	h.publish(ev)
	m := h.waitState("post-1", synced)
	h.wantWrites(1, 0, 0, 1)
	it := h.onlyItem()
	if it.ID != m.GetWixItemId() || it.Title != "Sunset" || it.Description != "about Sunset" {
		t.Fatalf("wix item %+v, mapping %v", it, m)
	}
	if it.Link == nil || it.Link.URL != "https://social.example/@me/post-1" || it.Link.Target != "_blank" || it.Link.Type != "EXTERNAL" {
		t.Fatalf("wix item link %+v", it.Link)
	}
	if it.Image == nil || it.Image.Type != "WIX_MEDIA" || it.Image.ImageInfo.AltText != "a photo of Sunset" ||
		it.Image.ImageInfo.Width != 640 || it.Image.ImageInfo.Height != 480 {
		t.Fatalf("wix item image %+v", it.Image)
	}
	if it.SortOrder != float64(at(1).UnixMilli()) {
		t.Fatalf("sort order %v, want the version's unix ms %d", it.SortOrder, at(1).UnixMilli())
	}
	imp := h.wix.imported()[0]
	if imp.URL != ev.GetItem().GetMediaUrl() || imp.MimeType != "image/png" || imp.DisplayName != "mastodon-post-1.png" ||
		len(imp.ExternalInfo.ExternalIDs) != 1 || imp.ExternalInfo.ExternalIDs[0] != "mastodon:post-1" || imp.ExternalInfo.Origin != testAppID {
		t.Fatalf("import request %+v", imp)
	}
	if m.GetWixHash() != h.webhookHash(it.ID) || m.GetExternalHash() != ev.GetItem().GetContentHash() ||
		!m.GetExternalVersion().AsTime().Equal(at(1)) || m.GetWixVersion() == nil || m.GetSortOrder() != it.SortOrder {
		t.Fatalf("mapping after create: %v", m)
	}
	if in := h.mapping.Intent(tenant, "wix-create:"+linkID+":post-1"); in != nil {
		t.Fatalf("intent left after the create was recorded: %v", in)
	}
	if h.mapping.ThrottleCalls() == 0 {
		t.Fatal("no Wix call asked the shared throttle")
	}

	up := itemEvent("e2", updated, "post-1", "Sunrise", 2)
	h.publish(up)
	h.waitCounter(1, "gallerysync.writer.applied", opAttr("update"))
	h.wantWrites(1, 1, 0, 1)
	it = h.onlyItem()
	if it.Title != "Sunrise" || it.Image.ImageInfo.AltText != "a photo of Sunrise" || it.Image.ImageInfo.ID != m.GetExternalAttrs()["wix_file_id"] {
		t.Fatalf("wix item after update: %+v", it)
	}
	m = h.mapping.ItemByExternal(tenant, linkID, "post-1")
	if m.GetWixHash() != h.webhookHash(it.ID) || m.GetExternalHash() != up.GetItem().GetContentHash() || !m.GetExternalVersion().AsTime().Equal(at(2)) {
		t.Fatalf("mapping after update: %v", m)
	}

	h.publish(itemEvent("e3", deleted, "post-1", "", 3))
	tomb := h.waitState("post-1", gone)
	h.wantWrites(1, 1, 1, 1)
	if items := h.wix.items(tenant, gallery); len(items) != 0 {
		t.Fatalf("items left after delete: %+v", items)
	}
	if tomb.GetWixItemId() != it.ID || !tomb.GetExternalVersion().AsTime().Equal(at(3)) {
		t.Fatalf("tombstone %v", tomb)
	}
	want := fmt.Sprint([]string{"create@" + it.ID, "update@" + it.ID, "delete@" + it.ID})
	if got := fmt.Sprint(actions(h.mapping, tenant, linkID)); got != want {
		t.Fatalf("sync log %s, want %s", got, want)
	}
}

func TestEchoMarkersPrecedeWixWrites(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	h.publish(itemEvent("e1", created, "post-1", "Sunset", 1))
	m := h.waitState("post-1", synced)

	// The marker the platform-writer checks for a Wix item it has no
	// mapping for yet must hold exactly the hash of the webhook to come.
	hash := h.webhookHash(m.GetWixItemId())
	marks := h.mapping.EchoMarks()
	if len(marks) != 1 || marks[0].GetSide() != gsv1.Side_SIDE_WIX ||
		marks[0].GetObjectId() != "new:"+linkID+":"+hash || marks[0].GetContentHash() != hash {
		t.Fatalf("echo markers %v, want one new:%s:%s", marks, linkID, hash)
	}
	if mark, create := h.journal.index("mark echo new:"+linkID+":"+hash), h.journal.index("wix create Sunset"); mark < 0 || create < 0 || mark > create {
		t.Fatalf("marker at %d, create at %d: the marker must come first", mark, create)
	}

	h.publish(itemEvent("e2", updated, "post-1", "Sunrise", 2))
	h.waitCounter(1, "gallerysync.writer.applied", opAttr("update"))
	hash = h.webhookHash(m.GetWixItemId())
	marks = h.mapping.EchoMarks()
	if len(marks) != 2 || marks[1].GetObjectId() != m.GetWixItemId() || marks[1].GetContentHash() != hash {
		t.Fatalf("update marker %v, want %s with %s", marks[len(marks)-1], m.GetWixItemId(), hash)
	}
	if mark, upd := h.journal.index("mark echo "+m.GetWixItemId()), h.journal.index("wix update "+m.GetWixItemId()); mark < 0 || upd < 0 || mark > upd {
		t.Fatalf("marker at %d, update at %d: the marker must come first", mark, upd)
	}

	h.publish(itemEvent("e3", deleted, "post-1", "", 3))
	h.waitState("post-1", gone)
	marks = h.mapping.EchoMarks()
	if len(marks) != 3 || marks[2].GetObjectId() != m.GetWixItemId() || marks[2].GetContentHash() != "deleted" {
		t.Fatalf("delete marker %v", marks[len(marks)-1])
	}
}

func TestDuplicateEventWritesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	ev := itemEvent("e1", created, "post-1", "Sunset", 1)
	h.publish(ev)
	h.waitState("post-1", synced)
	h.waitFor("dedup mark", func() bool {
		resp, err := h.client.CheckDedup(context.Background(), &gsv1.CheckDedupRequest{TenantId: tenant, Key: "wix-writer:" + ev.GetEventId()})
		return err == nil && resp.GetSeen()
	})
	// A poller may report the same change again long after the bus's
	// duplicate window, so the same event reaches the writer again.
	if err := h.writer.Apply(context.Background(), ev); err != nil {
		t.Fatalf("Apply of a duplicate: %v", err)
	}
	if n := h.counter("gallerysync.writer.deduplicated"); n != 1 {
		t.Fatalf("deduplicated = %d, want 1", n)
	}
	h.wantWrites(1, 0, 0, 1)
}

func TestEchoIsDropped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	h.publish(itemEvent("e1", created, "post-1", "Sunset", 1))
	h.waitState("post-1", synced)
	// The same content under a new event id and a later version: what the
	// platform reports after the platform-writer's own write, or a re-save.
	h.publish(itemEvent("e2", updated, "post-1", "Sunset", 2))
	h.waitCounter(1, "gallerysync.writer.echo_dropped")
	h.wantWrites(1, 0, 0, 1)
}

func TestNoVisibleChangeIsNoWixWrite(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	h.publish(itemEvent("e1", created, "post-1", "Sunset", 1))
	h.waitState("post-1", synced)
	// The platform's content hash changes (here: its media size) but
	// nothing a Wix item shows does.
	ev := itemEvent("e2", updated, "post-1", "Sunset", 2)
	ev.Item.SizeBytes = 1234
	ev.Item.ContentHash = "platform-side-hash-2"
	h.publish(ev)
	h.waitCounter(1, "gallerysync.writer.applied", opAttr("noop"))
	h.wantWrites(1, 0, 0, 1)
	if m := h.mapping.ItemByExternal(tenant, linkID, "post-1"); m.GetExternalHash() != "platform-side-hash-2" || !m.GetExternalVersion().AsTime().Equal(at(2)) {
		t.Fatalf("mapping did not record the platform's new state: %v", m)
	}
}

func TestChangedMediaIsImportedAgain(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	h.publish(itemEvent("e1", created, "post-1", "Sunset", 1))
	first := h.waitState("post-1", synced)

	ev := itemEvent("e2", updated, "post-1", "Sunset", 2)
	ev.Item.MediaUrl = "https://" + mediaHost + "/media/post-1-cropped.png"
	ev.Item.MediaId = "m-post-1-cropped"
	h.publish(rehash(ev))
	h.waitCounter(1, "gallerysync.writer.applied", opAttr("update"))
	h.wantWrites(1, 1, 0, 2)
	it := h.onlyItem()
	m := h.mapping.ItemByExternal(tenant, linkID, "post-1")
	if it.Image.ImageInfo.ID == first.GetExternalAttrs()["wix_file_id"] || it.Image.ImageInfo.ID != m.GetExternalAttrs()["wix_file_id"] ||
		m.GetExternalAttrs()["platform_media"] != "m-post-1-cropped" {
		t.Fatalf("image %+v, mapping %v: want the new file", it.Image.ImageInfo, m)
	}
}

func TestOnlyActiveTwoWayLinksOfTheAlbum(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.wix.addGallery(tenant, "gallery-2")
	h.putLink("link-one-way", "gallery-2", connection, album, gsv1.LinkState_LINK_STATE_ACTIVE, gsv1.Direction_DIRECTION_ONE_WAY)
	h.putLink("link-paused", "gallery-2", connection, album, gsv1.LinkState_LINK_STATE_PAUSED, gsv1.Direction_DIRECTION_TWO_WAY)
	h.putLink("link-other-album", "gallery-2", connection, "cats", gsv1.LinkState_LINK_STATE_ACTIVE, gsv1.Direction_DIRECTION_TWO_WAY)
	h.putLink("link-other-conn", "gallery-2", "conn-2", album, gsv1.LinkState_LINK_STATE_ACTIVE, gsv1.Direction_DIRECTION_TWO_WAY)
	h.run()
	h.publish(itemEvent("e1", created, "post-1", "Sunset", 1))
	h.waitState("post-1", synced)
	h.wantWrites(1, 0, 0, 1)
	for _, l := range []string{"link-one-way", "link-paused", "link-other-album", "link-other-conn"} {
		if m := h.mapping.ItemByExternal(tenant, l, "post-1"); m != nil {
			t.Errorf("link %s got a mapping: %v", l, m)
		}
	}
	if items := h.wix.items(tenant, "gallery-2"); len(items) != 0 {
		t.Fatalf("gallery-2 got items: %+v", items)
	}
}

func TestOtherEventsAreAcknowledged(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	wixEv := itemEvent("w1", created, "wixitem-9", "From Wix", 1)
	wixEv.Origin, wixEv.Platform = gsv1.Origin_ORIGIN_WIX, ""
	wixEv.EventId = change.EventID(gsv1.Origin_ORIGIN_WIX, "", "w1")
	media := &gsv1.ChangeEvent{
		EventId: "wix:m1", TenantId: tenant, Origin: gsv1.Origin_ORIGIN_WIX, SourceEventId: "m1",
		OccurredAt: timestamppb.Now(), Kind: gsv1.ChangeKind_CHANGE_KIND_MEDIA_READY, Media: &gsv1.MediaFile{FileId: "f1"},
	}
	for _, ev := range []*gsv1.ChangeEvent{wixEv, media} {
		if err := h.writer.Apply(context.Background(), ev); err != nil {
			t.Fatalf("Apply(%s): %v", ev.GetEventId(), err)
		}
	}
	if n := h.counter("gallerysync.writer.ignored"); n != 2 {
		t.Fatalf("ignored = %d, want 2", n)
	}
	h.wantWrites(0, 0, 0, 0)
}

func TestItemWithoutImageIsNotCreated(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	text := itemEvent("e1", created, "post-text", "Just words", 1)
	text.Item.MediaUrl, text.Item.MediaId, text.Item.MimeType = "", "", ""
	video := itemEvent("e2", created, "post-video", "Moving", 1)
	video.Item.MediaUrl, video.Item.MimeType = "https://"+mediaHost+"/media/post-video.mp4", "video/mp4"
	for _, ev := range []*gsv1.ChangeEvent{rehash(text), rehash(video)} {
		if err := h.writer.Apply(context.Background(), ev); err != nil {
			t.Fatalf("Apply(%s): %v", ev.GetEventId(), err)
		}
	}
	if n, v := h.counter("gallerysync.writer.ignored", kindAttr("no_media")), h.counter("gallerysync.writer.ignored", kindAttr("not_image")); n != 1 || v != 1 {
		t.Fatalf("ignored no_media = %d, not_image = %d; want 1 each", n, v)
	}
	h.wantWrites(0, 0, 0, 0)
}

// TestPlatformWriterMarkersSuppressEchoes covers the watcher events that the
// platform-writer's own writes cause: it marks each write before making it,
// so the echo is recognised even when the event beats the mapping update.
func TestPlatformWriterMarkersSuppressEchoes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	ctx := context.Background()
	mark := func(object, hash string) {
		t.Helper()
		if _, err := h.client.MarkEcho(ctx, &gsv1.MarkEchoRequest{
			TenantId: tenant, Side: gsv1.Side_SIDE_PLATFORM, ObjectId: object, ContentHash: hash, Ttl: durationpb.New(time.Minute),
		}); err != nil {
			t.Fatal(err)
		}
	}

	// A post the platform-writer is making for a Wix item: no mapping by
	// the post's id exists yet.
	ev := itemEvent("e1", created, "post-new", "From Wix", 1)
	mark("new:"+linkID+":"+ev.GetItem().GetContentHash(), ev.GetItem().GetContentHash())
	h.publish(ev)
	h.waitCounter(1, "gallerysync.writer.echo_dropped")
	h.wantWrites(0, 0, 0, 0)

	// A post we synced to Wix, then edited by the platform-writer.
	h.publish(itemEvent("e2", created, "post-1", "Sunset", 2))
	h.waitState("post-1", synced)
	upd := itemEvent("e3", updated, "post-1", "Sunset edited on Wix", 3)
	mark("post-1", upd.GetItem().GetContentHash())
	h.publish(upd)
	h.waitCounter(2, "gallerysync.writer.echo_dropped")

	// And deleted by the platform-writer because the Wix item was deleted.
	mark("post-1", "deleted")
	h.publish(itemEvent("e4", deleted, "post-1", "", 4))
	h.waitCounter(3, "gallerysync.writer.echo_dropped")
	h.wantWrites(1, 0, 0, 1)
}
