package wixsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Identity types as Wix puts them in a webhook's identity.
const (
	identityApp     = "APP"
	identityWixUser = "WIX_USER"
)

// identity is who made a call; webhooks caused by the call carry it.
type identity struct {
	IdentityType string `json:"identityType"`
	AppID        string `json:"appId,omitempty"`
	WixUserID    string `json:"wixUserId,omitempty"`
}

// token is what an opaque access token stands for. A token of an instance
// whose app was removed is kept, revoked, until it expires, so that a call
// with it can say why it is refused.
type token struct {
	instanceID string
	identity   identity
	expires    time.Time
	revoked    bool
}

// caller is the authenticated side of an API call.
type caller struct {
	instanceID string
	identity   identity
}

type tokenRequest struct {
	GrantType    string `json:"grant_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	InstanceID   string `json:"instance_id"`
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// handleToken is POST /oauth2/token (client credentials). Without
// instance_id the token is app-level and site APIs refuse it, as on Wix.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	req, err := readTokenRequest(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	if req.GrantType != "client_credentials" {
		writeError(w, appError(http.StatusBadRequest, ErrInvalid, "UNSUPPORTED_GRANT_TYPE",
			fmt.Sprintf("grant_type %q is not supported; use client_credentials", req.GrantType)))
		return
	}
	if req.ClientID != s.cfg.AppID || req.ClientSecret != s.cfg.AppSecret {
		writeError(w, appError(http.StatusUnauthorized, nil, "INVALID_CLIENT_CREDENTIALS", "client_id or client_secret is wrong"))
		return
	}
	tok, err := s.issueToken(req.InstanceID, identity{IdentityType: identityApp, AppID: s.cfg.AppID})
	if err != nil {
		writeError(w, err)
		return
	}
	if req.InstanceID != "" {
		s.stats.call(req.InstanceID, "CreateAccessToken")
	}
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int(tokenTTL / time.Second)})
}

// readTokenRequest accepts JSON (as Wix documents) and form encoding.
func readTokenRequest(w http.ResponseWriter, r *http.Request) (tokenRequest, error) {
	var req tokenRequest
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/x-www-form-urlencoded" {
		if err := r.ParseForm(); err != nil {
			return req, invalid(violation("body", "FORMAT", "malformed form body"))
		}
		req = tokenRequest{
			GrantType:    r.PostForm.Get("grant_type"),
			ClientID:     r.PostForm.Get("client_id"),
			ClientSecret: r.PostForm.Get("client_secret"),
			InstanceID:   r.PostForm.Get("instance_id"),
		}
		return req, nil
	}
	if err := decodeJSON(r.Body, &req); err != nil {
		return req, err
	}
	return req, nil
}

type ownerTokenRequest struct {
	InstanceID string `json:"instanceId"`
}

// handleOwnerToken is POST /_sandbox/owner-token: a token that acts as the
// site owner (identity WIX_USER), standing in for a change made in the Wix
// editor or dashboard.
func (s *Server) handleOwnerToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	var req ownerTokenRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.InstanceID == "" {
		writeError(w, invalid(violation("instanceId", "REQUIRED_FIELD", "must not be empty")))
		return
	}
	tok, err := s.OwnerToken(req.InstanceID)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int(tokenTTL / time.Second)})
}

// OwnerToken returns a token whose calls carry the identity of the site
// owner (WIX_USER), the way edits made in the Wix dashboard do.
// The app must be installed on the instance.
func (s *Server) OwnerToken(instanceID string) (string, error) {
	s.mu.Lock()
	st, ok := s.sites[instanceID]
	s.mu.Unlock()
	if !ok || !st.installed {
		return "", siteNotFound(instanceID)
	}
	return s.issueToken(instanceID, identity{IdentityType: identityWixUser, WixUserID: st.ownerUserID})
}

// issueToken stores a new opaque token and drops expired ones. A token for
// an instance needs the app installed there; instanceID "" is app-level.
func (s *Server) issueToken(instanceID string, id identity) (string, error) {
	now := s.now()
	tok := "OauthNG.JWS." + randomHex(32)
	s.mu.Lock()
	defer s.mu.Unlock()
	if instanceID != "" {
		st, ok := s.sites[instanceID]
		if !ok {
			return "", appError(http.StatusBadRequest, ErrSiteNotFound, "INSTANCE_NOT_FOUND",
				"the app is not installed on instance "+instanceID)
		}
		if !st.installed {
			// Unauthenticated rather than bad: the instance was valid and
			// the app's access to it has ended.
			return "", appError(http.StatusUnauthorized, ErrSiteNotFound, "APP_NOT_INSTALLED",
				"the app was removed from instance "+instanceID)
		}
	}
	for k, t := range s.tokens {
		if !now.Before(t.expires) {
			delete(s.tokens, k)
		}
	}
	s.tokens[tok] = token{instanceID: instanceID, identity: id, expires: now.Add(tokenTTL)}
	return tok, nil
}

// revokeTokensLocked revokes every token of the instance; the caller holds s.mu.
func (s *Server) revokeTokensLocked(instanceID string) {
	for k, t := range s.tokens {
		if t.instanceID == instanceID {
			t.revoked = true
			s.tokens[k] = t
		}
	}
}

// authenticate reads the Authorization header, with or without "Bearer ".
func (s *Server) authenticate(r *http.Request) (caller, error) {
	raw := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(raw) > 7 && strings.EqualFold(raw[:7], "bearer ") {
		raw = strings.TrimSpace(raw[7:])
	}
	if raw == "" {
		return caller{}, appError(http.StatusUnauthorized, nil, "UNAUTHENTICATED", "missing access token")
	}
	s.mu.Lock()
	t, ok := s.tokens[raw]
	s.mu.Unlock()
	if !ok {
		return caller{}, appError(http.StatusUnauthorized, nil, "UNAUTHENTICATED", "unknown access token")
	}
	if !s.now().Before(t.expires) {
		return caller{}, appError(http.StatusUnauthorized, nil, "UNAUTHENTICATED", "access token expired")
	}
	if t.revoked {
		return caller{}, appError(http.StatusUnauthorized, nil, "UNAUTHENTICATED", "access token revoked: the app was removed from the site")
	}
	return caller{instanceID: t.instanceID, identity: t.identity}, nil
}

// apiHandler is an API endpoint after authentication.
type apiHandler func(w http.ResponseWriter, r *http.Request, c caller)

// api wraps an endpoint with authentication, the per-instance rate limit,
// call counting and a body size limit.
func (s *Server) api(op string, h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.authenticate(r)
		if err != nil {
			writeError(w, err)
			return
		}
		if c.instanceID == "" {
			writeError(w, appError(http.StatusForbidden, nil, "PERMISSION_DENIED",
				"an app-level token cannot call site APIs; request a token with instance_id"))
			return
		}
		if !s.limiter.allow(c.instanceID, s.now()) {
			s.stats.rateLimited(c.instanceID)
			writeError(w, appError(http.StatusTooManyRequests, nil, "RESOURCE_EXHAUSTED",
				"too many requests for this app instance"))
			return
		}
		s.stats.call(c.instanceID, op)
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		h(w, r, c)
	}
}

// decodeJSON reads one JSON value; an empty body decodes as {}.
func decodeJSON(body io.Reader, v any) error {
	err := json.NewDecoder(body).Decode(v)
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return appError(http.StatusRequestEntityTooLarge, ErrInvalid, "PAYLOAD_TOO_LARGE", "request body too large")
	}
	return invalid(violation("body", "FORMAT", "malformed JSON: "+err.Error()))
}

// queryInt reads an integer query parameter within [min, max]; absent means def.
func queryInt(q url.Values, name string, def, min, max int) (int, *FieldViolation) {
	raw := q.Get(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		v := violation(name, "FORMAT", "must be an integer")
		return 0, &v
	}
	if n < min {
		v := violation(name, "MIN", fmt.Sprintf("must be at least %d", min))
		return 0, &v
	}
	if max > 0 && n > max {
		v := violation(name, "MAX", fmt.Sprintf("must be at most %d", max))
		return 0, &v
	}
	return n, nil
}
