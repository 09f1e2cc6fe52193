package wix

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test credentials of the fake Wix.
const (
	testAppID     = "3f0c2a1e-7d4b-4e8a-9c61-5b2d8e7f1a09"
	testAppSecret = "s3cr3t-app-secret-value"
	testInstance  = "9c1e2f4a-7b3d-4c5e-8f60-1a2b3c4d5e6f"
	testGallery   = "2f1c7a3b-5d6e-4f80-9a1b-2c3d4e5f6a7b"
)

// fakeWix is an in-memory Wix REST API following wix-api.md: OAuth client
// credentials, Pro Gallery v2 (offset paging, Wix error format) and Media
// Manager import/get. Tests script failures with failNext.
type fakeWix struct {
	t      testing.TB
	srv    *httptest.Server
	prefix string

	mu        sync.Mutex
	tokenTTL  int
	tokens    map[string]string // token -> instance
	minted    map[string]int    // instance -> tokens minted
	rejectAll bool              // answer 401 to every API call, as for a removed permission
	galleries []*fakeGallery
	files     map[string]*fakeFile
	failures  []scriptedFailure
	// sampleKeys answers List Galleries with the sample's key spelling.
	sampleKeys bool
	// ignoreOffset answers every item page from offset 0.
	ignoreOffset bool
	requests     []fakeRequest
}

type fakeGallery struct {
	id    string
	name  string
	items []map[string]any
}

// fakeRequest is what the fake saw of one API request.
type fakeRequest struct {
	method, path, auth string
	query              map[string][]string
	body               []byte
}

// scriptedFailure answers the next matching request instead of the API.
type scriptedFailure struct {
	match  string // substring of "METHOD path"
	status int
	header http.Header
	body   string
	// hangup closes the connection without an answer.
	hangup bool
}

func newFakeWix(t testing.TB) *fakeWix {
	t.Helper()
	f := &fakeWix{
		t:        t,
		prefix:   DefaultGalleryPrefix,
		tokenTTL: 14400,
		tokens:   make(map[string]string),
		minted:   make(map[string]int),
		files:    make(map[string]*fakeFile),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", f.handleToken)
	g := f.prefix + "/galleries"
	mux.HandleFunc("GET "+g, f.api(f.listGalleries))
	mux.HandleFunc("GET "+g+"/{gid}", f.api(f.getGallery))
	mux.HandleFunc("GET "+g+"/{gid}/items", f.api(f.listItems))
	mux.HandleFunc("POST "+g+"/{gid}/items", f.api(f.createItem))
	mux.HandleFunc("POST "+g+"/{gid}/items/delete", f.api(f.bulkDelete))
	mux.HandleFunc("GET "+g+"/{gid}/items/{iid}", f.api(f.getItem))
	mux.HandleFunc("PATCH "+g+"/{gid}/items/{iid}", f.api(f.updateItem))
	mux.HandleFunc("DELETE "+g+"/{gid}/items/{iid}", f.api(f.deleteItem))
	mux.HandleFunc("POST /site-media/v1/files/import", f.api(f.importFile))
	mux.HandleFunc("POST /site-media/v1/files/get-files", f.api(f.getFiles))
	mux.HandleFunc("GET /site-media/v1/files/{fid}", f.api(f.getFile))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.addGallery(testGallery, "Main", 0)
	return f
}

// client returns a Client of the fake with instant retries.
func (f *fakeWix) client(t testing.TB, opts ...ClientOption) *Client {
	t.Helper()
	opts = append([]ClientOption{WithBackoff(func(int) time.Duration { return time.Millisecond })}, opts...)
	c, err := NewClient(ClientConfig{BaseURL: f.srv.URL, AppID: testAppID, AppSecret: testAppSecret}, opts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func (f *fakeWix) failNext(n int, fl scriptedFailure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.failures = append(f.failures, fl)
	}
}

// addGallery adds a gallery with n image items, sortOrder 1..n.
func (f *fakeWix) addGallery(id, name string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := &fakeGallery{id: id, name: name}
	for i := range n {
		g.items = append(g.items, fakeItem(fmt.Sprintf("%s-item-%05d", id[:8], i), float64(i+1)))
	}
	f.galleries = append(f.galleries, g)
}

func fakeItem(id string, sortOrder float64) map[string]any {
	fileID := "11062b_" + strings.ReplaceAll(id, "-", "") + "~mv2.jpg"
	return map[string]any{
		"id": id, "sortOrder": sortOrder, "title": "Title " + id, "description": "About " + id, "type": "IMAGE",
		"createdDate": "2026-01-02T03:04:05Z", "updatedDate": "2026-01-02T03:04:06Z",
		"image": map[string]any{"type": "WIX_MEDIA", "imageInfo": map[string]any{
			"id": fileID, "url": "https://static.wixstatic.com/media/" + fileID, "width": 1080, "height": 1350,
		}},
	}
}

func (f *fakeWix) gallery(id string) *fakeGallery {
	for _, g := range f.galleries {
		if g.id == id {
			return g
		}
	}
	return nil
}

func (f *fakeWix) tokensMinted(instance string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.minted[instance]
}

// revokeTokens makes every token issued so far invalid, as an early expiry.
func (f *fakeWix) revokeTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.tokens)
}

// seen returns the API requests whose "METHOD path" contains match.
func (f *fakeWix) seen(match string) []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeRequest
	for _, r := range f.requests {
		if strings.Contains(r.method+" "+r.path, match) {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeWix) handleToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		GrantType    string `json:"grant_type"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		InstanceID   string `json:"instance_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		fakeWixError(w, http.StatusBadRequest, "malformed body", "BAD_REQUEST")
		return
	}
	if req.GrantType != "client_credentials" {
		fakeWixError(w, http.StatusBadRequest, "unsupported grant_type", "UNSUPPORTED_GRANT_TYPE")
		return
	}
	if req.ClientID != testAppID || req.ClientSecret != testAppSecret {
		fakeWixError(w, http.StatusUnauthorized, "client_id or client_secret is wrong", "INVALID_CLIENT_CREDENTIALS")
		return
	}
	f.mu.Lock()
	f.minted[req.InstanceID]++
	tok := fmt.Sprintf("OauthNG.JWS.%s.%d", req.InstanceID, f.minted[req.InstanceID])
	f.tokens[tok] = req.InstanceID
	ttl := f.tokenTTL
	f.mu.Unlock()
	fakeWriteJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": ttl})
}

// api wraps an API handler with request recording, scripted failures and
// the token check.
func (f *fakeWix) api(h func(r *http.Request, body []byte) (int, any)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.requests = append(f.requests, fakeRequest{method: r.Method, path: r.URL.Path, auth: r.Header.Get("Authorization"), query: r.URL.Query(), body: body})
		var fail *scriptedFailure
		for i, fl := range f.failures {
			if strings.Contains(r.Method+" "+r.URL.Path, fl.match) {
				fail = &fl
				f.failures = slices.Delete(f.failures, i, i+1)
				break
			}
		}
		_, authorized := f.tokens[r.Header.Get("Authorization")]
		rejectAll := f.rejectAll
		f.mu.Unlock()
		if fail != nil {
			if fail.hangup {
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					_ = conn.Close()
				}
				return
			}
			for k, v := range fail.header {
				w.Header()[k] = v
			}
			w.WriteHeader(fail.status)
			_, _ = w.Write([]byte(fail.body))
			return
		}
		if !authorized || rejectAll {
			fakeWixError(w, http.StatusUnauthorized, "invalid or expired token", "UNAUTHENTICATED")
			return
		}
		f.mu.Lock()
		status, out := h(r, body)
		f.mu.Unlock()
		if e, ok := out.(fakeErr); ok {
			fakeWixError(w, status, e.msg, e.code)
			return
		}
		fakeWriteJSON(w, status, out)
	}
}

type fakeErr struct{ msg, code string }

func fakeNotFound(what string) (int, any) {
	return http.StatusNotFound, fakeErr{what + " not found", "NOT_FOUND"}
}

func fakeQueryInt(r *http.Request, name string, def, lo, hi int) (int, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || (hi > 0 && n > hi) {
		return 0, false
	}
	return n, true
}

func (f *fakeWix) listGalleries(r *http.Request, _ []byte) (int, any) {
	offset, ok1 := fakeQueryInt(r, "offset", 0, 0, 0)
	limit, ok2 := fakeQueryInt(r, "limit", 10, 1, 10)
	if !ok1 || !ok2 {
		return http.StatusBadRequest, fakeErr{"bad paging", "INVALID_ARGUMENT"}
	}
	page := []any{}
	for i := offset; i < len(f.galleries) && i < offset+limit; i++ {
		page = append(page, f.galleryView(f.galleries[i], 0, 10))
	}
	if f.sampleKeys {
		return http.StatusOK, map[string]any{"totalGalleriesCount": len(f.galleries), "gallery": page}
	}
	return http.StatusOK, map[string]any{"totalGalleries": len(f.galleries), "galleries": page}
}

func (f *fakeWix) galleryView(g *fakeGallery, offset, limit int) map[string]any {
	if f.ignoreOffset {
		offset = 0
	}
	items := []any{}
	for i := offset; i < len(g.items) && i < offset+limit; i++ {
		items = append(items, g.items[i])
	}
	return map[string]any{"id": g.id, "name": g.name, "totalItems": len(g.items), "items": items, "createdDate": "2026-01-01T00:00:00Z"}
}

func (f *fakeWix) itemPage(r *http.Request) (int, int, bool) {
	offset, ok1 := fakeQueryInt(r, "itemOffset", 0, 0, 0)
	limit, ok2 := fakeQueryInt(r, "itemLimit", 50, 1, 100)
	return offset, limit, ok1 && ok2
}

func (f *fakeWix) getGallery(r *http.Request, _ []byte) (int, any) {
	g := f.gallery(r.PathValue("gid"))
	if g == nil {
		return fakeNotFound("gallery")
	}
	offset, limit, ok := f.itemPage(r)
	if !ok {
		return http.StatusBadRequest, fakeErr{"bad paging", "INVALID_ARGUMENT"}
	}
	return http.StatusOK, map[string]any{"gallery": f.galleryView(g, offset, limit)}
}

func (f *fakeWix) listItems(r *http.Request, _ []byte) (int, any) {
	g := f.gallery(r.PathValue("gid"))
	if g == nil {
		return fakeNotFound("gallery")
	}
	offset, limit, ok := f.itemPage(r)
	if !ok {
		return http.StatusBadRequest, fakeErr{"bad paging", "INVALID_ARGUMENT"}
	}
	return http.StatusOK, map[string]any{"items": f.galleryView(g, offset, limit)["items"]}
}

func (f *fakeWix) findItem(r *http.Request) (*fakeGallery, int) {
	g := f.gallery(r.PathValue("gid"))
	if g == nil {
		return nil, -1
	}
	return g, slices.IndexFunc(g.items, func(it map[string]any) bool { return it["id"] == r.PathValue("iid") })
}

func (f *fakeWix) getItem(r *http.Request, _ []byte) (int, any) {
	g, i := f.findItem(r)
	if i < 0 {
		return fakeNotFound("item")
	}
	return http.StatusOK, map[string]any{"item": g.items[i]}
}

func (f *fakeWix) createItem(r *http.Request, body []byte) (int, any) {
	g := f.gallery(r.PathValue("gid"))
	if g == nil {
		return fakeNotFound("gallery")
	}
	var req struct {
		Item map[string]any `json:"item"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Item == nil {
		return http.StatusBadRequest, fakeErr{"item is required", "INVALID_ARGUMENT"}
	}
	it := req.Item
	it["id"] = fmt.Sprintf("created-%d", len(g.items)+1)
	it["type"] = "IMAGE"
	it["createdDate"], it["updatedDate"] = "2026-02-01T00:00:00Z", "2026-02-01T00:00:00Z"
	g.items = append(g.items, it)
	return http.StatusOK, map[string]any{"item": it}
}

func (f *fakeWix) updateItem(r *http.Request, body []byte) (int, any) {
	g, i := f.findItem(r)
	if i < 0 {
		return fakeNotFound("item")
	}
	var req struct {
		Item map[string]any `json:"item"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return http.StatusBadRequest, fakeErr{"bad body", "INVALID_ARGUMENT"}
	}
	for k, v := range req.Item {
		g.items[i][k] = v
	}
	g.items[i]["updatedDate"] = "2026-03-01T00:00:00Z"
	return http.StatusOK, map[string]any{"item": g.items[i]}
}

func (f *fakeWix) deleteItem(r *http.Request, _ []byte) (int, any) {
	g, i := f.findItem(r)
	if i < 0 {
		return fakeNotFound("item")
	}
	id := g.items[i]["id"]
	g.items = slices.Delete(g.items, i, i+1)
	return http.StatusOK, map[string]any{"itemId": id}
}

func (f *fakeWix) bulkDelete(r *http.Request, body []byte) (int, any) {
	g := f.gallery(r.PathValue("gid"))
	if g == nil {
		return fakeNotFound("gallery")
	}
	var req struct {
		ItemIDs []string `json:"itemIds"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.ItemIDs) == 0 {
		return http.StatusBadRequest, fakeErr{"itemIds is required", "INVALID_ARGUMENT"}
	}
	deleted := []string{}
	g.items = slices.DeleteFunc(g.items, func(it map[string]any) bool {
		id, _ := it["id"].(string)
		if slices.Contains(req.ItemIDs, id) {
			deleted = append(deleted, id)
			return true
		}
		return false
	})
	return http.StatusOK, map[string]any{"itemIds": deleted}
}

func fakeWriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fakeWixError writes Wix's error format with an application error.
func fakeWixError(w http.ResponseWriter, status int, msg, code string) {
	fakeWriteJSON(w, status, map[string]any{"message": msg, "details": map[string]any{
		"applicationError": map[string]any{"code": code, "description": msg, "data": map[string]any{}},
	}})
}
