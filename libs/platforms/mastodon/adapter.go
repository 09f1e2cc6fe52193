// Package mastodon writes gallery items to a Mastodon (or API-compatible)
// account. An album is a hashtag: each gallery item becomes one status with
// one image, whose text ends with the album's hashtag.
package mastodon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"gallerysync.dev/libs/media"
	"gallerysync.dev/libs/platforms"
)

// Name is the adapter's name in Connection.platform.
const Name = "mastodon"

// Keys of Remote.Attrs.
const (
	// AttrMediaID is the status's media attachment id; an edit must name it.
	AttrMediaID = "media_id"
	// AttrMediaURL is the source URL the attachment was made from, so an
	// update re-uploads only when the source media changed.
	AttrMediaURL = "media_url"
	// AttrFingerprint is the Fingerprint of the content last written.
	AttrFingerprint = platforms.AttrFingerprint
)

// Adapter is the Mastodon adapter. It is safe for concurrent use.
type Adapter struct {
	fetcher      *media.Fetcher
	client       *http.Client
	visibility   string
	now          func() time.Time
	pollInterval time.Duration
	maxPolls     int
	log          *slog.Logger

	streamKind       StreamKind
	streamIdle       time.Duration
	streamBackoff    time.Duration
	streamMaxBackoff time.Duration
	jitter           func(n int64) int64
}

var _ platforms.Adapter = (*Adapter)(nil)

// Option configures an Adapter.
type Option func(*Adapter)

// WithHTTPClient sets the client for API calls (default: 2 minute timeout).
func WithHTTPClient(c *http.Client) Option { return func(a *Adapter) { a.client = c } }

// WithVisibility sets the visibility of new statuses: public (default),
// unlisted, private or direct.
func WithVisibility(v string) Option { return func(a *Adapter) { a.visibility = v } }

// WithClock sets the clock used to turn a Retry-After delay into a reset time.
func WithClock(now func() time.Time) Option { return func(a *Adapter) { a.now = now } }

// WithMediaPolling sets the first pause between polls of an uploaded media
// that is still processing (it doubles up to 5s) and the number of polls
// before giving up (defaults: 500ms, 20).
func WithMediaPolling(first time.Duration, polls int) Option {
	return func(a *Adapter) { a.pollInterval, a.maxPolls = first, polls }
}

// WithLogger sets where the watcher reports reconnects (default: nowhere).
func WithLogger(l *slog.Logger) Option {
	return func(a *Adapter) {
		if l != nil {
			a.log = l
		}
	}
}

// WithStream sets the streaming timeline Watch follows (default StreamUser).
func WithStream(k StreamKind) Option { return func(a *Adapter) { a.streamKind = k } }

// WithStreamTiming sets how long a stream may stay silent (no event, no
// heartbeat) before it is reconnected, and the first and longest pause
// between reconnects (defaults: 2m, 1s, 1m).
func WithStreamTiming(idle, firstBackoff, maxBackoff time.Duration) Option {
	return func(a *Adapter) { a.streamIdle, a.streamBackoff, a.streamMaxBackoff = idle, firstBackoff, maxBackoff }
}

// New returns an adapter that fetches media through fetcher.
func New(fetcher *media.Fetcher, opts ...Option) *Adapter {
	a := &Adapter{
		fetcher:      fetcher,
		client:       &http.Client{Timeout: 2 * time.Minute},
		visibility:   "public",
		now:          time.Now,
		pollInterval: 500 * time.Millisecond,
		maxPolls:     20,
		log:          slog.New(slog.DiscardHandler),

		streamKind:       StreamUser,
		streamIdle:       2 * time.Minute,
		streamBackoff:    time.Second,
		streamMaxBackoff: time.Minute,
		jitter:           rand.Int64N,
	}
	for _, o := range opts {
		o(a)
	}
	if a.streamIdle <= 0 {
		a.streamIdle = 2 * time.Minute
	}
	if a.streamBackoff <= 0 {
		a.streamBackoff = time.Second
	}
	a.streamMaxBackoff = max(a.streamMaxBackoff, a.streamBackoff)
	return a
}

// Name implements platforms.Adapter.
func (a *Adapter) Name() string { return Name }

// Capabilities implements platforms.Adapter. Albums are hashtags; statuses
// show in creation order only, so there is no reordering.
func (a *Adapter) Capabilities() platforms.Capabilities {
	return platforms.Capabilities{
		Albums: true, EditCaption: true, EditMedia: true, Delete: true, IdempotentCreate: true,
		Detection:     platforms.DetectStream,
		MaxMediaBytes: 16 << 20, // stock Mastodon's image limit
	}
}

// Limits implements platforms.Adapter: Mastodon's documented defaults per
// account (api/rate-limits): every call, media uploads and status deletes
// each have their own window.
func (a *Adapter) Limits() []platforms.Limit {
	return []platforms.Limit{
		{Name: "all", Requests: 300, Period: 5 * time.Minute},
		{Name: "media", Requests: 30, Period: 30 * time.Minute},
		{Name: "delete", Requests: 30, Period: 30 * time.Minute},
	}
}

// Fingerprint implements platforms.Adapter: the status text, the alt text
// and the media source, which is all a status carries of an item. Sort order
// is left out because Mastodon has no order to write.
func (a *Adapter) Fingerprint(album string, c platforms.Content) string {
	h := sha256.New()
	for _, f := range []string{statusText(album, text(c)), altText(c.AltText, c.Title), c.MediaURL} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Expect implements platforms.Adapter: the hash of the status text we post
// in canonical form (which Mastodon's rendered HTML reduces to as well: see
// canonicalHTML), the alt text of its one attachment and the attachment
// count (none for content without media).
func (a *Adapter) Expect(album string, c platforms.Content) string {
	var descs []string
	if c.MediaURL != "" {
		descs = []string{altText(c.AltText, c.Title)}
	}
	return observedHash(canonicalText(statusText(album, text(c))), descs)
}

// Create implements platforms.Adapter: upload the media, then post the status
// with the Idempotency-Key header, so a retry after a crash gets the status
// the first attempt made (Mastodon keeps keys for an hour).
//
// Content without a MediaURL posts a status visible only to the account
// (visibility direct): the writer does that to settle a pending create it
// must delete and whose content it no longer has; if the first attempt made
// a status, the key returns it, and nothing public appears otherwise.
func (a *Adapter) Create(ctx context.Context, conn platforms.Connection, album string, c platforms.Content, idempotencyKey string) (platforms.Remote, error) {
	if idempotencyKey == "" {
		return platforms.Remote{}, fmt.Errorf("%w: create without idempotency key", platforms.ErrPermanent)
	}
	s, err := a.session(conn)
	if err != nil {
		return platforms.Remote{}, err
	}
	alt := altText(c.AltText, c.Title)
	form := url.Values{"status": {statusText(album, text(c))}, "visibility": {a.visibility}}
	uploaded := ""
	if c.MediaURL != "" {
		if uploaded, err = a.upload(ctx, s, c.MediaURL, alt); err != nil {
			return platforms.Remote{}, err
		}
		form.Add("media_ids[]", uploaded)
	} else {
		form.Set("visibility", "direct")
	}
	var st status
	_, err = s.do(ctx, request{
		method:      http.MethodPost,
		path:        "/api/v1/statuses",
		body:        []byte(form.Encode()),
		contentType: "application/x-www-form-urlencoded",
		header:      http.Header{"Idempotency-Key": {idempotencyKey}},
	}, &st)
	if err != nil {
		return platforms.Remote{}, fmt.Errorf("post status: %w", err)
	}
	if st.ID == "" {
		return platforms.Remote{}, &platforms.TransientError{Err: fmt.Errorf("post status: answer without id")}
	}
	mediaID := st.firstMedia()
	if uploaded != "" && mediaID != uploaded {
		// The key was used before: this is the status an earlier attempt
		// made, possibly with older content. Edit it to this content, with
		// the media just uploaded, so the result matches the fingerprint.
		if st, err = a.edit(ctx, s, string(st.ID), form.Get("status"), uploaded, alt); err != nil {
			return platforms.Remote{}, fmt.Errorf("update replayed status: %w", err)
		}
		mediaID = st.firstMedia()
	}
	return a.remote(st, mediaID, album, c), nil
}

// Update implements platforms.Adapter: re-upload the media only when its
// source changed, then edit the status text, media and alt text. A status
// that is gone is platforms.ErrNotFound.
func (a *Adapter) Update(ctx context.Context, conn platforms.Connection, album string, r platforms.Remote, c platforms.Content) (platforms.Remote, error) {
	if r.ID == "" {
		return platforms.Remote{}, fmt.Errorf("%w: no status id", platforms.ErrNotFound)
	}
	s, err := a.session(conn)
	if err != nil {
		return platforms.Remote{}, err
	}
	alt := altText(c.AltText, c.Title)
	mediaID := r.Attrs[AttrMediaID]
	if c.MediaURL != r.Attrs[AttrMediaURL] || mediaID == "" {
		mediaID = ""
		if c.MediaURL != "" {
			if mediaID, err = a.upload(ctx, s, c.MediaURL, alt); err != nil {
				return platforms.Remote{}, err
			}
		}
	}
	st, err := a.edit(ctx, s, r.ID, statusText(album, text(c)), mediaID, alt)
	if err != nil {
		return platforms.Remote{}, err
	}
	if st.ID == "" {
		// An answer without the status: what was written is what was sent.
		return a.remoteExpected(r.ID, mediaID, album, c), nil
	}
	if m := st.firstMedia(); m != "" {
		mediaID = m
	}
	return a.remote(st, mediaID, album, c), nil
}

// edit replaces a status's text and media; the alt text of attached media
// can only change through media_attributes once the media is posted.
func (a *Adapter) edit(ctx context.Context, s *session, statusID, statusText, mediaID, alt string) (status, error) {
	form := url.Values{"status": {statusText}}
	if mediaID != "" {
		form.Add("media_ids[]", mediaID)
		form.Add("media_attributes[][id]", mediaID)
		form.Add("media_attributes[][description]", alt)
	}
	var st status
	_, err := s.do(ctx, request{
		method:      http.MethodPut,
		path:        "/api/v1/statuses/" + url.PathEscape(statusID),
		body:        []byte(form.Encode()),
		contentType: "application/x-www-form-urlencoded",
		notFound:    notFoundIsGone,
	}, &st)
	if err != nil {
		return status{}, fmt.Errorf("edit status %s: %w", statusID, err)
	}
	return st, nil
}

// Delete implements platforms.Adapter. The media goes with the status
// (delete_media, Mastodon 4.4+; older servers ignore it and drop unattached
// media within a day). A status that is already gone is not an error.
func (a *Adapter) Delete(ctx context.Context, conn platforms.Connection, r platforms.Remote) error {
	if r.ID == "" {
		return nil
	}
	s, err := a.session(conn)
	if err != nil {
		return err
	}
	_, err = s.do(ctx, request{
		method:   http.MethodDelete,
		path:     "/api/v1/statuses/" + url.PathEscape(r.ID) + "?delete_media=true",
		notFound: notFoundIsGone,
	}, nil)
	if err != nil && !isGone(err) {
		return fmt.Errorf("delete status %s: %w", r.ID, err)
	}
	return nil
}

// remote describes the status a write returned; its Hash is read from the
// status as Mastodon shows it, exactly as the watcher will read it.
func (a *Adapter) remote(st status, mediaID, album string, c platforms.Content) platforms.Remote {
	r := a.remoteExpected(string(st.ID), mediaID, album, c)
	r.Hash = st.hash()
	return r
}

func (a *Adapter) remoteExpected(statusID, mediaID, album string, c platforms.Content) platforms.Remote {
	return platforms.Remote{ID: statusID, Hash: a.Expect(album, c), Attrs: map[string]string{
		AttrMediaID:     mediaID,
		AttrMediaURL:    c.MediaURL,
		AttrFingerprint: a.Fingerprint(album, c),
	}}
}

func text(c platforms.Content) contentText {
	return contentText{
		title: strings.TrimSpace(c.Title),
		desc:  strings.TrimSpace(c.Description),
		link:  strings.TrimSpace(c.LinkURL),
	}
}
