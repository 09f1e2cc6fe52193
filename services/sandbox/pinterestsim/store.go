package pinterestsim

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"
)

// firstID is where ids start: Pinterest ids are long decimal numbers.
const firstID = 549755813888

// account is a seeded user and what it owns.
type account struct {
	id       string
	username string
	token    string
	boards   []*board // creation order
}

// board is a stored board. pins holds its Pins by position stamp,
// ascending; the API lists them newest first.
type board struct {
	id          string
	seq         uint64
	owner       *account
	name        string
	description *string
	privacy     string
	adsOnly     bool
	createdAt   time.Time
	modifiedAt  time.Time // board_pins_modified_at
	pins        []*pin
}

// pin is a stored Pin. stamp orders it on its board (a new or moved Pin
// goes on top).
type pin struct {
	id            string
	stamp         uint64
	board         *board
	title         *string
	description   *string
	link          *string
	altText       *string
	dominantColor *string
	mediaURL      string
	createdAt     time.Time
}

// sequence hands out increasing ids and stamps.
type sequence struct{ last uint64 }

func (q *sequence) next() uint64 {
	if q.last < firstID {
		q.last = firstID
	}
	q.last++
	return q.last
}

// touch moves board_pins_modified_at to now, strictly forward, so every
// change of a board's Pins is visible in it even on a frozen clock.
func (b *board) touch(now time.Time) {
	if !now.After(b.modifiedAt) {
		now = b.modifiedAt.Add(time.Microsecond)
	}
	b.modifiedAt = now
}

func (b *board) add(p *pin, stamp uint64) {
	p.board, p.stamp = b, stamp
	b.pins = append(b.pins, p)
}

func (b *board) remove(p *pin) {
	b.pins = slices.DeleteFunc(b.pins, func(x *pin) bool { return x == p })
}

// newestFirst lists the board's Pins as the API does.
func (b *board) newestFirst() []*pin {
	out := slices.Clone(b.pins)
	slices.Reverse(out)
	return out
}

// boardEntity renders a board.
func boardEntity(b *board) Board {
	out := Board{
		ID:                  b.id,
		CreatedAt:           formatTime(b.createdAt),
		BoardPinsModifiedAt: formatTime(b.modifiedAt),
		Name:                b.name,
		Description:         b.description,
		PinCount:            len(b.pins),
		Owner:               Owner{Username: b.owner.username},
		Privacy:             b.privacy,
		IsAdsOnly:           b.adsOnly,
		Media:               BoardMedia{PinThumbnailURLs: []string{}},
	}
	for i, p := range b.newestFirst() {
		if i == 0 {
			cover := p.mediaURL
			out.Media.ImageCoverURL = &cover
		}
		if i < 5 {
			out.Media.PinThumbnailURLs = append(out.Media.PinThumbnailURLs, p.mediaURL)
		}
	}
	return out
}

// pinEntity renders a Pin for its owner.
func pinEntity(p *pin) Pin {
	images := map[string]ImageDetails{}
	for _, size := range []string{"150x150", "400x300", "600x", "1200x"} {
		images[size] = ImageDetails{URL: p.mediaURL}
	}
	return Pin{
		ID:            p.id,
		CreatedAt:     formatTime(p.createdAt),
		Link:          p.link,
		Title:         p.title,
		Description:   p.description,
		DominantColor: p.dominantColor,
		AltText:       p.altText,
		CreativeType:  "REGULAR",
		BoardID:       p.board.id,
		BoardOwner:    Owner{Username: p.board.owner.username},
		IsOwner:       true,
		Media:         PinMedia{MediaType: "image", Images: images},
		IsStandard:    true,
	}
}

// Bookmarks are opaque to clients; here one names the list it belongs to
// and the position after which the next page starts.
func makeBookmark(list string, after uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(list + ":" + strconv.FormatUint(after, 10)))
}

// readBookmark returns the position a bookmark of list points after; ok is
// false for a bookmark of another list or one the emulator never issued.
func readBookmark(list, bookmark string) (after uint64, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(bookmark)
	if err != nil {
		return 0, false
	}
	s := string(raw)
	i := strings.LastIndexByte(s, ':')
	if i < 0 || s[:i] != list {
		return 0, false
	}
	after, err = strconv.ParseUint(s[i+1:], 10, 64)
	return after, err == nil
}
