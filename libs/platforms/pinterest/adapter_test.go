package pinterest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/pinterest"
)

func TestHashes(t *testing.T) {
	t.Parallel()
	a := pinterest.New()
	base := sampleContent("a")
	tests := []struct {
		name            string
		change          func(c *platforms.Content)
		album           string
		fingerprintSame bool
		expectSame      bool
	}{
		{name: "nothing", change: func(*platforms.Content) {}, fingerprintSame: true, expectSame: true},
		{name: "sort order", change: func(c *platforms.Content) { c.SortOrder = 9 }, fingerprintSame: true, expectSame: true},
		{name: "mime type", change: func(c *platforms.Content) { c.MimeType = "image/jpeg" }, fingerprintSame: true, expectSame: true},
		{name: "space around the title", change: func(c *platforms.Content) { c.Title = "  " + c.Title + "\n" }, fingerprintSame: true, expectSame: true},
		{name: "a link pinterest cannot take", change: func(c *platforms.Content) { c.LinkURL = "mailto:x@example.com" },
			expectSame: false},
		{name: "media", change: func(c *platforms.Content) { c.MediaURL += "?v=2" }, expectSame: true},
		{name: "board", change: func(*platforms.Content) {}, album: "other", expectSame: true},
		{name: "title", change: func(c *platforms.Content) { c.Title = "b" }},
		{name: "description", change: func(c *platforms.Content) { c.Description = "" }},
		{name: "link", change: func(c *platforms.Content) { c.LinkURL = "https://example.com/b" }},
		{name: "alt text", change: func(c *platforms.Content) { c.AltText = "b" }},
		{name: "title past the limit", change: func(c *platforms.Content) { c.Title = strings.Repeat("x", 200) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := base
			tc.change(&c)
			album := "board"
			if tc.album != "" {
				album = tc.album
			}
			if got := a.Fingerprint("board", base) == a.Fingerprint(album, c); got != tc.fingerprintSame {
				t.Fatalf("Fingerprint unchanged = %v, want %v", got, tc.fingerprintSame)
			}
			if got := a.Expect("board", base) == a.Expect(album, c); got != tc.expectSame {
				t.Fatalf("Expect unchanged = %v, want %v", got, tc.expectSame)
			}
		})
	}
	// Text past Pinterest's limits is cut the same way whatever follows.
	long1, long2 := base, base
	long1.Title, long2.Title = strings.Repeat("x", 150)+"1", strings.Repeat("x", 150)+"2"
	if a.Expect("board", long1) != a.Expect("board", long2) {
		t.Fatal("Expect of two titles equal in their first 100 characters differs")
	}
}

func TestLimitsFollowTheAccessTier(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tier pinterest.AccessTier
		want platforms.Limit
	}{
		{tier: pinterest.TierStandard, want: platforms.Limit{Name: "all", Requests: 100, Period: time.Second}},
		{tier: pinterest.TierTrial, want: platforms.Limit{Name: "all", Requests: 1000, Period: 24 * time.Hour}},
	}
	for _, tc := range tests {
		got := pinterest.New(pinterest.WithAccessTier(tc.tier)).Limits()
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("tier %s: Limits = %+v, want %+v", tc.tier, got, tc.want)
		}
	}
	caps := pinterest.New().Capabilities()
	if !caps.Albums || !caps.EditCaption || caps.EditMedia || caps.Reorder || caps.IdempotentCreate ||
		caps.Detection != platforms.DetectPoll || caps.MaxMediaBytes != 20<<20 {
		t.Fatalf("Capabilities = %+v", caps)
	}
}

func TestCreateRefusesWhatItCannotMake(t *testing.T) {
	t.Parallel()
	f := startFake(t)
	a := newAdapter()
	ctx := context.Background()
	board := f.addBoard("B", "2025-01-01T00:00:00Z")
	if _, err := a.Create(ctx, f.conn(), board, sampleContent("a"), ""); !errors.Is(err, platforms.ErrPermanent) {
		t.Fatalf("Create without a key = %v, want ErrPermanent", err)
	}
	if _, err := a.Create(ctx, f.conn(), " ", sampleContent("a"), "k"); !errors.Is(err, platforms.ErrPermanent) {
		t.Fatalf("Create without a board = %v, want ErrPermanent", err)
	}
	_, err := a.Create(ctx, f.conn(), "424242", sampleContent("a"), "k")
	if !errors.Is(err, platforms.ErrPermanent) || errors.Is(err, platforms.ErrNotFound) {
		t.Fatalf("Create on a missing board = %v, want ErrPermanent (the item itself is not gone)", err)
	}
	if _, err := a.EnsureAlbum(ctx, f.conn(), " \t"); !errors.Is(err, platforms.ErrPermanent) {
		t.Fatalf("EnsureAlbum of a blank name = %v, want ErrPermanent", err)
	}
}

func TestCreateLooksThroughTheConfiguredNumberOfPins(t *testing.T) {
	t.Parallel()
	f := startFake(t)
	ctx := context.Background()
	board := f.addBoard("B", "2025-01-01T00:00:00Z")
	lost, err := newAdapter().Create(ctx, f.conn(), board, sampleContent("lost"), "key-lost")
	if err != nil {
		t.Fatal(err)
	}
	// Three pins made after it push it off a page of three.
	for _, n := range []string{"x", "y", "z"} {
		f.addPin(fakePin{BoardID: board, Title: n, Media: "https://media.example.com/" + n})
	}
	r, err := newAdapter(pinterest.WithDuplicateScan(10)).Create(ctx, f.conn(), board, sampleContent("lost"), "key-lost")
	if err != nil || r.ID != lost.ID {
		t.Fatalf("Create scanning 10 pins = %+v, %v; want the first pin %s", r, err, lost.ID)
	}
	r, err = newAdapter(pinterest.WithDuplicateScan(3)).Create(ctx, f.conn(), board, sampleContent("lost"), "key-lost")
	if err != nil || r.ID == lost.ID {
		t.Fatalf("Create scanning 3 pins = %+v, %v; want a new pin (the first is out of reach)", r, err)
	}
}

func TestUpdateWhenPatchIsClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name      string
		status    int
		pinExists bool
		want      error
	}{
		{name: "403", status: http.StatusForbidden, pinExists: true, want: pinterest.ErrEditNotAvailable},
		{name: "404 for a pin that exists", status: http.StatusNotFound, pinExists: true, want: pinterest.ErrEditNotAvailable},
		{name: "404 for a pin that is gone", status: http.StatusNotFound, want: platforms.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := startFake(t)
			board := f.addBoard("B", "2025-01-01T00:00:00Z")
			id := "999"
			if tc.pinExists {
				id = f.addPin(fakePin{BoardID: board, Title: "Old", Media: "https://media.example.com/a.png"})
			}
			f.setInject(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodPatch {
					return false
				}
				apiError(w, tc.status, 29, "You are not permitted to access that resource.")
				return true
			})
			r := platforms.Remote{ID: id, Attrs: map[string]string{pinterest.AttrMediaURL: "https://media.example.com/a.png"}}
			c := sampleContent("a")
			c.MediaURL = "https://media.example.com/a.png"
			_, err := newAdapter().Update(ctx, f.conn(), board, r, c)
			if !errors.Is(err, tc.want) || platforms.IsRetryable(err) {
				t.Fatalf("Update = %v, want %v", err, tc.want)
			}
			if errors.Is(tc.want, pinterest.ErrEditNotAvailable) && !errors.Is(err, platforms.ErrPermanent) {
				t.Fatalf("Update = %v, want it permanent", err)
			}
		})
	}
}

func TestUpdateOfAPinMadeOnPinterestKeepsItsImage(t *testing.T) {
	t.Parallel()
	f := startFake(t)
	ctx := context.Background()
	board := f.addBoard("B", "2025-01-01T00:00:00Z")
	id := f.addPin(fakePin{BoardID: board, Title: "Theirs", Media: "https://i.pinimg.example/originals/x.jpg"})
	// The mapping knows no source for it: its image came from Pinterest.
	c := sampleContent("Renamed")
	r, err := newAdapter().Update(ctx, f.conn(), board, platforms.Remote{ID: id}, c)
	if err != nil || r.ID != id {
		t.Fatalf("Update = %+v, %v; want the same pin", r, err)
	}
	p, _ := f.pin(id)
	if p.Title != "Renamed" || r.Attrs[pinterest.AttrMediaURL] != c.MediaURL || f.count("POST /pins") != 0 {
		t.Fatalf("pin %+v, attrs %v, %d creates", p, r.Attrs, f.count("POST /pins"))
	}
}

func TestUpdateMovesThePinToItsBoard(t *testing.T) {
	t.Parallel()
	f := startFake(t)
	ctx := context.Background()
	from, to := f.addBoard("From", "2025-01-01T00:00:00Z"), f.addBoard("To", "2025-01-01T00:00:00Z")
	a := newAdapter()
	c := sampleContent("a")
	r, err := a.Create(ctx, f.conn(), from, c, "k")
	if err != nil {
		t.Fatal(err)
	}
	if r, err = a.Update(ctx, f.conn(), to, r, c); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.pin(r.ID); p.BoardID != to || r.Attrs[pinterest.AttrBoardID] != to {
		t.Fatalf("pin on board %s, attrs %v; want %s", p.BoardID, r.Attrs, to)
	}
}

// A retried create finds the first attempt's Pin with older text; without
// PATCH it makes the Pin again with the new text instead.
func TestReplayedCreateWithoutPatchMakesThePinAgain(t *testing.T) {
	t.Parallel()
	f := startFake(t)
	ctx := context.Background()
	board := f.addBoard("B", "2025-01-01T00:00:00Z")
	first, err := newAdapter().Create(ctx, f.conn(), board, sampleContent("Draft"), "key-1")
	if err != nil {
		t.Fatal(err)
	}
	f.setInject(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPatch {
			return false
		}
		apiError(w, http.StatusForbidden, 29, "You are not permitted to access that resource.")
		return true
	})
	c := sampleContent("Final")
	r, err := newAdapter().Create(ctx, f.conn(), board, c, "key-1")
	if err != nil {
		t.Fatalf("retried Create: %v", err)
	}
	if _, ok := f.pin(first.ID); ok || r.ID == first.ID {
		t.Fatalf("first pin %s still there (retry returned %s)", first.ID, r.ID)
	}
	if p, ok := f.pin(r.ID); !ok || p.Title != "Final" || r.Hash != newAdapter().Expect(board, c) {
		t.Fatalf("new pin %+v, hash %s", p, r.Hash)
	}
}
