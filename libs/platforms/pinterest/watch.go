package pinterest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"gallerysync.dev/libs/platforms"
)

// maxPollFailures is how many polls in a row may fail with a retryable
// error before Watch gives up and returns the last one.
const maxPollFailures = 5

// Watch implements platforms.Watcher for the boards named by albums (board
// ids). Pinterest pushes nothing about Pins, so Watch polls: every poll
// interval it reads each board (GET /boards/{id}, one call) and, when the
// board's board_pins_modified_at moved, lists the board's Pins and compares
// them with the previous listing, which it holds in memory. New and changed
// Pins are reported with Hash over their text, Permalink and UpdatedAt (the
// board's board_pins_modified_at, or the poll's time when it did not move;
// Pinterest has no per-Pin edit time); Pins that left the board are reported
// Deleted.
//
// Pinterest does not document whether editing a Pin moves
// board_pins_modified_at, so every WithRescanEvery polls a board is listed
// anyway. The cursor holds each board's last board_pins_modified_at. When
// Watch starts from a cursor and a board moved since (or the cursor does
// not name it), it reports every Pin of the board as possibly changed
// (writers drop the unchanged ones by their hash); Pins deleted while
// nobody watched are not found that way: platforms.Lister (List) finds
// those. A cursor of "" starts from now; ReplayCursor replays every board.
//
// Watch returns ctx.Err() when ctx ends, an emit error as is, a board that
// is gone as platforms.ErrNotFound, a permanent API error at once and a
// retryable one after five failed polls in a row. A 429 makes it wait until
// the limit resets.
func (a *Adapter) Watch(ctx context.Context, conn platforms.Connection, albums []string, cursor string,
	emit func(ctx context.Context, o platforms.Observed, cursor string) error) error {
	s, err := a.session(conn)
	if err != nil {
		return err
	}
	var start boardMarks // nil: start from now
	if cursor != "" {
		if start, err = parseCursor(cursor); err != nil {
			return err
		}
	}
	w := &watch{a: a, s: s, emit: emit, start: start, marks: boardMarks{}}
	for _, id := range albums {
		id = strings.TrimSpace(id)
		if id == "" || slices.ContainsFunc(w.boards, func(b *boardWatch) bool { return b.id == id }) {
			continue
		}
		w.boards = append(w.boards, &boardWatch{id: id})
		if v, ok := start[id]; ok {
			w.marks[id] = v
		}
	}
	if len(w.boards) == 0 {
		<-ctx.Done()
		return ctx.Err()
	}
	failures := 0
	for {
		err := w.round(ctx)
		delay := a.pollInterval
		var rl *platforms.RateLimitError
		var ee *emitError
		switch {
		case err == nil:
			failures = 0
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &ee):
			return ee.err
		case errors.As(err, &rl):
			delay = max(rl.Reset.Sub(a.now()), delay)
		case platforms.IsRetryable(err):
			if failures++; failures >= maxPollFailures {
				return err
			}
		default:
			return err
		}
		if err := sleep(ctx, delay); err != nil {
			return err
		}
	}
}

// emitError carries an emit failure out of a poll unchanged.
type emitError struct{ err error }

func (e *emitError) Error() string { return e.err.Error() }

// watch is one Watch call's state.
type watch struct {
	a      *Adapter
	s      *session
	emit   func(ctx context.Context, o platforms.Observed, cursor string) error
	start  boardMarks
	boards []*boardWatch
	// marks is the cursor: each board's board_pins_modified_at as far as
	// its changes have been handed on.
	marks boardMarks
}

// boardWatch is what is known of one board.
type boardWatch struct {
	id string
	// pins is the last listing by Pin id; nil until the board was listed.
	pins  map[string]pin
	mod   string
	polls int
}

// round polls every board once.
func (w *watch) round(ctx context.Context) error {
	for _, b := range w.boards {
		if err := w.poll(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

func (w *watch) poll(ctx context.Context, b *boardWatch) error {
	bd, err := getBoard(ctx, w.s, b.id)
	if err != nil {
		return err
	}
	mod := bd.BoardPinsModifiedAt
	if b.pins != nil {
		b.polls++
		// A board without the field is listed on every poll.
		rescan := w.a.rescanEvery > 0 && b.polls%w.a.rescanEvery == 0
		if mod != "" && mod == b.mod && !rescan {
			return nil
		}
	}
	list, err := allBoardPins(ctx, w.s, b.id)
	if err != nil {
		return err
	}
	next := make(map[string]pin, len(list))
	for _, p := range list {
		if p.ID != "" {
			next[p.ID] = p
		}
	}
	at := w.a.now()
	if t := parseTime(mod); !t.IsZero() && mod != b.mod {
		at = t
	}
	var changes []platforms.Observed
	switch prev, known := w.start[b.id]; {
	case b.pins != nil:
		changes = diff(b.id, b.pins, next, at)
	case w.start != nil && (!known || prev != mod):
		// Moved while nobody watched, or never watched under this
		// cursor: everything may have changed.
		changes = diff(b.id, map[string]pin{}, next, at)
	}
	b.pins, b.mod = next, mod
	for i, o := range changes {
		if i == len(changes)-1 {
			w.marks[b.id] = mod
		}
		if err := w.emit(ctx, o, w.marks.String()); err != nil {
			return &emitError{err: err}
		}
	}
	w.marks[b.id] = mod
	return nil
}

// diff lists what changed from prev to next: new and changed Pins, oldest
// first, then Pins that are gone.
func diff(boardID string, prev, next map[string]pin, at time.Time) []platforms.Observed {
	var changed []pin
	for id, p := range next {
		if old, ok := prev[id]; !ok || old.text() != p.text() || old.imageURL() != p.imageURL() {
			changed = append(changed, p)
		}
	}
	slices.SortFunc(changed, func(x, y pin) int {
		if c := x.created().Compare(y.created()); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	out := make([]platforms.Observed, 0, len(changed))
	for _, p := range changed {
		out = append(out, p.observed(boardID, at))
	}
	var gone []string
	for id := range prev {
		if _, ok := next[id]; !ok {
			gone = append(gone, id)
		}
	}
	slices.Sort(gone)
	for _, id := range gone {
		out = append(out, platforms.Observed{
			Remote: platforms.Remote{ID: id, Attrs: map[string]string{AttrBoardID: boardID}},
			Album:  boardID, UpdatedAt: at, Deleted: true, Permalink: Permalink(id),
		})
	}
	return out
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
