package mastodon_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/mastodon"
)

// waitDeadline bounds every wait for something that should happen.
const waitDeadline = 10 * time.Second

// seen is one emit call.
type seen struct {
	o      platforms.Observed
	cursor string
}

// watching runs Watch until the test ends and records what it emits.
type watching struct {
	mu   sync.Mutex
	got  []seen
	fail error
	done chan error
}

func (w *watching) emit(_ context.Context, o platforms.Observed, cursor string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail != nil {
		return w.fail
	}
	w.got = append(w.got, seen{o: o, cursor: cursor})
	return nil
}

func (w *watching) all() []seen {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]seen(nil), w.got...)
}

// watchEnv starts Watch on the test API with short stream timings.
func startWatch(t *testing.T, e *env, albums []string, cursor string) *watching {
	t.Helper()
	w := &watching{done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { w.done <- e.adapter.Watch(ctx, e.conn, albums, cursor, w.emit) }()
	t.Cleanup(func() {
		cancel()
		if err := <-w.done; !errors.Is(err, context.Canceled) {
			t.Errorf("Watch ended with %v, want context.Canceled", err)
		}
	})
	return w
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitSeen waits until an emit for status id matches and returns it.
func waitSeen(t *testing.T, w *watching, what string, match func(s seen) bool) seen {
	t.Helper()
	var found seen
	waitFor(t, what, func() bool {
		for _, s := range w.all() {
			if match(s) {
				found = s
				return true
			}
		}
		return false
	})
	return found
}

func countFor(w *watching, statusID string) int {
	n := 0
	for _, s := range w.all() {
		if s.o.ID == statusID {
			n++
		}
	}
	return n
}

func newWatchEnv(t *testing.T, opts ...mastodon.Option) *env {
	t.Helper()
	return newEnv(t, append([]mastodon.Option{mastodon.WithStreamTiming(5*time.Second, 5*time.Millisecond, 50*time.Millisecond)}, opts...)...)
}

// waitStream waits until the watcher is connected and has taken its start.
func waitStream(t *testing.T, e *env, n int) {
	t.Helper()
	waitFor(t, "the stream to connect", func() bool { return e.api.openStreams() == n })
	waitFor(t, "the start to be listed", func() bool {
		_, reqs := e.api.snapshot()
		return count(reqs, http.MethodGet, "/api/v1/accounts/") > 0
	})
}

func TestWatchReportsCreateEditDelete(t *testing.T) {
	t.Parallel()
	e := newWatchEnv(t)
	ctx := context.Background()
	w := startWatch(t, e, []string{"Holiday"}, "")
	waitStream(t, e, 1)

	c := platforms.Content{Title: "Sunset", Description: "Over the bay\nat dusk", LinkURL: "https://example.com/p/1",
		AltText: "Red sky", MediaURL: e.origin.URL + "/img/sunset.png"}
	r, err := e.adapter.Create(ctx, e.conn, "holiday", c, "key-1")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	created := waitSeen(t, w, "the created status", func(s seen) bool { return s.o.ID == r.ID })
	o := created.o
	if o.Album != "Holiday" || o.Deleted || o.Hash != r.Hash || created.cursor != r.ID {
		t.Fatalf("created: album %q deleted %v hash %q (want %q) cursor %q", o.Album, o.Deleted, o.Hash, r.Hash, created.cursor)
	}
	if o.Content.Title != c.Title || o.Content.Description != c.Description || o.Content.LinkURL != c.LinkURL || o.Content.AltText != c.AltText {
		t.Fatalf("content parsed back as %+v, want %+v", o.Content, c)
	}
	if o.Content.MediaURL == "" || o.Permalink == "" || o.UpdatedAt.IsZero() || o.Attrs[mastodon.AttrMediaID] != r.Attrs[mastodon.AttrMediaID] {
		t.Fatalf("created: media %q permalink %q updated %v attrs %v", o.Content.MediaURL, o.Permalink, o.UpdatedAt, o.Attrs)
	}

	// Statuses that are not the account's album posts are not reported.
	foreign := e.api.postAs("7", "Someone else #holiday")
	untagged := e.api.postAs(testAccount, "No tag here")
	otherTag := e.api.postAs(testAccount, "Elsewhere #work")

	c2 := c
	c2.Title = "Sunset, edited"
	up, err := e.adapter.Update(ctx, e.conn, "holiday", r, c2)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	edited := waitSeen(t, w, "the edit", func(s seen) bool { return s.o.ID == r.ID && s.o.Content.Title == c2.Title })
	if edited.o.Hash != up.Hash || !edited.o.UpdatedAt.After(o.UpdatedAt) || edited.cursor != r.ID {
		t.Fatalf("edit: hash %q (want %q), updated %v after %v, cursor %q", edited.o.Hash, up.Hash, edited.o.UpdatedAt, o.UpdatedAt, edited.cursor)
	}

	if err := e.adapter.Delete(ctx, e.conn, r); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	gone := waitSeen(t, w, "the delete", func(s seen) bool { return s.o.ID == r.ID && s.o.Deleted })
	if gone.o.Album != "Holiday" {
		t.Fatalf("delete reported for album %q, want Holiday", gone.o.Album)
	}
	if n := countFor(w, r.ID); n != 3 {
		t.Fatalf("status reported %d times, want 3 (create, edit, delete)", n)
	}
	for _, id := range []string{foreign, untagged, otherTag} {
		if n := countFor(w, id); n != 0 {
			t.Fatalf("status %s that is not an album post was reported %d times", id, n)
		}
	}
}

func TestWatchCatchesUpFromCursor(t *testing.T) {
	t.Parallel()
	e := newWatchEnv(t)
	start := e.api.postAs(testAccount, "Before the cursor #holiday")
	var want []string
	for i := range 45 {
		want = append(want, e.api.postAs(testAccount, fmt.Sprintf("Photo %d #holiday", i)))
		if i%10 == 0 {
			e.api.postAs(testAccount, "Not in the album #work")
		}
	}
	w := startWatch(t, e, []string{"holiday"}, start)
	waitFor(t, "the catch-up", func() bool { return len(w.all()) >= len(want) })
	marker := e.api.postAs(testAccount, "After the catch-up #holiday")
	waitSeen(t, w, "the status posted after the catch-up", func(s seen) bool { return s.o.ID == marker })

	got := w.all()
	if len(got) != len(want)+1 {
		t.Fatalf("reported %d statuses, want %d", len(got), len(want)+1)
	}
	for i, id := range want {
		if got[i].o.ID != id || got[i].cursor != id {
			t.Fatalf("report %d: status %s cursor %s, want %s (oldest first)", i, got[i].o.ID, got[i].cursor, id)
		}
	}
}

func TestWatchReconnectsAndCatchesUp(t *testing.T) {
	t.Parallel()
	e := newWatchEnv(t)
	w := startWatch(t, e, []string{"holiday"}, "")
	waitStream(t, e, 1)
	first := e.api.postAs(testAccount, "First #holiday")
	waitSeen(t, w, "the first status", func(s seen) bool { return s.o.ID == first })

	// The stream ends; a status is posted while nobody listens.
	e.api.dropStreams()
	missed := e.api.postAs(testAccount, "Posted while disconnected #holiday")
	waitSeen(t, w, "the status posted while disconnected", func(s seen) bool { return s.o.ID == missed })
	waitFor(t, "the stream to reconnect", func() bool { return e.api.openStreams() == 1 })
	after := e.api.postAs(testAccount, "After the reconnect #holiday")
	waitSeen(t, w, "the status posted after the reconnect", func(s seen) bool { return s.o.ID == after })
	for _, id := range []string{first, missed, after} {
		if n := countFor(w, id); n != 1 {
			t.Fatalf("status %s reported %d times, want once", id, n)
		}
	}
}

func TestWatchReconnectsASilentStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mastodon.WithStreamTiming(100*time.Millisecond, 5*time.Millisecond, 20*time.Millisecond))
	e.api.mu.Lock()
	e.api.heartbeat = time.Hour
	e.api.mu.Unlock()
	startWatch(t, e, []string{"holiday"}, "")
	waitFor(t, "a reconnect", func() bool {
		_, reqs := e.api.snapshot()
		return count(reqs, http.MethodGet, "/api/v1/streaming/user") >= 2
	})
}

func TestWatchHashtagStreams(t *testing.T) {
	t.Parallel()
	e := newWatchEnv(t, mastodon.WithStream(mastodon.StreamHashtag))
	w := startWatch(t, e, []string{"holiday", "work"}, "")
	waitStream(t, e, 2)
	both := e.api.postAs(testAccount, "In both #holiday #work")
	foreign := e.api.postAs("7", "Not ours #holiday")
	e.api.deleteAs(foreign)
	waitFor(t, "the status in both albums", func() bool { return countFor(w, both) == 2 })
	e.api.deleteAs(both)
	waitSeen(t, w, "the delete", func(s seen) bool { return s.o.ID == both && s.o.Deleted })
	albums := map[string]bool{}
	for _, s := range w.all() {
		if s.o.ID == both && !s.o.Deleted {
			albums[s.o.Album] = true
		}
		if s.o.ID == both && s.o.Deleted && s.o.Album != "" {
			t.Fatalf("a status of two albums is deleted from album %q, want \"\" (the caller looks it up)", s.o.Album)
		}
	}
	if !albums["holiday"] || !albums["work"] {
		t.Fatalf("reported for albums %v, want holiday and work", albums)
	}
	if n := countFor(w, foreign); n != 0 {
		t.Fatalf("another account's status (or its delete) was reported %d times", n)
	}
}

func TestWatchEnds(t *testing.T) {
	t.Parallel()
	t.Run("emit error", func(t *testing.T) {
		t.Parallel()
		e := newWatchEnv(t)
		boom := errors.New("bus down")
		w := &watching{fail: boom}
		done := make(chan error, 1)
		go func() { done <- e.adapter.Watch(context.Background(), e.conn, []string{"holiday"}, "", w.emit) }()
		waitStream(t, e, 1)
		e.api.postAs(testAccount, "Hello #holiday")
		select {
		case err := <-done:
			if !errors.Is(err, boom) {
				t.Fatalf("Watch returned %v, want the emit error", err)
			}
		case <-time.After(waitDeadline):
			t.Fatal("Watch did not end on an emit error")
		}
	})
	t.Run("bad token", func(t *testing.T) {
		t.Parallel()
		e := newWatchEnv(t)
		e.conn.Credentials = []byte("wrong")
		e.conn.AccountID = testAccount
		err := e.adapter.Watch(context.Background(), e.conn, []string{"holiday"}, "", (&watching{}).emit)
		if !errors.Is(err, platforms.ErrPermanent) {
			t.Fatalf("Watch with a bad token returned %v, want ErrPermanent", err)
		}
	})
}

func TestListPagesThroughTheAlbum(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.conn.AccountID = "" // found through verify_credentials
	var want []string
	for i := range 85 {
		want = append(want, e.api.postAs(testAccount, "Photo "+strconv.Itoa(i)+" #holiday"))
	}
	e.api.postAs(testAccount, "Elsewhere #work")
	e.api.postAs("7", "Not ours #holiday")
	got, err := e.adapter.List(context.Background(), e.conn, "holiday")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("listed %d statuses, want %d", len(got), len(want))
	}
	for i, o := range got {
		if w := want[len(want)-1-i]; o.ID != w || o.Album != "holiday" || o.Hash == "" || o.Deleted {
			t.Fatalf("item %d: %+v, want status %s of holiday, newest first", i, o, w)
		}
	}
}
