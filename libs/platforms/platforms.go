// Package platforms is the contract between the writers and the adapters
// that speak one external platform's API each (libs/platforms/<name>). The
// writer owns ordering, idempotency records and retries; an adapter turns one
// gallery item into the platform's calls and reports failures in the classes
// defined here, so the writer can decide between retrying and giving up
// without knowing the platform.
package platforms

import (
	"context"
	"errors"
	"net"
	"time"
)

// Connection is an account on a platform, as the mapping service returns it.
type Connection struct {
	ID        string
	BaseURL   string
	AccountID string
	// Credentials is the secret (for Mastodon: the bearer token). Never log it.
	Credentials []byte
}

// Content is what one gallery item should look like on the platform.
type Content struct {
	Title       string
	Description string
	LinkURL     string
	AltText     string
	MediaURL    string
	MimeType    string
	SortOrder   float64
}

// Remote is an item on the platform: its id plus facts the adapter needs for
// later calls (e.g. the Mastodon media id, the source media URL).
type Remote struct {
	ID    string
	Attrs map[string]string
	// Hash is the adapter's hash of the item as the platform now shows it:
	// the same value its watcher reports in Observed.Hash for this state, so
	// a change event carrying it is recognised as the echo of our write.
	// Empty when the adapter cannot tell.
	Hash string
}

// Detection is how changes made on a platform are found.
type Detection string

// The ways of finding platform changes.
const (
	// DetectStream: the platform pushes changes (Mastodon streaming).
	DetectStream Detection = "stream"
	// DetectFirehose: a repository event stream (AT Protocol subscribeRepos).
	DetectFirehose Detection = "firehose"
	// DetectPoll: changes are found by listing and comparing (Pinterest).
	DetectPoll Detection = "poll"
)

// Capabilities says what a platform supports.
type Capabilities struct {
	Albums           bool
	EditCaption      bool
	EditMedia        bool
	Reorder          bool
	Delete           bool
	IdempotentCreate bool
	// Detection is how the platform's own changes are found.
	Detection Detection
	// MaxMediaBytes is the largest media the platform takes (0: no limit known);
	// adapters downscale images above it.
	MaxMediaBytes int64
}

// Limit is one documented rate limit of a platform.
type Limit struct {
	// Name says which calls it covers, e.g. "all", "media", "delete".
	Name     string
	Requests int
	Period   time.Duration
}

// Observed is an item as a platform shows it, found by a watcher or a list.
type Observed struct {
	Remote
	Album string
	// Content as parsed back from the platform's representation.
	Content Content
	// Permalink is the item's public page.
	Permalink string
	// UpdatedAt orders states of one item (edit time, else creation time).
	UpdatedAt time.Time
	// Deleted reports a deletion (only ID, Album and UpdatedAt are set).
	Deleted bool
}

// Watcher finds changes made on a platform, for adapters that support it.
type Watcher interface {
	// Watch reports changes to the connection's albums until ctx ends or the
	// platform fails. It resumes after cursor ("" starts from now) and calls
	// emit, in order, with each change and the cursor to store once the
	// change is safely handed on; an emit error ends Watch with that error.
	// A deletion may come without its Album when the platform does not say
	// (e.g. Mastodon's delete event); the caller then finds the album by
	// Observed.ID.
	Watch(ctx context.Context, conn Connection, albums []string, cursor string,
		emit func(ctx context.Context, o Observed, cursor string) error) error
}

// Lister lists what an album holds now, for adapters that can: the
// watchers compare it with the mapping from time to time to find changes
// missed while nobody watched (in particular deletions).
type Lister interface {
	// List returns every item the album holds now, each as a Watcher would
	// report it (Observed.Hash included; never Deleted). An error means the
	// listing is incomplete and must not be taken as the album's content.
	List(ctx context.Context, conn Connection, album string) ([]Observed, error)
}

// AttrFingerprint is the key of Remote.Attrs (stored as the mapping's
// external_attrs) under which the writer records the Fingerprint of the
// content it last wrote, so a later write of content with the same
// fingerprint is skipped. Adapters must not use it for anything else.
const AttrFingerprint = "fingerprint"

// Reorderer moves items of an album into an order, for platforms with ordering.
type Reorderer interface {
	// Reorder puts the album's items in the given order (first = first shown).
	Reorder(ctx context.Context, conn Connection, album string, order []Remote) error
}

// AlbumMaker creates albums, for platforms with real albums.
type AlbumMaker interface {
	// EnsureAlbum returns the id of the album named name, creating it if needed.
	EnsureAlbum(ctx context.Context, conn Connection, name string) (string, error)
}

// Adapter writes gallery items to one platform.
type Adapter interface {
	// Name is the adapter's name, as stored in Connection.platform ("mastodon").
	Name() string
	// Capabilities says what the platform supports.
	Capabilities() Capabilities
	// Limits are the platform's documented rate limits per account; writers
	// pace themselves below them (shared across replicas) and still honour
	// every 429 the platform sends.
	Limits() []Limit
	// Fingerprint is the hash of what the adapter would write for this content on this album;
	// the writer compares it with the hash last written to skip no-op writes (e.g. a sort-order
	// change on a platform without ordering).
	Fingerprint(album string, c Content) string
	// Expect is the Observed.Hash the platform will show once c is written
	// to album: the value Create and Update return in Remote.Hash for that
	// write, and the value a Watcher or Lister reports in Observed.Hash
	// for the item while nobody changes it on the platform. It is computed
	// before the write, without calling the platform, so the writer can
	// mark its write as an echo before making it (platform echo markers).
	// It hashes only what the platform shows back (text as rendered, alt
	// text, media count), never what it cannot read back (source URLs,
	// sort order on a platform without ordering); "" when the adapter
	// cannot predict it, in which case no echo marker can match.
	Expect(album string, c Content) string
	// Create makes the external item; the same idempotency key must never make a second item.
	Create(ctx context.Context, conn Connection, album string, c Content, idempotencyKey string) (Remote, error)
	// Update brings the external item to the content.
	Update(ctx context.Context, conn Connection, album string, r Remote, c Content) (Remote, error)
	// Delete removes the external item; an item that is already gone is not an error.
	Delete(ctx context.Context, conn Connection, r Remote) error
}

// Error classes every adapter reports.
var (
	// ErrNotFound: the external item does not exist (any more).
	ErrNotFound = errors.New("platform: not found")
	// ErrPermanent is wrapped by errors retrying cannot fix: bad credentials,
	// missing permission, content the platform refuses (401, 403, 422).
	ErrPermanent = errors.New("platform: permanent error")
)

// RateLimitError is returned when the platform throttles the account (429).
// Reset is when the platform said the limit resets.
type RateLimitError struct {
	Reset time.Time
	Err   error
}

// Error implements error.
func (e *RateLimitError) Error() string {
	return "platform: rate limited until " + e.Reset.UTC().Format(time.RFC3339) + ": " + e.Err.Error()
}

// Unwrap returns the platform's error.
func (e *RateLimitError) Unwrap() error { return e.Err }

// TransientError marks a failure that may pass on a later attempt (a 5xx
// answer, a network error, a timeout).
type TransientError struct {
	Err error
}

// Error implements error.
func (e *TransientError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *TransientError) Unwrap() error { return e.Err }

// Retryable reports true.
func (e *TransientError) Retryable() bool { return true }

// IsRetryable reports whether err may pass on a later attempt: a 5xx, a
// network error or a timeout, or a rate limit (retry after its Reset). Any
// error in the chain with a `Retryable() bool` method that reports true
// counts, so packages below adapters (e.g. libs/media) need not import this one.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, ErrPermanent) || errors.Is(err, ErrNotFound) {
		return false
	}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return true
	}
	var r interface{ Retryable() bool }
	if errors.As(err, &r) && r.Retryable() {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
