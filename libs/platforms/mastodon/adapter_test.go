package mastodon_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/libs/media"
	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/mastodon"
)

const pngBytes = "\x89PNG\r\n\x1a\n" + "\x00\x00\x00\x0dIHDR"

type env struct {
	api     *apiServer
	origin  *httptest.Server
	adapter *mastodon.Adapter
	conn    platforms.Connection
}

func newEnv(t *testing.T, opts ...mastodon.Option) *env {
	t.Helper()
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		io.WriteString(w, pngBytes)
	}))
	t.Cleanup(origin.Close)
	api := startAPI(t)
	fetcher := media.NewFetcher([]string{strings.TrimPrefix(origin.URL, "http://")})
	opts = append([]mastodon.Option{mastodon.WithMediaPolling(time.Millisecond, 20)}, opts...)
	return &env{
		api:     api,
		origin:  origin,
		adapter: mastodon.New(fetcher, opts...),
		conn:    platforms.Connection{ID: "conn-1", BaseURL: api.srv.URL + "/", AccountID: "42", Credentials: []byte(testToken)},
	}
}

func (e *env) content(title, file string) platforms.Content {
	return platforms.Content{Title: title, Description: "A description", LinkURL: "https://example.com/p/1",
		MediaURL: e.origin.URL + "/img/" + file, MimeType: "image/png", SortOrder: 1}
}

func TestCreatePostsOneStatusWithMedia(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.content("Sunset", "sunset.png")
	r, err := e.adapter.Create(context.Background(), e.conn, "holiday", c, "key-1")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	statuses, reqs := e.api.snapshot()
	if len(statuses) != 1 {
		t.Fatalf("server has %d statuses, want 1", len(statuses))
	}
	st, ok := statuses[r.ID]
	if !ok {
		t.Fatalf("Remote.ID %q is not a status on the server", r.ID)
	}
	wantText := "Sunset\n\nA description\n\nhttps://example.com/p/1\n\n#holiday"
	if st.Text != wantText || st.Visibility != "public" || st.IdempotencyKey != "key-1" {
		t.Fatalf("status = %+v, want text %q, public, key-1", st, wantText)
	}
	if len(st.MediaIDs) != 1 || st.MediaIDs[0] != r.Attrs[mastodon.AttrMediaID] {
		t.Fatalf("status media %v, remote media id %q", st.MediaIDs, r.Attrs[mastodon.AttrMediaID])
	}
	up := e.api.uploaded(st.MediaIDs[0])
	if up.Description != "Sunset" || up.MimeType != "image/png" || up.Filename != "sunset.png" || up.Size != len(pngBytes) {
		t.Fatalf("upload = %+v, want alt Sunset, image/png, sunset.png, %d bytes", up, len(pngBytes))
	}
	if r.Attrs[mastodon.AttrMediaURL] != c.MediaURL || r.Attrs[mastodon.AttrFingerprint] != e.adapter.Fingerprint("holiday", c) {
		t.Fatalf("attrs = %v", r.Attrs)
	}
	for _, rq := range reqs {
		if got := rq.Header.Get("Authorization"); got != "Bearer "+testToken {
			t.Fatalf("%s %s sent Authorization %q", rq.Method, rq.Path, got)
		}
	}
}

func TestCreateSameKeyMakesNoSecondStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first, err := e.adapter.Create(context.Background(), e.conn, "holiday", e.content("One", "a.png"), "key-1")
	if err != nil {
		t.Fatalf("first Create: %v", err)
	}
	// The retry carries newer content, as after a crash and a later edit.
	newer := e.content("One, edited", "b.png")
	again, err := e.adapter.Create(context.Background(), e.conn, "holiday", newer, "key-1")
	if err != nil {
		t.Fatalf("second Create: %v", err)
	}
	statuses, _ := e.api.snapshot()
	if len(statuses) != 1 || again.ID != first.ID {
		t.Fatalf("got %d statuses, ids %s and %s; want one status", len(statuses), first.ID, again.ID)
	}
	st := statuses[first.ID]
	if !strings.HasPrefix(st.Text, "One, edited\n\n") || st.MediaIDs[0] != again.Attrs[mastodon.AttrMediaID] {
		t.Fatalf("replayed status not brought to the newer content: %+v, remote %v", st, again.Attrs)
	}
	if again.Attrs[mastodon.AttrFingerprint] != e.adapter.Fingerprint("holiday", newer) {
		t.Fatal("fingerprint does not describe the newer content")
	}
}

func TestCreateWaitsForMediaProcessing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.api.setAsync(3)
	r, err := e.adapter.Create(context.Background(), e.conn, "holiday", e.content("Clip", "clip.png"), "key-async")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	_, reqs := e.api.snapshot()
	if n := count(reqs, http.MethodGet, "/api/v1/media/"+r.Attrs[mastodon.AttrMediaID]); n != 4 {
		t.Fatalf("polled the media %d times, want 4 (3x 206, then 200)", n)
	}
}

func TestCreateWithoutMediaIsPrivate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r, err := e.adapter.Create(context.Background(), e.conn, "holiday", platforms.Content{}, "key-settle")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	statuses, reqs := e.api.snapshot()
	if st := statuses[r.ID]; st.Visibility != "direct" || st.Text != "#holiday" {
		t.Fatalf("status = %+v, want a direct #holiday status", st)
	}
	if n := count(reqs, http.MethodPost, "/api/v2/media"); n != 0 {
		t.Fatalf("uploaded %d media for content without media", n)
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		change     func(c platforms.Content) platforms.Content
		wantUpload bool
	}{
		{"caption", func(c platforms.Content) platforms.Content { c.Title = "Renamed"; return c }, false},
		{"alt text", func(c platforms.Content) platforms.Content { c.AltText = "A red sky"; return c }, false},
		{"media", func(c platforms.Content) platforms.Content { c.MediaURL += "?v=2"; return c }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx := context.Background()
			orig := e.content("Sunset", "sunset.png")
			r, err := e.adapter.Create(ctx, e.conn, "holiday", orig, "key-1")
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			c := tc.change(orig)
			got, err := e.adapter.Update(ctx, e.conn, "holiday", r, c)
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			statuses, reqs := e.api.snapshot()
			st := statuses[r.ID]
			if got.ID != r.ID || st.Edits != 1 {
				t.Fatalf("remote %q, status edits %d; want %q edited once", got.ID, st.Edits, r.ID)
			}
			if uploads := count(reqs, http.MethodPost, "/api/v2/media"); (uploads == 2) != tc.wantUpload {
				t.Fatalf("%d uploads, want a new upload: %v", uploads, tc.wantUpload)
			}
			mediaID := got.Attrs[mastodon.AttrMediaID]
			if tc.wantUpload == (mediaID == r.Attrs[mastodon.AttrMediaID]) {
				t.Fatalf("media id %q after update, %q before", mediaID, r.Attrs[mastodon.AttrMediaID])
			}
			wantAlt := c.AltText
			if wantAlt == "" {
				wantAlt = c.Title
			}
			if len(st.MediaIDs) != 1 || st.MediaIDs[0] != mediaID || st.AltByMedia[mediaID] != wantAlt {
				t.Fatalf("status media %v alt %v; want [%s] with alt %q", st.MediaIDs, st.AltByMedia, mediaID, wantAlt)
			}
			if !strings.HasPrefix(st.Text, c.Title+"\n\n") {
				t.Fatalf("status text %q does not start with the title %q", st.Text, c.Title)
			}
			if got.Attrs[mastodon.AttrMediaURL] != c.MediaURL || got.Attrs[mastodon.AttrFingerprint] != e.adapter.Fingerprint("holiday", c) {
				t.Fatalf("attrs = %v", got.Attrs)
			}
		})
	}
}

func TestUpdateGoneStatusIsNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := platforms.Remote{ID: "999", Attrs: map[string]string{mastodon.AttrMediaID: "1", mastodon.AttrMediaURL: e.origin.URL + "/img/a.png"}}
	_, err := e.adapter.Update(context.Background(), e.conn, "holiday", r, e.content("A", "a.png"))
	if !errors.Is(err, platforms.ErrNotFound) {
		t.Fatalf("Update of a missing status: %v, want ErrNotFound", err)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	r, err := e.adapter.Create(ctx, e.conn, "holiday", e.content("A", "a.png"), "key-1")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := e.adapter.Delete(ctx, e.conn, r); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := e.adapter.Delete(ctx, e.conn, r); err != nil {
		t.Fatalf("second Delete (status already gone): %v", err)
	}
	statuses, reqs := e.api.snapshot()
	if len(statuses) != 0 {
		t.Fatalf("%d statuses left", len(statuses))
	}
	for _, rq := range reqs {
		if rq.Method == http.MethodDelete && rq.Query != "delete_media=true" {
			t.Fatalf("DELETE %s?%s does not delete the media", rq.Path, rq.Query)
		}
	}
}
