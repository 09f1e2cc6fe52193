package atprotosim

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Token lifetimes and scopes of a PDS's sessions.
const (
	accessTTL    = 2 * time.Hour
	refreshTTL   = 90 * 24 * time.Hour
	scopeAccess  = "com.atproto.access"
	scopeAppPass = "com.atproto.appPass"
	scopeRefresh = "com.atproto.refresh"
	serviceDID   = "did:web:localhost"
)

// account is an account and its repository.
type account struct {
	did, handle, password string
	repo                  *repo
}

// claims are a session token's claims.
type claims struct {
	Scope string `json:"scope"`
	Aud   string `json:"aud"`
	Sub   string `json:"sub"`
	Jti   string `json:"jti,omitempty"`
	Iat   int64  `json:"iat"`
	Exp   int64  `json:"exp"`
}

// sign makes an HS256 JWT of the claims with the server's secret.
func (s *Server) sign(typ string, c claims) string {
	h, _ := json.Marshal(map[string]string{"typ": typ, "alg": "HS256"})
	p, _ := json.Marshal(c)
	enc := base64.RawURLEncoding
	unsigned := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte(unsigned))
	return unsigned + "." + enc.EncodeToString(mac.Sum(nil))
}

// verify checks a token's signature and type and returns its claims.
func (s *Server) verify(token, typ string) (claims, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return claims{}, false
	}
	enc := base64.RawURLEncoding
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := enc.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return claims{}, false
	}
	var hdr struct {
		Typ string `json:"typ"`
	}
	var c claims
	h, err1 := enc.DecodeString(parts[0])
	p, err2 := enc.DecodeString(parts[1])
	if err1 != nil || err2 != nil || json.Unmarshal(h, &hdr) != nil || json.Unmarshal(p, &c) != nil || hdr.Typ != typ {
		return claims{}, false
	}
	return c, true
}

// sessionAnswer is the answer of createSession and refreshSession.
type sessionAnswer struct {
	AccessJwt      string `json:"accessJwt"`
	RefreshJwt     string `json:"refreshJwt"`
	DID            string `json:"did"`
	Handle         string `json:"handle"`
	EmailConfirmed bool   `json:"emailConfirmed"`
	Active         bool   `json:"active"`
}

// issue makes a session for an account. Callers hold s.mu.
func (s *Server) issue(a *account) sessionAnswer {
	now := s.opts.now()
	jti := make([]byte, 24)
	_, _ = rand.Read(jti)
	id := hex.EncodeToString(jti)
	s.refresh[id] = a.did
	access := s.sign("at+jwt", claims{Scope: scopeAppPass, Aud: serviceDID, Sub: a.did, Iat: now.Unix(), Exp: now.Add(accessTTL).Unix()})
	s.issued[signature(access)] = s.serial
	s.serial++
	return sessionAnswer{
		AccessJwt: access,
		RefreshJwt: s.sign("refresh+jwt", claims{Scope: scopeRefresh, Aud: serviceDID, Sub: a.did, Jti: id,
			Iat: now.Unix(), Exp: now.Add(refreshTTL).Unix()}),
		DID: a.did, Handle: a.handle, Active: true,
	}
}

func (s *Server) createSession(c *call) (any, *xrpcError) {
	var in struct {
		Identifier string `json:"identifier"`
		Password   string `json:"password"`
	}
	if err := jsonUnmarshal(c.body, &in); err != nil || in.Identifier == "" || in.Password == "" {
		return nil, badRequest("InvalidRequest", "Input must have the properties \"identifier\" and \"password\"")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[in.Identifier]
	if a == nil {
		a = s.handles[strings.ToLower(in.Identifier)]
	}
	if a == nil || !hmac.Equal([]byte(a.password), []byte(in.Password)) {
		return nil, &xrpcError{status: http.StatusUnauthorized, name: "AuthenticationRequired", message: "Invalid identifier or password"}
	}
	s.stats.Logins++
	return s.issue(a), nil
}

// refreshClaims checks a refresh token.
func (s *Server) refreshClaims(r *http.Request) (claims, *xrpcError) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return claims{}, &xrpcError{status: http.StatusUnauthorized, name: "AuthMissing", message: "Authentication Required"}
	}
	cl, ok := s.verify(token, "refresh+jwt")
	if !ok || cl.Scope != scopeRefresh {
		return claims{}, badRequest("InvalidToken", "Token could not be verified")
	}
	if s.opts.now().Unix() >= cl.Exp {
		return claims{}, badRequest("ExpiredToken", "Token has expired")
	}
	return cl, nil
}

func (s *Server) refreshSession(c *call) (any, *xrpcError) {
	cl := c.refresh
	s.mu.Lock()
	defer s.mu.Unlock()
	did, ok := s.refresh[cl.Jti]
	if !ok {
		return nil, badRequest("ExpiredToken", "Token has been revoked")
	}
	delete(s.refresh, cl.Jti)
	a := s.accounts[did]
	if a == nil {
		return nil, badRequest("InvalidRequest", "Could not find user info for account: "+did)
	}
	s.stats.Refreshes++
	return s.issue(a), nil
}

// authenticate checks an access token as the PDS does: missing → 401
// AuthMissing, bad → 400 InvalidToken, expired → 400 ExpiredToken.
func (s *Server) authenticate(r *http.Request) (*account, *xrpcError) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return nil, &xrpcError{status: http.StatusUnauthorized, name: "AuthMissing", message: "Authentication Required"}
	}
	cl, ok := s.verify(token, "at+jwt")
	if !ok {
		return nil, badRequest("InvalidToken", "Token could not be verified")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	serial, issued := s.issued[signature(token)]
	if !issued {
		return nil, badRequest("InvalidToken", "Token could not be verified")
	}
	if s.opts.now().Unix() >= cl.Exp || serial < s.expiredBelow {
		return nil, badRequest("ExpiredToken", "Token has expired")
	}
	if cl.Scope != scopeAccess && cl.Scope != scopeAppPass {
		return nil, badRequest("InvalidToken", "Bad token scope")
	}
	a := s.accounts[cl.Sub]
	if a == nil {
		return nil, &xrpcError{status: http.StatusForbidden, name: "AccountNotFound", message: "Account not found"}
	}
	return a, nil
}

// signature is a token's last part, which names it.
func signature(token string) string { return token[strings.LastIndexByte(token, '.')+1:] }

// jsonUnmarshal decodes a request body, refusing an empty one.
func jsonUnmarshal(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errEmptyBody
	}
	return json.Unmarshal(body, v)
}
