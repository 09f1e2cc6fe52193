package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// CookieName is the session cookie.
const CookieName = "gs_session"

// MinKeyLen is the shortest session key accepted.
const MinKeyLen = 32

// ErrSession is wrapped when a session cookie is missing, forged or expired.
var ErrSession = errors.New("no valid session")

// Session is who a request acts for.
type Session struct {
	// Tenant is the Wix app instance id every call is scoped to.
	Tenant string
	// UID is the Wix user who opened the dashboard.
	UID string
	// Expires is when the cookie stops being accepted.
	Expires time.Time
	// payload is the signed cookie part; the CSRF token is derived from it.
	payload string
}

// wireSession is the signed cookie content.
type wireSession struct {
	Tenant  string `json:"t"`
	UID     string `json:"u,omitempty"`
	Expires int64  `json:"e"`
	// Nonce makes every session's CSRF token its own.
	Nonce string `json:"n"`
}

// Sessions issues and reads session cookies signed with HMAC-SHA256.
type Sessions struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// SessionOption tunes Sessions.
type SessionOption func(*Sessions)

// WithClock sets the clock that expiry is measured with.
func WithClock(now func() time.Time) SessionOption { return func(s *Sessions) { s.now = now } }

// NewSessions returns Sessions signing with key (at least MinKeyLen bytes)
// whose cookies last ttl.
func NewSessions(key []byte, ttl time.Duration, opts ...SessionOption) (*Sessions, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("session key: %d bytes, at least %d needed", len(key), MinKeyLen)
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("session ttl %s must be positive", ttl)
	}
	s := &Sessions{key: append([]byte(nil), key...), ttl: ttl, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Issue sets the session cookie for the instance's tenant on w. Over https
// (as inside the Wix dashboard's iframe) the cookie is SameSite=None, Secure
// and Partitioned, so the browser sends it in the third-party frame; over
// plain http (a local run) it is SameSite=Lax.
func (s *Sessions) Issue(w http.ResponseWriter, r *http.Request, in Instance) (Session, error) {
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return Session{}, fmt.Errorf("session nonce: %w", err)
	}
	exp := s.now().Add(s.ttl).Truncate(time.Second)
	data, err := json.Marshal(wireSession{
		Tenant: in.InstanceID, UID: in.UID, Expires: exp.Unix(),
		Nonce: base64.RawURLEncoding.EncodeToString(nonce),
	})
	if err != nil {
		return Session{}, fmt.Errorf("encode session: %w", err)
	}
	payload := base64.RawURLEncoding.EncodeToString(data)
	c := &http.Cookie{
		Name:     CookieName,
		Value:    payload + "." + s.sign("session", payload),
		Path:     "/",
		Expires:  exp,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	if IsHTTPS(r) {
		c.Secure, c.SameSite, c.Partitioned = true, http.SameSiteNoneMode, true
	}
	http.SetCookie(w, c)
	return Session{Tenant: in.InstanceID, UID: in.UID, Expires: exp, payload: payload}, nil
}

// Read returns the session of a request, or an error wrapping ErrSession.
func (s *Sessions) Read(r *http.Request) (Session, error) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return Session{}, fmt.Errorf("%w: no cookie", ErrSession)
	}
	payload, sig, ok := strings.Cut(c.Value, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(s.sign("session", payload))) {
		return Session{}, fmt.Errorf("%w: bad signature", ErrSession)
	}
	data, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return Session{}, fmt.Errorf("%w: %w", ErrSession, err)
	}
	var w wireSession
	if err := json.Unmarshal(data, &w); err != nil || w.Tenant == "" {
		return Session{}, fmt.Errorf("%w: bad content", ErrSession)
	}
	exp := time.Unix(w.Expires, 0)
	if !s.now().Before(exp) {
		return Session{}, fmt.Errorf("%w: expired", ErrSession)
	}
	return Session{Tenant: w.Tenant, UID: w.UID, Expires: exp, payload: payload}, nil
}

// CSRFToken is the token a state-changing request of this session must
// carry (form field or header): a cross-site page can send the cookie, but
// cannot read the token.
func (s *Sessions) CSRFToken(sess Session) string { return s.sign("csrf", sess.payload) }

// CheckCSRF reports whether token is the session's CSRF token.
func (s *Sessions) CheckCSRF(sess Session, token string) bool {
	return sess.payload != "" && hmac.Equal([]byte(token), []byte(s.CSRFToken(sess)))
}

// sign is the base64url HMAC of purpose and payload.
func (s *Sessions) sign(purpose, payload string) string {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(purpose))
	mac.Write([]byte{0})
	mac.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// IsHTTPS reports whether the browser reached us over https: directly, or
// through a proxy that says so.
func IsHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}
