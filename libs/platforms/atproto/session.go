package atproto

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"gallerysync.dev/libs/platforms"
)

// session is one connection's login on its PDS. Calls share it; when the
// PDS says the access token expired, the first caller to notice refreshes it
// (or logs in again when the refresh is refused) and the others reuse the
// result.
type session struct {
	a          *Adapter
	base       string
	identifier string
	password   string

	mu      sync.Mutex
	did     string
	handle  string
	access  string
	refresh string
	// gen counts the tokens had, so a caller that saw an expired token
	// can tell whether someone renewed it meanwhile.
	gen int
}

// sessionAnswer is the answer of createSession and refreshSession.
type sessionAnswer struct {
	AccessJwt  string `json:"accessJwt"`
	RefreshJwt string `json:"refreshJwt"`
	DID        string `json:"did"`
	Handle     string `json:"handle"`
}

// session returns the connection's logged-in session, logging in on first
// use. Sessions are cached per connection id, base URL, account and
// password, so changed credentials make a new login.
func (a *Adapter) session(ctx context.Context, conn platforms.Connection) (*session, error) {
	base := strings.TrimRight(strings.TrimSpace(conn.BaseURL), "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return nil, permanentf("connection %s: base url %q is not an http(s) url", conn.ID, conn.BaseURL)
	}
	identifier := strings.TrimPrefix(strings.TrimSpace(conn.AccountID), "@")
	if identifier == "" {
		return nil, permanentf("connection %s has no account (handle or DID)", conn.ID)
	}
	password := strings.TrimSpace(string(conn.Credentials))
	if password == "" {
		return nil, permanentf("connection %s has no app password", conn.ID)
	}
	sum := sha256.Sum256([]byte(password))
	key := strings.Join([]string{conn.ID, base, identifier, hex.EncodeToString(sum[:])}, "\x00")

	a.mu.Lock()
	s, ok := a.sessions[key]
	if !ok {
		s = &session{a: a, base: base, identifier: identifier, password: password}
		a.sessions[key] = s
	}
	a.mu.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.access == "" {
		if err := s.login(ctx); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// login makes a new session with the app password. Callers hold s.mu.
func (s *session) login(ctx context.Context) error {
	var ans sessionAnswer
	err := s.a.send(ctx, s.base, xrpc{
		nsid: "com.atproto.server.createSession",
		body: map[string]string{"identifier": s.identifier, "password": s.password},
	}, &ans)
	if err != nil {
		return fmt.Errorf("log in as %s: %w", s.identifier, err)
	}
	return s.take(ans)
}

// renew replaces an access token the PDS refused: a refresh when it only
// expired, else (or when the refresh is refused) a new login. gen is the
// generation of the refused token; if it was renewed meanwhile, nothing is
// done.
func (s *session) renew(ctx context.Context, gen int, expired bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		return nil
	}
	if expired && s.refresh != "" {
		var ans sessionAnswer
		err := s.a.send(ctx, s.base, xrpc{nsid: "com.atproto.server.refreshSession", post: true, token: s.refresh}, &ans)
		if err == nil {
			return s.take(ans)
		}
		if isRateLimit(err) || platforms.IsRetryable(err) {
			return fmt.Errorf("refresh session of %s: %w", s.identifier, err)
		}
	}
	s.access, s.refresh = "", ""
	return s.login(ctx)
}

// take stores a session answer. Callers hold s.mu.
func (s *session) take(ans sessionAnswer) error {
	if ans.AccessJwt == "" || !strings.HasPrefix(ans.DID, "did:") {
		return transientf("session answer without token or did")
	}
	if s.did != "" && ans.DID != s.did {
		// The account's DID never changes; a different one means the
		// connection now names another account, which its records are not.
		return permanentf("account %s is now %s, was %s", s.identifier, ans.DID, s.did)
	}
	s.did, s.handle, s.access, s.refresh = ans.DID, ans.Handle, ans.AccessJwt, ans.RefreshJwt
	s.gen++
	return nil
}

// token is the current access token and its generation.
func (s *session) token() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.access, s.gen
}

// repo is the account's DID, the repo of every write.
func (s *session) repo() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.did
}

// call makes an authenticated call; an access token the PDS refuses as
// expired or invalid is renewed once and the call repeated.
func (s *session) call(ctx context.Context, x xrpc, out any) error {
	token, gen := s.token()
	x.token = token
	err := s.a.send(ctx, s.base, x, out)
	if !isAPIError(err, "ExpiredToken", "InvalidToken") {
		return err
	}
	if rerr := s.renew(ctx, gen, isAPIError(err, "ExpiredToken")); rerr != nil {
		return rerr
	}
	x.token, _ = s.token()
	return s.a.send(ctx, s.base, x, out)
}

// identity is the account's DID and handle.
func (s *session) identity() (did, handle string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.did, s.handle
}
