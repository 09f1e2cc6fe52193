package check

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Mastodon checks an instance URL and access token with
// GET /api/v1/accounts/verify_credentials.
type Mastodon struct {
	client *http.Client
}

// NewMastodon returns a Mastodon checker calling through client.
func NewMastodon(client *http.Client) *Mastodon { return &Mastodon{client: client} }

// Check implements Checker.
func (m *Mastodon) Check(ctx context.Context, c Credentials) (Account, error) {
	base, err := normalizeURL(c.BaseURL, "instance URL")
	if err != nil {
		return Account{}, err
	}
	token := strings.TrimSpace(c.Secret)
	if token == "" {
		return Account{}, fmt.Errorf("%w: access token is required", ErrInvalid)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/accounts/verify_credentials", nil)
	if err != nil {
		return Account{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	var acc struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	}
	if err := call(m.client, req, &acc); err != nil {
		return Account{}, fmt.Errorf("mastodon %s: %w", base, err)
	}
	if acc.ID == "" || acc.Username == "" {
		return Account{}, fmt.Errorf("mastodon %s: %w: the answer names no account", base, ErrRejected)
	}
	host := base
	if u, err := url.Parse(base); err == nil {
		host = u.Host
	}
	return Account{BaseURL: base, AccountID: acc.ID, DisplayName: "@" + acc.Username + "@" + host}, nil
}
