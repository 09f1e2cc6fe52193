package pinterestsim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/pinterest"
	"gallerysync.dev/libs/platforms/platformtest"
	"gallerysync.dev/services/sandbox/pinterestsim"
)

// TestConformance runs the shared adapter conformance suite with the
// Pinterest adapter against the emulator, every call checked against the
// contract.
func TestConformance(t *testing.T) {
	t.Parallel()
	spec := loadContract(t)
	e := newEnv(t, spec, []pinterestsim.Option{pinterestsim.WithLimits()})
	media := newMediaHost(t)
	throttled := newEnv(t, spec, []pinterestsim.Option{
		pinterestsim.WithLimits(pinterestsim.Limit{Category: pinterestsim.CategoryAll, Requests: 1, Period: time.Hour}),
	})
	platformtest.Run(t, platformtest.Env{
		Adapter:      byURL{e.adapter},
		Conn:         e.conn,
		Serve:        media.serve,
		Read:         func(ctx context.Context, album string) ([]platformtest.Item, error) { return e.read(ctx, media, album) },
		ReplayCursor: pinterest.ReplayCursor,
		Throttle: func(t *testing.T) platforms.Connection {
			// Spend the account's one call of the hour.
			throttled.must(t, http.StatusOK, http.MethodGet, "/v5/boards", aliceToken, nil, nil)
			return throttled.conn
		},
	})
}

// byURL is the adapter as the suite sees it: Pinterest fetches an image
// from its URL itself, so the adapter never holds the bytes and cannot
// downscale them; Pinterest's 20 MB limit (Capabilities.MaxMediaBytes) is
// hidden so the suite's downscaling case, which does not apply, is skipped.
type byURL struct{ *pinterest.Adapter }

func (a byURL) Capabilities() platforms.Capabilities {
	c := a.Adapter.Capabilities()
	c.MaxMediaBytes = 0
	return c
}

// read lists a board's Pins as Pinterest shows them, without the adapter;
// the media facts are those of the image a Pin shows. The create marker the
// adapter appends to a link is left out: the destination page ignores it,
// so the link leads where the item's does.
func (e *env) read(ctx context.Context, media *mediaHost, album string) ([]platformtest.Item, error) {
	marker := regexp.MustCompile(`[?&]gs_ref=[0-9a-f]{16}($|#)`)
	var out []platformtest.Item
	bookmark := ""
	for {
		path := "/v5/boards/" + album + "/pins?page_size=250"
		if bookmark != "" {
			path += "&bookmark=" + bookmark
		}
		var page struct {
			Items    []pinterestsim.Pin `json:"items"`
			Bookmark *string            `json:"bookmark"`
		}
		if err := e.get(ctx, path, &page); err != nil {
			return nil, err
		}
		for _, p := range page.Items {
			img := p.Media.Images["1200x"].URL
			size, kind := media.describe(img)
			out = append(out, platformtest.Item{
				ID: p.ID,
				Content: platforms.Content{
					Title: deref(p.Title), Description: deref(p.Description), AltText: deref(p.AltText),
					LinkURL: marker.ReplaceAllString(deref(p.Link), "$1"),
				},
				Media: img, MediaBytes: size, MediaType: kind,
			})
		}
		if page.Bookmark == nil {
			return out, nil
		}
		bookmark = *page.Bookmark
	}
}

// get reads an API path as alice into out.
func (e *env) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+aliceToken)
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return json.Unmarshal(body, out)
}

// mediaHost serves the suite's images, as the public media host Pinterest
// fetches from would.
type mediaHost struct {
	srv *httptest.Server

	mu    sync.Mutex
	files map[string]file
	n     int
}

type file struct {
	data []byte
	kind string
}

func newMediaHost(t *testing.T) *mediaHost {
	h := &mediaHost{files: map[string]file{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		f, ok := h.files[r.URL.Path]
		h.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", f.kind)
		w.Write(f.data)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *mediaHost) serve(t *testing.T, data []byte, mimeType string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n++
	path := fmt.Sprintf("/media/%d", h.n)
	h.files[path] = file{data: data, kind: mimeType}
	return h.srv.URL + path
}

// describe is the size and type of an image the host serves (0, "" for
// any other URL).
func (h *mediaHost) describe(u string) (int64, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f, ok := h.files[strings.TrimPrefix(u, h.srv.URL)]
	if !ok {
		return 0, ""
	}
	return int64(len(f.data)), f.kind
}
