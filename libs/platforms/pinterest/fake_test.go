package pinterest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/pinterest"
)

const testToken = "test-token"

// fakeAPI is a small stand-in for the Pinterest API v5 with the behaviour
// the adapter's own tests need to steer: a board_pins_modified_at the test
// sets by hand, page sizes, and injected answers. The full emulator, with
// the contract checks, is the sandbox's.
type fakeAPI struct {
	srv *httptest.Server

	mu     sync.Mutex
	nextID int
	boards map[string]*fakeBoard
	pins   map[string]*fakePin
	// order lists pin ids oldest first.
	order []string
	// inject, when it returns true, answers a request instead of the API.
	inject func(w http.ResponseWriter, r *http.Request) bool
	calls  map[string]int // "METHOD /path-shape" -> count
	bodies []map[string]any
}

type fakeBoard struct {
	ID, Name string
	// Mod is board_pins_modified_at; "" leaves the field out.
	Mod string
}

type fakePin struct {
	ID, BoardID, Title, Description, Link, AltText, Color, Media string
	CreatedAt                                                    time.Time
}

func startFake(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{nextID: 1000, boards: map[string]*fakeBoard{}, pins: map[string]*fakePin{}, calls: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) conn() platforms.Connection {
	return platforms.Connection{ID: "c1", BaseURL: f.srv.URL + "/v5", Credentials: []byte(testToken)}
}

func (f *fakeAPI) id() string {
	f.nextID++
	return strconv.Itoa(f.nextID)
}

func (f *fakeAPI) addBoard(name, mod string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := &fakeBoard{ID: f.id(), Name: name, Mod: mod}
	f.boards[b.ID] = b
	return b.ID
}

func (f *fakeAPI) setMod(boardID, mod string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.boards[boardID].Mod = mod
}

func (f *fakeAPI) addPin(p fakePin) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	p.ID = f.id()
	if p.CreatedAt.IsZero() {
		p.CreatedAt = time.Date(2025, 1, 1, 0, 0, len(f.order), 0, time.UTC)
	}
	f.pins[p.ID] = &p
	f.order = append(f.order, p.ID)
	return p.ID
}

func (f *fakeAPI) editPin(id string, edit func(p *fakePin)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	edit(f.pins[id])
}

func (f *fakeAPI) pin(id string) (fakePin, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.pins[id]
	if !ok {
		return fakePin{}, false
	}
	return *p, true
}

func (f *fakeAPI) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[key]
}

func (f *fakeAPI) setInject(h func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inject = h
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	inject := f.inject
	f.mu.Unlock()
	if inject != nil && inject(w, r) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		apiError(w, http.StatusUnauthorized, 2, "Authentication failed.")
		return
	}
	segs := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/v5"), "/"), "/")
	shape := r.Method + " /" + segs[0]
	if len(segs) > 1 {
		shape += "/{id}"
	}
	if len(segs) > 2 {
		shape += "/" + segs[2]
	}
	f.calls[shape]++
	var body map[string]any
	if r.Body != nil && (r.Method == http.MethodPost || r.Method == http.MethodPatch) {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			apiError(w, http.StatusBadRequest, 1, "bad json")
			return
		}
		f.bodies = append(f.bodies, body)
	}
	switch shape {
	case "GET /boards":
		items := []map[string]any{}
		for _, b := range f.boards {
			items = append(items, map[string]any{"id": b.ID, "name": b.Name})
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": items, "bookmark": nil})
	case "POST /boards":
		b := &fakeBoard{ID: f.id(), Name: body["name"].(string), Mod: "2025-01-01T00:00:00Z"}
		f.boards[b.ID] = b
		writeJSON(w, http.StatusCreated, map[string]any{"id": b.ID, "name": b.Name})
	case "GET /boards/{id}":
		b := f.boards[segs[1]]
		if b == nil {
			apiError(w, http.StatusNotFound, 40, "Board not found.")
			return
		}
		out := map[string]any{"id": b.ID, "name": b.Name}
		if b.Mod != "" {
			out["board_pins_modified_at"] = b.Mod
		}
		writeJSON(w, http.StatusOK, out)
	case "GET /boards/{id}/pins":
		f.listPins(w, r, segs[1])
	case "POST /pins":
		ms, _ := body["media_source"].(map[string]any)
		p := &fakePin{ID: f.id(), BoardID: str(body["board_id"]), Title: str(body["title"]), Description: str(body["description"]),
			Link: str(body["link"]), AltText: str(body["alt_text"]), Color: str(body["dominant_color"]), Media: str(ms["url"]),
			CreatedAt: time.Date(2025, 1, 1, 0, 0, len(f.order), 0, time.UTC)}
		f.pins[p.ID] = p
		f.order = append(f.order, p.ID)
		writeJSON(w, http.StatusCreated, p.entity())
	case "GET /pins/{id}", "PATCH /pins/{id}", "DELETE /pins/{id}":
		p := f.pins[segs[1]]
		if p == nil {
			apiError(w, http.StatusNotFound, 50, "Pin not found.")
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, p.entity())
		case http.MethodDelete:
			delete(f.pins, p.ID)
			w.WriteHeader(http.StatusNoContent)
		default:
			for k, to := range map[string]*string{"title": &p.Title, "description": &p.Description, "link": &p.Link, "alt_text": &p.AltText} {
				if v, ok := body[k]; ok {
					*to = str(v)
				}
			}
			if v, ok := body["board_id"]; ok {
				p.BoardID = str(v)
			}
			writeJSON(w, http.StatusOK, p.entity())
		}
	default:
		apiError(w, http.StatusNotFound, 404, "Not found.")
	}
}

// listPins pages newest first; the bookmark is the index to go on from.
func (f *fakeAPI) listPins(w http.ResponseWriter, r *http.Request, boardID string) {
	if f.boards[boardID] == nil {
		apiError(w, http.StatusNotFound, 404, "Board not found.")
		return
	}
	var on []*fakePin
	for _, id := range slices.Backward(f.order) {
		if p := f.pins[id]; p != nil && p.BoardID == boardID {
			on = append(on, p)
		}
	}
	size, _ := strconv.Atoi(r.URL.Query().Get("page_size"))
	if size <= 0 {
		size = 25
	}
	from, _ := strconv.Atoi(r.URL.Query().Get("bookmark"))
	items := []map[string]any{}
	var bookmark any
	for i := from; i < len(on); i++ {
		if len(items) == size {
			bookmark = strconv.Itoa(i)
			break
		}
		items = append(items, on[i].entity())
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "bookmark": bookmark})
}

func (p *fakePin) entity() map[string]any {
	out := map[string]any{
		"id": p.ID, "board_id": p.BoardID, "created_at": p.CreatedAt.Format(time.RFC3339),
		"title": nullable(p.Title), "description": nullable(p.Description), "link": nullable(p.Link),
		"alt_text": nullable(p.AltText), "dominant_color": nullable(p.Color),
		"media": map[string]any{"media_type": "image", "images": map[string]any{"600x": map[string]any{"url": p.Media}}},
	}
	return out
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"code": code, "message": msg})
}

// newAdapter is an adapter polling fast.
func newAdapter(opts ...pinterest.Option) *pinterest.Adapter {
	return pinterest.New(append([]pinterest.Option{pinterest.WithPollInterval(5 * time.Millisecond)}, opts...)...)
}

func sampleContent(name string) platforms.Content {
	return platforms.Content{Title: name, Description: "About " + name, LinkURL: "https://example.com/" + name,
		AltText: "Alt " + name, MediaURL: "https://media.example.com/" + name + ".png"}
}
