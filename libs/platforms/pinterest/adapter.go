// Package pinterest writes gallery items to a Pinterest account through the
// Pinterest API v5. An album is a board; each gallery item becomes one image
// Pin on it, made from the item's media URL (Pinterest fetches the image
// itself, so the media host must be public).
//
// Pinterest cannot replace a Pin's image, offers no idempotency key and has
// no change notifications for Pins. The adapter therefore replaces a Pin when
// the media changes, marks every Pin it creates so a retried create finds the
// Pin of an earlier attempt, and watches boards by polling (see Watch).
package pinterest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"gallerysync.dev/libs/platforms"
)

// Name is the adapter's name in Connection.platform.
const Name = "pinterest"

// Base URLs of the API; Connection.BaseURL selects one (empty means
// DefaultBaseURL).
const (
	DefaultBaseURL = "https://api.pinterest.com/v5"
	SandboxBaseURL = "https://api-sandbox.pinterest.com/v5"
)

// Keys of Remote.Attrs.
const (
	// AttrMediaURL is the source URL the Pin's image was made from: the
	// Pin shows Pinterest's own copies, so a media change is found here.
	AttrMediaURL = "media_url"
	// AttrFingerprint is the Fingerprint of the content last written.
	AttrFingerprint = platforms.AttrFingerprint
	// AttrBoardID is the board the Pin is on.
	AttrBoardID = "board_id"
	// AttrMarker is the create marker carried in the Pin's link (empty when
	// the Pin has no link), kept on later edits of the link.
	AttrMarker = "marker"
)

// AccessTier is the Pinterest API access level of the app; it decides the
// documented rate limits.
type AccessTier string

// The access tiers of developers.pinterest.com/docs/reference/rate-limits.
const (
	// TierStandard: 100 requests per second per user per app.
	TierStandard AccessTier = "standard"
	// TierTrial: 1000 requests per day for all requests (Pins made by a
	// Trial app are visible only to their creator).
	TierTrial AccessTier = "trial"
)

// Defaults of the options.
const (
	// DefaultPollInterval is how often Watch asks each board whether its Pins changed.
	DefaultPollInterval = time.Minute
	// DefaultDuplicateScan is how many of a board's newest Pins Create looks
	// through for the Pin of an earlier attempt with the same key.
	DefaultDuplicateScan = 100
	// DefaultRescanEvery is every how many polls Watch lists a board even
	// though board_pins_modified_at stood still (see Watch).
	DefaultRescanEvery = 10
)

// Adapter is the Pinterest adapter. It is safe for concurrent use.
type Adapter struct {
	client        *http.Client
	now           func() time.Time
	pollInterval  time.Duration
	tier          AccessTier
	duplicateScan int
	rescanEvery   int
}

var (
	_ platforms.Adapter    = (*Adapter)(nil)
	_ platforms.AlbumMaker = (*Adapter)(nil)
	_ platforms.Watcher    = (*Adapter)(nil)
	_ platforms.Lister     = (*Adapter)(nil)
)

// Option configures an Adapter.
type Option func(*Adapter)

// WithHTTPClient sets the client for API calls (default: 1 minute timeout).
func WithHTTPClient(c *http.Client) Option {
	return func(a *Adapter) {
		if c != nil {
			a.client = c
		}
	}
}

// WithClock sets the clock used to turn a Retry-After delay into a reset
// time and to date changes the watcher cannot date from the API.
func WithClock(now func() time.Time) Option {
	return func(a *Adapter) {
		if now != nil {
			a.now = now
		}
	}
}

// WithPollInterval sets how often Watch polls each board (default 1 minute).
func WithPollInterval(d time.Duration) Option {
	return func(a *Adapter) {
		if d > 0 {
			a.pollInterval = d
		}
	}
}

// WithAccessTier sets the app's access tier, which decides Limits (default
// TierStandard: a Trial app may not create Pins outside the API sandbox).
func WithAccessTier(t AccessTier) Option { return func(a *Adapter) { a.tier = t } }

// WithDuplicateScan sets how many of a board's newest Pins Create searches
// for the marker of its idempotency key (1 to 250, default 100). It bounds
// how many other Pins may be made on the board between a failed create and
// its retry before the retry no longer finds the first attempt's Pin.
func WithDuplicateScan(n int) Option {
	return func(a *Adapter) { a.duplicateScan = min(max(n, 1), maxPageSize) }
}

// WithRescanEvery makes Watch list a board every n polls even when its
// board_pins_modified_at did not move (default 10; 0 never).
func WithRescanEvery(n int) Option { return func(a *Adapter) { a.rescanEvery = max(n, 0) } }

// New returns an adapter.
func New(opts ...Option) *Adapter {
	a := &Adapter{
		client:        &http.Client{Timeout: time.Minute},
		now:           time.Now,
		pollInterval:  DefaultPollInterval,
		tier:          TierStandard,
		duplicateScan: DefaultDuplicateScan,
		rescanEvery:   DefaultRescanEvery,
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Name implements platforms.Adapter.
func (a *Adapter) Name() string { return Name }

// Capabilities implements platforms.Adapter. Boards are albums. Editing a
// Pin's text (PATCH /pins) is a beta Pinterest grants per app: where it is
// refused, Update fails with ErrEditNotAvailable. A Pin's image cannot be
// replaced (Update makes a new Pin instead), a board has no order the API
// can set, and creates are made idempotent by the adapter's marker only.
// Pinterest takes images up to 20 MB.
func (a *Adapter) Capabilities() platforms.Capabilities {
	return platforms.Capabilities{
		Albums: true, EditCaption: true, EditMedia: false, Reorder: false, Delete: true,
		IdempotentCreate: false,
		Detection:        platforms.DetectPoll,
		MaxMediaBytes:    20 << 20,
	}
}

// Limits implements platforms.Adapter: the universal limits Pinterest
// documents per access tier. The per-category limits (org_read, org_write)
// are not published in a form that could be confirmed, so they are left to
// the 429 answers.
func (a *Adapter) Limits() []platforms.Limit {
	if a.tier == TierTrial {
		return []platforms.Limit{{Name: "all", Requests: 1000, Period: 24 * time.Hour}}
	}
	return []platforms.Limit{{Name: "all", Requests: 100, Period: time.Second}}
}

// Fingerprint implements platforms.Adapter: the board, the Pin's text as it
// would be written (shortened to Pinterest's limits) and the media source.
// Sort order is left out because boards have no order to write.
//
// It differs from Expect, which covers only what Pinterest shows of a Pin
// (its text): Pinterest serves its own copies of an image, so the media
// source cannot be read back.
func (a *Adapter) Fingerprint(album string, c platforms.Content) string {
	t := textOf(c)
	return digest("fingerprint", album, t.title, t.description, t.link, t.altText, c.MediaURL)
}

// Expect implements platforms.Adapter: the hash of the Pin's text as the
// adapter writes it (title, description, link without the create marker,
// alt text), which is what Create and Update return in Remote.Hash and what
// Watch and List report in Observed.Hash. A Pin always has one image, which
// Pinterest cannot change and shows only as its own copies, so the image is
// not part of it.
func (a *Adapter) Expect(album string, c platforms.Content) string { return textOf(c).hash() }

// digest hashes length-prefixed fields, so no two field lists collide.
func digest(fields ...string) string {
	h := sha256.New()
	for _, f := range fields {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
