package contract_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gallerysync.dev/libs/wix"
	"gallerysync.dev/services/sandbox/wixsim"
)

// The client contract: libs/wix against the emulator, over HTTP.

const (
	clientAppID  = "contract-app"
	clientSecret = "contract-secret"
	siteOne      = "6a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
	ownerOne     = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
)

// emulator is a wixsim server on a test listener with a settable clock and
// a log of the request paths it saw.
type emulator struct {
	srv  *wixsim.Server
	base string

	mu    sync.Mutex
	paths []string
	skew  time.Duration
}

func (e *emulator) now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return time.Now().Add(e.skew)
}

// advance moves the emulator's clock, e.g. past the rate-limit window.
func (e *emulator) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.skew += d
}

func (e *emulator) seen() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.paths)
}

func startEmulator(t *testing.T, rateLimit int) *emulator {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e := &emulator{}
	var h http.Handler = http.NotFoundHandler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.paths = append(e.paths, r.Method+" "+r.URL.Path)
		e.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	srv, err := wixsim.New(wixsim.Config{
		AppID: clientAppID, AppSecret: clientSecret, SigningKey: key, BaseURL: ts.URL,
		RateLimitPerMinute: rateLimit, MediaReadyAfter: 50 * time.Millisecond, Now: e.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	h = srv.Handler()
	srv.AddSite(siteOne, ownerOne)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	e.srv, e.base = srv, ts.URL
	return e
}

func (e *emulator) client(t *testing.T, prefix string, opts ...wix.ClientOption) *wix.Client {
	t.Helper()
	opts = append([]wix.ClientOption{wix.WithMediaPolling(10*time.Millisecond, 50*time.Millisecond, 30*time.Second)}, opts...)
	c, err := wix.NewClient(wix.ClientConfig{BaseURL: e.base, GalleryPrefix: prefix, AppID: clientAppID, AppSecret: clientSecret}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// seedGallery adds a gallery of n image items straight into the emulator.
func (e *emulator) seedGallery(t *testing.T, name string, n int) wixsim.Gallery {
	t.Helper()
	photo, err := e.srv.AddImage(siteOne, name, 40, 30)
	if err != nil {
		t.Fatal(err)
	}
	g, err := e.srv.CreateGallery(siteOne, name)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := e.srv.AddItem(siteOne, g.ID, wixsim.Item{
			Title: fmt.Sprintf("%s %04d", name, i), SortOrder: float64(i + 1),
			Image: &wixsim.ItemImage{ImageInfo: &wixsim.ImageInfo{ID: photo.ID}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

func TestClientTokenFlow(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, -1)
	e.seedGallery(t, "tokens", 1)
	c := e.client(t, "")
	ctx := t.Context()
	for range 5 {
		if _, err := c.ListGalleries(ctx, siteOne, 0, 10); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.srv.Stats(siteOne).Calls["CreateAccessToken"]; n != 1 {
		t.Fatalf("%d tokens minted for 5 calls, want 1 (cached)", n)
	}

	if err := e.srv.RemoveApp(siteOne); err != nil {
		t.Fatal(err)
	}
	_, err := c.ListGalleries(ctx, siteOne, 0, 10)
	if !errors.Is(err, wix.ErrUnauthorized) {
		t.Fatalf("after the app was removed: %v, want ErrUnauthorized", err)
	}
	if err := e.srv.InstallApp(siteOne, ""); err != nil {
		t.Fatal(err)
	}
	page, err := c.ListGalleries(ctx, siteOne, 0, 10)
	if err != nil || page.TotalGalleries != 1 {
		t.Fatalf("after reinstalling: %+v, %v", page, err)
	}

	bad, err := wix.NewClient(wix.ClientConfig{BaseURL: e.base, AppID: clientAppID, AppSecret: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.ListGalleries(ctx, siteOne, 0, 10); !errors.Is(err, wix.ErrUnauthorized) {
		t.Fatalf("wrong secret: %v, want ErrUnauthorized", err)
	}
}

func TestClientPagesAThousandItems(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, 0) // Wix's own limit: paging must fit in it
	const n = 1000
	g := e.seedGallery(t, "big", n)
	for i := range 12 {
		e.seedGallery(t, fmt.Sprintf("other %02d", i), 0)
	}
	c := e.client(t, "")
	ctx := t.Context()

	var titles []string
	for it, err := range c.Items(ctx, siteOne, g.ID) {
		if err != nil {
			t.Fatal(err)
		}
		titles = append(titles, it.Title)
	}
	if len(titles) != n {
		t.Fatalf("%d items read, want %d", len(titles), n)
	}
	for i, title := range titles {
		if want := fmt.Sprintf("big %04d", i); title != want {
			t.Fatalf("item %d is %q, want %q (display order, each once)", i, title, want)
		}
	}
	if calls := e.srv.Stats(siteOne).Calls["GetGallery"]; calls < n/100 || calls > n/100+1 {
		t.Fatalf("%d Get Gallery calls for %d items, want pages of 100", calls, n)
	}

	all, err := c.AllGalleries(ctx, siteOne)
	if err != nil || len(all) != 13 {
		t.Fatalf("AllGalleries: %d galleries, %v; want 13 over two pages", len(all), err)
	}
	got, err := c.GetGallery(ctx, siteOne, g.ID, 990, 100)
	if err != nil || got.TotalItems != n || len(got.Items) != 10 || got.Items[0].Title != "big 0990" {
		t.Fatalf("last page: total %d, %d items, %v", got.TotalItems, len(got.Items), err)
	}
}

func TestClientWritesAndImports(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, -1)
	g := e.seedGallery(t, "writes", 0)
	c := e.client(t, "")
	ctx := t.Context()

	fd, err := c.ImportFile(ctx, siteOne, wix.ImportRequest{
		URL: e.base + "/_sandbox/images/import.png?w=120&h=80", MimeType: "image/png", DisplayName: "import.png", ExternalIDs: []string{"m:1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if fd.OperationStatus != wix.StatusPending {
		t.Fatalf("import answered %s, want PENDING", fd.OperationStatus)
	}
	ready, err := c.WaitReady(ctx, siteOne, fd.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	info := wix.ImageInfoOf(ready, "alt")
	if info.ID != fd.ID || info.Width != 120 || info.Height != 80 {
		t.Fatalf("ImageInfoOf = %+v", info)
	}
	if got, err := c.GetFile(ctx, siteOne, fd.ID); err != nil || got.OperationStatus != wix.StatusReady {
		t.Fatalf("GetFile: %+v, %v", got, err)
	}

	created, err := c.CreateItem(ctx, siteOne, g.ID, wix.Item{
		Title: "Imported", Link: &wix.Link{URL: "https://example.org/p/1", Target: "_blank"},
		Image: &wix.Image{ImageInfo: &info},
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == "" || created.Type != wix.ItemTypeImage || created.Image.ImageInfo.Width != 120 {
		t.Fatalf("created = %+v", created)
	}
	title := "Renamed"
	updated, err := c.UpdateItem(ctx, siteOne, g.ID, created.ID, wix.ItemPatch{Title: &title})
	if err != nil || updated.Title != title || updated.Link == nil || updated.Link.URL != "https://example.org/p/1" {
		t.Fatalf("update: %+v, %v (fields left out must keep their values)", updated, err)
	}
	if got, err := c.GetItem(ctx, siteOne, g.ID, created.ID); err != nil || got.Title != title {
		t.Fatalf("get: %+v, %v", got, err)
	}
	if err := c.DeleteItem(ctx, siteOne, g.ID, created.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteItem(ctx, siteOne, g.ID, created.ID); err != nil {
		t.Fatalf("deleting a deleted item: %v, want nil", err)
	}
	if _, err := c.GetItem(ctx, siteOne, g.ID, created.ID); !errors.Is(err, wix.ErrNotFound) {
		t.Fatalf("get a deleted item: %v, want ErrNotFound", err)
	}

	var ids []string
	for i := range 3 {
		it, err := c.CreateItem(ctx, siteOne, g.ID, wix.Item{Title: fmt.Sprint(i), Image: &wix.Image{ImageInfo: &info}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, it.ID)
	}
	deleted, err := c.BulkDeleteItems(ctx, siteOne, g.ID, ids)
	if err != nil || !slices.Equal(deleted, ids) {
		t.Fatalf("bulk delete: %v, %v", deleted, err)
	}
	if items, _ := e.srv.Items(siteOne, g.ID); len(items) != 0 {
		t.Fatalf("%d items left after the deletes", len(items))
	}

	failed, err := c.ImportFile(ctx, siteOne, wix.ImportRequest{URL: e.base + "/_sandbox/nothing.png"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitReady(ctx, siteOne, failed.ID, nil); !errors.Is(err, wix.ErrFileFailed) {
		t.Fatalf("WaitReady on a failing import: %v, want ErrFileFailed", err)
	}
	_, err = c.CreateItem(ctx, siteOne, g.ID, wix.Item{Image: &wix.Image{ImageInfo: &wix.ImageInfo{ID: failed.ID, Width: 1, Height: 1}}})
	if !errors.Is(err, wix.ErrInvalidRequest) {
		t.Fatalf("an item naming a FAILED file: %v, want ErrInvalidRequest", err)
	}
}

func TestClientRateLimited(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, 3)
	g := e.seedGallery(t, "limited", 1)
	ctx := t.Context()

	// Without retries the 429 comes back as ErrRateLimited, and the refused
	// create left nothing behind.
	once := e.client(t, "")
	for range 3 {
		if _, err := once.GetGallery(ctx, siteOne, g.ID, 0, 10); err != nil {
			t.Fatal(err)
		}
	}
	photo, err := e.srv.AddImage(siteOne, "limited", 40, 30)
	if err != nil {
		t.Fatal(err)
	}
	single, err := wix.NewClient(wix.ClientConfig{BaseURL: e.base, AppID: clientAppID, AppSecret: clientSecret, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = single.CreateItem(ctx, siteOne, g.ID, wix.Item{Image: &wix.Image{ImageInfo: &wix.ImageInfo{ID: photo.ID, Width: 40, Height: 30}}})
	if !errors.Is(err, wix.ErrRateLimited) || !wix.IsRetryable(err) {
		t.Fatalf("past the limit: %v, want a retryable ErrRateLimited", err)
	}
	if items, _ := e.srv.Items(siteOne, g.ID); len(items) != 1 {
		t.Fatalf("%d items after a refused create, want 1", len(items))
	}

	// With retries the client backs off; here its backoff moves the
	// emulator's clock past the window, so the retry gets through.
	retrying := e.client(t, "", wix.WithBackoff(func(int) time.Duration {
		e.advance(61 * time.Second)
		return time.Millisecond
	}))
	created, err := retrying.CreateItem(ctx, siteOne, g.ID, wix.Item{Title: "after the wait", Image: &wix.Image{ImageInfo: &wix.ImageInfo{ID: photo.ID, Width: 40, Height: 30}}})
	if err != nil || created.ID == "" {
		t.Fatalf("create with retries: %+v, %v", created, err)
	}
	if items, _ := e.srv.Items(siteOne, g.ID); len(items) != 2 {
		t.Fatalf("%d items, want 2: the retried create made exactly one", len(items))
	}
	if st := e.srv.Stats(siteOne); st.RateLimited < 2 {
		t.Fatalf("stats = %+v, want the 429s counted", st)
	}
}

func TestClientPathPrefixes(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, -1)
	g := e.seedGallery(t, "prefixes", 2)
	for _, prefix := range []string{"/pro-gallery/v2", "/progallery/v2"} {
		t.Run(prefix, func(t *testing.T) {
			c := e.client(t, prefix)
			got, err := c.GetGallery(t.Context(), siteOne, g.ID, 0, 50)
			if err != nil || got.TotalItems != 2 {
				t.Fatalf("get gallery: %+v, %v", got, err)
			}
			want := "GET " + prefix + "/galleries/" + g.ID
			if !slices.ContainsFunc(e.seen(), func(p string) bool { return p == want }) {
				t.Fatalf("no request %q among %v", want, e.seen())
			}
			for _, p := range e.seen() {
				if strings.Contains(p, "/galleries") && !strings.Contains(p, "/pro-gallery/v2/") && !strings.Contains(p, "/progallery/v2/") {
					t.Fatalf("request %q under neither prefix", p)
				}
			}
		})
	}
}
