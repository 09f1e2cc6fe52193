package atproto

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"gallerysync.dev/libs/platforms"
)

// entry is one item of an album as the PDS holds it.
type entry struct {
	photoRkey, photoCID string
	photo               photoRecord
	itemRkey, itemCID   string
	item                itemRecord
}

// albums maps album → photo record key → entry.
type albums map[string]map[string]entry

// snapshot lists the account's gallery items and photos and joins them,
// for the albums asked. A gallery item whose photo is gone, or lives in
// another repository, is left out (Grain shows nothing for it either).
func (a *Adapter) snapshot(ctx context.Context, s *session, want []string) (albums, error) {
	items, err := s.listRecords(ctx, CollectionGalleryItem)
	if err != nil {
		return nil, err
	}
	photos, err := s.listRecords(ctx, CollectionPhoto)
	if err != nil {
		return nil, err
	}
	did, handle := s.identity()
	out := albums{}
	for _, al := range want {
		out[al] = map[string]entry{}
	}
	byRkey := map[string]record{}
	for _, p := range photos {
		if u, err := parseATURI(p.URI); err == nil {
			byRkey[u.rkey] = p
		}
	}
	for _, rec := range items {
		var it itemRecord
		if json.Unmarshal(rec.Value, &it) != nil {
			continue
		}
		g, err := parseATURI(it.Gallery)
		if err != nil || g.collection != CollectionGallery || !g.names(did, handle, CollectionGallery, g.rkey) {
			continue
		}
		byPhoto, ok := out[g.rkey]
		if !ok {
			continue
		}
		p, err := parseATURI(it.Item)
		if err != nil || !p.names(did, handle, CollectionPhoto, p.rkey) {
			continue
		}
		prec, ok := byRkey[p.rkey]
		if !ok {
			continue
		}
		var photo photoRecord
		if json.Unmarshal(prec.Value, &photo) != nil {
			continue
		}
		self, err := parseATURI(rec.URI)
		if err != nil {
			continue
		}
		e := entry{photoRkey: p.rkey, photoCID: prec.CID, photo: photo, itemRkey: self.rkey, itemCID: rec.CID, item: it}
		if prev, dup := byPhoto[p.rkey]; dup && prev.itemRkey < e.itemRkey {
			continue // one photo twice in a gallery: the first item counts
		}
		byPhoto[p.rkey] = e
	}
	return out, nil
}

// observed is an entry as a watcher reports it.
func (s *session) observed(album string, e entry, at time.Time) platforms.Observed {
	st := state{
		photoRkey: e.photoRkey, photoCID: e.photoCID, itemRkey: e.itemRkey, itemCID: e.itemCID, album: album,
		blob: e.photo.Photo, aspect: e.photo.AspectRatio, position: e.item.Position, createdAt: e.photo.CreatedAt,
		mediaURL: s.blobURL(e.photo.Photo.CID), photoHash: e.photo.hash(),
	}
	t := e.photo.text()
	return platforms.Observed{
		Remote: platforms.Remote{ID: e.photoRkey, Attrs: st.attrs(), Hash: observedHash(t, e.item.Position, e.photo.Photo.CID != "")},
		Album:  album,
		Content: platforms.Content{
			Title: t.title, Description: t.description, LinkURL: t.link, AltText: t.alt,
			MediaURL: st.mediaURL, MimeType: e.photo.Photo.MimeType, SortOrder: sortOrder(e.item.Position),
		},
		Permalink: s.recordURI(CollectionPhoto, e.photoRkey),
		UpdatedAt: at,
	}
}

// sorted is an album's entries by position, then photo key.
func sorted(byPhoto map[string]entry) []entry {
	out := make([]entry, 0, len(byPhoto))
	for _, e := range byPhoto {
		out = append(out, e)
	}
	slices.SortFunc(out, func(x, y entry) int {
		return cmp.Or(cmp.Compare(x.item.Position, y.item.Position), cmp.Compare(x.photoRkey, y.photoRkey))
	})
	return out
}

// List implements platforms.Lister: the album's items by position.
// UpdatedAt is the photo's createdAt (records carry no edit time).
func (a *Adapter) List(ctx context.Context, conn platforms.Connection, album string) ([]platforms.Observed, error) {
	if err := checkRkey(album); err != nil {
		return nil, err
	}
	s, err := a.session(ctx, conn)
	if err != nil {
		return nil, err
	}
	rev, err := s.latestRev(ctx)
	if err != nil {
		return nil, err
	}
	snap, _, err := a.consistentSnapshot(ctx, s, []string{album}, rev)
	if err != nil {
		return nil, err
	}
	if snap == nil {
		return nil, &platforms.TransientError{Err: errors.New("list: the repository kept changing while it was read")}
	}
	var out []platforms.Observed
	for _, e := range sorted(snap[album]) {
		at, err := time.Parse(time.RFC3339Nano, e.photo.CreatedAt)
		if err != nil {
			at = a.now()
		}
		out = append(out, s.observed(album, e, at.UTC()))
	}
	return out, nil
}

// Watch implements platforms.Watcher by polling. Every poll interval it
// asks for the repository's latest revision (getLatestCommit), and when
// that changed it lists the account's gallery items and photos and compares
// the albums with the previous listing it holds: new items and items whose
// Observed.Hash or image changed are reported, and items gone from an album
// are reported Deleted. UpdatedAt is the time of the poll that found the
// change.
//
// The cursor is the repository revision of the last listing reported.
// Starting with "" (or with the current revision) takes the albums as they
// are, reporting nothing; starting with an older revision reports every
// item the albums hold, since what changed in between cannot be told from
// a listing (deletions then come from the mapping's comparison with List).
// Each change carries the revision of the poll that found it only on the
// last of that poll's changes; the ones before carry the previous cursor,
// so a crash between two changes never skips one.
//
// A failed poll is retried with a growing pause (a 429 waits for its
// reset). Watch returns when ctx ends, when emit fails (with its error) or
// when the PDS refuses the connection for good (platforms.ErrPermanent).
func (a *Adapter) Watch(ctx context.Context, conn platforms.Connection, want []string, cursor string,
	emit func(ctx context.Context, o platforms.Observed, cursor string) error) error {
	w := &watch{a: a, conn: conn, want: want, cursor: cursor, emit: emit}
	for attempt := 0; ; attempt++ {
		err := w.poll(ctx)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, new(*emitError)):
			return err
		case errors.Is(err, platforms.ErrPermanent):
			return err
		}
		pause := a.pollInterval
		if err == nil {
			attempt = -1
		} else {
			pause = backoff(attempt, a.pollInterval)
			var rl *platforms.RateLimitError
			if errors.As(err, &rl) {
				pause = max(pause, time.Until(rl.Reset))
			}
			a.log.Warn("atproto poll failed; retrying", slog.String("connection", conn.ID),
				slog.Duration("pause", pause), slog.Any("error", err))
		}
		if err := sleep(ctx, pause); err != nil {
			return err
		}
	}
}

// watch is the state of one Watch call.
type watch struct {
	a      *Adapter
	conn   platforms.Connection
	want   []string
	cursor string
	emit   func(ctx context.Context, o platforms.Observed, cursor string) error
	// last is the listing of the previous poll (nil before the first).
	last albums
	rev  string
}

// snapshotTries bounds how often a listing is taken again because the
// repository moved while it was read.
const snapshotTries = 3

// consistentSnapshot lists the albums as of one repository revision. Gallery
// items and photos are two listings; a commit landing between them would
// join a new photo with an old item (or the reverse), a state nobody wrote,
// which would then be reported as a change. So the revision is read again
// after the listings and the listing is taken again when it moved. It
// returns nil (and no error) when the repository kept moving: the next poll
// tries again.
func (a *Adapter) consistentSnapshot(ctx context.Context, s *session, want []string, rev string) (albums, string, error) {
	for range snapshotTries {
		snap, err := a.snapshot(ctx, s, want)
		if err != nil {
			return nil, "", err
		}
		after, err := s.latestRev(ctx)
		if err != nil {
			return nil, "", err
		}
		if after == rev {
			return snap, rev, nil
		}
		rev = after
	}
	return nil, "", nil
}

// poll reports what changed since the previous poll.
func (w *watch) poll(ctx context.Context) error {
	s, err := w.a.session(ctx, w.conn)
	if err != nil {
		return err
	}
	rev, err := s.latestRev(ctx)
	if err != nil {
		return err
	}
	if w.last != nil && rev == w.rev {
		return nil
	}
	snap, rev, err := w.a.consistentSnapshot(ctx, s, w.want, rev)
	if err != nil || snap == nil {
		return err
	}
	now := w.a.now().UTC()
	var changes []platforms.Observed
	switch {
	case w.last == nil && (w.cursor == "" || w.cursor == rev):
	case w.last == nil:
		for _, al := range w.want {
			for _, e := range sorted(snap[al]) {
				changes = append(changes, s.observed(al, e, now))
			}
		}
	default:
		changes = diff(s, w.want, w.last, snap, now)
	}
	w.last, w.rev = snap, rev
	prev := w.cursor
	w.cursor = rev
	for i, o := range changes {
		c := prev
		if i == len(changes)-1 {
			c = rev
		}
		if err := w.emit(ctx, o, c); err != nil {
			return &emitError{err: err}
		}
	}
	return nil
}

// diff is what changed between two listings, album by album: new and
// changed items by position, then deletions.
func diff(s *session, want []string, old, cur albums, now time.Time) []platforms.Observed {
	var out []platforms.Observed
	for _, al := range want {
		before := old[al]
		for _, e := range sorted(cur[al]) {
			o := s.observed(al, e, now)
			if p, ok := before[e.photoRkey]; ok && s.observed(al, p, now).Hash == o.Hash && p.photo.Photo.CID == e.photo.Photo.CID {
				continue
			}
			out = append(out, o)
		}
		for _, e := range sorted(before) {
			if _, ok := cur[al][e.photoRkey]; !ok {
				out = append(out, platforms.Observed{Remote: platforms.Remote{ID: e.photoRkey}, Album: al, Deleted: true, UpdatedAt: now})
			}
		}
	}
	return out
}

// emitError is an error of the caller's emit, which ends Watch.
type emitError struct{ err error }

// Error implements error.
func (e *emitError) Error() string { return "emit: " + e.err.Error() }

// Unwrap returns the caller's error.
func (e *emitError) Unwrap() error { return e.err }

// backoff is the pause before retry attempt n: doubling from base up to
// 20 times base, with up to a quarter of jitter.
func backoff(n int, base time.Duration) time.Duration {
	d := base
	for i := 0; i < n && d < 20*base; i++ {
		d *= 2
	}
	d = min(d, 20*base)
	return d - time.Duration(rand.Int64N(int64(d)/4+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
