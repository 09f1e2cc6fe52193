package pinterestsim_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"gallerysync.dev/libs/platforms"
)

// watchRun is a Watch running in the background; it is stopped and waited
// for when the test ends.
type watchRun struct {
	events chan seen
	cancel context.CancelFunc
	done   chan error
}

// seen is one emitted change with the cursor that came with it.
type seen struct {
	o      platforms.Observed
	cursor string
}

func (e *env) watch(t *testing.T, albums []string, cursor string) *watchRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watchRun{events: make(chan seen, 100), cancel: cancel, done: make(chan error, 1)}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.done <- e.adapter.Watch(ctx, e.conn, albums, cursor, func(_ context.Context, o platforms.Observed, c string) error {
			w.events <- seen{o: o, cursor: c}
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return w
}

// stop ends the watch and checks it ended as Watch promises on a cancelled context.
func (w *watchRun) stop(t *testing.T) {
	t.Helper()
	w.cancel()
	select {
	case err := <-w.done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Watch ended with %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not end after its context was cancelled")
	}
}

func (w *watchRun) next(t *testing.T) seen {
	t.Helper()
	select {
	case s := <-w.events:
		return s
	case err := <-w.done:
		t.Fatalf("Watch ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no change reported within 10s")
	}
	return seen{}
}

// quiet checks nothing is reported for a few polls.
func (w *watchRun) quiet(t *testing.T, e *env, polls int) {
	t.Helper()
	waitFor(t, e, "boards/get", e.sim.Stats().Calls["boards/get"]+int64(polls))
	select {
	case s := <-w.events:
		t.Fatalf("unexpected change reported: %+v", s.o)
	default:
	}
}

// waitFor waits until the emulator answered op at least n times.
func waitFor(t *testing.T, e *env, op string, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.sim.Stats().Calls[op] < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s was called %d times within 10s, want %d", op, e.sim.Stats().Calls[op], n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWatchAgainstEmulator(t *testing.T) {
	t.Parallel()
	spec := loadContract(t)
	ctx := context.Background()

	t.Run("reports pins created, edited and deleted on pinterest", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		boardID := e.board(t, "Watched")
		other := e.board(t, "Not watched")
		e.userPin(t, boardID, "Before watching", mediaBase+"before.png")
		w := e.watch(t, []string{boardID}, "")
		waitFor(t, e, "boards/list_pins", 1) // the baseline listing
		w.quiet(t, e, 2)

		e.userPin(t, other, "Elsewhere", mediaBase+"elsewhere.png")
		made := e.userPin(t, boardID, "Harbour", mediaBase+"harbour.png")
		s := w.next(t)
		o := s.o
		if o.ID != made.ID || o.Deleted || o.Album != boardID || o.Content.Title != "Harbour" ||
			o.Content.MediaURL != mediaBase+"harbour.png" || o.Permalink != "https://www.pinterest.com/pin/"+made.ID+"/" {
			t.Fatalf("created pin reported as %+v", o)
		}
		if o.UpdatedAt.IsZero() || o.Hash == "" || s.cursor == "" {
			t.Fatalf("report lacks time, hash or cursor: %+v, cursor %q", o, s.cursor)
		}

		e.must(t, http.StatusOK, http.MethodPatch, "/v5/pins/"+made.ID, aliceToken, map[string]any{"title": "Harbour at dawn"}, nil)
		edited := w.next(t).o
		if edited.ID != made.ID || edited.Content.Title != "Harbour at dawn" || edited.Hash == o.Hash || !edited.UpdatedAt.After(o.UpdatedAt) {
			t.Fatalf("edit reported as %+v (before: hash %s at %v)", edited, o.Hash, o.UpdatedAt)
		}

		e.must(t, http.StatusNoContent, http.MethodDelete, "/v5/pins/"+made.ID, aliceToken, nil, nil)
		gone := w.next(t).o
		if gone.ID != made.ID || !gone.Deleted || gone.Album != boardID {
			t.Fatalf("deletion reported as %+v", gone)
		}
		w.quiet(t, e, 2)
		w.stop(t)
	})

	t.Run("a pin the adapter writes comes back with the hash it returned", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		boardID := e.board(t, "Echoes")
		w := e.watch(t, []string{boardID}, "")
		waitFor(t, e, "boards/list_pins", 1)
		c := content("Ours", "ours.png")
		r, err := e.adapter.Create(ctx, e.conn, boardID, c, "key-echo")
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		o := w.next(t).o
		if o.ID != r.ID || o.Hash != r.Hash || o.Hash != e.adapter.Expect(boardID, c) || o.Content.LinkURL != c.LinkURL {
			t.Fatalf("echo reported as %+v; the write returned hash %s", o, r.Hash)
		}
		c.Title = "Ours, edited"
		up, err := e.adapter.Update(ctx, e.conn, boardID, r, c)
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if o := w.next(t).o; o.Hash != up.Hash {
			t.Fatalf("edit echo hash %s, the update returned %s", o.Hash, up.Hash)
		}
	})

	t.Run("resumes from its cursor", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		boardID := e.board(t, "Resumed")
		kept := e.userPin(t, boardID, "Kept", mediaBase+"kept.png")
		w := e.watch(t, []string{boardID}, "")
		waitFor(t, e, "boards/list_pins", 1)
		first := e.userPin(t, boardID, "First", mediaBase+"first.png")
		cursor := w.next(t).cursor
		w.stop(t)

		// Unchanged since the cursor: nothing to report until a change.
		w = e.watch(t, []string{boardID}, cursor)
		waitFor(t, e, "boards/list_pins", 3)
		w.quiet(t, e, 2)
		e.must(t, http.StatusOK, http.MethodPatch, "/v5/pins/"+first.ID, aliceToken, map[string]any{"description": "now described"}, nil)
		s := w.next(t)
		if s.o.ID != first.ID || s.o.Content.Description != "now described" {
			t.Fatalf("first report after resuming is %+v, want the edit", s.o)
		}
		cursor = s.cursor
		w.stop(t)

		// Changed while nobody watched: every pin of the board is reported.
		e.must(t, http.StatusOK, http.MethodPatch, "/v5/pins/"+kept.ID, aliceToken, map[string]any{"title": "Kept, renamed"}, nil)
		added := e.userPin(t, boardID, "Added", mediaBase+"added.png")
		w = e.watch(t, []string{boardID}, cursor)
		got := map[string]platforms.Observed{}
		for range 3 {
			o := w.next(t).o
			got[o.ID] = o
		}
		if got[kept.ID].Content.Title != "Kept, renamed" || got[added.ID].Content.Title != "Added" || got[first.ID].ID == "" {
			t.Fatalf("after resuming reported %v", got)
		}
		w.quiet(t, e, 2)
	})

	t.Run("a board that is gone ends the watch as not found", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		err := e.adapter.Watch(ctx, e.conn, []string{"123456"}, "", func(context.Context, platforms.Observed, string) error { return nil })
		if !errors.Is(err, platforms.ErrNotFound) {
			t.Fatalf("Watch of a missing board = %v, want ErrNotFound", err)
		}
	})

	t.Run("an emit error ends the watch with that error", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		boardID := e.board(t, "Refused")
		stop := errors.New("store unavailable")
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			done <- e.adapter.Watch(wctx, e.conn, []string{boardID}, "", func(context.Context, platforms.Observed, string) error { return stop })
		}()
		t.Cleanup(func() {
			cancel()
			wg.Wait()
		})
		waitFor(t, e, "boards/list_pins", 1)
		e.userPin(t, boardID, "Trigger", mediaBase+"t.png")
		select {
		case err := <-done:
			if !errors.Is(err, stop) {
				t.Fatalf("Watch = %v, want the emit error", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Watch did not end on an emit error")
		}
	})
}
