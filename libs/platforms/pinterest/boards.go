package pinterest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"gallerysync.dev/libs/platforms"
)

// maxPages bounds a bookmark walk, so a server that keeps answering with a
// bookmark cannot keep a call going for ever (250 000 boards or Pins).
const maxPages = 1000

// EnsureAlbum implements platforms.AlbumMaker: the id of the account's
// board named name (compared exactly, after trimming spaces), found by
// paging GET /boards, else a new board made with POST /boards (Pinterest's
// default privacy, public).
func (a *Adapter) EnsureAlbum(ctx context.Context, conn platforms.Connection, name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", fmt.Errorf("%w: board name is empty", platforms.ErrPermanent)
	}
	s, err := a.session(conn)
	if err != nil {
		return "", err
	}
	id, err := findBoard(ctx, s, name)
	if err != nil || id != "" {
		return id, err
	}
	var b board
	err = s.do(ctx, request{method: http.MethodPost, path: "/boards", body: map[string]string{"name": name}}, &b)
	if err != nil {
		return "", fmt.Errorf("create board %q: %w", name, err)
	}
	if b.ID == "" {
		return "", &platforms.TransientError{Err: fmt.Errorf("create board %q: answer without id", name)}
	}
	return b.ID, nil
}

func findBoard(ctx context.Context, s *session, name string) (string, error) {
	bookmark := ""
	for range maxPages {
		q := url.Values{"page_size": {strconv.Itoa(maxPageSize)}}
		if bookmark != "" {
			q.Set("bookmark", bookmark)
		}
		var p page[board]
		if err := s.do(ctx, request{method: http.MethodGet, path: "/boards", query: q}, &p); err != nil {
			return "", fmt.Errorf("list boards: %w", err)
		}
		for _, b := range p.Items {
			if strings.TrimSpace(b.Name) == name && b.ID != "" {
				return b.ID, nil
			}
		}
		if bookmark = p.next(); bookmark == "" {
			return "", nil
		}
	}
	return "", &platforms.TransientError{Err: fmt.Errorf("list boards: more than %d pages", maxPages)}
}

// getBoard reads a board; a board that is gone wraps platforms.ErrNotFound.
func getBoard(ctx context.Context, s *session, id string) (board, error) {
	var b board
	err := s.do(ctx, request{method: http.MethodGet, path: "/boards/" + url.PathEscape(id), notFound: notFoundIsGone}, &b)
	if err != nil {
		return board{}, fmt.Errorf("get board %s: %w", id, err)
	}
	return b, nil
}

// boardPins reads one page of a board's Pins (newest first).
func boardPins(ctx context.Context, s *session, boardID, bookmark string, size int) (page[pin], error) {
	q := url.Values{"page_size": {strconv.Itoa(size)}}
	if bookmark != "" {
		q.Set("bookmark", bookmark)
	}
	var p page[pin]
	err := s.do(ctx, request{method: http.MethodGet, path: "/boards/" + url.PathEscape(boardID) + "/pins", query: q, notFound: notFoundIsGone}, &p)
	if err != nil {
		return page[pin]{}, fmt.Errorf("list pins of board %s: %w", boardID, err)
	}
	return p, nil
}

// allBoardPins reads every Pin of a board.
func allBoardPins(ctx context.Context, s *session, boardID string) ([]pin, error) {
	var out []pin
	bookmark := ""
	for range maxPages {
		p, err := boardPins(ctx, s, boardID, bookmark, maxPageSize)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if bookmark = p.next(); bookmark == "" {
			return out, nil
		}
	}
	return nil, &platforms.TransientError{Err: fmt.Errorf("list pins of board %s: more than %d pages", boardID, maxPages)}
}
