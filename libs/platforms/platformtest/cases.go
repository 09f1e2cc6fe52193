package platformtest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/libs/platforms"
)

func (s *suite) contract(t *testing.T) {
	a := s.env.Adapter
	if a.Name() == "" {
		t.Fatal("Name is empty")
	}
	limits := a.Limits()
	if len(limits) == 0 {
		t.Fatal("Limits is empty: writers could not pace themselves")
	}
	for _, l := range limits {
		if l.Name == "" || l.Requests <= 0 || l.Period <= 0 {
			t.Fatalf("limit %+v: needs a name, requests and a period", l)
		}
	}
	caps := a.Capabilities()
	if _, ok := a.(platforms.Reorderer); caps.Reorder != ok {
		t.Fatalf("Capabilities.Reorder is %v but the adapter is a Reorderer: %v", caps.Reorder, ok)
	}
	if _, ok := a.(platforms.Watcher); caps.Detection != "" && !ok {
		t.Fatalf("Capabilities.Detection is %q but the adapter is no Watcher", caps.Detection)
	}
	c := platforms.Content{Title: "t", MediaURL: "https://example.com/a.png", SortOrder: 1}
	if a.Fingerprint("x", c) == a.Fingerprint("y", c) {
		t.Fatal("Fingerprint ignores the album")
	}
	d := c
	d.Title = "u"
	if a.Fingerprint("x", c) == a.Fingerprint("x", d) || a.Expect("x", c) == a.Expect("x", d) && a.Expect("x", c) != "" {
		t.Fatal("Fingerprint or Expect ignores the title")
	}
}

func (s *suite) createShows(t *testing.T) {
	album := s.album(t)
	c := s.content(t, "create", 1)
	r := s.create(t, album, c)
	it := s.only(t, album)
	if it.ID != r.ID {
		t.Fatalf("platform shows item %q, Create returned %q", it.ID, r.ID)
	}
	s.checkShows(t, it, c)
	if it.Media == "" || !strings.HasPrefix(it.MediaType, "image/") {
		t.Fatalf("stored media %q of type %q, want an image", it.Media, it.MediaType)
	}
}

func (s *suite) idempotent(t *testing.T) {
	album := s.album(t)
	c := s.content(t, "first", 1)
	k := key(t, "idempotent")
	r1, err := s.env.Adapter.Create(ctxFor(t), s.env.Conn, album, c, k)
	if err != nil {
		t.Fatalf("first Create: %v", err)
	}
	// A retry after a crash, with the content edited meanwhile.
	c2 := s.content(t, "second", 2)
	r2, err := s.env.Adapter.Create(ctxFor(t), s.env.Conn, album, c2, k)
	if err != nil {
		t.Fatalf("Create again with the same key: %v", err)
	}
	if r2.ID != r1.ID {
		t.Fatalf("same key made %q and %q", r1.ID, r2.ID)
	}
	it := s.only(t, album)
	if !s.env.Adapter.Capabilities().EditCaption {
		return
	}
	s.checkShows(t, it, c2)
	s.checkHash(t, "Create again", album, c2, r2)
	// Without media, Create only finds what the key made.
	r3, err := s.env.Adapter.Create(ctxFor(t), s.env.Conn, album, platforms.Content{}, k)
	if err != nil {
		t.Fatalf("Create without media, same key: %v", err)
	}
	if r3.ID != r1.ID {
		t.Fatalf("Create without media returned %q, want %q", r3.ID, r1.ID)
	}
	s.only(t, album)
}

func (s *suite) updateText(t *testing.T) {
	if !s.env.Adapter.Capabilities().EditCaption {
		t.Skip("the platform cannot edit captions")
	}
	album := s.album(t)
	c := s.content(t, "before", 1)
	r := s.create(t, album, c)
	before := s.only(t, album)
	c2 := c
	c2.Title, c2.Description, c2.AltText, c2.LinkURL = "New title", "", "New alt", "https://example.com/new"
	r2, err := s.env.Adapter.Update(ctxFor(t), s.env.Conn, album, r, c2)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	s.checkHash(t, "Update", album, c2, r2)
	if r2.Hash == r.Hash && r.Hash != "" {
		t.Fatal("Update of the text left Remote.Hash unchanged")
	}
	it := s.only(t, album)
	s.checkShows(t, it, c2)
	if it.Media != before.Media {
		t.Fatalf("a text update changed the media from %q to %q", before.Media, it.Media)
	}
}

func (s *suite) updateMedia(t *testing.T) {
	if !s.env.Adapter.Capabilities().EditMedia {
		t.Skip("the platform cannot replace media")
	}
	album := s.album(t)
	c := s.content(t, "old image", 1)
	r := s.create(t, album, c)
	before := s.only(t, album)
	c2 := c
	c2.MediaURL = s.env.Serve(t, solidPNG(t, "new image"), "image/png")
	r2, err := s.env.Adapter.Update(ctxFor(t), s.env.Conn, album, r, c2)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	it := s.only(t, album)
	if it.ID != r2.ID || it.Media == before.Media {
		t.Fatalf("after a media update the platform shows %q with media %q (was %q)", it.ID, it.Media, before.Media)
	}
	s.checkShows(t, it, c2)
}

// updateStale: an update from a Remote that predates another write (the
// platform's optimistic concurrency refuses it at first) still lands.
func (s *suite) updateStale(t *testing.T) {
	if !s.env.Adapter.Capabilities().EditCaption {
		t.Skip("the platform cannot edit captions")
	}
	album := s.album(t)
	c := s.content(t, "stale", 1)
	r := s.create(t, album, c)
	c2, c3 := c, c
	c2.Title, c3.Title = "Second", "Third"
	if _, err := s.env.Adapter.Update(ctxFor(t), s.env.Conn, album, r, c2); err != nil {
		t.Fatalf("first Update: %v", err)
	}
	r3, err := s.env.Adapter.Update(ctxFor(t), s.env.Conn, album, r, c3)
	if err != nil {
		t.Fatalf("Update from the stale Remote: %v", err)
	}
	s.checkHash(t, "Update", album, c3, r3)
	s.checkShows(t, s.only(t, album), c3)
}

func (s *suite) delete(t *testing.T) {
	album := s.album(t)
	keep := s.create(t, album, s.content(t, "keep", 1))
	c := s.content(t, "doomed", 2)
	r := s.create(t, album, c)
	if err := s.env.Adapter.Delete(ctxFor(t), s.env.Conn, r); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got := ids(s.read(t, album)); !slices.Equal(got, []string{keep.ID}) {
		t.Fatalf("after Delete the album holds %q, want only %q", got, keep.ID)
	}
	if err := s.env.Adapter.Delete(ctxFor(t), s.env.Conn, r); err != nil {
		t.Fatalf("Delete of an item already gone: %v", err)
	}
	if _, err := s.env.Adapter.Update(ctxFor(t), s.env.Conn, album, r, c); !errors.Is(err, platforms.ErrNotFound) {
		t.Fatalf("Update of a deleted item: %v, want ErrNotFound", err)
	}
}

func (s *suite) notFound(t *testing.T) {
	album := s.album(t)
	ghost := platforms.Remote{ID: "2222222222222"}
	_, err := s.env.Adapter.Update(ctxFor(t), s.env.Conn, album, ghost, s.content(t, "ghost", 1))
	if !errors.Is(err, platforms.ErrNotFound) || platforms.IsRetryable(err) {
		t.Fatalf("Update of an item that never existed: %v, want ErrNotFound", err)
	}
	if err := s.env.Adapter.Delete(ctxFor(t), s.env.Conn, ghost); err != nil {
		t.Fatalf("Delete of an item that never existed: %v", err)
	}
	if n := len(s.read(t, album)); n != 0 {
		t.Fatalf("album holds %d items after calls on missing ones", n)
	}
}

func (s *suite) downscale(t *testing.T) {
	limit := s.env.Adapter.Capabilities().MaxMediaBytes
	if limit <= 0 {
		t.Skip("the platform names no media size limit")
	}
	big := noisePNG(t, 1200, 900)
	if int64(len(big)) <= limit {
		t.Fatalf("test image of %d bytes is not above the limit %d", len(big), limit)
	}
	album := s.album(t)
	c := s.content(t, "large", 1)
	c.MediaURL = s.env.Serve(t, big, "image/png")
	s.create(t, album, c)
	it := s.only(t, album)
	if it.MediaBytes <= 0 || it.MediaBytes > limit || !strings.HasPrefix(it.MediaType, "image/") {
		t.Fatalf("stored media is %d bytes of %q, want an image of at most %d bytes", it.MediaBytes, it.MediaType, limit)
	}
}

func (s *suite) reorder(t *testing.T) {
	ro, ok := s.env.Adapter.(platforms.Reorderer)
	if !ok {
		t.Skip("the adapter does not reorder")
	}
	album := s.album(t)
	var rs []platforms.Remote
	for i, name := range []string{"a", "b", "c"} {
		rs = append(rs, s.create(t, album, s.content(t, name, float64(i+1))))
	}
	if got := ids(bySortOrder(s.read(t, album))); !slices.Equal(got, []string{rs[0].ID, rs[1].ID, rs[2].ID}) {
		t.Fatalf("created in order a, b, c; platform shows %q", got)
	}
	want := []platforms.Remote{rs[2], rs[0], rs[1]}
	if err := ro.Reorder(ctxFor(t), s.env.Conn, album, want); err != nil {
		t.Fatalf("Reorder: %v", err)
	}
	if got := ids(bySortOrder(s.read(t, album))); !slices.Equal(got, []string{rs[2].ID, rs[0].ID, rs[1].ID}) {
		t.Fatalf("after Reorder(c, a, b) the platform shows %q", got)
	}
	// Asking for the order there is changes nothing.
	before := s.read(t, album)
	if err := ro.Reorder(ctxFor(t), s.env.Conn, album, want); err != nil {
		t.Fatalf("Reorder again: %v", err)
	}
	if after := s.read(t, album); !slices.Equal(ids(bySortOrder(after)), ids(bySortOrder(before))) {
		t.Fatalf("a second identical Reorder changed the order to %q", ids(bySortOrder(after)))
	}
}

func (s *suite) albums(t *testing.T) {
	am, ok := s.env.Adapter.(platforms.AlbumMaker)
	if !ok {
		t.Skip("the adapter makes no albums")
	}
	ctx := ctxFor(t)
	a1, err := am.EnsureAlbum(ctx, s.env.Conn, "Holidays "+t.Name())
	if err != nil {
		t.Fatalf("EnsureAlbum: %v", err)
	}
	a2, err := am.EnsureAlbum(ctx, s.env.Conn, "Holidays "+t.Name())
	if err != nil {
		t.Fatalf("EnsureAlbum again: %v", err)
	}
	b, err := am.EnsureAlbum(ctx, s.env.Conn, "Work "+t.Name())
	if err != nil {
		t.Fatalf("EnsureAlbum other: %v", err)
	}
	if a1 == "" || a1 != a2 || b == a1 {
		t.Fatalf("EnsureAlbum gave %q, %q for one name and %q for another", a1, a2, b)
	}
	if _, err := am.EnsureAlbum(ctx, s.env.Conn, "  "); !errors.Is(err, platforms.ErrPermanent) {
		t.Fatalf("EnsureAlbum of a blank name: %v, want ErrPermanent", err)
	}
	// Items of one album do not show in the other.
	s.create(t, a1, s.content(t, "in a", 1))
	if n := len(s.read(t, b)); n != 0 {
		t.Fatalf("album %q holds %d items of another album", b, n)
	}
}

func (s *suite) list(t *testing.T) {
	l, ok := s.env.Adapter.(platforms.Lister)
	if !ok {
		t.Skip("the adapter does not list")
	}
	album := s.album(t)
	want := map[string]string{}
	for i, name := range []string{"one", "two"} {
		r := s.create(t, album, s.content(t, name, float64(i+1)))
		want[r.ID] = r.Hash
	}
	got, err := l.List(ctxFor(t), s.env.Conn, album)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("List returned %d items, want %d", len(got), len(want))
	}
	for _, o := range got {
		h, ok := want[o.ID]
		if !ok || o.Deleted || o.Album != album {
			t.Fatalf("List returned %+v, not one of the items made", o)
		}
		if h != "" && o.Hash != h {
			t.Fatalf("List reports hash %q for %s; the write returned %q", o.Hash, o.ID, h)
		}
	}
}

func (s *suite) rateLimit(t *testing.T) {
	if s.env.Throttle == nil {
		t.Skip("the env cannot make the platform throttle")
	}
	conn := s.env.Throttle(t)
	started := time.Now()
	_, err := s.env.Adapter.Create(ctxFor(t), conn, s.album(t), s.content(t, "throttled", 1), key(t, "throttled"))
	var rl *platforms.RateLimitError
	if !errors.As(err, &rl) || !platforms.IsRetryable(err) {
		t.Fatalf("Create on a throttled account: %v, want a *platforms.RateLimitError", err)
	}
	if !rl.Reset.After(started.Add(-time.Second)) {
		t.Fatalf("rate limit resets at %s, before the call was made (%s)", rl.Reset, started)
	}
}

func (s *suite) badCredentials(t *testing.T) {
	conn := s.env.Conn
	conn.ID += "-wrong-password"
	conn.Credentials = []byte("not-the-password")
	_, err := s.env.Adapter.Create(ctxFor(t), conn, s.album(t), s.content(t, "intruder", 1), key(t, "intruder"))
	if !errors.Is(err, platforms.ErrPermanent) || platforms.IsRetryable(err) {
		t.Fatalf("Create with a wrong password: %v, want ErrPermanent", err)
	}
}

func (s *suite) expiredSession(t *testing.T) {
	if s.env.ExpireSession == nil {
		t.Skip("the env cannot expire sessions")
	}
	album := s.album(t)
	c := s.content(t, "expiring", 1)
	r := s.create(t, album, c)
	s.env.ExpireSession(t)
	c.Title = "After expiry"
	if _, err := s.env.Adapter.Update(ctxFor(t), s.env.Conn, album, r, c); err != nil {
		t.Fatalf("Update after the session expired: %v", err)
	}
	s.checkShows(t, s.only(t, album), c)
}
