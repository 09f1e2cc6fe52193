package watchtest

import (
	"context"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/libs/media"
	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/mastodon"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// noReconcile keeps reconciliation out of a test's way after its first pass.
const noReconcile = time.Hour

func TestStatusChangesArePublishedOnceEach(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.start("replica-a", noReconcile)
	h.waitWatching("replica-a")

	id := h.post("Sunset\n\nOver the bay\n\n#holiday")
	created := h.waitEvent(id, gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED)
	it := created.GetItem()
	wantHash := h.adapter.Expect(album, platforms.Content{Title: "Sunset", Description: "Over the bay"})
	if created.GetOrigin() != gsv1.Origin_ORIGIN_PLATFORM || created.GetPlatform() != "mastodon" || created.GetTenantId() != tenant ||
		created.GetConnectionId() != connection || created.GetAlbumId() != album {
		t.Fatalf("created event envelope: %v", created)
	}
	if it.GetTitle() != "Sunset" || it.GetDescription() != "Over the bay" || it.GetPermalink() == "" ||
		it.GetUpdatedAt() == nil || it.GetContentHash() != wantHash {
		t.Fatalf("created item %v, want title, description, permalink and hash %s", it, wantHash)
	}

	// The wix-writer records the item; the edit is then an update.
	h.mapping.SeedItem(&gsv1.ItemMapping{TenantId: tenant, LinkId: "link-1", WixItemId: "wix-1", ExternalId: id,
		State: gsv1.ItemState_ITEM_STATE_SYNCED, ExternalHash: it.GetContentHash()}, time.Now())
	// Changes that are not the album's make no event.
	other := h.post("At work\n\n#work")
	h.edit(id, "Sunset, edited\n\nOver the bay\n\n#holiday")
	updated := h.waitEvent(id, gsv1.ChangeKind_CHANGE_KIND_ITEM_UPDATED)
	if updated.GetItem().GetTitle() != "Sunset, edited" || !updated.GetOccurredAt().AsTime().After(created.GetOccurredAt().AsTime()) {
		t.Fatalf("updated event %v", updated)
	}

	h.remove(id)
	deleted := h.waitEvent(id, gsv1.ChangeKind_CHANGE_KIND_ITEM_DELETED)
	if deleted.GetAlbumId() != album || deleted.GetItem().GetTitle() != "" {
		t.Fatalf("deleted event %v", deleted)
	}

	// A last status marks the end; by then every earlier change is in.
	marker := h.post("Marker\n\n#holiday")
	h.waitEvent(marker, gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED)
	if n := len(h.eventsOf(id)); n != 3 {
		t.Fatalf("%d events for the status, want 3 (created, updated, deleted)", n)
	}
	if n := len(h.eventsOf(other)); n != 0 {
		t.Fatalf("%d events for a status of another hashtag", n)
	}
	h.waitFor("the cursor to reach the marker", func() bool { return h.mapping.Cursor(tenant, "watch:"+connection) == marker })
}

func TestOneReplicaWatchesAConnection(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.start("replica-a", noReconcile)
	h.waitWatching("replica-a")
	b := h.start("replica-b", noReconcile)

	first := h.post("First\n\n#holiday")
	h.waitEvent(first, gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED)
	marker := h.post("Marker\n\n#holiday")
	h.waitEvent(marker, gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED)
	if n := len(h.eventsOf(first)); n != 1 || h.sim.Streams() != 1 || h.mapping.Holder(tenant, "watch:"+connection) != "replica-a" {
		t.Fatalf("%d events, %d streams, lease held by %q; want 1, 1, replica-a",
			n, h.sim.Streams(), h.mapping.Holder(tenant, "watch:"+connection))
	}

	// The holder dies without giving its lease back: the other replica
	// takes over once the lease lapses, and resumes from the cursor.
	h.mapping.KeepLeases(true)
	a.stop(t)
	h.mapping.KeepLeases(false)
	missed := h.post("While nobody watched\n\n#holiday")
	h.waitWatching("replica-b")
	h.waitEvent(missed, gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED)
	after := h.post("After the takeover\n\n#holiday")
	h.waitEvent(after, gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED)
	for _, id := range []string{first, marker, missed, after} {
		if n := len(h.eventsOf(id)); n != 1 {
			t.Fatalf("status %s has %d events, want 1", id, n)
		}
	}
	b.stop(t)
	if holder := h.mapping.Holder(tenant, "watch:"+connection); holder != "" {
		t.Fatalf("lease still held by %q after the last replica stopped", holder)
	}
}

func TestCursorSurvivesARestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.start("replica-a", noReconcile)
	h.waitWatching("replica-a")
	first := h.post("First\n\n#holiday")
	h.waitEvent(first, gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED)
	h.waitFor("the cursor", func() bool { return h.mapping.Cursor(tenant, "watch:"+connection) == first })
	a.stop(t)

	// While no watcher runs.
	second := h.post("Second\n\n#holiday")
	third := h.post("Third\n\n#holiday")
	h.post("Elsewhere\n\n#work")

	h.resetRequests()
	h.start("replica-b", noReconcile)
	h.waitEvent(second, gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED)
	h.waitEvent(third, gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED)
	if !h.served("min_id=" + first) {
		t.Fatal("the restarted watcher did not catch up from the stored cursor")
	}
	h.waitWatching("replica-b")
	marker := h.post("Marker\n\n#holiday")
	h.waitEvent(marker, gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED)
	for _, id := range []string{first, second, third, marker} {
		if n := len(h.eventsOf(id)); n != 1 {
			t.Fatalf("status %s has %d events, want 1", id, n)
		}
	}
	if got := len(h.events()); got != 4 {
		t.Fatalf("%d platform events, want 4", got)
	}
}

func TestReconciliationFindsWhatNoStreamReported(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	long := time.Now().Add(-time.Hour)
	// Three statuses synced long ago; while nobody watched, one was
	// deleted, one edited, and a fourth posted.
	kept := h.post("Kept\n\n#holiday")
	gone := h.post("Gone\n\n#holiday")
	edited := h.post("Before\n\n#holiday")
	for i, id := range []string{kept, gone, edited} {
		title := []string{"Kept", "Gone", "Before"}[i]
		h.mapping.SeedItem(&gsv1.ItemMapping{TenantId: tenant, LinkId: "link-1", WixItemId: "wix-" + id, ExternalId: id,
			State: gsv1.ItemState_ITEM_STATE_SYNCED, ExternalHash: h.adapter.Expect(album, platforms.Content{Title: title})}, long)
	}
	// A tombstone of an item deleted earlier is not reported again.
	h.mapping.SeedItem(&gsv1.ItemMapping{TenantId: tenant, LinkId: "link-1", WixItemId: "wix-old", ExternalId: "1",
		State: gsv1.ItemState_ITEM_STATE_DELETED}, long)
	h.remove(gone)
	h.edit(edited, "After\n\n#holiday")
	added := h.post("Added\n\n#holiday")

	h.start("replica-a", 200*time.Millisecond)
	h.waitEvent(gone, gsv1.ChangeKind_CHANGE_KIND_ITEM_DELETED)
	if ev := h.waitEvent(edited, gsv1.ChangeKind_CHANGE_KIND_ITEM_UPDATED); ev.GetItem().GetTitle() != "After" {
		t.Fatalf("updated event %v", ev)
	}
	h.waitEvent(added, gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED)
	// Let a few more passes run: they find nothing new to say.
	h.waitFor("more reconciliation passes", func() bool {
		return len(h.requestsLike("tagged=holiday")) >= 4
	})
	for _, id := range []string{kept, "1"} {
		if evs := h.eventsOf(id); len(evs) != 0 {
			t.Fatalf("in-sync item %s has events %v", id, evs)
		}
	}
	for _, id := range []string{gone, edited, added} {
		if n := len(h.eventsOf(id)); n != 1 {
			t.Fatalf("status %s has %d events, want 1", id, n)
		}
	}
}

func TestWatcherFollowsItsLinks(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.start("replica-a", noReconcile)
	h.waitWatching("replica-a")

	// A second album joins: the watch starts over with both.
	h.link("link-2", "work", gsv1.LinkState_LINK_STATE_ACTIVE)
	h.waitFor("the watch to restart", func() bool { return h.listedAfterStream(2) })
	work := h.post("Desk\n\n#work")
	if ev := h.waitEvent(work, gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED); ev.GetAlbumId() != "work" {
		t.Fatalf("event for album %q, want work", ev.GetAlbumId())
	}

	// Both links paused: the watcher stops and gives its lease back.
	h.link("link-1", album, gsv1.LinkState_LINK_STATE_PAUSED)
	h.link("link-2", "work", gsv1.LinkState_LINK_STATE_PAUSED)
	h.waitFor("the watcher to stop", func() bool {
		return h.sim.Streams() == 0 && h.mapping.Holder(tenant, "watch:"+connection) == ""
	})
	paused := h.post("While paused\n\n#holiday")
	// One-way links are not watched either.
	h.mapping.SeedLink(&gsv1.Link{TenantId: tenant, LinkId: "link-3", GalleryId: "g3", ConnectionId: connection,
		AlbumId: album, State: gsv1.LinkState_LINK_STATE_ACTIVE, Direction: gsv1.Direction_DIRECTION_ONE_WAY})
	h.link("link-1", album, gsv1.LinkState_LINK_STATE_ACTIVE)
	h.waitWatching("replica-a")
	marker := h.post("Marker\n\n#holiday")
	h.waitEvent(marker, gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED)
	if n := len(h.eventsOf(paused)); n != 1 {
		t.Fatalf("status posted while paused has %d events, want 1 (caught up on resume)", n)
	}
}

// requestsLike returns the served GET requests containing substr.
func (h *harness) requestsLike(substr string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.requests {
		if strings.Contains(r, substr) {
			out = append(out, r)
		}
	}
	return out
}

// listedAfterStream reports whether the n-th stream was opened and then a
// listing made: the watch that opened it has taken its start.
func (h *harness) listedAfterStream(n int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	streams := 0
	for _, r := range h.requests {
		switch {
		case strings.HasPrefix(r, "/api/v1/streaming/user"):
			streams++
		case streams >= n && strings.Contains(r, "/statuses?"):
			return true
		}
	}
	return false
}

// TestOwnWritesCarryTheExpectedHash: what the adapter writes comes back
// from the watcher with the hash the writer predicted (Expect) and read
// back (Remote.Hash), whatever Mastodon makes of the text: shortened links,
// hashtags, paragraphs, escaped characters, emoji.
func TestOwnWritesCarryTheExpectedHash(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		img := image.NewRGBA(image.Rect(0, 0, 4, 3))
		_ = png.Encode(w, img)
	}))
	t.Cleanup(origin.Close)
	writer := mastodon.New(media.NewFetcher([]string{strings.TrimPrefix(origin.URL, "http://")}),
		mastodon.WithMediaPolling(5*time.Millisecond, 20))
	h.start("replica-a", noReconcile)
	h.waitWatching("replica-a")
	conn := platforms.Connection{ID: connection, BaseURL: h.api.URL, AccountID: h.account, Credentials: []byte(ownerToken)}

	contents := []platforms.Content{
		{Title: "Sunset", Description: "Over the bay", AltText: "Red sky"},
		{Title: "Read", LinkURL: "https://www.example.com/a/very/long/path/that/mastodon/shortens?with=query&and=more"},
		{Title: "Beach #summer", Description: "With #Friends\nand a line break\n\nand a paragraph"},
		{Title: `<b>Bold</b> & "quotes" 'single'`, Description: "a < b > c &amp; &lt;", AltText: `<alt> & "more"`},
		{Title: "🌅 Sunrise 👨‍👩‍👧", Description: "☕️ then 🏖️", AltText: "🌊"},
	}
	for i, c := range contents {
		c.MediaURL = origin.URL + "/img/" + strconv.Itoa(i) + ".png"
		want := writer.Expect(album, c)
		r, err := writer.Create(context.Background(), conn, album, c, "key-"+strconv.Itoa(i))
		if err != nil {
			t.Fatalf("Create %q: %v", c.Title, err)
		}
		if r.Hash != want {
			t.Fatalf("Create %q: Remote.Hash %s, Expect %s", c.Title, r.Hash, want)
		}
		if got := h.waitEvent(r.ID, gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED).GetItem().GetContentHash(); got != want {
			t.Fatalf("%q: watcher reports hash %s, Expect %s", c.Title, got, want)
		}
		c.Title += ", edited"
		want = writer.Expect(album, c)
		up, err := writer.Update(context.Background(), conn, album, r, c)
		if err != nil {
			t.Fatalf("Update %q: %v", c.Title, err)
		}
		var got string
		h.waitFor("the edit of "+r.ID, func() bool {
			for _, ev := range h.eventsOf(r.ID) {
				if ev.GetItem().GetTitle() == c.Title {
					got = ev.GetItem().GetContentHash()
					return true
				}
			}
			return false
		})
		if up.Hash != want || got != want {
			t.Fatalf("%q: Remote.Hash %s, watcher %s, Expect %s", c.Title, up.Hash, got, want)
		}
	}
}
