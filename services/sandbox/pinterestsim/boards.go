package pinterestsim

import (
	"net/http"
	"strings"
)

// listPage is the answer of a bookmark-paged list; Bookmark is null on the
// last page.
type listPage[T any] struct {
	Items    []T     `json:"items"`
	Bookmark *string `json:"bookmark"`
}

// boardPrivacy reports whether v is a privacy level a board can have.
func boardPrivacy(v string) bool { return v == "PUBLIC" || v == "PROTECTED" || v == "SECRET" }

// privacyFilter says which boards GET /boards lists for its privacy query
// parameter (BoardPrivacyFilter).
func privacyFilter(v string) (func(string) bool, bool) {
	switch v {
	case "", "ALL":
		return func(string) bool { return true }, true
	case "PUBLIC_AND_SECRET":
		return func(p string) bool { return p == "PUBLIC" || p == "SECRET" }, true
	case "PUBLIC", "PROTECTED", "SECRET":
		return func(p string) bool { return p == v }, true
	}
	return nil, false
}

// listBoards is GET /boards: the user's boards, oldest first.
func (s *Server) listBoards(c *call) (int, any, error) {
	size, bookmark, err := c.paging()
	if err != nil {
		return 0, nil, err
	}
	keep, ok := privacyFilter(c.r.URL.Query().Get("privacy"))
	if !ok {
		return 0, nil, invalid("Parameter 'privacy' must be one of ALL, PUBLIC, PROTECTED, SECRET, PUBLIC_AND_SECRET.")
	}
	list := "boards:" + c.user.id
	var after uint64
	if bookmark != "" {
		if after, ok = readBookmark(list, bookmark); !ok {
			return 0, nil, invalid("Invalid bookmark.")
		}
	}
	out := listPage[Board]{Items: []Board{}}
	var last uint64
	for _, b := range c.user.boards {
		if b.seq <= after || !keep(b.privacy) {
			continue
		}
		if len(out.Items) == size {
			next := makeBookmark(list, last)
			out.Bookmark = &next
			break
		}
		out.Items = append(out.Items, boardEntity(b))
		last = b.seq
	}
	return http.StatusOK, out, nil
}

// createBoard is POST /boards (BoardCreate).
func (s *Server) createBoard(c *call) (int, any, error) {
	name, err := c.body.str("name", 0)
	if err != nil {
		return 0, nil, err
	}
	if name == nil || strings.TrimSpace(*name) == "" {
		return 0, nil, invalid("'name' is a required property.")
	}
	desc, err := c.body.str("description", 0)
	if err != nil {
		return 0, nil, err
	}
	privacy, err := c.body.str("privacy", 0)
	if err != nil {
		return 0, nil, err
	}
	adsOnly, err := c.body.boolean("is_ads_only")
	if err != nil {
		return 0, nil, err
	}
	b := &board{owner: c.user, name: strings.TrimSpace(*name), description: desc, privacy: "PUBLIC",
		adsOnly: adsOnly, createdAt: c.now, modifiedAt: c.now}
	if privacy != nil {
		if !boardPrivacy(*privacy) {
			return 0, nil, invalid("'privacy' must be one of PUBLIC, PROTECTED, SECRET.")
		}
		b.privacy = *privacy
	}
	if adsOnly {
		// As documented: an ad-only board is renamed and protected.
		b.name, b.privacy = "Ad-only Pins", "PROTECTED"
	}
	b.seq = s.ids.next()
	b.id = idString(b.seq)
	s.boards[b.id] = b
	c.user.boards = append(c.user.boards, b)
	return http.StatusCreated, boardEntity(b), nil
}

// getBoard is GET /boards/{board_id}.
func (s *Server) getBoard(c *call) (int, any, error) {
	b, err := s.ownBoard(c, "board_id", errBoardNotFound())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, boardEntity(b), nil
}

// listBoardPins is GET /boards/{board_id}/pins: newest first.
func (s *Server) listBoardPins(c *call) (int, any, error) {
	// This endpoint's documented 404 carries code 404, not 40.
	b, err := s.ownBoard(c, "board_id", &apiError{status: http.StatusNotFound, code: 404, msg: "Board not found."})
	if err != nil {
		return 0, nil, err
	}
	size, bookmark, err := c.paging()
	if err != nil {
		return 0, nil, err
	}
	list := "pins:" + b.id
	var after uint64
	if bookmark != "" {
		var ok bool
		if after, ok = readBookmark(list, bookmark); !ok {
			return 0, nil, invalid("Invalid bookmark.")
		}
	}
	out := listPage[Pin]{Items: []Pin{}}
	var last uint64
	for _, p := range b.newestFirst() {
		if after != 0 && p.stamp >= after {
			continue
		}
		if len(out.Items) == size {
			next := makeBookmark(list, last)
			out.Bookmark = &next
			break
		}
		out.Items = append(out.Items, pinEntity(p))
		last = p.stamp
	}
	return http.StatusOK, out, nil
}

// ownBoard finds the board a path parameter names: notFound when there is
// none, 403 when another user owns it.
func (s *Server) ownBoard(c *call, param string, notFound *apiError) (*board, error) {
	id, err := c.id(param)
	if err != nil {
		return nil, err
	}
	return s.boardOf(c.user, id, notFound)
}

func (s *Server) boardOf(user *account, id string, notFound *apiError) (*board, error) {
	b := s.boards[id]
	if b == nil {
		return nil, notFound
	}
	if b.owner != user {
		return nil, errForbidden()
	}
	return b, nil
}
