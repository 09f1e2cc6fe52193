package mastodon_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const testToken = "s3cret-token"

// apiServer is a small Mastodon API: media upload (sync or async), status
// create with Idempotency-Key, edit with media_attributes, delete. It checks
// requests the way Mastodon does and records what it received.
type apiServer struct {
	srv *httptest.Server

	mu          sync.Mutex
	nextID      int
	media       map[string]*upload
	statuses    map[string]*postedStatus
	idempotency map[string]string
	// asyncPolls, when > 0, makes uploads answer 202 and the media poll
	// answer 206 that many times before 200.
	asyncPolls int
	// inject, when it returns true, answers a request instead of the API.
	inject   func(w http.ResponseWriter, r *http.Request) bool
	requests []recorded
	// streams are the open streaming connections; heartbeat is their
	// comment interval.
	streams   map[chan string]string // the tag of a hashtag stream, "" for the user stream
	heartbeat time.Duration
	clock     time.Time
}

type upload struct {
	ID, Description, Filename, MimeType string
	Size                                int
	pollsLeft                           int
}

type postedStatus struct {
	ID, Text, Visibility, IdempotencyKey string
	MediaIDs                             []string
	// AltByMedia is the alt text set through media_attributes on edit.
	AltByMedia map[string]string
	Edits      int
	// Account is the author's id (testAccount for statuses posted with the token).
	Account             string
	CreatedAt, EditedAt time.Time
}

// testAccount is the id of the account testToken belongs to.
const testAccount = "42"

type recorded struct {
	Method, Path, Query string
	Header              http.Header
	Form                map[string][]string
}

func startAPI(t *testing.T) *apiServer {
	t.Helper()
	s := &apiServer{media: map[string]*upload{}, statuses: map[string]*postedStatus{}, idempotency: map[string]string{},
		streams: map[chan string]string{}, heartbeat: 20 * time.Millisecond, clock: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	// Open streams end first, or Close would wait for them.
	t.Cleanup(s.dropStreams)
	return s
}

func (s *apiServer) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/v1/streaming/") {
		s.stream(w, r)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone()}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		if err := r.ParseMultipartForm(32 << 20); err == nil {
			rec.Form = r.MultipartForm.Value
		}
	} else if err := r.ParseForm(); err == nil {
		rec.Form = r.PostForm
	}
	s.requests = append(s.requests, rec)
	if s.inject != nil && s.inject(w, r) {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		apiError(w, http.StatusUnauthorized, "The access token is invalid")
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v2/media":
		s.handleUpload(w, r)
	case r.Method == http.MethodGet && len(parts) == 4 && parts[2] == "media":
		s.getMedia(w, parts[3])
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/statuses":
		s.postStatus(w, r)
	case r.Method == http.MethodPut && len(parts) == 4 && parts[2] == "statuses":
		s.editStatus(w, r, parts[3])
	case r.Method == http.MethodDelete && len(parts) == 4 && parts[2] == "statuses":
		s.deleteStatus(w, parts[3])
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/accounts/verify_credentials":
		writeJSON(w, http.StatusOK, map[string]any{"id": testAccount, "username": "owner"})
	case r.Method == http.MethodGet && len(parts) == 5 && parts[2] == "accounts" && parts[4] == "statuses":
		s.listStatuses(w, r, parts[3])
	default:
		apiError(w, http.StatusNotFound, "Record not found")
	}
}

func (s *apiServer) handleUpload(w http.ResponseWriter, r *http.Request) {
	file, hdr, err := r.FormFile("file")
	if err != nil {
		apiError(w, http.StatusUnprocessableEntity, "Validation failed: File can't be blank")
		return
	}
	data, _ := io.ReadAll(file)
	mt := hdr.Header.Get("Content-Type")
	if !strings.HasPrefix(mt, "image/") && !strings.HasPrefix(mt, "video/") {
		apiError(w, http.StatusUnprocessableEntity, "Validation failed: File content type is invalid")
		return
	}
	s.nextID++
	u := &upload{ID: strconv.Itoa(1000 + s.nextID), Description: r.FormValue("description"), Filename: hdr.Filename,
		MimeType: mt, Size: len(data), pollsLeft: s.asyncPolls}
	s.media[u.ID] = u
	if u.pollsLeft > 0 {
		writeJSON(w, http.StatusAccepted, map[string]any{"id": u.ID, "type": "image", "url": nil, "description": u.Description})
		return
	}
	writeJSON(w, http.StatusOK, s.attachmentJSON(u))
}

func (s *apiServer) getMedia(w http.ResponseWriter, id string) {
	u, ok := s.media[id]
	if !ok {
		apiError(w, http.StatusNotFound, "Record not found")
		return
	}
	if u.pollsLeft > 0 {
		u.pollsLeft--
		w.WriteHeader(http.StatusPartialContent)
		return
	}
	writeJSON(w, http.StatusOK, s.attachmentJSON(u))
}

func (s *apiServer) postStatus(w http.ResponseWriter, r *http.Request) {
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		if id, ok := s.idempotency[key]; ok {
			writeJSON(w, http.StatusOK, s.statusJSON(s.statuses[id]))
			return
		}
	}
	st := &postedStatus{Text: r.PostFormValue("status"), Visibility: r.PostFormValue("visibility"),
		IdempotencyKey: r.Header.Get("Idempotency-Key"), MediaIDs: r.PostForm["media_ids[]"], AltByMedia: map[string]string{}}
	if msg := s.validate(st.Text, st.MediaIDs); msg != "" {
		apiError(w, http.StatusUnprocessableEntity, msg)
		return
	}
	st.Account = testAccount
	s.add(st)
	if st.IdempotencyKey != "" {
		s.idempotency[st.IdempotencyKey] = st.ID
	}
	writeJSON(w, http.StatusOK, s.statusJSON(st))
}

// add stores a new status and streams it; s.mu is held.
func (s *apiServer) add(st *postedStatus) {
	s.nextID++
	st.ID = strconv.Itoa(2000 + s.nextID)
	st.CreatedAt = s.tick()
	if st.AltByMedia == nil {
		st.AltByMedia = map[string]string{}
	}
	s.statuses[st.ID] = st
	s.broadcast("update", st)
}

// tick advances the server's clock by a second and returns it, so every
// change has its own time.
func (s *apiServer) tick() time.Time {
	s.clock = s.clock.Add(time.Second)
	return s.clock
}

func (s *apiServer) editStatus(w http.ResponseWriter, r *http.Request, id string) {
	st, ok := s.statuses[id]
	if !ok {
		apiError(w, http.StatusNotFound, "Record not found")
		return
	}
	text, mediaIDs := r.PostFormValue("status"), r.PostForm["media_ids[]"]
	if msg := s.validate(text, mediaIDs); msg != "" {
		apiError(w, http.StatusUnprocessableEntity, msg)
		return
	}
	ids, descs := r.PostForm["media_attributes[][id]"], r.PostForm["media_attributes[][description]"]
	if len(ids) != len(descs) {
		apiError(w, http.StatusBadRequest, "media_attributes: id and description do not pair up")
		return
	}
	st.Text, st.MediaIDs = text, mediaIDs
	for i, mid := range ids {
		st.AltByMedia[mid] = descs[i]
	}
	st.Edits++
	st.EditedAt = s.tick()
	s.broadcast("status.update", st)
	writeJSON(w, http.StatusOK, s.statusJSON(st))
}

func (s *apiServer) deleteStatus(w http.ResponseWriter, id string) {
	st, ok := s.statuses[id]
	if !ok {
		apiError(w, http.StatusNotFound, "Record not found")
		return
	}
	delete(s.statuses, id)
	s.broadcastRaw("delete", id)
	writeJSON(w, http.StatusOK, s.statusJSON(st))
}

func (s *apiServer) validate(text string, mediaIDs []string) string {
	if text == "" && len(mediaIDs) == 0 {
		return "Validation failed: Text can't be blank"
	}
	if n := len([]rune(text)); n > 500 {
		return fmt.Sprintf("Validation failed: Text character limit of 500 exceeded (%d)", n)
	}
	for _, id := range mediaIDs {
		u, ok := s.media[id]
		if !ok {
			return "Validation failed: media " + id + " not found"
		}
		if u.pollsLeft > 0 {
			return "Cannot attach files that have not finished processing. Try again in a moment!"
		}
	}
	return ""
}

func (s *apiServer) attachmentJSON(u *upload) map[string]any {
	var desc any
	if u.Description != "" {
		desc = u.Description
	}
	return map[string]any{"id": u.ID, "type": "image", "url": s.srv.URL + "/files/" + u.ID, "description": desc}
}

// statusJSON renders a status the way Mastodon does: HTML content with
// paragraphs, line breaks, shortened links and hashtag links, the tags,
// and each attachment with its current description.
func (s *apiServer) statusJSON(st *postedStatus) map[string]any {
	atts := []map[string]any{}
	for _, id := range st.MediaIDs {
		a := s.attachmentJSON(s.media[id])
		if d, ok := st.AltByMedia[id]; ok {
			a["description"] = d
		}
		atts = append(atts, a)
	}
	content, tags := renderStatus(st.Text, s.srv.URL)
	var edited any
	if !st.EditedAt.IsZero() {
		edited = st.EditedAt.Format(time.RFC3339Nano)
	}
	return map[string]any{
		"id": st.ID, "content": content, "visibility": st.Visibility, "media_attachments": atts,
		"created_at": st.CreatedAt.Format(time.RFC3339Nano), "edited_at": edited,
		"url": s.srv.URL + "/@owner/" + st.ID, "uri": s.srv.URL + "/users/owner/statuses/" + st.ID,
		"account": map[string]any{"id": st.Account}, "tags": tags, "reblog": nil,
	}
}

// snapshot returns copies of the server's statuses and requests.
func (s *apiServer) snapshot() (map[string]postedStatus, []recorded) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]postedStatus{}
	for id, st := range s.statuses {
		out[id] = *st
	}
	return out, append([]recorded(nil), s.requests...)
}

func (s *apiServer) uploaded(id string) upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.media[id]
}

func (s *apiServer) setInject(f func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject = f
}

func (s *apiServer) setAsync(polls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asyncPolls = polls
}

func apiError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// count returns how many recorded requests match a method and path prefix.
func count(reqs []recorded, method, pathPrefix string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == method && strings.HasPrefix(r.Path, pathPrefix) {
			n++
		}
	}
	return n
}
