package wix

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Token lifetime handling (wix-api.md 4.1): tokens live 4 hours and there is
// no refresh token, so a new one is minted shortly before the old expires.
const (
	// documentedTokenTTL stands in when a token answer names no lifetime.
	documentedTokenTTL = 4 * time.Hour
	// maxRefreshMargin is how long before expiry a token is replaced at most;
	// short-lived tokens are replaced when a tenth of their life is left.
	maxRefreshMargin = 5 * time.Minute
)

// tokenCache holds one access token per app instance and the fetches in
// flight, so that concurrent callers of one instance share one fetch.
type tokenCache struct {
	mu      sync.Mutex
	tokens  map[string]cachedToken
	flights map[string]*tokenFlight
}

type cachedToken struct {
	value     string
	refreshAt time.Time
}

// tokenFlight is one fetch that other callers wait for.
type tokenFlight struct {
	done  chan struct{}
	value string
	err   error
	// abandoned means the fetching caller's context ended: waiters whose
	// own context is live fetch again instead of taking its error.
	abandoned bool
	// forgotten means Forget ran meanwhile: the token is handed to the
	// waiters but not cached.
	forgotten bool
}

func newTokenCache() tokenCache {
	return tokenCache{tokens: make(map[string]cachedToken), flights: make(map[string]*tokenFlight)}
}

// Forget drops the instance's cached token, e.g. because the app was removed
// from the site; the next call mints a new one.
func (c *Client) Forget(instanceID string) {
	c.tokens.mu.Lock()
	defer c.tokens.mu.Unlock()
	delete(c.tokens.tokens, instanceID)
	if f := c.tokens.flights[instanceID]; f != nil {
		f.forgotten = true
	}
}

// dropToken forgets a token Wix refused, unless another caller has already
// replaced it.
func (c *Client) dropToken(instanceID, value string) {
	c.tokens.mu.Lock()
	defer c.tokens.mu.Unlock()
	if t, ok := c.tokens.tokens[instanceID]; ok && t.value == value {
		delete(c.tokens.tokens, instanceID)
	}
}

// token returns a valid access token for the instance, fetching one when
// none is cached or the cached one is due for replacement.
func (c *Client) token(ctx context.Context, instanceID string) (string, error) {
	t := &c.tokens
	for {
		t.mu.Lock()
		if tok, ok := t.tokens[instanceID]; ok && c.now().Before(tok.refreshAt) {
			t.mu.Unlock()
			return tok.value, nil
		}
		if f := t.flights[instanceID]; f != nil {
			t.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return "", fmt.Errorf("wait for token: %w", context.Cause(ctx))
			}
			if f.abandoned {
				if ctx.Err() == nil {
					continue
				}
				return "", fmt.Errorf("wait for token: %w", context.Cause(ctx))
			}
			return f.value, f.err
		}
		f := &tokenFlight{done: make(chan struct{})}
		t.flights[instanceID] = f
		t.mu.Unlock()

		value, refreshAt, err := c.fetchToken(ctx, instanceID)

		t.mu.Lock()
		delete(t.flights, instanceID)
		f.value, f.err, f.abandoned = value, err, err != nil && ctx.Err() != nil
		if err == nil && !f.forgotten {
			t.tokens[instanceID] = cachedToken{value: value, refreshAt: refreshAt}
		}
		t.mu.Unlock()
		close(f.done)
		return value, err
	}
}

type tokenRequest struct {
	GrantType    string `json:"grant_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	InstanceID   string `json:"instance_id"`
}

type tokenResponse struct {
	AccessToken string  `json:"access_token"`
	TokenType   string  `json:"token_type"`
	ExpiresIn   flexInt `json:"expires_in"`
}

// fetchToken mints an instance token with the client credentials grant and
// says when to replace it.
func (c *Client) fetchToken(ctx context.Context, instanceID string) (string, time.Time, error) {
	start := c.now()
	var resp tokenResponse
	err := c.do(ctx, instanceID, request{
		method:     http.MethodPost,
		url:        c.base + "/oauth2/token",
		path:       "/oauth2/token",
		body:       tokenRequest{GrantType: "client_credentials", ClientID: c.cfg.AppID, ClientSecret: c.cfg.AppSecret, InstanceID: instanceID},
		idempotent: true,
		noAuth:     true,
	}, &resp)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("access token for instance %s: %w", instanceID, err)
	}
	if resp.AccessToken == "" {
		return "", time.Time{}, fmt.Errorf("access token for instance %s: %w", instanceID, errors.New("answer has no access_token"))
	}
	ttl := time.Duration(resp.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = documentedTokenTTL
	}
	// Measured from before the request, so network time only makes the
	// token look older than it is.
	refreshAt := start.Add(ttl - min(maxRefreshMargin, ttl/10))
	c.log.LogAttrs(ctx, slog.LevelDebug, "wix access token minted",
		slog.String("instance", instanceID), slog.Duration("expires_in", ttl))
	return resp.AccessToken, refreshAt, nil
}
