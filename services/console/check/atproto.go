package check

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// ATProto checks a PDS URL, handle and app password by logging in with
// com.atproto.server.createSession.
type ATProto struct {
	client *http.Client
}

// NewATProto returns an AT Protocol checker calling through client.
func NewATProto(client *http.Client) *ATProto { return &ATProto{client: client} }

// Check implements Checker. The account id is the DID, which stays when the
// handle changes; the adapter logs in with it as well as with a handle.
func (a *ATProto) Check(ctx context.Context, c Credentials) (Account, error) {
	base, err := normalizeURL(c.BaseURL, "PDS URL")
	if err != nil {
		return Account{}, err
	}
	handle := strings.TrimPrefix(strings.TrimSpace(c.Handle), "@")
	password := strings.TrimSpace(c.Secret)
	if handle == "" || password == "" {
		return Account{}, fmt.Errorf("%w: handle and app password are required", ErrInvalid)
	}
	body, err := json.Marshal(map[string]string{"identifier": handle, "password": password})
	if err != nil {
		return Account{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/xrpc/com.atproto.server.createSession", bytes.NewReader(body))
	if err != nil {
		return Account{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	req.Header.Set("Content-Type", "application/json")
	var s struct {
		DID    string `json:"did"`
		Handle string `json:"handle"`
	}
	if err := call(a.client, req, &s); err != nil {
		return Account{}, fmt.Errorf("at protocol %s: %w", base, err)
	}
	if s.DID == "" {
		return Account{}, fmt.Errorf("at protocol %s: %w: the session names no account", base, ErrRejected)
	}
	name := s.Handle
	if name == "" {
		name = handle
	}
	return Account{BaseURL: base, AccountID: s.DID, DisplayName: "@" + name}, nil
}
