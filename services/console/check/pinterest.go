package check

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// PinterestBaseURL is the Pinterest API v5 address used when none is entered.
const PinterestBaseURL = "https://api.pinterest.com/v5"

// Pinterest checks an access token with GET /v5/user_account.
type Pinterest struct {
	client *http.Client
}

// NewPinterest returns a Pinterest checker calling through client.
func NewPinterest(client *http.Client) *Pinterest { return &Pinterest{client: client} }

// Check implements Checker. An empty BaseURL means PinterestBaseURL.
func (p *Pinterest) Check(ctx context.Context, c Credentials) (Account, error) {
	raw := c.BaseURL
	if strings.TrimSpace(raw) == "" {
		raw = PinterestBaseURL
	}
	base, err := normalizeURL(raw, "API URL")
	if err != nil {
		return Account{}, err
	}
	token := strings.TrimSpace(c.Secret)
	if token == "" {
		return Account{}, fmt.Errorf("%w: access token is required", ErrInvalid)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/user_account", nil)
	if err != nil {
		return Account{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	var acc struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	}
	if err := call(p.client, req, &acc); err != nil {
		return Account{}, fmt.Errorf("pinterest: %w", err)
	}
	if acc.Username == "" {
		return Account{}, fmt.Errorf("pinterest: %w: the answer names no account", ErrRejected)
	}
	id := acc.ID
	if id == "" {
		id = acc.Username
	}
	return Account{BaseURL: base, AccountID: id, DisplayName: acc.Username}, nil
}
