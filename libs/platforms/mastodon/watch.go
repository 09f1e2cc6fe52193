package mastodon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"gallerysync.dev/libs/platforms"
)

const (
	// streamedLongEnough is how long a stream must have stayed up for the
	// next reconnect to start again from the shortest pause.
	streamedLongEnough = time.Minute
	// maxSeen bounds the memory of which album a status belongs to.
	maxSeen = 10000
)

var _ platforms.Watcher = (*Adapter)(nil)

// Watch implements platforms.Watcher with the streaming API. It follows
// the user stream (or one hashtag stream per album, see WithStream) and
// reports the account's statuses that carry an album's hashtag: new and
// edited ones (events update and status.update) with their content and
// Observed.Hash, and deletions (event delete). A status with two album
// hashtags is reported once per album.
//
// The cursor is the id of the newest status seen. On every (re)connect the
// stream is opened first, then the statuses newer than the cursor are
// listed per hashtag (min_id paging) and reported, oldest first, then the
// stream is followed; so a status made while nobody watched is reported
// once the watcher runs again. An empty cursor starts from the account's
// newest status. Edits and deletions made while nobody watched are not in
// any stream: platforms.Lister finds those.
//
// A delete event carries only the status id: Observed.Album is the album
// the watcher saw the status in, or "" when it has not seen it (e.g. it
// was posted before this Watch began), in which case the caller must find
// the album itself (e.g. from its mapping by Observed.ID).
//
// A stream that ends, fails or stays silent (no event and no heartbeat)
// for the idle timeout is reconnected with a growing pause; a 429 waits
// for the rate limit's reset. Watch returns when ctx ends (with its
// error), when emit fails (with that error) or when the platform refuses
// the connection for good (platforms.ErrPermanent: bad token, no such
// stream).
func (a *Adapter) Watch(ctx context.Context, conn platforms.Connection, albums []string, cursor string,
	emit func(ctx context.Context, o platforms.Observed, cursor string) error) error {
	s, err := a.session(conn)
	if err != nil {
		return err
	}
	w := &watch{a: a, s: s, emit: emit, cursor: id(cursor), albums: map[string]string{}, seen: map[id]string{}}
	for _, al := range albums {
		if n := normalizeTag(al); n != "" {
			w.albums[n] = al
		}
	}
	if len(w.albums) == 0 {
		<-ctx.Done()
		return ctx.Err()
	}
	for attempt := 0; ; attempt++ {
		var err error
		if w.account == "" {
			w.account, err = a.accountID(ctx, s, conn)
		}
		if err == nil {
			started := time.Now()
			err = w.follow(ctx)
			if time.Since(started) >= streamedLongEnough {
				attempt = 0
			}
		}
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, new(*emitError)):
			return err
		case errors.Is(err, platforms.ErrPermanent):
			return err
		}
		pause := backoff(attempt, a.streamBackoff, a.streamMaxBackoff, a.jitter)
		var rl *platforms.RateLimitError
		if errors.As(err, &rl) {
			pause = max(pause, time.Until(rl.Reset))
		}
		a.log.Warn("mastodon stream interrupted; reconnecting", slog.String("connection", conn.ID),
			slog.Duration("pause", pause), slog.Any("error", err))
		if err := sleep(ctx, pause); err != nil {
			return err
		}
	}
}

// emitError is an error of the caller's emit, which ends Watch.
type emitError struct{ err error }

// Error implements error.
func (e *emitError) Error() string { return "emit: " + e.err.Error() }

// Unwrap returns the caller's error.
func (e *emitError) Unwrap() error { return e.err }

// watch is the state of one Watch call.
type watch struct {
	a       *Adapter
	s       *session
	account string
	emit    func(ctx context.Context, o platforms.Observed, cursor string) error
	// albums maps a normalized hashtag to the album as the caller named it.
	albums map[string]string
	cursor id
	// seen remembers the album of statuses seen, for delete events; order
	// is the insertion order, to forget the oldest first.
	seen  map[id]string
	order []id
	// caughtUp holds the statuses reported by this connection's catch-up,
	// whose update events the stream may still deliver.
	caughtUp map[string]bool
}

// follow opens the streams, catches up from the cursor and reports stream
// events until a stream ends or fails.
func (w *watch) follow(ctx context.Context) error {
	sctx, cancel := context.WithCancel(ctx)
	events := make(chan sseEvent, 64)
	ended := make(chan error, len(w.albums))
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	idle := time.AfterFunc(w.a.streamIdle, cancel)
	defer idle.Stop()
	alive := func() { idle.Reset(w.a.streamIdle) }

	for _, st := range w.streams() {
		resp, err := w.a.openStream(sctx, w.s, st.path, st.query)
		if err != nil {
			return err
		}
		wg.Go(func() {
			defer resp.Body.Close()
			ended <- readEvents(sctx, resp.Body, st.tag, events, alive)
		})
	}
	if err := w.catchUp(ctx); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev := <-events:
			if err := w.handle(ctx, ev); err != nil {
				return err
			}
		case err := <-ended:
			// Report what the stream delivered before it ended.
			for len(events) > 0 {
				if err := w.handle(ctx, <-events); err != nil {
					return err
				}
			}
			if sctx.Err() != nil && ctx.Err() == nil {
				return &platforms.TransientError{Err: fmt.Errorf("stream silent for %s", w.a.streamIdle)}
			}
			return err
		}
	}
}

// stream is one streaming endpoint to follow.
type stream struct {
	path  string
	query url.Values
	tag   string
}

func (w *watch) streams() []stream {
	if w.a.streamKind != StreamHashtag {
		return []stream{{path: "/api/v1/streaming/user"}}
	}
	tags := make([]string, 0, len(w.albums))
	for t := range w.albums {
		tags = append(tags, t)
	}
	slices.Sort(tags)
	out := make([]stream, 0, len(tags))
	for _, t := range tags {
		out = append(out, stream{path: "/api/v1/streaming/hashtag", query: url.Values{"tag": {t}}, tag: t})
	}
	return out
}

// catchUp reports the statuses newer than the cursor, oldest first; with
// no cursor yet it only takes the account's newest status as the start.
func (w *watch) catchUp(ctx context.Context) error {
	w.caughtUp = map[string]bool{}
	if w.cursor == "" {
		newest, err := w.s.newestID(ctx, w.account)
		if err != nil {
			return err
		}
		w.cursor = id(newest)
		return nil
	}
	type found struct {
		st    status
		album string
	}
	var all []found
	for norm, album := range w.albums {
		sts, err := w.s.newerThan(ctx, w.account, norm, string(w.cursor))
		if err != nil {
			return err
		}
		for _, st := range sts {
			all = append(all, found{st: st, album: album})
		}
	}
	slices.SortStableFunc(all, func(x, y found) int {
		switch {
		case idLess(x.st.ID, y.st.ID):
			return -1
		case idLess(y.st.ID, x.st.ID):
			return 1
		}
		return strings.Compare(x.album, y.album)
	})
	for _, f := range all {
		if !w.ours(f.st) || !f.st.hasTag(f.album) {
			continue
		}
		if err := w.report(ctx, f.st, f.album); err != nil {
			return err
		}
		w.caughtUp[string(f.st.ID)+"\x00"+f.album] = true
	}
	return nil
}

// handle reports one stream event.
func (w *watch) handle(ctx context.Context, ev sseEvent) error {
	switch ev.name {
	case "update", "status.update":
		var st status
		if err := json.Unmarshal([]byte(ev.data), &st); err != nil || st.ID == "" {
			w.a.log.Warn("mastodon stream: unreadable status", slog.String("event", ev.name), slog.Any("error", err))
			return nil
		}
		if !w.ours(st) {
			return nil
		}
		for norm, album := range w.albums {
			if (ev.tag != "" && ev.tag != norm) || !st.hasTag(norm) {
				continue
			}
			if ev.name == "update" && w.caughtUp[string(st.ID)+"\x00"+album] {
				continue
			}
			if err := w.report(ctx, st, album); err != nil {
				return err
			}
		}
		return nil
	case "delete":
		sid := id(strings.Trim(strings.TrimSpace(ev.data), `"`))
		if sid == "" {
			return nil
		}
		album, known := w.seen[sid]
		if ev.tag != "" && !known {
			// A public hashtag stream carries every account's deletes; only
			// those of statuses seen here are known to be ours.
			return nil
		}
		delete(w.seen, sid)
		o := platforms.Observed{Remote: platforms.Remote{ID: string(sid)}, Album: album, Deleted: true, UpdatedAt: w.a.now().UTC()}
		if err := w.emit(ctx, o, string(w.cursor)); err != nil {
			return &emitError{err: err}
		}
		return nil
	}
	return nil
}

// ours reports whether a status is one of the account's own posts.
func (w *watch) ours(st status) bool {
	return string(st.Account.ID) == w.account && !st.isReblog()
}

// report emits a status as an item of album and advances the cursor.
func (w *watch) report(ctx context.Context, st status, album string) error {
	if idLess(w.cursor, st.ID) {
		w.cursor = st.ID
	}
	w.remember(st.ID, album)
	if err := w.emit(ctx, st.observed(album), string(w.cursor)); err != nil {
		return &emitError{err: err}
	}
	return nil
}

// remember records a status's album for its delete event ("" once it was
// seen in several), forgetting the oldest entries beyond maxSeen.
func (w *watch) remember(sid id, album string) {
	prev, ok := w.seen[sid]
	switch {
	case !ok:
		w.order = append(w.order, sid)
	case prev != album:
		album = ""
	}
	w.seen[sid] = album
	for len(w.order) > maxSeen {
		delete(w.seen, w.order[0])
		w.order = w.order[1:]
	}
}
