package mastodon_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The parts of the test API that the watcher uses: account timelines with
// tag filter and id paging, and the user stream.

var (
	testURL        = regexp.MustCompile(`https?://[^\s<>"]+`)
	testHashtag    = regexp.MustCompile(`(^|[^\p{L}\p{N}_/])#([\p{L}\p{N}_]+)`)
	testParagraphs = regexp.MustCompile(`\n\n+`)
)

// renderStatus renders status text as Mastodon does: escaped text,
// paragraphs for blank-line separated blocks, <br /> for line breaks, links
// shortened with invisible spans, hashtags as tag links. It returns the
// HTML and the tags.
func renderStatus(text, base string) (string, []map[string]string) {
	tags := []map[string]string{}
	seen := map[string]bool{}
	var b strings.Builder
	for _, para := range testParagraphs.Split(strings.TrimSpace(text), -1) {
		var lines []string
		for _, line := range strings.Split(para, "\n") {
			lines = append(lines, renderLine(line, base, func(tag string) {
				if t := strings.ToLower(tag); !seen[t] {
					seen[t] = true
					tags = append(tags, map[string]string{"name": t, "url": base + "/tags/" + t})
				}
			}))
		}
		b.WriteString("<p>" + strings.Join(lines, "<br />") + "</p>")
	}
	return b.String(), tags
}

func renderLine(line, base string, onTag func(string)) string {
	var b strings.Builder
	for line != "" {
		u := testURL.FindStringIndex(line)
		h := testHashtag.FindStringSubmatchIndex(line)
		switch {
		case u != nil && (h == nil || u[0] <= h[4]-1):
			b.WriteString(html.EscapeString(line[:u[0]]))
			link := line[u[0]:u[1]]
			scheme := link[:strings.Index(link, "//")+2]
			rest := link[len(scheme):]
			shown, hidden, class := rest, "", ""
			if len(rest) > 30 {
				shown, hidden, class = rest[:30], rest[30:], "ellipsis"
			}
			fmt.Fprintf(&b, `<a href="%s" target="_blank" rel="nofollow noopener noreferrer"><span class="invisible">%s</span><span class="%s">%s</span><span class="invisible">%s</span></a>`,
				html.EscapeString(link), scheme, class, html.EscapeString(shown), html.EscapeString(hidden))
			line = line[u[1]:]
		case h != nil:
			start := h[4] - 1
			b.WriteString(html.EscapeString(line[:start]))
			tag := line[h[4]:h[5]]
			onTag(tag)
			fmt.Fprintf(&b, `<a href="%s/tags/%s" class="mention hashtag" rel="tag">#<span>%s</span></a>`, base, strings.ToLower(tag), html.EscapeString(tag))
			line = line[h[5]:]
		default:
			b.WriteString(html.EscapeString(line))
			line = ""
		}
	}
	return b.String()
}

// listStatuses serves GET /api/v1/accounts/:id/statuses: newest first,
// tagged, max_id / min_id paging and the Link header.
func (s *apiServer) listStatuses(w http.ResponseWriter, r *http.Request, account string) {
	q := r.URL.Query()
	limit := 20
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		limit = min(n, 40)
	}
	var all []*postedStatus
	for _, st := range s.statuses {
		_, tags := renderStatus(st.Text, s.srv.URL)
		tagged := q.Get("tagged") == ""
		for _, t := range tags {
			tagged = tagged || t["name"] == strings.ToLower(q.Get("tagged"))
		}
		if st.Account == account && tagged {
			all = append(all, st)
		}
	}
	num := func(id string) int { n, _ := strconv.Atoi(id); return n }
	slices.SortFunc(all, func(a, b *postedStatus) int { return num(b.ID) - num(a.ID) })
	var page []*postedStatus
	if v := q.Get("min_id"); v != "" {
		for i := len(all) - 1; i >= 0 && len(page) < limit; i-- {
			if num(all[i].ID) > num(v) {
				page = append(page, all[i])
			}
		}
		slices.Reverse(page)
	} else {
		for _, st := range all {
			if len(page) < limit && (q.Get("max_id") == "" || num(st.ID) < num(q.Get("max_id"))) {
				page = append(page, st)
			}
		}
	}
	var links []string
	link := func(cursor, id string) string {
		v := url.Values{"limit": {strconv.Itoa(limit)}, cursor: {id}}
		if q.Get("tagged") != "" {
			v.Set("tagged", q.Get("tagged"))
		}
		return s.srv.URL + r.URL.Path + "?" + v.Encode()
	}
	if len(page) == limit {
		links = append(links, "<"+link("max_id", page[len(page)-1].ID)+`>; rel="next"`)
	}
	if len(page) > 0 {
		links = append(links, "<"+link("min_id", page[0].ID)+`>; rel="prev"`)
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	out := []map[string]any{}
	for _, st := range page {
		out = append(out, s.statusJSON(st))
	}
	writeJSON(w, http.StatusOK, out)
}

// stream serves GET /api/v1/streaming/user (the account's statuses) and
// /api/v1/streaming/hashtag?tag= (every account's statuses with the tag) as
// server-sent events with heartbeats, until the client leaves or
// dropStreams ends it.
func (s *apiServer) stream(w http.ResponseWriter, r *http.Request) {
	tag := ""
	if r.URL.Path == "/api/v1/streaming/hashtag" {
		if tag = strings.ToLower(r.URL.Query().Get("tag")); tag == "" {
			apiError(w, http.StatusBadRequest, "Unknown channel requested")
			return
		}
	}
	s.mu.Lock()
	s.requests = append(s.requests, recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone()})
	inject := s.inject
	s.mu.Unlock()
	if inject != nil && inject(w, r) {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		apiError(w, http.StatusUnauthorized, "Invalid access token")
		return
	}
	ch := make(chan string, 256)
	s.mu.Lock()
	s.streams[ch] = tag
	beat := s.heartbeat
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.streams, ch)
		s.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	flusher := w.(http.Flusher)
	flusher.Flush()
	ticker := time.NewTicker(beat)
	defer ticker.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ticker.C:
			fmt.Fprint(w, ":thump\n")
		case msg, ok := <-ch:
			if !ok {
				return
			}
			fmt.Fprint(w, msg)
		}
		flusher.Flush()
	}
}

// broadcast sends a status event to the user streams (a home timeline that
// follows every account) and to the hashtag streams of its tags; s.mu is held.
func (s *apiServer) broadcast(event string, st *postedStatus) {
	payload := s.statusJSON(st)
	data, _ := json.Marshal(payload)
	tags := map[string]bool{}
	for _, t := range payload["tags"].([]map[string]string) {
		tags[t["name"]] = true
	}
	for ch, tag := range s.streams {
		if tag == "" || tags[tag] {
			send(ch, event, string(data))
		}
	}
}

// broadcastRaw sends an event to every stream; s.mu is held.
func (s *apiServer) broadcastRaw(event, data string) {
	for ch := range s.streams {
		send(ch, event, data)
	}
}

func send(ch chan string, event, data string) {
	select {
	case ch <- "event: " + event + "\ndata: " + data + "\n\n":
	default:
	}
}

// dropStreams ends every open stream, as a streaming server restart does.
func (s *apiServer) dropStreams() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.streams {
		close(ch)
		delete(s.streams, ch)
	}
}

// openStreams is the number of connected streams.
func (s *apiServer) openStreams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.streams)
}

// postAs adds a status by any account without media, as if posted in a
// client; it returns the id.
func (s *apiServer) postAs(account, text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &postedStatus{Text: text, Visibility: "public", Account: account}
	s.add(st)
	return st.ID
}

// editAs replaces a status's text, as an edit in a client does.
func (s *apiServer) editAs(id, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.statuses[id]
	st.Text = text
	st.Edits++
	st.EditedAt = s.tick()
	s.broadcast("status.update", st)
}

// deleteAs deletes a status, as a client does.
func (s *apiServer) deleteAs(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.statuses, id)
	s.broadcastRaw("delete", id)
}
