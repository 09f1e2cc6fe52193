package mastodonsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Streaming API (methods/streaming): server-sent events over a long-lived
// GET. Like Mastodon's separate streaming server it is not rate limited and
// not counted in Stats.Requests.
const (
	// defaultHeartbeat is how often an idle stream gets a ":thump" comment.
	defaultHeartbeat = 15 * time.Second
	// streamBuffer is how many events may wait for a slow client; one that
	// falls further behind is disconnected (it reconnects and lists what it
	// missed).
	streamBuffer = 256
)

// subscriber is one open stream.
type subscriber struct {
	// owner is the account of a user stream (nil for a hashtag stream).
	owner *account
	// tag is the normalized hashtag of a hashtag stream.
	tag string
	// viewer renders payloads (the token's account, or nil).
	viewer *account
	base   string
	frames chan string
}

// wants reports whether the subscriber receives events about st: its own
// statuses on a user stream (the emulator has no follows, so a home
// timeline holds only the account's own posts), public statuses with the
// tag on a hashtag stream.
func (sub *subscriber) wants(st *status) bool {
	if sub.owner != nil {
		return st.account == sub.owner
	}
	return st.visibility == "public" && hasTag(st.text, sub.tag)
}

// serveStreaming handles /api/v1/streaming/...: health, user, hashtag and
// hashtag/local.
func (s *Server) serveStreaming(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, errMethodNotAllowed)
		return
	}
	path := strings.TrimSuffix(r.URL.Path, "/")
	if path == "/api/v1/streaming" {
		// Asked on the API host, this says "stream from this same host"
		// (a separate streaming host would be a redirect). WebSocket
		// connections are not emulated.
		writeError(w, errNotFound)
		return
	}
	if path == "/api/v1/streaming/health" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("OK"))
		return
	}
	sub := &subscriber{base: s.baseFor(r), frames: make(chan string, streamBuffer)}
	viewer, tokenSent := s.streamUser(r)
	if tokenSent && viewer == nil {
		writeError(w, newAPIError(http.StatusUnauthorized, "Invalid access token"))
		return
	}
	sub.viewer = viewer
	switch path {
	case "/api/v1/streaming/user":
		if viewer == nil {
			writeError(w, newAPIError(http.StatusUnauthorized, "Missing access token"))
			return
		}
		sub.owner = viewer
	case "/api/v1/streaming/hashtag", "/api/v1/streaming/hashtag/local":
		// Every status of the emulator is local, so both streams are one.
		if sub.tag = normalizeTag(r.URL.Query().Get("tag")); sub.tag == "" {
			writeError(w, newAPIError(http.StatusBadRequest, "No tag for stream provided"))
			return
		}
	default:
		writeError(w, newAPIError(http.StatusBadRequest, "Unknown channel requested"))
		return
	}
	s.follow(w, r, sub)
}

// streamUser resolves the token of a stream request: the Authorization
// header, or the legacy access_token query parameter.
func (s *Server) streamUser(r *http.Request) (*account, bool) {
	if r.Header.Get("Authorization") != "" {
		return s.authenticate(r)
	}
	token := strings.TrimSpace(r.URL.Query().Get("access_token"))
	if token == "" {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens[token], true
}

// follow registers the subscriber and writes its events and heartbeats
// until the client leaves, the server drops the stream, or a write fails.
// It returns only then, so no goroutine outlives the request.
func (s *Server) follow(w http.ResponseWriter, r *http.Request, sub *subscriber) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, newAPIError(http.StatusInternalServerError, "Streaming is not supported here"))
		return
	}
	s.mu.Lock()
	s.streams[sub] = struct{}{}
	s.mu.Unlock()
	defer s.unsubscribe(sub)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := fmt.Fprint(w, ":)\n"); err != nil {
		return
	}
	flusher.Flush()
	heartbeat := time.NewTicker(s.opts.heartbeat)
	defer heartbeat.Stop()
	for {
		var frame string
		select {
		case <-r.Context().Done():
			return
		case <-heartbeat.C:
			frame = ":thump\n"
		case f, open := <-sub.frames:
			if !open {
				return
			}
			frame = f
		}
		if _, err := fmt.Fprint(w, frame); err != nil {
			return
		}
		flusher.Flush()
	}
}

// unsubscribe forgets a stream; a stream already dropped is left alone.
func (s *Server) unsubscribe(sub *subscriber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.streams[sub]; ok {
		delete(s.streams, sub)
		close(sub.frames)
	}
}

// publish sends a status event (update, status.update) to the streams that
// receive it, rendered for each stream's viewer; s.mu is held.
func (s *Server) publish(event string, st *status) {
	for sub := range s.streams {
		if !sub.wants(st) {
			continue
		}
		payload, err := json.Marshal(statusEntity(st, sub.viewer, sub.base))
		if err != nil {
			continue
		}
		s.send(sub, event, string(payload))
	}
}

// publishDelete sends a delete event, whose payload is the bare status id;
// s.mu is held and st is still as it was before the delete.
func (s *Server) publishDelete(st *status) {
	for sub := range s.streams {
		if sub.wants(st) {
			s.send(sub, "delete", idString(st.id))
		}
	}
}

// send queues one event; a subscriber that cannot take it is dropped.
func (s *Server) send(sub *subscriber, event, data string) {
	select {
	case sub.frames <- "event: " + event + "\ndata: " + data + "\n\n":
	default:
		delete(s.streams, sub)
		close(sub.frames)
	}
}

// DropStreams ends every open stream, as a restart of Mastodon's streaming
// server does; clients are expected to reconnect. Call it before shutting
// the HTTP server down (http.Server.RegisterOnShutdown), since a graceful
// shutdown waits for open requests and a stream never ends by itself.
func (s *Server) DropStreams() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.streams {
		delete(s.streams, sub)
		close(sub.frames)
	}
}

// Streams returns the number of open streams.
func (s *Server) Streams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.streams)
}
