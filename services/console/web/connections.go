package web

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/console/auth"
	"gallerysync.dev/services/console/check"
)

// platformMastodon is Mastodon's name, as connections store it: its
// albums are hashtags.
const platformMastodon = "mastodon"

// connectRequest is the connect form and the API body.
type connectRequest struct {
	Platform string `json:"platform"`
	BaseURL  string `json:"base_url"`
	Handle   string `json:"handle"`
	Secret   string `json:"secret"`
}

// connections lists the tenant's connections.
func (h *Handler) connections(ctx context.Context, tenant string) ([]ConnectionView, error) {
	resp, err := h.d.Mapping.ListConnections(ctx, &gsv1.ListConnectionsRequest{TenantId: tenant})
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	out := []ConnectionView{}
	for _, c := range resp.GetConnections() {
		out = append(out, connectionView(c))
	}
	return out, nil
}

// connect checks the credentials with the platform and, only when they
// work, stores the connection: the same account connected again keeps its
// connection and gets the new credentials.
func (h *Handler) connect(ctx context.Context, tenant string, req connectRequest) (ConnectionView, error) {
	checker, ok := h.d.Checkers[req.Platform]
	if !ok {
		return ConnectionView{}, fmt.Errorf("%w: unknown platform %q", check.ErrInvalid, req.Platform)
	}
	acc, err := checker.Check(ctx, check.Credentials{BaseURL: req.BaseURL, Handle: req.Handle, Secret: req.Secret})
	if err != nil {
		return ConnectionView{}, err
	}
	existing, err := h.d.Mapping.ListConnections(ctx, &gsv1.ListConnectionsRequest{TenantId: tenant})
	if err != nil {
		return ConnectionView{}, fmt.Errorf("list connections: %w", err)
	}
	conn := &gsv1.Connection{TenantId: tenant, Platform: req.Platform, BaseUrl: acc.BaseURL, AccountId: acc.AccountID, DisplayName: acc.DisplayName}
	for _, c := range existing.GetConnections() {
		if c.GetPlatform() == req.Platform && c.GetBaseUrl() == acc.BaseURL && c.GetAccountId() == acc.AccountID {
			conn.ConnectionId, conn.CreatedAt = c.GetConnectionId(), c.GetCreatedAt()
		}
	}
	if conn.ConnectionId == "" {
		if conn.ConnectionId, err = newID("conn-"); err != nil {
			return ConnectionView{}, err
		}
	}
	conn.Credentials = []byte(strings.TrimSpace(req.Secret))
	put, err := h.d.Mapping.PutConnection(ctx, &gsv1.PutConnectionRequest{Connection: conn})
	if err != nil {
		return ConnectionView{}, fmt.Errorf("put connection: %w", err)
	}
	return connectionView(put.GetConnection()), nil
}

// connectionsData is what the connections page shows.
type connectionsData struct {
	Connections []ConnectionView
	Platforms   []string
	// Form is the last form sent, with its error, to show again.
	Form  connectRequest
	Error string
}

func (h *Handler) connectionsPage(w http.ResponseWriter, r *http.Request, s auth.Session) error {
	return h.renderConnections(w, r, s, http.StatusOK, connectRequest{}, "")
}

func (h *Handler) renderConnections(w http.ResponseWriter, r *http.Request, s auth.Session, code int, form connectRequest, msg string) error {
	conns, err := h.connections(r.Context(), s.Tenant)
	if err != nil {
		return err
	}
	form.Secret = "" // never sent back to the browser
	// Mastodon first, the one every site can use; then the others by name.
	var platforms []string
	for p := range h.d.Checkers {
		platforms = append(platforms, p)
	}
	rank := func(p string) int {
		if p == platformMastodon {
			return 0
		}
		return 1
	}
	slices.SortFunc(platforms, func(a, b string) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b)) })
	return h.render(w, r, s, code, "connections", "connections", "Connections",
		connectionsData{Connections: conns, Platforms: platforms, Form: form, Error: msg})
}

func (h *Handler) connectForm(w http.ResponseWriter, r *http.Request, s auth.Session) error {
	req := connectRequest{
		Platform: r.PostFormValue("platform"), BaseURL: r.PostFormValue("base_url"),
		Handle: r.PostFormValue("handle"), Secret: r.PostFormValue("secret"),
	}
	if _, err := h.connect(r.Context(), s.Tenant, req); err != nil {
		code, msg := h.statusOf(r, err)
		return h.renderConnections(w, r, s, code, req, msg)
	}
	return redirect(w, r, "/connections", "connected")
}

func (h *Handler) apiConnections(r *http.Request, s auth.Session) (any, error) {
	conns, err := h.connections(r.Context(), s.Tenant)
	if err != nil {
		return nil, err
	}
	return map[string]any{"connections": conns}, nil
}

func (h *Handler) apiConnect(r *http.Request, s auth.Session) (any, error) {
	var req connectRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	v, err := h.connect(r.Context(), s.Tenant, req)
	if err != nil {
		return nil, err
	}
	return created{v}, nil
}

// newID is prefix plus 16 random bytes in hex.
func newID(prefix string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("new id: %w", err)
	}
	return prefix + hex.EncodeToString(b[:]), nil
}
