package writer_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials of the test app.
const (
	testAppID     = "app-under-test"
	testAppSecret = "app-secret-under-test"
)

// wixFake is a small Wix REST API for the writer's tests, written from the
// reference (wix-api.md 1, 3, 4, 5): client-credentials tokens per
// instance, Pro Gallery v2 items (Get Gallery with item paging, item get,
// create, patch, delete) and Media Manager imports that go PENDING, then
// READY (or FAILED), with Wix's error format. It counts the writes a site
// owner would see and journals them next to the mapping's echo markers.
type wixFake struct {
	srv     *httptest.Server
	journal *journal

	mu        sync.Mutex
	tokens    map[string]string
	galleries map[[2]string]*fakeGallery
	files     map[[2]string]*fakeFile
	nextID    int
	clock     time.Time
	// creates, updates and deletes count item writes that took effect;
	// imports counts files started.
	creates, updates, deletes, imports int
	importReqs                         []fakeImportRequest
	// readyAfter is how many reads of a PENDING file it takes to be READY.
	readyAfter int
	// held files stay PENDING until released.
	held map[string]bool
	// loseCreates is how many creates take effect but answer 503, as if
	// the answer was lost on the way back.
	loseCreates int
	// createTimes are when create requests arrived, answered or not.
	createTimes []time.Time
	// inject answers a request instead of the API when it returns true.
	inject func(w http.ResponseWriter, r *http.Request) bool
}

type fakeGallery struct {
	items []*fakeItem
}

type fakeItem struct {
	ID          string     `json:"id"`
	SortOrder   float64    `json:"sortOrder"`
	Title       string     `json:"title,omitempty"`
	Description string     `json:"description,omitempty"`
	Link        *fakeLink  `json:"link,omitempty"`
	Type        string     `json:"type"`
	CreatedDate string     `json:"createdDate"`
	UpdatedDate string     `json:"updatedDate"`
	Image       *fakeImage `json:"image,omitempty"`
}

type fakeLink struct {
	URL    string `json:"url,omitempty"`
	Target string `json:"target,omitempty"`
	Type   string `json:"type,omitempty"`
}

type fakeImage struct {
	Type      string         `json:"type,omitempty"`
	ImageInfo *fakeImageInfo `json:"imageInfo,omitempty"`
}

type fakeImageInfo struct {
	ID       string `json:"id"`
	URL      string `json:"url,omitempty"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	AltText  string `json:"altText,omitempty"`
	Filename string `json:"filename,omitempty"`
}

type fakeFile struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	URL         string `json:"url"`
	SizeInBytes string `json:"sizeInBytes"`
	MediaType   string `json:"mediaType"`
	Status      string `json:"operationStatus"`
	SourceURL   string `json:"sourceUrl"`
	Media       *struct {
		Image struct {
			Image fakeImageInfo `json:"image"`
		} `json:"image"`
	} `json:"media,omitempty"`
	reads int
}

type fakeImportRequest struct {
	URL          string `json:"url"`
	MimeType     string `json:"mimeType"`
	DisplayName  string `json:"displayName"`
	ExternalInfo struct {
		Origin      string   `json:"origin"`
		ExternalIDs []string `json:"externalIds"`
	} `json:"externalInfo"`
}

// journal is the order in which things happened across the fakes.
type journal struct {
	mu      sync.Mutex
	entries []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = append(j.entries, s)
}

// index is the position of the first entry equal to s, or -1.
func (j *journal) index(s string) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i, e := range j.entries {
		if e == s {
			return i
		}
	}
	return -1
}

func startWix(t *testing.T, jr *journal) *wixFake {
	t.Helper()
	f := &wixFake{
		journal:    jr,
		tokens:     map[string]string{},
		galleries:  map[[2]string]*fakeGallery{},
		files:      map[[2]string]*fakeFile{},
		clock:      time.Date(2025, 7, 1, 8, 0, 0, 0, time.UTC),
		readyAfter: 1,
		held:       map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", f.token)
	mux.HandleFunc("GET /pro-gallery/v2/galleries/{gid}", f.auth(f.getGallery))
	mux.HandleFunc("GET /pro-gallery/v2/galleries/{gid}/items/{iid}", f.auth(f.getItem))
	mux.HandleFunc("POST /pro-gallery/v2/galleries/{gid}/items", f.auth(f.createItem))
	mux.HandleFunc("PATCH /pro-gallery/v2/galleries/{gid}/items/{iid}", f.auth(f.patchItem))
	mux.HandleFunc("DELETE /pro-gallery/v2/galleries/{gid}/items/{iid}", f.auth(f.deleteItem))
	mux.HandleFunc("POST /site-media/v1/files/import", f.auth(f.importFile))
	mux.HandleFunc("GET /site-media/v1/files/{fid}", f.auth(f.getFile))
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/items") {
			f.createTimes = append(f.createTimes, time.Now())
		}
		if f.inject != nil && f.inject(w, r) {
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// addGallery makes an empty gallery on an instance's site.
func (f *wixFake) addGallery(instance, gid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.galleries[[2]string{instance, gid}] = &fakeGallery{}
}

// setInject installs a hook that may answer requests itself; it runs with
// the fake locked.
func (f *wixFake) setInject(h func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inject = h
}

// loseCreateAnswers makes the next n creates take effect but answer 503.
func (f *wixFake) loseCreateAnswers(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loseCreates = n
}

// createRequests returns when create requests arrived.
func (f *wixFake) createRequests() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.createTimes...)
}

// counts returns item creates, updates, deletes and file imports.
func (f *wixFake) counts() (creates, updates, deletes, imports int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.creates, f.updates, f.deletes, f.imports
}

// items returns copies of a gallery's items.
func (f *wixFake) items(instance, gid string) []fakeItem {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeItem
	if g := f.galleries[[2]string{instance, gid}]; g != nil {
		for _, it := range g.items {
			out = append(out, cloneItem(it))
		}
	}
	return out
}

// imported returns the import requests received.
func (f *wixFake) imported() []fakeImportRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeImportRequest(nil), f.importReqs...)
}

// removeItem deletes an item as a site owner would in the Wix editor.
func (f *wixFake) removeItem(instance, gid, iid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.galleries[[2]string{instance, gid}]
	for i, it := range g.items {
		if it.ID == iid {
			g.items = append(g.items[:i], g.items[i+1:]...)
			return
		}
	}
}

// hold keeps files imported from URLs ending in suffix PENDING until release.
func (f *wixFake) hold(suffix string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held[suffix] = true
}

// release lets held files become READY, and returns their ids.
func (f *wixFake) release(suffix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.held, suffix)
	var ids []string
	for _, fl := range f.files {
		if strings.HasSuffix(fl.SourceURL, suffix) {
			ids = append(ids, fl.ID)
		}
	}
	return ids
}

// removeFiles deletes the files imported from URLs ending in suffix, as a
// site owner may in the Media Manager.
func (f *wixFake) removeFiles(suffix string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, fl := range f.files {
		if strings.HasSuffix(fl.SourceURL, suffix) {
			delete(f.files, k)
		}
	}
}

// fileReads is how often a file imported from a URL ending in suffix was read.
func (f *wixFake) fileReads(suffix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, fl := range f.files {
		if strings.HasSuffix(fl.SourceURL, suffix) {
			n += fl.reads
		}
	}
	return n
}

func cloneItem(it *fakeItem) fakeItem {
	c := *it
	if it.Link != nil {
		l := *it.Link
		c.Link = &l
	}
	if it.Image != nil {
		im := *it.Image
		if it.Image.ImageInfo != nil {
			info := *it.Image.ImageInfo
			im.ImageInfo = &info
		}
		c.Image = &im
	}
	return c
}
