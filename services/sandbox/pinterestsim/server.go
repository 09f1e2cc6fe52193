// Package pinterestsim emulates the parts of the Pinterest REST API v5 that
// gallerysync uses: boards (list with bookmark paging, create, get with
// board_pins_modified_at), the Pins of a board (newest first, bookmark
// paging) and Pins (create from an image URL, get, update, delete), with
// bearer-token users, the documented error bodies ({"code", "message"}) and
// per-user rate limits answered with 429. It follows Pinterest's published
// OpenAPI description (its tests validate every request and answer against
// it) and keeps everything in memory.
//
// The API is served under /v5 (a client's base URL is the handler's URL
// plus "/v5", as with https://api.pinterest.com/v5) and the counters at
// /_sandbox/stats.
//
// Simplified: the emulator fetches no media (a Pin's images all point at
// the source URL, with unknown dimensions), knows no board sections,
// carousels, videos or ad accounts (ad_account_id is ignored), grants every
// scope to every token, and moves board_pins_modified_at on every change of
// a board's Pins, edits included (Pinterest does not document whether an
// edit moves it). Duplicate board names are accepted.
package pinterestsim

import (
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"
)

// apiPrefix is where the API is served, as on api.pinterest.com.
const apiPrefix = "/v5"

// Server is an in-memory Pinterest API. It is safe for concurrent use.
type Server struct {
	opts   options
	routes []route

	mu        sync.Mutex
	ids       sequence
	usernames map[string]*account
	tokens    map[string]*account
	boards    map[string]*board
	pins      map[string]*pin
	limiter   *limiter
	stats     Stats
}

// New builds an empty API; seed it with AddAccount.
func New(opts ...Option) *Server {
	o := options{limits: StandardLimits(), now: time.Now, pinUpdates: true}
	for _, opt := range opts {
		opt(&o)
	}
	return &Server{
		opts:      o,
		routes:    routes(),
		usernames: map[string]*account{},
		tokens:    map[string]*account{},
		boards:    map[string]*board{},
		pins:      map[string]*pin{},
		limiter:   newLimiter(o.limits),
		stats:     Stats{Calls: map[string]int64{}},
	}
}

// Handler serves the API under /v5 and the counters at /_sandbox/stats.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// AddAccount seeds a user that authenticates with token. Adding a username
// again replaces its token and keeps its boards.
func (s *Server) AddAccount(username, token string) Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.usernames[username]
	if a != nil {
		delete(s.tokens, a.token)
	} else {
		a = &account{id: idString(s.ids.next()), username: username}
		s.usernames[username] = a
	}
	a.token = token
	s.tokens[token] = a
	return Account{ID: a.id, Username: a.username}
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.stats
	out.Calls = maps.Clone(s.stats.Calls)
	return out
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch path := r.URL.Path; {
	case path == "/_sandbox/stats":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, errMethodNotAllowed())
			return
		}
		writeJSON(w, http.StatusOK, s.Stats())
	case strings.HasPrefix(path, apiPrefix+"/"):
		s.serveAPI(w, r, strings.TrimPrefix(path, apiPrefix))
	default:
		writeError(w, errNoRoute())
	}
}

// serveAPI routes, authenticates, applies the rate limits and runs the
// handler under the lock.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, path string) {
	s.count(func(st *Stats) { st.Requests++ })
	rt, vars, allowed := match(s.routes, r.Method, path)
	if rt == nil {
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeError(w, errMethodNotAllowed())
			return
		}
		writeError(w, errNoRoute())
		return
	}
	// The body is read before taking the lock; it is judged once the
	// caller is known and admitted.
	var body fields
	var bodyErr error
	if rt.body {
		body, bodyErr = readBody(r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	user := s.authenticate(r)
	if user == nil {
		writeError(w, errAuth())
		return
	}
	if !s.limiter.admit(user.id, rt.category, s.opts.now()) {
		s.stats.RateLimited++
		writeError(w, errRateLimited())
		return
	}
	s.stats.Calls[rt.op]++
	if bodyErr != nil {
		writeError(w, bodyErr)
		return
	}
	c := &call{r: r, user: user, vars: vars, body: body, now: s.opts.now()}
	code, v, err := rt.handle(s, c)
	switch {
	case err != nil:
		writeError(w, err)
	case v == nil:
		w.WriteHeader(code)
	default:
		writeJSON(w, code, v)
	}
}

func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
}

// authenticate resolves the bearer token; s.mu is held.
func (s *Server) authenticate(r *http.Request) *account {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil
	}
	return s.tokens[strings.TrimSpace(token)]
}
