package pinterest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"gallerysync.dev/libs/platforms"
)

// pinCreate is the body of POST /pins (PinCreate).
type pinCreate struct {
	BoardID       string         `json:"board_id"`
	Title         string         `json:"title,omitempty"`
	Description   string         `json:"description,omitempty"`
	Link          string         `json:"link,omitempty"`
	AltText       string         `json:"alt_text,omitempty"`
	DominantColor string         `json:"dominant_color,omitempty"`
	MediaSource   imageURLSource `json:"media_source"`
}

// imageURLSource is the image_url kind of PinMediaSource: Pinterest
// fetches the image from the URL.
type imageURLSource struct {
	SourceType string `json:"source_type"`
	URL        string `json:"url"`
}

// pinUpdate is the body of PATCH /pins/{pin_id} (PinUpdate). The text
// fields are always sent; null clears one.
type pinUpdate struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Link        *string `json:"link"`
	AltText     *string `json:"alt_text"`
	BoardID     string  `json:"board_id,omitempty"`
}

// Create implements platforms.Adapter: a Pin on the board album, made from
// the content's media URL.
//
// Pinterest has no idempotency key. Before creating, Create reads the
// board's newest Pins (one call, WithDuplicateScan of them) for the marker
// of idempotencyKey (see marker.go); a Pin found there is the one an
// earlier attempt made, and is brought to this content instead of making a
// second one. Every create pays that one list call, since the contract
// cannot say which call is a retry.
//
// Content without a MediaURL makes nothing, as a Pin needs an image: Create
// then only reports the Pin an earlier attempt with the key made, or an
// empty Remote when there is none (the writer does this to settle a
// pending create it must delete).
func (a *Adapter) Create(ctx context.Context, conn platforms.Connection, album string, c platforms.Content, idempotencyKey string) (platforms.Remote, error) {
	if idempotencyKey == "" {
		return platforms.Remote{}, fmt.Errorf("%w: create without idempotency key", platforms.ErrPermanent)
	}
	if strings.TrimSpace(album) == "" {
		return platforms.Remote{}, fmt.Errorf("%w: create without a board", platforms.ErrPermanent)
	}
	s, err := a.session(conn)
	if err != nil {
		return platforms.Remote{}, err
	}
	m := newMarker(idempotencyKey)
	t := textOf(c)
	want := &t
	if c.MediaURL == "" {
		want = nil
	}
	earlier, found, err := a.findMarked(ctx, s, album, m, want)
	if err != nil {
		return platforms.Remote{}, err
	}
	if found {
		_, ref := splitMarker(earlier.Link)
		if want == nil {
			r := a.remote(earlier, album, c, ref)
			r.Hash = earlier.text().hash()
			return r, nil
		}
		if earlier.text() == t {
			return a.remote(earlier, album, c, ref), nil
		}
		// The earlier attempt wrote older text: bring the Pin to this one.
		w := writeForm(t, marker{ref: ref})
		p, err := a.patch(ctx, s, earlier.ID, album, earlier.BoardID, w)
		if err == nil {
			return a.remote(p, album, c, w.ref), nil
		}
		if !errors.Is(err, ErrEditNotAvailable) {
			return platforms.Remote{}, fmt.Errorf("update replayed pin: %w", err)
		}
		// Nobody knows of that Pin yet: make it again with this content.
		if err := deletePin(ctx, s, earlier.ID); err != nil {
			return platforms.Remote{}, fmt.Errorf("replace replayed pin: %w", err)
		}
	}
	if c.MediaURL == "" {
		return platforms.Remote{}, nil
	}
	w := writeForm(t, m)
	body := pinCreate{
		BoardID: album, Title: t.title, Description: t.description, Link: w.link, AltText: t.altText,
		DominantColor: w.color,
		MediaSource:   imageURLSource{SourceType: "image_url", URL: c.MediaURL},
	}
	var p pin
	if err := s.do(ctx, request{method: http.MethodPost, path: "/pins", body: body}, &p); err != nil {
		return platforms.Remote{}, fmt.Errorf("create pin: %w", err)
	}
	if p.ID == "" {
		return platforms.Remote{}, &platforms.TransientError{Err: errors.New("create pin: answer without id")}
	}
	return a.remote(p, album, c, w.ref), nil
}

// findMarked looks through the board's newest Pins for the one a create
// under m made.
func (a *Adapter) findMarked(ctx context.Context, s *session, album string, m marker, want *pinText) (pin, bool, error) {
	p, err := boardPins(ctx, s, album, "", a.duplicateScan)
	if isGone(err) {
		return pin{}, false, fmt.Errorf("%w: board %s not found (%v)", platforms.ErrPermanent, album, err)
	}
	if err != nil {
		return pin{}, false, err
	}
	for _, it := range p.Items {
		if m.matches(it, want) {
			return it, true, nil
		}
	}
	return pin{}, false, nil
}

// Update implements platforms.Adapter. A new image makes a new Pin (Pinterest
// cannot replace a Pin's image): the new one is created first, under a key
// derived from the old Pin and the new media, then the old one is deleted,
// so a retry after a crash finds the new Pin instead of making another. Any
// other change is a PATCH of the Pin's text (and board).
//
// PATCH is a beta "not available to all apps": when Pinterest refuses it
// (403, or 404 for a Pin that GET still finds), Update returns an error
// wrapping ErrEditNotAvailable and platforms.ErrPermanent. A Pin that is
// gone is platforms.ErrNotFound.
func (a *Adapter) Update(ctx context.Context, conn platforms.Connection, album string, r platforms.Remote, c platforms.Content) (platforms.Remote, error) {
	if r.ID == "" {
		return platforms.Remote{}, fmt.Errorf("%w: no pin id", platforms.ErrNotFound)
	}
	s, err := a.session(conn)
	if err != nil {
		return platforms.Remote{}, err
	}
	// A source of "" is unknown (a Pin made on Pinterest): its image is
	// taken to be the item's, and recorded from now on.
	if src := r.Attrs[AttrMediaURL]; src != "" && c.MediaURL != "" && src != c.MediaURL {
		return a.replace(ctx, conn, album, r, c)
	}
	w := writeForm(textOf(c), marker{ref: r.Attrs[AttrMarker]})
	p, err := a.patch(ctx, s, r.ID, album, r.Attrs[AttrBoardID], w)
	if err != nil {
		return platforms.Remote{}, err
	}
	return a.remote(p, album, c, w.ref), nil
}

// replace makes the Pin again with new media and deletes the old one.
func (a *Adapter) replace(ctx context.Context, conn platforms.Connection, album string, r platforms.Remote, c platforms.Content) (platforms.Remote, error) {
	next, err := a.Create(ctx, conn, album, c, "replace:"+r.ID+":"+c.MediaURL)
	if err != nil {
		return platforms.Remote{}, fmt.Errorf("replace pin %s: %w", r.ID, err)
	}
	if err := a.Delete(ctx, conn, r); err != nil {
		return platforms.Remote{}, fmt.Errorf("replace pin %s: %w", r.ID, err)
	}
	return next, nil
}

// patch edits a Pin's text, and moves it when album is not its board.
func (a *Adapter) patch(ctx context.Context, s *session, pinID, album, onBoard string, w written) (pin, error) {
	body := pinUpdate{
		Title: orNull(w.text.title), Description: orNull(w.text.description),
		Link: orNull(w.link), AltText: orNull(w.text.altText),
	}
	if album != onBoard {
		body.BoardID = album
	}
	var p pin
	err := s.do(ctx, request{method: http.MethodPatch, path: "/pins/" + url.PathEscape(pinID), body: body}, &p)
	switch apiStatus(err) {
	case 0:
		if err != nil {
			return pin{}, fmt.Errorf("edit pin %s: %w", pinID, err)
		}
		return p, nil
	case http.StatusForbidden:
		return pin{}, fmt.Errorf("edit pin %s: %w: %w", pinID, ErrEditNotAvailable, err)
	case http.StatusNotFound:
		// Either the Pin is gone or the endpoint is not open to this app.
		if _, gerr := getPin(ctx, s, pinID); gerr != nil {
			return pin{}, fmt.Errorf("edit pin %s: %w", pinID, gerr)
		}
		return pin{}, fmt.Errorf("edit pin %s: %w: %w", pinID, ErrEditNotAvailable, err)
	default:
		return pin{}, fmt.Errorf("edit pin %s: %w", pinID, err)
	}
}

// Delete implements platforms.Adapter. A Pin that is already gone is not an
// error.
func (a *Adapter) Delete(ctx context.Context, conn platforms.Connection, r platforms.Remote) error {
	if r.ID == "" {
		return nil
	}
	s, err := a.session(conn)
	if err != nil {
		return err
	}
	return deletePin(ctx, s, r.ID)
}

func deletePin(ctx context.Context, s *session, pinID string) error {
	err := s.do(ctx, request{method: http.MethodDelete, path: "/pins/" + url.PathEscape(pinID), notFound: notFoundIsGone}, nil)
	if err != nil && !isGone(err) {
		return fmt.Errorf("delete pin %s: %w", pinID, err)
	}
	return nil
}

// getPin reads a Pin; one that is gone wraps platforms.ErrNotFound.
func getPin(ctx context.Context, s *session, pinID string) (pin, error) {
	var p pin
	err := s.do(ctx, request{method: http.MethodGet, path: "/pins/" + url.PathEscape(pinID), notFound: notFoundIsGone}, &p)
	if err != nil {
		return pin{}, fmt.Errorf("get pin %s: %w", pinID, err)
	}
	return p, nil
}

// remote describes a Pin just written with content c.
func (a *Adapter) remote(p pin, album string, c platforms.Content, ref string) platforms.Remote {
	board := p.BoardID
	if board == "" {
		board = album
	}
	return platforms.Remote{ID: p.ID, Hash: a.Expect(album, c), Attrs: map[string]string{
		AttrMediaURL:    c.MediaURL,
		AttrFingerprint: a.Fingerprint(album, c),
		AttrBoardID:     board,
		AttrMarker:      ref,
	}}
}

func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
