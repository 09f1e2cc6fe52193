package writer_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// mastoToken is the bearer token of the test connection.
const mastoToken = "test-bearer-token"

// mastoServer is a small Mastodon API for the writer's tests: media upload,
// status create (honoring Idempotency-Key), edit and delete. It counts the
// writes that change what followers see.
type mastoServer struct {
	srv *httptest.Server

	mu       sync.Mutex
	nextID   int
	media    map[string]string // id -> description given at upload
	statuses map[string]*mastoStatus
	keys     map[string]string
	// created counts statuses made (a replayed key makes none); edits and
	// deletes count successful PUT and DELETE calls.
	created, edits, deletes int
	// postTimes are when POST /api/v1/statuses requests arrived.
	postTimes []time.Time
	// inject answers a request instead of the API when it returns true.
	inject func(w http.ResponseWriter, r *http.Request) bool
}

type mastoStatus struct {
	ID, Text string
	MediaIDs []string
	Alt      map[string]string
}

func startMasto(t *testing.T) *mastoServer {
	t.Helper()
	s := &mastoServer{media: map[string]string{}, statuses: map[string]*mastoStatus{}, keys: map[string]string{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *mastoServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method == http.MethodPost && r.URL.Path == "/api/v1/statuses" {
		s.postTimes = append(s.postTimes, time.Now())
	}
	if s.inject != nil && s.inject(w, r) {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+mastoToken {
		mastoError(w, http.StatusUnauthorized, "The access token is invalid")
		return
	}
	id, isStatus := strings.CutPrefix(r.URL.Path, "/api/v1/statuses/")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v2/media":
		f, hdr, err := r.FormFile("file")
		if err != nil || !strings.HasPrefix(hdr.Header.Get("Content-Type"), "image/") {
			mastoError(w, http.StatusUnprocessableEntity, "Validation failed: File content type is invalid")
			return
		}
		io.Copy(io.Discard, f)
		s.nextID++
		mid := strconv.Itoa(100 + s.nextID)
		s.media[mid] = r.FormValue("description")
		writeJSONAnswer(w, http.StatusOK, map[string]any{"id": mid, "type": "image", "url": s.srv.URL + "/m/" + mid,
			"description": s.media[mid]})
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/statuses":
		if sid, ok := s.keys[r.Header.Get("Idempotency-Key")]; ok && r.Header.Get("Idempotency-Key") != "" {
			writeJSONAnswer(w, http.StatusOK, s.statusJSON(s.statuses[sid]))
			return
		}
		st := &mastoStatus{Text: r.PostFormValue("status"), MediaIDs: r.PostForm["media_ids[]"], Alt: map[string]string{}}
		s.nextID++
		st.ID = strconv.Itoa(9000 + s.nextID)
		s.statuses[st.ID] = st
		if k := r.Header.Get("Idempotency-Key"); k != "" {
			s.keys[k] = st.ID
		}
		s.created++
		writeJSONAnswer(w, http.StatusOK, s.statusJSON(st))
	case r.Method == http.MethodPut && isStatus:
		st, ok := s.statuses[id]
		if !ok {
			mastoError(w, http.StatusNotFound, "Record not found")
			return
		}
		st.Text, st.MediaIDs = r.PostFormValue("status"), r.PostForm["media_ids[]"]
		ids, descs := r.PostForm["media_attributes[][id]"], r.PostForm["media_attributes[][description]"]
		for i := range min(len(ids), len(descs)) {
			st.Alt[ids[i]] = descs[i]
		}
		s.edits++
		writeJSONAnswer(w, http.StatusOK, s.statusJSON(st))
	case r.Method == http.MethodDelete && isStatus:
		st, ok := s.statuses[id]
		if !ok {
			mastoError(w, http.StatusNotFound, "Record not found")
			return
		}
		delete(s.statuses, id)
		s.deletes++
		writeJSONAnswer(w, http.StatusOK, s.statusJSON(st))
	default:
		mastoError(w, http.StatusNotFound, "Record not found")
	}
}

// statusJSON renders a status; an attachment's description is the one an
// edit set, else the one given at upload.
func (s *mastoServer) statusJSON(st *mastoStatus) map[string]any {
	atts := []map[string]any{}
	for _, id := range st.MediaIDs {
		desc, ok := st.Alt[id]
		if !ok {
			desc = s.media[id]
		}
		atts = append(atts, map[string]any{"id": id, "type": "image", "description": desc})
	}
	return map[string]any{"id": st.ID, "content": "<p>" + st.Text + "</p>", "media_attachments": atts}
}

// writes returns the write counters and the statuses that exist.
func (s *mastoServer) writes() (created, edits, deletes int, statuses map[string]mastoStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	statuses = map[string]mastoStatus{}
	for id, st := range s.statuses {
		statuses[id] = *st
	}
	return s.created, s.edits, s.deletes, statuses
}

func (s *mastoServer) setInject(f func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject = f
}

func (s *mastoServer) posts() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.postTimes...)
}

func mastoError(w http.ResponseWriter, code int, msg string) {
	writeJSONAnswer(w, code, map[string]string{"error": msg})
}

func writeJSONAnswer(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
