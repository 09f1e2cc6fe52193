package pinterest

import (
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"gallerysync.dev/libs/platforms"
)

// Pinterest's field limits (the Pin schema's maxLength, in characters).
const (
	maxTitle       = 100
	maxDescription = 800
	maxAltText     = 500
	maxLink        = 2048
)

// pinText is what a Pin shows of an item: the fields a writer sets and a
// user can edit. link is without the create marker.
type pinText struct {
	title, description, link, altText string
}

// textOf is the text the adapter writes for content: shortened to
// Pinterest's limits, with a link only when Pinterest can take it (an
// absolute http(s) URL that fits).
func textOf(c platforms.Content) pinText {
	return pinText{
		title:       clip(c.Title, maxTitle),
		description: clip(c.Description, maxDescription),
		link:        usableLink(c.LinkURL),
		altText:     clip(c.AltText, maxAltText),
	}
}

// hash is Remote.Hash and Observed.Hash: the Pin's text as Pinterest shows
// it. The image is left out: Pinterest cannot change a Pin's image, and it
// serves its own copies, whose URLs say nothing about the source.
func (t pinText) hash() string {
	return digest("pin", t.title, t.description, t.link, t.altText)
}

// clip trims s and shortens it to n characters, ending in an ellipsis when
// it was cut.
func clip(s string, n int) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, ""))
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// usableLink returns the link if Pinterest can take it, else "": a Pin
// link must be an absolute http(s) URL of at most 2048 characters.
func usableLink(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > maxLink {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return s
}

// pin is the part of the API's Pin the adapter reads.
type pin struct {
	ID            string    `json:"id"`
	CreatedAt     string    `json:"created_at"`
	BoardID       string    `json:"board_id"`
	Title         string    `json:"title"`
	Description   string    `json:"description"`
	Link          string    `json:"link"`
	AltText       string    `json:"alt_text"`
	DominantColor string    `json:"dominant_color"`
	Media         *pinMedia `json:"media"`
}

type pinMedia struct {
	MediaType string                  `json:"media_type"`
	Images    map[string]imageDetails `json:"images"`
}

type imageDetails struct {
	URL string `json:"url"`
}

// text is what the Pin shows, its link without the create marker.
func (p pin) text() pinText {
	link, _ := splitMarker(p.Link)
	return pinText{title: p.Title, description: p.Description, link: link, altText: p.AltText}
}

// imageURL is the largest image Pinterest serves for the Pin. The keys are
// the published sizes, largest first, after "originals", which is not in
// the published schema but is served for some Pins.
func (p pin) imageURL() string {
	if p.Media == nil {
		return ""
	}
	for _, k := range []string{"originals", "1200x", "600x", "400x300", "150x150"} {
		if im, ok := p.Media.Images[k]; ok && im.URL != "" {
			return im.URL
		}
	}
	return ""
}

// created is the Pin's creation time (zero when unreadable).
func (p pin) created() time.Time { return parseTime(p.CreatedAt) }

// observed is the Pin as a watcher reports it, dated at (or at its
// creation, if later). Its Attrs name the board only: the image URL it
// shows is Pinterest's copy, and recorded as AttrMediaURL it would make
// the next Update take the item's image for a new one.
func (p pin) observed(board string, at time.Time) platforms.Observed {
	t := p.text()
	if c := p.created(); c.After(at) {
		at = c
	}
	if p.BoardID != "" {
		board = p.BoardID
	}
	return platforms.Observed{
		Remote: platforms.Remote{ID: p.ID, Attrs: map[string]string{AttrBoardID: board}, Hash: t.hash()},
		Album:  board,
		Content: platforms.Content{
			Title: t.title, Description: t.description, LinkURL: t.link, AltText: t.altText,
			MediaURL: p.imageURL(),
		},
		Permalink: Permalink(p.ID),
		UpdatedAt: at,
	}
}

// Permalink is a Pin's public page.
func Permalink(pinID string) string {
	return "https://www.pinterest.com/pin/" + url.PathEscape(pinID) + "/"
}

// board is the part of the API's Board the adapter reads.
type board struct {
	ID                  string `json:"id"`
	Name                string `json:"name"`
	BoardPinsModifiedAt string `json:"board_pins_modified_at"`
}

// page is one page of a bookmark-paged list.
type page[T any] struct {
	Items    []T     `json:"items"`
	Bookmark *string `json:"bookmark"`
}

func (p page[T]) next() string {
	if p.Bookmark == nil {
		return ""
	}
	return *p.Bookmark
}

// parseTime reads the API's date-times: RFC 3339, or the zone-less form
// some endpoints answer with (UTC).
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.UTC); err == nil {
		return t
	}
	return time.Time{}
}
