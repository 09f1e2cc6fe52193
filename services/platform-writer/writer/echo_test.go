package writer_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/mastodon"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// expect is the hash Mastodon will show for an event's item.
func expect(ev *gsv1.ChangeEvent) string {
	it := ev.GetItem()
	alt := it.GetAltText()
	if alt == "" {
		alt = it.GetTitle()
	}
	return mastodon.New(nil).Expect(album, platforms.Content{
		Title: it.GetTitle(), Description: it.GetDescription(), LinkURL: it.GetLinkUrl(), AltText: alt, MediaURL: it.GetMediaUrl(),
	})
}

// TestPlatformEchoMarkersPrecedeWrites: before each write to the platform
// the writer marks, on the platform side, the hash the platform will show
// (the watcher's event of the write then finds it), and records that hash
// as the mapping's external hash once the write is done.
func TestPlatformEchoMarkersPrecedeWrites(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	createEv := h.itemEvent("e1", created, "item-a", "Sunset", 1)
	updateEv := h.itemEvent("e2", updated, "item-a", "Sunrise", 2)
	createHash, updateHash := expect(createEv), expect(updateEv)

	var mu sync.Mutex
	marked := map[string]bool{} // write -> its marker was in place when it arrived
	h.masto.setInject(func(_ http.ResponseWriter, r *http.Request) bool {
		side := gsv1.Side_SIDE_PLATFORM
		id, _ := strings.CutPrefix(r.URL.Path, "/api/v1/statuses/")
		var write string
		var ok bool
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/v1/statuses":
			write, ok = "create", h.mapping.Echoed(tenant, side, "new:"+linkID+":"+createHash, createHash)
		case r.Method == http.MethodPut:
			write, ok = "update", h.mapping.Echoed(tenant, side, id, updateHash)
		case r.Method == http.MethodDelete:
			write, ok = "delete", h.mapping.Echoed(tenant, side, id, "deleted")
		default:
			return false
		}
		mu.Lock()
		marked[write] = ok
		mu.Unlock()
		return false
	})

	h.publish(createEv)
	m := h.waitState("item-a", synced)
	if m.GetExternalHash() != createHash {
		t.Fatalf("external hash %q, want the hash Mastodon shows %q", m.GetExternalHash(), createHash)
	}
	c := platforms.Content{Title: "Sunset", Description: "about Sunset", AltText: "Sunset", MediaURL: createEv.GetItem().GetMediaUrl(),
		MimeType: "image/png", SortOrder: 1}
	if fp := m.GetExternalAttrs()[platforms.AttrFingerprint]; fp != mastodon.New(nil).Fingerprint(album, c) {
		t.Fatalf("fingerprint attribute %q is not the adapter's fingerprint of what was written", fp)
	}
	h.publish(updateEv)
	h.waitCounter(1, "gallerysync.writer.applied", opAttr("update"))
	if got := h.mapping.Item(tenant, linkID, "item-a"); got.GetExternalHash() != updateHash {
		t.Fatalf("external hash after update %q, want %q", got.GetExternalHash(), updateHash)
	}
	h.publish(h.itemEvent("e3", deleted, "item-a", "", 3))
	h.waitState("item-a", gone)
	h.wantWrites(1, 1, 1)

	mu.Lock()
	defer mu.Unlock()
	for _, write := range []string{"create", "update", "delete"} {
		if !marked[write] {
			t.Errorf("%s reached the platform before its echo marker was set (seen: %v)", write, marked)
		}
	}
}

// TestNoOpWriteSetsNoMarker: a change the platform cannot show (sort order)
// writes nothing and so marks nothing.
func TestNoOpWriteSetsNoMarker(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	ev := h.itemEvent("e1", created, "item-a", "Sunset", 1)
	if err := h.writer.Apply(ctx, ev); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	marks := len(h.mapping.EchoMarks())
	moved := h.itemEvent("e2", updated, "item-a", "Sunset", 2)
	moved.Item.SortOrder = 7
	moved.Item.ContentHash = change.Hash(moved.Item)
	if err := h.writer.Apply(ctx, moved); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if n := h.counter("gallerysync.writer.applied", opAttr("noop")); n != 1 {
		t.Fatalf("noop writes %d, want 1", n)
	}
	h.wantWrites(1, 0, 0)
	if got := h.mapping.EchoMarks(); len(got) != marks {
		t.Fatalf("a write that changed nothing set markers: %v", got[marks:])
	}
}
