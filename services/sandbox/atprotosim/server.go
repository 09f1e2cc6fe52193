// Package atprotosim emulates the XRPC calls of an AT Protocol PDS that the
// AT Protocol adapter makes: createSession, refreshSession, uploadBlob,
// createRecord, putRecord (swapRecord), deleteRecord, applyWrites,
// getRecord, listRecords (cursor, reverse), getLatestCommit and getBlob. It
// answers as @atproto/pds does (the same conformance suite runs against
// both, and a test compares raw answers): status codes and error bodies
// ({"error":"InvalidSwap","message":"Record was at <cid>"}, a 500 for a
// create of an existing record, 200 {} for deleting a missing one), record
// cids of the records' DAG-CBOR form (identical to the PDS's), at-uris,
// TID revisions, HS256 session tokens with the PDS's lifetimes, and the
// RateLimit-* headers with 429s past the limits (see Limits).
//
// Everything is kept in memory. Acting as the account owner on the
// platform (a change a watcher must notice) needs nothing special: call the
// API with the account's session, as any AT Protocol client would.
package atprotosim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Server is an in-memory PDS. It is safe for concurrent use.
type Server struct {
	opts    options
	secret  []byte
	methods map[string]method

	mu       sync.Mutex
	accounts map[string]*account // by DID
	handles  map[string]*account // by lower-case handle
	// refresh holds the refresh tokens (by jti) not yet used.
	refresh map[string]string
	// issued numbers the access tokens issued (by signature); those
	// numbered below expiredBelow are expired (ExpireTokens).
	issued       map[string]int
	serial       int
	expiredBelow int
	clock        tidClock
	limiter      *limiter
	stats        Stats
}

// Account is an account of the emulator.
type Account struct {
	DID    string
	Handle string
}

// New builds an empty PDS; seed it with AddAccount.
func New(opts ...Option) *Server {
	o := options{limits: DefaultLimits(), now: time.Now, blobLimit: defaultBlobLimit}
	for _, opt := range opts {
		opt(&o)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret) // never fails (crypto/rand panics instead)
	return &Server{
		opts:     o,
		secret:   secret,
		methods:  methods(),
		accounts: map[string]*account{},
		handles:  map[string]*account{},
		refresh:  map[string]string{},
		issued:   map[string]int{},
		limiter:  newLimiter(),
	}
}

// AddAccount makes an account that logs in with password (or replaces the
// password of the handle's account). Its DID is derived from the handle.
func (s *Server) AddAccount(handle, password string) Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(handle)
	if a, ok := s.handles[key]; ok {
		a.password = password
		return Account{DID: a.did, Handle: a.handle}
	}
	sum := sha256.Sum256([]byte("did:plc\x00" + key))
	did := "did:plc:" + base32Lower().EncodeToString(sum[:])[:24]
	a := &account{did: did, handle: handle, password: password, repo: newRepo()}
	s.accounts[did] = a
	s.handles[key] = a
	return Account{DID: did, Handle: handle}
}

// ExpireTokens makes every access token issued so far expired, as if two
// hours had passed; clients must refresh their sessions.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expiredBelow = s.serial
}

// Handler serves the XRPC API at its root (/xrpc/<nsid>) and the counters
// at /_sandbox/stats.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// method is one XRPC method. A call is served as the PDS's XRPC server
// does: its input is checked, then its credentials, then it is charged
// against the rate limits (so a refused input or token earns no
// RateLimit-* headers), then handled.
type method struct {
	post bool
	// auth: the call needs an access token.
	auth bool
	// refresh: the call needs a refresh token.
	refresh bool
	// check checks the input (nil: any).
	check   func(c *call) *xrpcError
	handler func(s *Server, c *call) (any, *xrpcError)
}

func methods() map[string]method {
	return map[string]method{
		"com.atproto.server.createSession":  {post: true, check: checkLogin, handler: (*Server).createSession},
		"com.atproto.server.refreshSession": {post: true, refresh: true, check: checkNoBody, handler: (*Server).refreshSession},
		"com.atproto.repo.uploadBlob":       {post: true, auth: true, handler: (*Server).uploadBlob},
		"com.atproto.repo.createRecord":     {post: true, auth: true, check: checkWrite, handler: (*Server).createRecord},
		"com.atproto.repo.putRecord":        {post: true, auth: true, check: checkWrite, handler: (*Server).putRecord},
		"com.atproto.repo.deleteRecord":     {post: true, auth: true, check: checkWrite, handler: (*Server).deleteRecord},
		"com.atproto.repo.applyWrites":      {post: true, auth: true, check: checkWrites, handler: (*Server).applyWrites},
		"com.atproto.repo.getRecord":        {handler: (*Server).getRecord},
		"com.atproto.repo.listRecords":      {check: checkList, handler: (*Server).listRecords},
		"com.atproto.sync.getLatestCommit":  {handler: (*Server).getLatestCommit},
		"com.atproto.sync.getBlob":          {handler: (*Server).getBlob},
	}
}

// call is one request being served.
type call struct {
	r    *http.Request
	w    http.ResponseWriter
	nsid string
	ip   string
	body []byte
	// acct is the caller's account (methods with auth).
	acct *account
	// refresh are the refresh token's claims (refreshSession).
	refresh claims
	// raw is set by handlers that wrote the answer themselves (getBlob).
	raw bool
}

// maxBody bounds a request body: the PDS's blob upload limit plus room.
const maxBody = 64 << 20

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_sandbox/stats" && r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, s.Stats())
		return
	}
	nsid, ok := strings.CutPrefix(r.URL.Path, "/xrpc/")
	m, known := s.methods[nsid]
	if !ok || !known {
		writeError(w, http.StatusNotImplemented, "MethodNotImplemented", "Method Not Implemented")
		return
	}
	if m.post != (r.Method == http.MethodPost) {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "Incorrect HTTP method ("+r.Method+") expected "+map[bool]string{true: "POST", false: "GET"}[m.post])
		return
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	c := &call{r: r, w: w, nsid: nsid, ip: ip}
	if r.Body != nil {
		c.body, err = readBody(r)
		if err != nil {
			writeError(w, http.StatusRequestEntityTooLarge, "PayloadTooLarge", "request entity too large")
			return
		}
	}
	if m.check != nil {
		if xe := m.check(c); xe != nil {
			writeError(w, xe.status, xe.name, xe.message)
			return
		}
	}
	var xe *xrpcError
	switch {
	case m.auth:
		c.acct, xe = s.authenticate(r)
	case m.refresh:
		c.refresh, xe = s.refreshClaims(r)
	}
	if xe != nil {
		writeError(w, xe.status, xe.name, xe.message)
		return
	}
	if xe := s.throttle(c); xe != nil {
		s.count(func(st *Stats) { st.Throttled++ })
		writeError(w, xe.status, xe.name, xe.message)
		return
	}
	out, xe := m.handler(s, c)
	switch {
	case xe != nil:
		writeError(w, xe.status, xe.name, xe.message)
	case !c.raw:
		writeJSON(w, http.StatusOK, out)
	}
}

// xrpcError is an error answer.
type xrpcError struct {
	status        int
	name, message string
}

func badRequest(name, message string) *xrpcError {
	return &xrpcError{status: http.StatusBadRequest, name: name, message: message}
}

// internalError is the PDS's answer to a write it cannot apply (e.g. a
// create of a record that exists): a bare 500.
func internalError() *xrpcError {
	return &xrpcError{status: http.StatusInternalServerError, name: "InternalServerError", message: "Internal Server Error"}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, name, message string) {
	writeJSON(w, status, map[string]string{"error": name, "message": message})
}

// count changes the counters.
func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
}
