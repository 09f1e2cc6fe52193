package pinterest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/pinterest"
)

type emitted struct {
	o      platforms.Observed
	cursor string
}

// runWatch runs Watch in the background until the test ends; done gets
// its result.
func runWatch(t *testing.T, a *pinterest.Adapter, f *fakeAPI, albums []string, cursor string) (<-chan emitted, <-chan error, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan emitted, 100)
	done := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		done <- a.Watch(ctx, f.conn(), albums, cursor, func(_ context.Context, o platforms.Observed, c string) error {
			events <- emitted{o: o, cursor: c}
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return events, done, cancel
}

func next(t *testing.T, events <-chan emitted, done <-chan error) emitted {
	t.Helper()
	select {
	case e := <-events:
		return e
	case err := <-done:
		t.Fatalf("Watch ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("nothing reported within 10s")
	}
	return emitted{}
}

// waitCalls waits until the fake answered key at least n times.
func waitCalls(t *testing.T, f *fakeAPI, key string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f.count(key) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s called %d times within 10s, want %d", key, f.count(key), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func none(t *testing.T, events <-chan emitted) {
	t.Helper()
	select {
	case e := <-events:
		t.Fatalf("unexpected report %+v", e.o)
	default:
	}
}

func TestWatchRescansBoardsWhoseTimeStandsStill(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		rescan   int
		mod      string
		reported bool
	}{
		{name: "every third poll", rescan: 3, mod: "2025-01-01T00:00:00Z", reported: true},
		{name: "never", rescan: 0, mod: "2025-01-01T00:00:00Z", reported: false},
		{name: "board without the field", rescan: 0, mod: "", reported: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := startFake(t)
			board := f.addBoard("B", tc.mod)
			id := f.addPin(fakePin{BoardID: board, Title: "Before", Media: "https://m.example.com/a.png"})
			events, done, _ := runWatch(t, newAdapter(pinterest.WithRescanEvery(tc.rescan)), f, []string{board}, "")
			waitCalls(t, f, "GET /boards/{id}/pins", 1)
			f.editPin(id, func(p *fakePin) { p.Title = "After" })
			if !tc.reported {
				waitCalls(t, f, "GET /boards/{id}", 10)
				none(t, events)
				if n := f.count("GET /boards/{id}/pins"); n != 1 {
					t.Fatalf("board listed %d times, want only the first", n)
				}
				return
			}
			e := next(t, events, done)
			if e.o.ID != id || e.o.Content.Title != "After" || e.o.Deleted {
				t.Fatalf("reported %+v", e.o)
			}
		})
	}
}

func TestWatchReportsInOrderWithCursors(t *testing.T) {
	t.Parallel()
	f := startFake(t)
	board := f.addBoard("B", "2025-01-01T00:00:00Z")
	gone := f.addPin(fakePin{BoardID: board, Title: "Gone", Media: "https://m.example.com/g.png"})
	events, done, _ := runWatch(t, newAdapter(pinterest.WithRescanEvery(0)), f, []string{board}, "")
	waitCalls(t, f, "GET /boards/{id}/pins", 1)

	// One poll sees a deletion and two new pins.
	f.mu.Lock()
	delete(f.pins, gone)
	f.mu.Unlock()
	older := f.addPin(fakePin{BoardID: board, Title: "Older", Media: "https://m.example.com/o.png",
		CreatedAt: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)})
	newer := f.addPin(fakePin{BoardID: board, Title: "Newer", Media: "https://m.example.com/n.png",
		CreatedAt: time.Date(2025, 2, 2, 0, 0, 0, 0, time.UTC)})
	f.setMod(board, "2025-03-01T00:00:00Z")

	var got []emitted
	for range 3 {
		got = append(got, next(t, events, done))
	}
	if got[0].o.ID != older || got[1].o.ID != newer || got[2].o.ID != gone || !got[2].o.Deleted {
		t.Fatalf("reported %s, %s, %s (deleted %v); want older, newer, then the deletion", got[0].o.ID, got[1].o.ID, got[2].o.ID, got[2].o.Deleted)
	}
	want := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, e := range got {
		if !e.o.UpdatedAt.Equal(want) || e.o.Album != board {
			t.Fatalf("%s reported at %v in %q, want %v in %s", e.o.ID, e.o.UpdatedAt, e.o.Album, want, board)
		}
	}
	// Only the last report of the poll hands on the board's new time, so a
	// crash before it replays the poll.
	for i, e := range got {
		if has := strings.Contains(e.cursor, "2025-03-01T00:00:00Z"); has != (i == 2) {
			t.Fatalf("cursor %d = %s", i, e.cursor)
		}
	}
}

func TestWatchReportsAnImageThatAppearsLater(t *testing.T) {
	t.Parallel()
	f := startFake(t)
	board := f.addBoard("B", "")
	events, done, _ := runWatch(t, newAdapter(), f, []string{board}, "")
	waitCalls(t, f, "GET /boards/{id}/pins", 1)
	id := f.addPin(fakePin{BoardID: board, Title: "Processing"})
	first := next(t, events, done).o
	f.editPin(id, func(p *fakePin) { p.Media = "https://i.example.com/1200x/p.jpg" })
	second := next(t, events, done).o
	if first.Content.MediaURL != "" || second.Content.MediaURL != "https://i.example.com/1200x/p.jpg" || first.Hash != second.Hash {
		t.Fatalf("reports %+v then %+v", first, second)
	}
}

func TestWatchFailures(t *testing.T) {
	t.Parallel()
	answer := func(status int, header http.Header) func(w http.ResponseWriter, r *http.Request) bool {
		return func(w http.ResponseWriter, r *http.Request) bool {
			for k, v := range header {
				w.Header()[k] = v
			}
			apiError(w, status, 1, "refused")
			return true
		}
	}
	t.Run("retryable failures end it after five polls in a row", func(t *testing.T) {
		t.Parallel()
		f := startFake(t)
		board := f.addBoard("B", "2025-01-01T00:00:00Z")
		calls := 0
		var mu sync.Mutex
		f.setInject(func(w http.ResponseWriter, r *http.Request) bool {
			mu.Lock()
			calls++
			mu.Unlock()
			return answer(http.StatusBadGateway, nil)(w, r)
		})
		err := newAdapter().Watch(context.Background(), f.conn(), []string{board}, "", func(context.Context, platforms.Observed, string) error { return nil })
		mu.Lock()
		defer mu.Unlock()
		if !platforms.IsRetryable(err) || calls != 5 {
			t.Fatalf("Watch = %v after %d calls, want a retryable error after 5", err, calls)
		}
	})
	t.Run("a bad token ends it at once", func(t *testing.T) {
		t.Parallel()
		f := startFake(t)
		conn := f.conn()
		conn.Credentials = []byte("wrong")
		err := newAdapter().Watch(context.Background(), conn, []string{"1"}, "", func(context.Context, platforms.Observed, string) error { return nil })
		if !errors.Is(err, platforms.ErrPermanent) {
			t.Fatalf("Watch = %v, want ErrPermanent", err)
		}
	})
	t.Run("a cursor of another kind is refused", func(t *testing.T) {
		t.Parallel()
		f := startFake(t)
		err := newAdapter().Watch(context.Background(), f.conn(), []string{"1"}, "109876543210", func(context.Context, platforms.Observed, string) error { return nil })
		if !errors.Is(err, platforms.ErrPermanent) {
			t.Fatalf("Watch = %v, want ErrPermanent", err)
		}
	})
	t.Run("a 429 waits and goes on", func(t *testing.T) {
		t.Parallel()
		f := startFake(t)
		board := f.addBoard("B", "2025-01-01T00:00:00Z")
		var once sync.Once
		f.setInject(func(w http.ResponseWriter, r *http.Request) bool {
			hit := false
			once.Do(func() { hit = answer(http.StatusTooManyRequests, http.Header{"Retry-After": {"0"}})(w, r) })
			return hit
		})
		events, done, _ := runWatch(t, newAdapter(), f, []string{board}, "")
		waitCalls(t, f, "GET /boards/{id}/pins", 1)
		id := f.addPin(fakePin{BoardID: board, Title: "After the limit"})
		f.setMod(board, "2025-01-02T00:00:00Z")
		if e := next(t, events, done); e.o.ID != id {
			t.Fatalf("reported %+v", e.o)
		}
	})
	t.Run("no boards waits for the end", func(t *testing.T) {
		t.Parallel()
		f := startFake(t)
		_, done, cancel := runWatch(t, newAdapter(), f, []string{" "}, "")
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Watch = %v, want context.Canceled", err)
		}
	})
}
