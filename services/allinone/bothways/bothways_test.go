package bothways

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"gallerysync.dev/libs/platforms"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/allinone/stack"
	"gallerysync.dev/services/sandbox/wixsim"
)

// TestBothWays runs every adapter's round trip on its own stack: Wix
// changes reach the platform with exactly the writes they need, platform
// changes reach Wix with one Wix write each, and neither side is written
// again (no echo, no duplicate).
func TestBothWays(t *testing.T) {
	cases := []struct {
		name string
		// limits is the sandbox's rate-limit profile; "unlimited" also
		// turns the writers' pacing off.
		limits string
		side   newSide
	}{
		{"mastodon", "unlimited", mastodonSide},
		// Under the documented limits, with the writers pacing below them,
		// these few writes still go at once: Mastodon's media bucket lets
		// three go in a burst.
		{"mastodon-documented-limits", "documented", mastodonSide},
		{"pinterest", "unlimited", pinterestSide},
		{"atproto", "unlimited", atprotoSide},
		{"atproto-real-pds", "unlimited", pdsSide},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			s := startStack(t, tc.limits)
			nonce := newNonce()
			l := link(ctx, t, s, tc.side(ctx, t, s, nonce), nonce)
			t.Run("wix-to-platform", func(t *testing.T) { wixToPlatform(ctx, t, s, l) })
			if t.Failed() {
				return
			}
			t.Run("platform-to-wix", func(t *testing.T) { platformToWix(ctx, t, s, l) })
		})
	}
}

// linked is a new Wix gallery linked two-way to the side's album.
type linked struct {
	side
	gallery, link, nonce string
	// kept is the item the Wix -> platform leg leaves in the gallery
	// (zero when it leaves none), for the platform's reorder.
	kept struct {
		wixID, externalID string
	}
}

// link makes a new gallery (through the sandbox, as the site owner would
// in the editor) and links it to the album, as the dashboard does.
func link(ctx context.Context, t *testing.T, s *stack.Stack, sd side, nonce string) *linked {
	t.Helper()
	d := s.Demo()
	g, err := s.Sandbox().Wix().CreateGallery(d.InstanceID, "Both ways "+nonce)
	if err != nil {
		t.Fatalf("create gallery: %v", err)
	}
	l := &linked{side: sd, gallery: g.ID, link: "bothways-" + nonce, nonce: nonce}
	if _, err := s.Mapping().PutLink(ctx, &gsv1.PutLinkRequest{Link: &gsv1.Link{
		TenantId: d.InstanceID, LinkId: l.link, GalleryId: g.ID, ConnectionId: sd.conn.ID, AlbumId: sd.album,
		State: gsv1.LinkState_LINK_STATE_ACTIVE, Direction: gsv1.Direction_DIRECTION_TWO_WAY,
	}}); err != nil {
		t.Fatalf("put link: %v", err)
	}
	t.Logf("gallery %s linked two-way to album %s of connection %s", g.ID, sd.album, sd.conn.ID)
	return l
}

// wixToPlatform creates items as the site owner (two where the platform
// has an order), renames one, swaps the two's places (or, where the
// platform has no order, moves the one, which must write nothing) and
// deletes one. After each change it waits for the platform to show it and
// checks the platform's writes, and at the end that nothing more was
// written to the platform and nothing at all by the system to Wix.
func wixToPlatform(ctx context.Context, t *testing.T, s *stack.Stack, l *linked) {
	o := newOwner(t, s)
	ordered := l.reorderer() != nil
	platformStart, wixStart := l.writes(), wixWrites(s)
	var want, owners counts // platform writes due; Wix writes the owner made
	check := func(step string, took time.Duration, detail string) {
		t.Helper()
		got := l.writes().since(platformStart)
		t.Logf("%-7s %s after %s; platform writes so far %s", step, detail, ms(took), got)
		if !got.equal(want) {
			t.Errorf("%s: platform writes so far %s, want %s", step, got, want)
		}
	}

	n := 1
	if ordered {
		n = 2
	}
	items := make([]wixsim.Item, n)
	ext := make([]string, n)
	for i := range items {
		name := fmt.Sprintf("wix-%d-%s", i+1, l.nonce)
		title := fmt.Sprintf("Made on Wix %d %s", i+1, l.nonce)
		items[i] = o.createItem(ctx, t, l.gallery, title, "Harbour at dawn, from the site.", o.importImage(ctx, t, name))
		owners = owners.plus(counts{"ImportFile": 1, "CreateGalleryItem": 1})
		var shown platforms.Observed
		took := mustWaitFor(ctx, t, "Wix item "+items[i].ID+" on the platform", func() (bool, error) {
			var err error
			shown, err = l.shownFor(ctx, s, items[i].ID)
			return err == nil && shown.Content.Title == title, err
		})
		ext[i] = shown.ID
		want = want.plus(l.sync.create)
		check("create", took, fmt.Sprintf("Wix item %s -> %s", items[i].ID, ext[i]))
	}

	renamed := items[0].Title + " renamed"
	o.updateItem(ctx, t, l.gallery, items[0].ID, map[string]any{"title": renamed})
	owners = owners.plus(counts{"UpdateGalleryItem": 1})
	took := mustWaitFor(ctx, t, "new title on the platform", func() (bool, error) {
		got, ok, err := l.find(ctx, ext[0])
		return ok && got.Content.Title == renamed, err
	})
	want = want.plus(l.sync.update)
	check("rename", took, ext[0]+" shows the new title")

	if ordered {
		// Swap the two items' places: each gets the other's sort order.
		a, b := items[0].SortOrder, items[1].SortOrder
		o.updateItem(ctx, t, l.gallery, items[0].ID, map[string]any{"sortOrder": b})
		o.updateItem(ctx, t, l.gallery, items[1].ID, map[string]any{"sortOrder": a})
		owners = owners.plus(counts{"UpdateGalleryItem": 2})
		took, ok := waitFor(ctx, t, "new order on the platform", func() (bool, error) {
			list, err := l.list(ctx)
			return err == nil && sameOrder(list, []string{ext[1], ext[0]}, []float64{a, b}), err
		})
		// Without the new order the writes are not known; the test goes on
		// to check the rest (the failure is recorded).
		if ok {
			want = want.plus(l.sync.move.times(2))
			check("reorder", took, fmt.Sprintf("%s before %s", ext[1], ext[0]))
		} else {
			want = l.writes().since(platformStart)
		}
	} else {
		// A platform without order has nothing to write for a new place:
		// the writer only records it.
		moved := items[0].SortOrder - 1000
		o.updateItem(ctx, t, l.gallery, items[0].ID, map[string]any{"sortOrder": moved})
		owners = owners.plus(counts{"UpdateGalleryItem": 1})
		took := mustWaitFor(ctx, t, "new place recorded", func() (bool, error) {
			m, err := l.mappingOf(ctx, s, items[0].ID)
			return err == nil && closeTo(m.GetSortOrder(), moved), err
		})
		check("reorder", took, "recorded, nothing to write: the platform has no order")
	}

	o.deleteItem(ctx, t, l.gallery, items[0].ID)
	owners = owners.plus(counts{"DeleteGalleryItem": 1})
	took = mustWaitFor(ctx, t, "item gone from the platform", func() (bool, error) {
		_, ok, err := l.find(ctx, ext[0])
		return err == nil && !ok, err
	})
	want = want.plus(l.sync.remove)
	check("delete", took, ext[0]+" gone")

	// Late duplicates and echoes would show as writes after the fact.
	pause(ctx, t, settle)
	got, wix := l.writes().since(platformStart), wixWrites(s).since(wixStart)
	t.Logf("settled: platform writes %s (want %s); Wix writes %s (the owner's own: %s)", got, want, wix, owners)
	if !got.equal(want) {
		t.Errorf("platform writes after settling %s, want %s: a duplicate or late write", got, want)
	}
	if !wix.equal(owners) {
		t.Errorf("Wix writes %s, the owner made %s: the system wrote to Wix (an echo)", wix, owners)
	}
	if ordered {
		l.kept.wixID, l.kept.externalID = items[1].ID, ext[1]
	}
}

// platformToWix acts as another client of the platform: it posts a photo
// to the album, edits its caption, moves it before the item kept from the
// Wix leg (where the platform has an order) and deletes it. After each
// change it waits for the gallery to show it and checks that Wix was
// written exactly once for it, and at the end that the platform was
// written by nobody but the client.
func platformToWix(ctx context.Context, t *testing.T, s *stack.Stack, l *linked) {
	platformStart, wixStart := l.writes(), wixWrites(s)
	var own, want counts // the client's platform writes; Wix writes due
	check := func(step string, took time.Duration, detail string) {
		t.Helper()
		got, wix := l.writes().since(platformStart), wixWrites(s).since(wixStart)
		t.Logf("%-7s %s after %s; Wix writes so far %s; platform writes so far %s", step, detail, ms(took), wix, got)
		if !wix.equal(want) {
			t.Errorf("%s: Wix writes so far %s, want %s", step, wix, want)
		}
		if !got.equal(own) {
			t.Errorf("%s: platform writes so far %s, the client's own are %s", step, got, own)
		}
	}

	title := "Posted on the platform " + l.nonce
	c := platforms.Content{
		Title: title, Description: "Taken from the pier.", AltText: title,
		MediaURL: photoURL(s, "platform-"+l.nonce), MimeType: "image/png",
	}
	kept := wixsim.Item{}
	if l.kept.wixID != "" {
		var err error
		if kept, err = wixItem(s, l.gallery, l.kept.wixID); err != nil {
			t.Fatalf("kept item: %v", err)
		}
		c.SortOrder = kept.SortOrder + 1 // after it
	}
	r, err := l.client.Create(ctx, l.conn, l.album, c, "bothways-"+l.nonce)
	if err != nil {
		t.Fatalf("post on the platform: %v", err)
	}
	own = own.plus(l.own.create)
	var wixID string
	took := mustWaitFor(ctx, t, "platform item "+r.ID+" on Wix", func() (bool, error) {
		it, err := l.wixFor(ctx, s, r.ID)
		wixID = it.ID
		return err == nil && it.Title == title, err
	})
	want = want.plus(counts{"ImportFile": 1, "CreateGalleryItem": 1})
	check("create", took, fmt.Sprintf("%s -> Wix item %s", r.ID, wixID))

	c.Title = title + " edited"
	c.AltText = c.Title
	if r, err = l.client.Update(ctx, l.conn, l.album, r, c); err != nil {
		t.Fatalf("edit on the platform: %v", err)
	}
	own = own.plus(l.own.update)
	took = mustWaitFor(ctx, t, "new caption on Wix", func() (bool, error) {
		it, err := wixItem(s, l.gallery, wixID)
		return err == nil && it.Title == c.Title, err
	})
	want = want.plus(counts{"UpdateGalleryItem": 1})
	check("edit", took, "Wix item "+wixID+" shows the new caption")

	if ro := l.reorderer(); ro != nil && l.kept.wixID != "" {
		if err := ro.Reorder(ctx, l.conn, l.album, []platforms.Remote{r, {ID: l.kept.externalID}}); err != nil {
			t.Fatalf("reorder on the platform: %v", err)
		}
		own = own.plus(l.own.move)
		var list []platforms.Observed
		took, ok := waitFor(ctx, t, "new order on Wix", func() (bool, error) {
			var err error
			if list, err = l.list(ctx); err != nil {
				return false, err
			}
			items, err := galleryItems(s, l.gallery)
			if err == nil && !wixOrderMatches(items, list, map[string]string{r.ID: wixID, l.kept.externalID: l.kept.wixID}) {
				err = fmt.Errorf("the album holds %s, the gallery %s", describeAlbum(list), describeGallery(items))
			}
			return err == nil, err
		})
		// Without the new order the writes are not known; the test goes on
		// to check the rest (the failure is recorded).
		if ok {
			want = want.plus(counts{"UpdateGalleryItem": 2})
			check("reorder", took, fmt.Sprintf("Wix item %s before %s", wixID, l.kept.wixID))
		} else {
			want = wixWrites(s).since(wixStart)
		}
	}

	if err := l.client.Delete(ctx, l.conn, r); err != nil {
		t.Fatalf("delete on the platform: %v", err)
	}
	own = own.plus(l.own.remove)
	took = mustWaitFor(ctx, t, "item gone from Wix", func() (bool, error) {
		_, err := wixItem(s, l.gallery, wixID)
		return errors.Is(err, errNoItem), nil
	})
	want = want.plus(counts{"DeleteGalleryItem": 1})
	check("delete", took, "Wix item "+wixID+" gone")

	pause(ctx, t, settle)
	got, wix := l.writes().since(platformStart), wixWrites(s).since(wixStart)
	t.Logf("settled: Wix writes %s (want %s); platform writes %s (the client's own: %s)", wix, want, got, own)
	if !wix.equal(want) {
		t.Errorf("Wix writes after settling %s, want %s: a duplicate or late write", wix, want)
	}
	if !got.equal(own) {
		t.Errorf("platform writes %s, the client made %s: the system wrote to the platform (an echo)", got, own)
	}
}
