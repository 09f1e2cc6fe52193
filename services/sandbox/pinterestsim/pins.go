package pinterestsim

import "net/http"

// The Pin schema's maxLength of each text field.
const (
	maxTitle       = 100
	maxDescription = 800
	maxAltText     = 500
	maxLink        = 2048
)

func errBadLink() *apiError {
	return invalid("Whoops! It looks like you entered an invalid URL. Try creating a Pin again with a valid URL.")
}

func errNoSection() *apiError {
	return &apiError{status: http.StatusNotFound, code: 2031, msg: "Sorry! We couldn't find this board section."}
}

// pinText is the editable text of a Pin as a request sets it.
type pinText struct {
	title, description, link, altText *string
}

// readText reads the text fields present in a body; present tells which
// were sent (null included).
func readText(f fields) (t pinText, present map[string]bool, err error) {
	present = map[string]bool{}
	for _, fl := range []struct {
		name  string
		limit int
		into  **string
	}{
		{"title", maxTitle, &t.title},
		{"description", maxDescription, &t.description},
		{"link", maxLink, &t.link},
		{"alt_text", maxAltText, &t.altText},
	} {
		if *fl.into, err = f.str(fl.name, fl.limit); err != nil {
			return pinText{}, nil, err
		}
		present[fl.name] = f.has(fl.name)
	}
	if t.link != nil && *t.link != "" && !webURL(*t.link) {
		return pinText{}, nil, errBadLink()
	}
	return t, present, nil
}

// createPin is POST /pins (PinCreate) with an image_url media source.
func (s *Server) createPin(c *call) (int, any, error) {
	boardID, err := c.body.str("board_id", 0)
	if err != nil {
		return 0, nil, err
	}
	if boardID == nil || !isDigits(*boardID) {
		return 0, nil, invalid("'board_id' is required and must match the pattern: ^\\d+$")
	}
	b, err := s.boardOf(c.user, *boardID, errBoardNotFound())
	if err != nil {
		return 0, nil, err
	}
	if section, err := c.body.str("board_section_id", 0); err != nil || section != nil {
		return 0, nil, firstErr(err, errNoSection())
	}
	t, _, err := readText(c.body)
	if err != nil {
		return 0, nil, err
	}
	color, err := c.body.str("dominant_color", 0)
	if err != nil {
		return 0, nil, err
	}
	media, err := mediaSource(c.body)
	if err != nil {
		return 0, nil, err
	}
	p := &pin{id: idString(s.ids.next()), title: t.title, description: t.description, link: t.link,
		altText: t.altText, dominantColor: color, mediaURL: media, createdAt: c.now}
	b.add(p, s.ids.next())
	b.touch(c.now)
	s.pins[p.id] = p
	return http.StatusCreated, pinEntity(p), nil
}

// mediaSource reads the media_source of a create; only image_url is
// emulated (the image is not fetched).
func mediaSource(f fields) (string, error) {
	ms, err := f.object("media_source")
	if err != nil {
		return "", err
	}
	if ms == nil {
		return "", invalid("'media_source' is a required property.")
	}
	kind, err := ms.str("source_type", 0)
	if err != nil {
		return "", err
	}
	if kind == nil || *kind != "image_url" {
		return "", invalid("'media_source.source_type' must be image_url: the sandbox emulates image URL Pins only.")
	}
	u, err := ms.str("url", 0)
	if err != nil {
		return "", err
	}
	if u == nil || !webURL(*u) {
		return "", invalid("'media_source.url' must be an http(s) URL of an image.")
	}
	return *u, nil
}

// getPin is GET /pins/{pin_id}.
func (s *Server) getPin(c *call) (int, any, error) {
	p, err := s.ownPin(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, pinEntity(p), nil
}

// updatePin is PATCH /pins/{pin_id} (PinUpdate): fields sent change (null
// clears one), the rest stay; board_id moves the Pin to the top of another
// of the user's boards.
func (s *Server) updatePin(c *call) (int, any, error) {
	if !s.opts.pinUpdates {
		return 0, nil, errForbidden()
	}
	p, err := s.ownPin(c)
	if err != nil {
		return 0, nil, err
	}
	t, present, err := readText(c.body)
	if err != nil {
		return 0, nil, err
	}
	if section, err := c.body.str("board_section_id", 0); err != nil || section != nil {
		return 0, nil, firstErr(err, errNoSection())
	}
	if c.body.has("carousel_slots") && !c.body.isNull("carousel_slots") {
		return 0, nil, invalid("'carousel_slots' can only be set on a carousel Pin.")
	}
	target := p.board
	if id, err := c.body.str("board_id", 0); err != nil {
		return 0, nil, err
	} else if id != nil {
		if !isDigits(*id) {
			return 0, nil, invalid("'board_id' must match the pattern: ^\\d+$")
		}
		if target, err = s.boardOf(c.user, *id, errBoardNotFound()); err != nil {
			return 0, nil, err
		}
	}
	// Validated in full: now change.
	set := func(name string, field **string, v *string) {
		if present[name] {
			*field = v
		}
	}
	set("title", &p.title, t.title)
	set("description", &p.description, t.description)
	set("link", &p.link, t.link)
	set("alt_text", &p.altText, t.altText)
	if target != p.board {
		from := p.board
		from.remove(p)
		from.touch(c.now)
		target.add(p, s.ids.next())
	}
	target.touch(c.now)
	return http.StatusOK, pinEntity(p), nil
}

// deletePin is DELETE /pins/{pin_id}: 204 without a body.
func (s *Server) deletePin(c *call) (int, any, error) {
	p, err := s.ownPin(c)
	if err != nil {
		return 0, nil, err
	}
	p.board.remove(p)
	p.board.touch(c.now)
	delete(s.pins, p.id)
	return http.StatusNoContent, nil, nil
}

// ownPin finds the Pin the path names: 404 when there is none, 403 when
// another user owns it.
func (s *Server) ownPin(c *call) (*pin, error) {
	id, err := c.id("pin_id")
	if err != nil {
		return nil, err
	}
	p := s.pins[id]
	if p == nil {
		return nil, errPinNotFound()
	}
	if p.board.owner != c.user {
		return nil, errForbidden()
	}
	return p, nil
}

// firstErr returns err when it is set, else alt.
func firstErr(err error, alt *apiError) error {
	if err != nil {
		return err
	}
	return alt
}
