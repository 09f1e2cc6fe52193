// Package mastodonsim emulates the parts of the Mastodon REST API that
// gallerysync uses: bearer-token accounts, media uploads, status create,
// edit (with history), delete, account timelines with paging and hashtag
// filters, Idempotency-Key replays and per-account rate limits with their
// headers, and the streaming API (server-sent events). It follows
// Mastodon's documented contracts, status codes and error bodies, and
// keeps everything in memory.
//
// Streaming: GET /api/v1/streaming/user (the token's account; the
// emulator has no follows, so its home timeline holds only its own
// statuses) and GET /api/v1/streaming/hashtag?tag= (and hashtag/local:
// public statuses with the tag, from any account) authenticate with the
// Authorization header or the legacy access_token query parameter. Every
// create, edit and delete made through the API sends the documented event
// (update, status.update, delete with the bare id) to the streams that see
// the status; idle streams get a ":thump" heartbeat (WithHeartbeat). A
// stream ends when its client leaves or DropStreams is called.
//
// Acting as the account owner, e.g. to make a change "on Mastodon" that a
// watcher must notice, needs nothing special: call the normal API with the
// account's token (POST /api/v1/statuses, PUT and DELETE
// /api/v1/statuses/:id), as any Mastodon client would.
package mastodonsim

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// Server is an in-memory Mastodon instance. It is safe for concurrent use.
type Server struct {
	opts   options
	routes []route

	mu          sync.Mutex
	ids         snowflakes
	accounts    map[string]*account // by id
	usernames   map[string]*account
	tokens      map[string]*account
	statuses    map[uint64]*status
	media       map[uint64]*media
	idempotency map[idempotencyKey]idempotencyEntry
	limiter     *limiter
	stats       Stats
	streams     map[*subscriber]struct{}
}

// New builds an empty instance; seed it with AddAccount.
func New(opts ...Option) *Server {
	o := options{limits: DefaultLimits(), now: time.Now, heartbeat: defaultHeartbeat}
	for _, opt := range opts {
		opt(&o)
	}
	return &Server{
		opts:        o,
		routes:      routes(),
		accounts:    map[string]*account{},
		usernames:   map[string]*account{},
		tokens:      map[string]*account{},
		statuses:    map[uint64]*status{},
		media:       map[uint64]*media{},
		idempotency: map[idempotencyKey]idempotencyEntry{},
		limiter:     newLimiter(),
		streams:     map[*subscriber]struct{}{},
	}
}

// Handler serves the API at its root: /api/v1/..., /api/v2/..., the
// streaming API under /api/v1/streaming/, the uploaded files under /media/
// and the counters at /_sandbox/stats.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// AddAccount seeds a local account that authenticates with token. Adding a
// username again replaces its token and keeps the account.
func (s *Server) AddAccount(username, token string) Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.usernames[username]
	if a != nil {
		delete(s.tokens, a.token)
	} else {
		now := s.opts.now()
		a = &account{id: idString(s.ids.next(now)), username: username, createdAt: now}
		s.accounts[a.id] = a
		s.usernames[username] = a
	}
	a.token = token
	s.tokens[token] = a
	return accountEntity(a, s.baseFor(nil))
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Statuses returns an account's statuses that are not deleted, oldest first,
// as their author sees them.
func (s *Server) Statuses(accountID string) []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[accountID]
	if a == nil {
		return nil
	}
	base := s.baseFor(nil)
	out := []Status{}
	for _, st := range a.statuses {
		if !st.deleted {
			out = append(out, statusEntity(st, a, base))
		}
	}
	return out
}

// baseFor returns the public base URL; without a configured one it is built
// from the request (or a placeholder when there is none).
func (s *Server) baseFor(r *http.Request) string {
	if s.opts.baseURL != "" {
		return s.opts.baseURL
	}
	if r == nil {
		return "http://localhost"
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == "/_sandbox/stats":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, errMethodNotAllowed)
			return
		}
		writeJSON(w, http.StatusOK, s.Stats())
	case strings.HasPrefix(path, "/media/"):
		s.serveFile(w, r, strings.TrimPrefix(path, "/media/"))
	case path == "/api/v1/streaming" || strings.HasPrefix(path, "/api/v1/streaming/"):
		s.serveStreaming(w, r)
	case strings.HasPrefix(path, "/api/"):
		s.serveAPI(w, r)
	default:
		writeError(w, errNotFound)
	}
}

// serveAPI authenticates, applies the rate limits (before routing, as
// Rack::Attack does), routes and runs the handler.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	user, tokenSent := s.authenticate(r)
	if !s.admit(w, r, user) {
		writeError(w, errTooMany)
		return
	}
	rt, pathParams, allowed := match(s.routes, r.Method, r.URL.Path)
	if rt == nil {
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeError(w, errMethodNotAllowed)
			return
		}
		writeError(w, errNotFound)
		return
	}
	if user == nil && (tokenSent || rt.auth == authRequired) {
		writeError(w, errInvalidToken)
		return
	}
	c := &call{w: w, r: r, user: user, pathVars: pathParams, base: s.baseFor(r)}
	v, err := rt.handle(s, c)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// authenticate resolves the bearer token; tokenSent reports whether the
// client sent one at all.
func (s *Server) authenticate(r *http.Request) (user *account, tokenSent bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, false
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return nil, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens[strings.TrimSpace(token)], true
}

// admit counts the request and sets the rate limit headers; it returns
// false when the request must be refused with 429.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, user *account) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests++
	if user == nil {
		return true
	}
	v, ok := s.limiter.hit(user.id, s.opts.limits.rulesFor(r.Method, r.URL.Path), s.opts.now())
	if !ok {
		return true
	}
	v.setHeaders(w.Header())
	if v.throttled {
		s.stats.RateLimited++
		return false
	}
	return true
}
