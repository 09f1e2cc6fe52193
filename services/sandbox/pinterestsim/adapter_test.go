package pinterestsim_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/pinterest"
	"gallerysync.dev/services/sandbox/pinterestsim"
)

const mediaBase = "https://static.example.com/media/"

func content(title, file string) platforms.Content {
	return platforms.Content{
		Title: title, Description: "A description of " + title, LinkURL: "https://site.example.com/gallery?item=" + file,
		AltText: title + " (alt)", MediaURL: mediaBase + file, MimeType: "image/png", SortOrder: 1,
	}
}

// TestAdapterAgainstEmulator runs the Pinterest adapter against the
// emulator; the checker validates every request and answer against
// Pinterest's OpenAPI description.
func TestAdapterAgainstEmulator(t *testing.T) {
	t.Parallel()
	spec := loadContract(t)
	ctx := context.Background()

	t.Run("create makes one pin showing the content", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		boardID, err := e.adapter.EnsureAlbum(ctx, e.conn, "Holiday")
		if err != nil {
			t.Fatalf("EnsureAlbum: %v", err)
		}
		c := content("Sunset", "sunset.png")
		r, err := e.adapter.Create(ctx, e.conn, boardID, c, "key-1")
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		pins := e.pins(t, boardID)
		if len(pins) != 1 || pins[0].ID != r.ID {
			t.Fatalf("board holds %d pins, want the one created (%s)", len(pins), r.ID)
		}
		p := pins[0]
		if deref(p.Title) != c.Title || deref(p.Description) != c.Description || deref(p.AltText) != c.AltText {
			t.Fatalf("pin text = %q / %q / %q", deref(p.Title), deref(p.Description), deref(p.AltText))
		}
		if !strings.HasPrefix(deref(p.Link), c.LinkURL+"&gs_ref=") {
			t.Fatalf("pin link %q does not carry the create marker after the item's link", deref(p.Link))
		}
		if p.Media.Images["1200x"].URL != c.MediaURL || p.BoardID != boardID {
			t.Fatalf("pin media %v on board %s", p.Media.Images, p.BoardID)
		}
		if r.Hash != e.adapter.Expect(boardID, c) || r.Attrs[pinterest.AttrMediaURL] != c.MediaURL ||
			r.Attrs[pinterest.AttrBoardID] != boardID || r.Attrs[platforms.AttrFingerprint] != e.adapter.Fingerprint(boardID, c) {
			t.Fatalf("remote = %+v", r)
		}
		listed, err := e.adapter.List(ctx, e.conn, boardID)
		if err != nil || len(listed) != 1 {
			t.Fatalf("List = %d items, %v", len(listed), err)
		}
		o := listed[0]
		if o.ID != r.ID || o.Hash != r.Hash || o.Album != boardID || o.Deleted {
			t.Fatalf("listed %+v, want the pin with hash %s", o, r.Hash)
		}
		want := platforms.Content{Title: c.Title, Description: c.Description, LinkURL: c.LinkURL, AltText: c.AltText, MediaURL: c.MediaURL}
		if o.Content != want || o.Permalink != "https://www.pinterest.com/pin/"+r.ID+"/" {
			t.Fatalf("listed content %+v at %s, want %+v", o.Content, o.Permalink, want)
		}
	})

	t.Run("text is shortened to the limits pinterest documents", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		boardID := e.board(t, "Long")
		c := platforms.Content{
			Title: strings.Repeat("é", 150), Description: strings.Repeat("d", 1000), AltText: strings.Repeat("a", 600),
			LinkURL: "ftp://not-a-web-link.example.com/x", MediaURL: mediaBase + "long.png",
		}
		r, err := e.adapter.Create(ctx, e.conn, boardID, c, "key-long")
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		p := e.pins(t, boardID)[0]
		if n := len([]rune(deref(p.Title))); n != 100 {
			t.Fatalf("title has %d characters, want 100", n)
		}
		if len([]rune(deref(p.Description))) != 800 || len([]rune(deref(p.AltText))) != 500 || p.Link != nil {
			t.Fatalf("description %d, alt %d characters, link %v", len([]rune(deref(p.Description))), len([]rune(deref(p.AltText))), p.Link)
		}
		listed, err := e.adapter.List(ctx, e.conn, boardID)
		if err != nil || listed[0].Hash != r.Hash {
			t.Fatalf("listed hash differs from the written one: %v", err)
		}
	})

	t.Run("ensure album finds a board on a later page, else creates one", func(t *testing.T) {
		t.Parallel()
		// 260 boards in a moment would pass the 100 calls a second limit.
		e := newEnv(t, spec, []pinterestsim.Option{pinterestsim.WithLimits()})
		ids := map[string]string{}
		for i := range 260 {
			name := fmt.Sprintf("board %03d", i)
			ids[name] = e.board(t, name)
		}
		got, err := e.adapter.EnsureAlbum(ctx, e.conn, "board 255")
		if err != nil || got != ids["board 255"] {
			t.Fatalf("EnsureAlbum(board 255) = %q, %v; want %s", got, err, ids["board 255"])
		}
		if n := e.sim.Stats().Calls["boards/create"]; n != 260 {
			t.Fatalf("%d boards created, want only the 260 of the test", n)
		}
		made, err := e.adapter.EnsureAlbum(ctx, e.conn, "  Brand new  ")
		if err != nil {
			t.Fatalf("EnsureAlbum(Brand new): %v", err)
		}
		again, err := e.adapter.EnsureAlbum(ctx, e.conn, "Brand new")
		if err != nil || again != made {
			t.Fatalf("second EnsureAlbum = %q, %v; want %s", again, err, made)
		}
		var b pinterestsim.Board
		e.must(t, http.StatusOK, http.MethodGet, "/v5/boards/"+made, aliceToken, nil, &b)
		if b.Name != "Brand new" || e.sim.Stats().Calls["boards/create"] != 261 {
			t.Fatalf("board %q; %d creates", b.Name, e.sim.Stats().Calls["boards/create"])
		}
	})

	t.Run("update edits the pin's text in place", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		boardID := e.board(t, "Edits")
		r, err := e.adapter.Create(ctx, e.conn, boardID, content("Before", "a.png"), "key-edit")
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		c := content("After", "a.png")
		c.LinkURL, c.Description = "", ""
		up, err := e.adapter.Update(ctx, e.conn, boardID, r, c)
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		pins := e.pins(t, boardID)
		if up.ID != r.ID || len(pins) != 1 {
			t.Fatalf("update made pin %s (was %s); board has %d pins", up.ID, r.ID, len(pins))
		}
		p := pins[0]
		if deref(p.Title) != "After" || p.Description != nil || p.Link != nil || deref(p.AltText) != "After (alt)" {
			t.Fatalf("pin after update: title %q, description %v, link %v", deref(p.Title), p.Description, p.Link)
		}
		if up.Hash != e.adapter.Expect(boardID, c) {
			t.Fatal("Remote.Hash of the update is not Expect of its content")
		}
		if n := e.sim.Stats().Calls["pins/update"]; n != 1 {
			t.Fatalf("%d PATCH calls, want 1", n)
		}
	})

	t.Run("new media replaces the pin, also when the first try lost its answer", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		boardID := e.board(t, "Media")
		old, err := e.adapter.Create(ctx, e.conn, boardID, content("Photo", "v1.png"), "key-media")
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		c := content("Photo", "v2.png")
		e.faults.set(loseOnce(http.MethodPost, "/v5/pins"))
		if _, err := e.adapter.Update(ctx, e.conn, boardID, old, c); !platforms.IsRetryable(err) {
			t.Fatalf("Update with a lost answer = %v, want a retryable error", err)
		}
		up, err := e.adapter.Update(ctx, e.conn, boardID, old, c)
		if err != nil {
			t.Fatalf("retried Update: %v", err)
		}
		pins := e.pins(t, boardID)
		if len(pins) != 1 || pins[0].ID != up.ID || up.ID == old.ID {
			t.Fatalf("board has %d pins, update returned %s (old %s)", len(pins), up.ID, old.ID)
		}
		if pins[0].Media.Images["600x"].URL != c.MediaURL || up.Attrs[pinterest.AttrMediaURL] != c.MediaURL {
			t.Fatalf("new pin media %v, attrs %v", pins[0].Media.Images, up.Attrs)
		}
		if r := e.call(t, http.MethodGet, "/v5/pins/"+old.ID, aliceToken, nil); r.code != http.StatusNotFound {
			t.Fatalf("old pin answers %d, want 404", r.code)
		}
	})

	t.Run("update refused by pinterest is permanent and named", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, []pinterestsim.Option{pinterestsim.WithPinUpdates(false)})
		boardID := e.board(t, "Locked")
		r, err := e.adapter.Create(ctx, e.conn, boardID, content("Fixed", "f.png"), "key-locked")
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		_, err = e.adapter.Update(ctx, e.conn, boardID, r, content("Changed", "f.png"))
		if !errors.Is(err, pinterest.ErrEditNotAvailable) || !errors.Is(err, platforms.ErrPermanent) || platforms.IsRetryable(err) {
			t.Fatalf("Update = %v, want ErrEditNotAvailable (permanent)", err)
		}
		if p := e.pins(t, boardID)[0]; deref(p.Title) != "Fixed" {
			t.Fatalf("title changed to %q", deref(p.Title))
		}
		// A new image needs no edit: it still works.
		up, err := e.adapter.Update(ctx, e.conn, boardID, r, content("Changed", "g.png"))
		if err != nil || up.ID == r.ID {
			t.Fatalf("media Update = %+v, %v; want a new pin", up, err)
		}
	})

	t.Run("update and delete of a pin deleted on pinterest", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		boardID := e.board(t, "Gone")
		r, err := e.adapter.Create(ctx, e.conn, boardID, content("Short-lived", "s.png"), "key-gone")
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		if err := e.adapter.Delete(ctx, e.conn, r); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if len(e.pins(t, boardID)) != 0 {
			t.Fatal("pin still on the board")
		}
		if err := e.adapter.Delete(ctx, e.conn, r); err != nil {
			t.Fatalf("second Delete: %v", err)
		}
		if _, err := e.adapter.Update(ctx, e.conn, boardID, r, content("Edited", "s.png")); !errors.Is(err, platforms.ErrNotFound) {
			t.Fatalf("Update of a deleted pin = %v, want ErrNotFound", err)
		}
	})

	t.Run("create retried after a lost answer returns the first pin", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name string
			link string
		}{
			{name: "marker in the link", link: "https://site.example.com/p/1#top"},
			{name: "marker in the colour", link: ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, spec, nil)
				boardID := e.board(t, "Retries")
				e.userPin(t, boardID, "Someone else's", mediaBase+"other.png")
				c := content("Once", "once.png")
				c.LinkURL = tc.link
				e.faults.set(loseOnce(http.MethodPost, "/v5/pins"))
				if _, err := e.adapter.Create(ctx, e.conn, boardID, c, "key-crash"); !platforms.IsRetryable(err) {
					t.Fatalf("Create with a lost answer = %v, want a retryable error", err)
				}
				first := e.pins(t, boardID)[0]
				r, err := e.adapter.Create(ctx, e.conn, boardID, c, "key-crash")
				if err != nil {
					t.Fatalf("retried Create: %v", err)
				}
				if n := len(e.pins(t, boardID)); n != 2 || r.ID != first.ID {
					t.Fatalf("board has %d pins, retry returned %s; want 2 and %s", n, r.ID, first.ID)
				}
				if r.Hash != e.adapter.Expect(boardID, c) {
					t.Fatal("replayed Remote.Hash is not Expect of the content")
				}
			})
		}
	})

	t.Run("a retry with newer content brings the first pin to it", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		boardID := e.board(t, "Newer")
		e.faults.set(loseOnce(http.MethodPost, "/v5/pins"))
		if _, err := e.adapter.Create(ctx, e.conn, boardID, content("Draft", "n.png"), "key-newer"); err == nil {
			t.Fatal("Create with a lost answer succeeded")
		}
		newer := content("Final", "n.png")
		r, err := e.adapter.Create(ctx, e.conn, boardID, newer, "key-newer")
		if err != nil {
			t.Fatalf("retried Create: %v", err)
		}
		pins := e.pins(t, boardID)
		if len(pins) != 1 || pins[0].ID != r.ID || deref(pins[0].Title) != "Final" {
			t.Fatalf("board holds %d pins, first titled %q", len(pins), deref(pins[0].Title))
		}
	})

	t.Run("distinct keys make distinct pins even with equal content", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		boardID := e.board(t, "Untitled")
		c := platforms.Content{MediaURL: mediaBase + "same.png"}
		a, errA := e.adapter.Create(ctx, e.conn, boardID, c, "key-a")
		b, errB := e.adapter.Create(ctx, e.conn, boardID, c, "key-b")
		if errA != nil || errB != nil || a.ID == b.ID || len(e.pins(t, boardID)) != 2 {
			t.Fatalf("creates: %v, %v; ids %s, %s", errA, errB, a.ID, b.ID)
		}
	})

	t.Run("create without media only reports an earlier attempt's pin", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		boardID := e.board(t, "Settle")
		r, err := e.adapter.Create(ctx, e.conn, boardID, platforms.Content{}, "key-never")
		if err != nil || r.ID != "" || len(e.pins(t, boardID)) != 0 {
			t.Fatalf("Create without media and no earlier pin = %+v, %v", r, err)
		}
		e.faults.set(loseOnce(http.MethodPost, "/v5/pins"))
		if _, err := e.adapter.Create(ctx, e.conn, boardID, content("Pending", "p.png"), "key-pending"); err == nil {
			t.Fatal("Create with a lost answer succeeded")
		}
		r, err = e.adapter.Create(ctx, e.conn, boardID, platforms.Content{}, "key-pending")
		if err != nil || r.ID == "" {
			t.Fatalf("settling Create = %+v, %v; want the pending pin", r, err)
		}
		if err := e.adapter.Delete(ctx, e.conn, r); err != nil || len(e.pins(t, boardID)) != 0 {
			t.Fatalf("Delete of the settled pin: %v", err)
		}
	})

	t.Run("429 is a rate limit error", func(t *testing.T) {
		t.Parallel()
		now := time.Now()
		e := newEnv(t, spec, []pinterestsim.Option{
			pinterestsim.WithLimits(pinterestsim.Limit{Category: pinterestsim.CategoryOrgWrite, Requests: 2, Period: time.Hour}),
		}, pinterest.WithClock(func() time.Time { return now }))
		boardID, err := e.adapter.EnsureAlbum(ctx, e.conn, "Busy") // one write
		if err != nil {
			t.Fatalf("EnsureAlbum: %v", err)
		}
		if _, err := e.adapter.Create(ctx, e.conn, boardID, content("One", "1.png"), "key-1"); err != nil {
			t.Fatalf("Create within the limit: %v", err)
		}
		_, err = e.adapter.Create(ctx, e.conn, boardID, content("Two", "2.png"), "key-2")
		var rl *platforms.RateLimitError
		if !errors.As(err, &rl) || !platforms.IsRetryable(err) {
			t.Fatalf("Create past the limit = %v, want *platforms.RateLimitError", err)
		}
		var apiErr *pinterest.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusTooManyRequests || apiErr.Code != 8 {
			t.Fatalf("error chain lacks the 429 answer: %v", err)
		}
		if !rl.Reset.After(now) {
			t.Fatalf("Reset %v is not after now", rl.Reset)
		}
		if got := e.sim.Stats().RateLimited; got != 1 {
			t.Fatalf("emulator counted %d rate limited calls, want 1", got)
		}
	})

	t.Run("a bad token is permanent", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		conn := e.conn
		conn.Credentials = []byte("not-a-token")
		_, err := e.adapter.EnsureAlbum(ctx, conn, "Anything")
		var apiErr *pinterest.APIError
		if !errors.Is(err, platforms.ErrPermanent) || !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized || apiErr.Code != 2 {
			t.Fatalf("EnsureAlbum with a bad token = %v, want a permanent 401", err)
		}
	})

	t.Run("every operation was checked against the contract", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		boardID, err := e.adapter.EnsureAlbum(ctx, e.conn, "Tour")
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.adapter.Create(ctx, e.conn, boardID, content("Tour", "t.png"), "key-tour")
		if err != nil {
			t.Fatal(err)
		}
		if r, err = e.adapter.Update(ctx, e.conn, boardID, r, content("Tour 2", "t.png")); err != nil {
			t.Fatal(err)
		}
		if err := e.adapter.Delete(ctx, e.conn, r); err != nil {
			t.Fatal(err)
		}
		e.must(t, http.StatusOK, http.MethodGet, "/v5/boards/"+boardID, aliceToken, nil, nil)
		e.call(t, http.MethodGet, "/v5/pins/"+r.ID, aliceToken, nil)
		got := e.check.answered()
		for _, op := range []string{"boards/list", "boards/create", "boards/get", "boards/list_pins", "pins/create", "pins/get", "pins/update", "pins/delete"} {
			if got[op] == 0 {
				t.Errorf("no answer of %s was checked (checked: %v)", op, got)
			}
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
