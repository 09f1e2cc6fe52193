// Package atproto writes gallery items to an AT Protocol repository (a
// Bluesky PDS or any other) as Grain records, so they show in the Grain
// photo app:
//
//   - an album is a social.grain.gallery record; the album id is its record
//     key (EnsureAlbum makes one, titled with the album name);
//   - an item is a social.grain.photo record, holding the image blob, its alt
//     text and aspect ratio, joined to the gallery by a
//     social.grain.gallery.item record, whose position orders the gallery.
//
// Mapping of an item's content:
//
//   - AltText is the photo's alt, the only per-photo text Grain's lexicon has
//     and the one Grain shows;
//   - Title, Description and LinkURL are kept on the photo record as the
//     extra fields title, description and link. Lexicon records are open
//     (the PDS stores and serves fields a lexicon does not name), so they
//     survive our own round trips, but Grain shows none of them, and a
//     client that rewrites the photo from its own model drops them;
//   - SortOrder is the gallery item's position, scaled by 1000 and rounded
//     (positions are integers; Wix sort orders are epoch milliseconds or
//     fractional), so order and three decimals survive the round trip.
//
// Record keys: Create derives one TID from the idempotency key and uses it
// as the key of both the photo and its gallery item, and writes both in one
// applyWrites call. A retry after a crash therefore addresses the same two
// records: the PDS refuses to create a record that exists, and the adapter
// then finds and returns (and updates to the content asked) what the first
// attempt made. Remote.ID is the photo's record key.
//
// Authentication is an app password: Connection.AccountID is the handle or
// DID, Connection.Credentials the password, BaseURL the PDS. Sessions are
// cached per connection, refreshed when the PDS says the access token
// expired, and made anew when the refresh fails.
package atproto

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"gallerysync.dev/libs/media"
	"gallerysync.dev/libs/platforms"
)

// Name is the adapter's name in Connection.platform.
const Name = "atproto"

// Collections (lexicon ids) the adapter writes and reads.
const (
	CollectionGallery     = "social.grain.gallery"
	CollectionGalleryItem = "social.grain.gallery.item"
	CollectionPhoto       = "social.grain.photo"
)

// Keys of Remote.Attrs. Together they let Update and Delete address the
// records without reading them first.
const (
	// AttrPhotoCID is the photo record's cid as last written or seen: the
	// swapRecord of the next update.
	AttrPhotoCID = "photo_cid"
	// AttrItemRkey is the record key of the gallery item joining the photo
	// to the album.
	AttrItemRkey = "item_rkey"
	// AttrItemCID is the gallery item record's cid.
	AttrItemCID = "item_cid"
	// AttrBlob is the photo's image blob: "cid mimetype size".
	AttrBlob = "blob"
	// AttrAspect is the image's aspect ratio: "width:height".
	AttrAspect = "aspect"
	// AttrAlbum is the album (gallery record key) the gallery item names.
	AttrAlbum = "album"
	// AttrPhotoHash is the hash of the photo record's content, so an update
	// that changes only the position leaves the photo alone.
	AttrPhotoHash = "photo_hash"
	// AttrPosition is the gallery item's position.
	AttrPosition = "position"
	// AttrCreatedAt is the photo's createdAt, kept across updates.
	AttrCreatedAt = "created_at"
	// AttrMediaURL is the source URL the blob was made from, so an update
	// uploads again only when the source changed.
	AttrMediaURL = "media_url"
	// AttrFingerprint is the Fingerprint of the content last written.
	AttrFingerprint = platforms.AttrFingerprint
)

// Adapter is the AT Protocol adapter. It is safe for concurrent use.
type Adapter struct {
	fetcher      *media.Fetcher
	client       *http.Client
	now          func() time.Time
	log          *slog.Logger
	pollInterval time.Duration
	maxBytes     int64

	mu       sync.Mutex
	sessions map[string]*session
}

var (
	_ platforms.Adapter    = (*Adapter)(nil)
	_ platforms.AlbumMaker = (*Adapter)(nil)
	_ platforms.Reorderer  = (*Adapter)(nil)
	_ platforms.Watcher    = (*Adapter)(nil)
	_ platforms.Lister     = (*Adapter)(nil)
)

// Option configures an Adapter.
type Option func(*Adapter)

// WithHTTPClient sets the client for XRPC calls (default: 2 minute timeout).
func WithHTTPClient(c *http.Client) Option { return func(a *Adapter) { a.client = c } }

// WithClock sets the clock for record timestamps and rate-limit resets.
func WithClock(now func() time.Time) Option { return func(a *Adapter) { a.now = now } }

// WithLogger sets where the watcher reports interruptions (default: nowhere).
func WithLogger(l *slog.Logger) Option {
	return func(a *Adapter) {
		if l != nil {
			a.log = l
		}
	}
}

// WithPollInterval sets how often Watch asks the PDS whether the repository
// changed (default 30s). Each poll is one getLatestCommit; only a changed
// repository is listed.
func WithPollInterval(d time.Duration) Option { return func(a *Adapter) { a.pollInterval = d } }

// New returns an adapter that fetches media through fetcher.
func New(fetcher *media.Fetcher, opts ...Option) *Adapter {
	a := &Adapter{
		fetcher:      fetcher,
		client:       &http.Client{Timeout: 2 * time.Minute},
		now:          time.Now,
		log:          slog.New(slog.DiscardHandler),
		pollInterval: 30 * time.Second,
		maxBytes:     maxBlobBytes,
		sessions:     map[string]*session{},
	}
	for _, o := range opts {
		o(a)
	}
	if a.pollInterval <= 0 {
		a.pollInterval = 30 * time.Second
	}
	return a
}

// Name implements platforms.Adapter.
func (a *Adapter) Name() string { return Name }

// Capabilities implements platforms.Adapter. Galleries are real albums with
// an explicit order; records can be rewritten (caption and image) and
// deleted; creates are idempotent through derived record keys. Changes are
// found by polling (see Watch). Grain's lexicon caps a photo blob at
// 1,000,000 bytes, so larger images are downscaled.
func (a *Adapter) Capabilities() platforms.Capabilities {
	return platforms.Capabilities{
		Albums: true, EditCaption: true, EditMedia: true, Reorder: true, Delete: true, IdempotentCreate: true,
		Detection:     platforms.DetectPoll,
		MaxMediaBytes: maxBlobBytes,
	}
}

// Limits implements platforms.Adapter: the limits Bluesky documents for its
// PDSes. Repository writes are charged in points (5,000 an hour, 35,000 a
// day; a created record costs 3, an updated one 2, a deleted one 1); the
// costliest call the adapter makes is Create (two records, 6 points), so
// "write" counts calls at that price. Every call counts against 3,000 per
// 5 minutes, uploads against 1,000 a day and logins against 30 per 5 minutes.
func (a *Adapter) Limits() []platforms.Limit {
	return []platforms.Limit{
		{Name: "all", Requests: 3000, Period: 5 * time.Minute},
		{Name: "write", Requests: 5000 / createPoints, Period: time.Hour},
		{Name: "write", Requests: 35000 / createPoints, Period: 24 * time.Hour},
		{Name: "media", Requests: 1000, Period: 24 * time.Hour},
		{Name: "session", Requests: 30, Period: 5 * time.Minute},
	}
}

// createPoints is what one Create costs: two created records, 3 points each.
const createPoints = 6

// Fingerprint implements platforms.Adapter: everything the adapter writes
// for the content (the photo's texts, the gallery position) plus the media
// source and the album.
func (a *Adapter) Fingerprint(album string, c platforms.Content) string {
	t := textOf(c)
	return digest("fingerprint", album, t.alt, t.title, t.description, t.link, formatInt(position(c.SortOrder)), c.MediaURL)
}

// Expect implements platforms.Adapter: the hash of the records as the PDS
// will serve them (see observedHash). The blob's cid is left out because it
// is known only after the image is fetched and encoded.
func (a *Adapter) Expect(album string, c platforms.Content) string {
	return observedHash(textOf(c), position(c.SortOrder), c.MediaURL != "")
}

// Create implements platforms.Adapter (see the package doc for the record
// keys). Content without a MediaURL makes nothing: a photo needs an image.
// It returns what an earlier attempt under the key made, if anything, else
// a Remote naming the keys that attempt would have used, whose Delete is a
// no-op; the writer does that to settle a pending create it must delete.
func (a *Adapter) Create(ctx context.Context, conn platforms.Connection, album string, c platforms.Content, idempotencyKey string) (platforms.Remote, error) {
	if idempotencyKey == "" {
		return platforms.Remote{}, permanentf("create without idempotency key")
	}
	if err := checkRkey(album); err != nil {
		return platforms.Remote{}, err
	}
	s, err := a.session(ctx, conn)
	if err != nil {
		return platforms.Remote{}, err
	}
	rkey := tidFromKey("item", idempotencyKey)
	if c.MediaURL == "" {
		return a.resolve(ctx, s, album, rkey)
	}
	img, err := a.image(ctx, s, c.MediaURL)
	if err != nil {
		return platforms.Remote{}, err
	}
	st := state{photoRkey: rkey, itemRkey: rkey, album: album, blob: img.blob, aspect: img.aspect,
		position: position(c.SortOrder), createdAt: a.timestamp(), mediaURL: c.MediaURL}
	photo, item := st.records(s.galleryURI(album), s.recordURI(CollectionPhoto, rkey), c)
	res, err := s.applyWrites(ctx, []write{
		{op: opCreate, collection: CollectionPhoto, rkey: st.photoRkey, value: photo},
		{op: opCreate, collection: CollectionGalleryItem, rkey: st.itemRkey, value: item},
	})
	if err == nil && len(res) == 2 && res[0].CID != "" && res[1].CID != "" {
		st.photoCID, st.itemCID, st.photoHash = res[0].CID, res[1].CID, photo.hash()
		return a.remote(album, c, st), nil
	}
	if err != nil && (isRateLimit(err) || errors.Is(err, platforms.ErrPermanent)) {
		return platforms.Remote{}, fmt.Errorf("create %s: %w", rkey, err)
	}
	// The PDS refuses (500) a create whose record exists, and a lost answer
	// looks like any other failure: see whether an earlier attempt made
	// the records, and if so bring them to this content.
	cur, found, rerr := a.current(ctx, s, album, rkey, rkey)
	if rerr != nil || !found {
		if err == nil {
			err = transientf("applyWrites answered %d results for 2 writes", len(res))
		}
		return platforms.Remote{}, fmt.Errorf("create %s: %w", rkey, err)
	}
	cur.blob, cur.aspect, cur.mediaURL = img.blob, img.aspect, c.MediaURL
	return a.write(ctx, s, album, cur, c)
}

// Update implements platforms.Adapter: the photo is rewritten (putRecord
// with swapRecord) when its texts or image changed, and the gallery item
// when its position changed; a new image source means a new blob. A photo
// that is gone, or no longer in the album, is platforms.ErrNotFound.
func (a *Adapter) Update(ctx context.Context, conn platforms.Connection, album string, r platforms.Remote, c platforms.Content) (platforms.Remote, error) {
	if err := checkRkey(r.ID); err != nil {
		return platforms.Remote{}, fmt.Errorf("%w: %w", platforms.ErrNotFound, err)
	}
	if err := checkRkey(album); err != nil {
		return platforms.Remote{}, err
	}
	s, err := a.session(ctx, conn)
	if err != nil {
		return platforms.Remote{}, err
	}
	st, ok := stateFromAttrs(r)
	if !ok {
		cur, found, err := a.current(ctx, s, album, r.ID, r.Attrs[AttrItemRkey])
		if err != nil {
			return platforms.Remote{}, fmt.Errorf("update %s: %w", r.ID, err)
		}
		if !found {
			return platforms.Remote{}, fmt.Errorf("update %s: %w", r.ID, platforms.ErrNotFound)
		}
		cur.mediaURL = r.Attrs[AttrMediaURL]
		st = cur
	}
	if c.MediaURL != st.mediaURL || st.blob.CID == "" {
		if c.MediaURL == "" {
			return platforms.Remote{}, permanentf("update %s: a photo needs an image", r.ID)
		}
		img, err := a.image(ctx, s, c.MediaURL)
		if err != nil {
			return platforms.Remote{}, err
		}
		st.blob, st.aspect, st.mediaURL = img.blob, img.aspect, c.MediaURL
	}
	return a.write(ctx, s, album, st, c)
}

// Delete implements platforms.Adapter: the photo and its gallery item go in
// one applyWrites. The PDS fails an applyWrites that deletes a missing
// record, so when that happens each record is deleted on its own
// (deleteRecord of a missing record succeeds): an item already gone is not
// an error.
func (a *Adapter) Delete(ctx context.Context, conn platforms.Connection, r platforms.Remote) error {
	if r.ID == "" {
		return nil
	}
	if err := checkRkey(r.ID); err != nil {
		return nil
	}
	s, err := a.session(ctx, conn)
	if err != nil {
		return err
	}
	itemRkey := r.Attrs[AttrItemRkey]
	if itemRkey == "" || checkRkey(itemRkey) != nil {
		itemRkey = r.ID
	}
	writes := []write{
		{op: opDelete, collection: CollectionGalleryItem, rkey: itemRkey},
		{op: opDelete, collection: CollectionPhoto, rkey: r.ID},
	}
	_, err = s.applyWrites(ctx, writes)
	if err == nil {
		return nil
	}
	if isRateLimit(err) || isAPIError(err, "AuthenticationRequired") {
		return fmt.Errorf("delete %s: %w", r.ID, err)
	}
	for _, w := range writes {
		if err := s.deleteRecord(ctx, w.collection, w.rkey); err != nil {
			return fmt.Errorf("delete %s: %w", r.ID, err)
		}
	}
	return nil
}

func (a *Adapter) timestamp() string { return a.now().UTC().Format(timeLayout) }

// timeLayout is the datetime format of records: RFC 3339 with milliseconds,
// as the AT Protocol's own clients write it.
const timeLayout = "2006-01-02T15:04:05.000Z"
