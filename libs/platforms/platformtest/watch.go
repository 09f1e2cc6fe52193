package platformtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"gallerysync.dev/libs/platforms"
)

// watchWait bounds the wait for one change to be reported.
const watchWait = time.Minute

// watch: the watcher reports items, their edits and deletions, each edit
// with the Observed.Hash the write that made it returned (so the writer
// recognises it as its own echo).
func (s *suite) watch(t *testing.T) {
	w, ok := s.env.Adapter.(platforms.Watcher)
	if !ok || s.env.ReplayCursor == "" {
		t.Skip("no watcher, or the env names no replay cursor")
	}
	album := s.album(t)
	c := s.content(t, "watched", 1)
	r := s.create(t, album, c)

	type event struct {
		o      platforms.Observed
		cursor string
	}
	events := make(chan event, 64)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- w.Watch(ctx, s.env.Conn, []string{album}, s.env.ReplayCursor, func(ctx context.Context, o platforms.Observed, cursor string) error {
			select {
			case events <- event{o: o, cursor: cursor}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	next := func(what string, match func(platforms.Observed) bool) platforms.Observed {
		t.Helper()
		deadline := time.After(watchWait)
		for {
			select {
			case ev := <-events:
				if ev.cursor == "" {
					t.Fatalf("%s: change reported with an empty cursor", what)
				}
				if match(ev.o) {
					return ev.o
				}
			case err := <-done:
				done <- err
				t.Fatalf("%s: Watch ended: %v", what, err)
			case <-deadline:
				t.Fatalf("%s: not reported within %s", what, watchWait)
			}
		}
	}

	seen := next("existing item", func(o platforms.Observed) bool { return o.ID == r.ID && !o.Deleted })
	if seen.Album != album || (r.Hash != "" && seen.Hash != r.Hash) {
		t.Fatalf("existing item reported in album %q with hash %q; want %q, %q", seen.Album, seen.Hash, album, r.Hash)
	}
	s.checkShows(t, Item{Content: seen.Content}, c)
	if seen.UpdatedAt.IsZero() {
		t.Fatal("existing item reported without UpdatedAt")
	}

	c2 := c
	c2.Title = "Edited title"
	r2, err := s.env.Adapter.Update(ctxFor(t), s.env.Conn, album, r, c2)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	edit := next("edit", func(o platforms.Observed) bool { return o.ID == r.ID && o.Content.Title == c2.Title })
	if r2.Hash != "" && edit.Hash != r2.Hash {
		t.Fatalf("edit reported with hash %q; the Update returned %q", edit.Hash, r2.Hash)
	}

	added := s.create(t, album, s.content(t, "added", 2))
	next("new item", func(o platforms.Observed) bool { return o.ID == added.ID && !o.Deleted && o.Hash == added.Hash })

	if err := s.env.Adapter.Delete(ctxFor(t), s.env.Conn, r2); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	gone := next("deletion", func(o platforms.Observed) bool { return o.ID == r.ID && o.Deleted })
	if gone.Album != album {
		t.Fatalf("deletion reported in album %q, want %q", gone.Album, album)
	}

	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Watch ended with %v after its context was cancelled", err)
	}
	done <- context.Canceled
}
