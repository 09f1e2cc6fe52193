// Package platformtest is the conformance suite every platform adapter
// passes: the same tests run against a real server where one can run
// locally and against the sandbox's emulator of it, which keeps the
// emulator honest. Run(t, env) checks what a writer relies on: create,
// idempotent create, update (text, image, from a stale Remote), delete,
// not-found handling, downscaling, ordering, albums, listing, change
// detection with hashes that recognise our own writes, and the error
// classes of throttling and bad credentials.
package platformtest

import (
	"context"
	"testing"

	"gallerysync.dev/libs/platforms"
)

// Env is an adapter wired to an account on a platform, with what the suite
// needs to check the platform's side without the adapter.
type Env struct {
	Adapter platforms.Adapter
	Conn    platforms.Connection
	// Album is the album the tests write to when the adapter makes no
	// albums; an adapter that is a platforms.AlbumMaker gets one album per
	// test instead.
	Album string
	// Serve returns a URL the adapter's media fetcher accepts, serving data
	// with the MIME type, for the rest of the test.
	Serve func(t *testing.T, data []byte, mimeType string) string
	// Read lists what the platform shows in an album now, read without the
	// adapter.
	Read func(ctx context.Context, album string) ([]Item, error)
	// ReplayCursor is a cursor from which the adapter's Watcher reports
	// every item the albums hold; "" leaves the watcher untested.
	ReplayCursor string
	// Throttle, when set, returns a connection whose next call the
	// platform answers with 429.
	Throttle func(t *testing.T) platforms.Connection
	// ExpireSession, when set, makes the platform refuse the access token
	// the adapter holds for Conn as expired, so the adapter must renew it.
	ExpireSession func(t *testing.T)
}

// Item is an item as the platform shows it.
type Item struct {
	ID string
	// Content holds the texts and sort order the platform shows (MediaURL
	// and MimeType are not compared).
	Content platforms.Content
	// Media identifies the stored media; it changes when the media does.
	Media string
	// MediaBytes and MediaType are the stored media's size and type.
	MediaBytes int64
	MediaType  string
}

// Run runs the suite. Its tests run in parallel, each in its own album
// when the adapter makes albums.
func Run(t *testing.T, env Env) {
	t.Helper()
	s := &suite{env: env}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"Contract", s.contract},
		{"Create", s.createShows},
		{"CreateIsIdempotent", s.idempotent},
		{"UpdateText", s.updateText},
		{"UpdateMedia", s.updateMedia},
		{"UpdateFromStaleRemote", s.updateStale},
		{"Delete", s.delete},
		{"NotFound", s.notFound},
		{"Downscale", s.downscale},
		{"Reorder", s.reorder},
		{"Albums", s.albums},
		{"List", s.list},
		{"Watch", s.watch},
		{"RateLimit", s.rateLimit},
		{"BadCredentials", s.badCredentials},
		{"ExpiredSession", s.expiredSession},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t)
		})
	}
}
