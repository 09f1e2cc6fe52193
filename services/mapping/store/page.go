package store

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// Page sizes of ListItems and ScanLinks.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// The prefixes version each token format, so it can change without old
// tokens being misread, and keep a token of one call from being taken by
// another.
const (
	tokenPrefix     = "p1:"
	scanTokenPrefix = "s1:"
)

// scanTokenSep separates tenant and link id in a scan token; ids never
// contain control characters, so it cannot occur inside one.
const scanTokenSep = "\x00"

// PageSize turns a requested page size into the one to use.
func PageSize(requested int) (int, error) {
	switch {
	case requested < 0:
		return 0, fmt.Errorf("%w page_size: %d is negative", ErrInvalid, requested)
	case requested == 0:
		return DefaultPageSize, nil
	case requested > MaxPageSize:
		return MaxPageSize, nil
	}
	return requested, nil
}

// PageToken is the opaque token of the page after the item lastWixItemID.
func PageToken(lastWixItemID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tokenPrefix + lastWixItemID))
}

// ParsePageToken returns the Wix item id a page starts after ("" for the
// first page).
func ParsePageToken(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || !strings.HasPrefix(string(raw), tokenPrefix) || len(raw) == len(tokenPrefix) {
		return "", errForeignToken()
	}
	return string(raw[len(tokenPrefix):]), nil
}

func errForeignToken() error {
	return fmt.Errorf("%w page_token: not a token this service issued", ErrInvalid)
}

// LinkPosition is where a link scan stands: after the link (TenantID,
// LinkID). The zero position is the start.
type LinkPosition struct {
	TenantID string
	LinkID   string
}

// Start reports whether p is the start of a scan.
func (p LinkPosition) Start() bool { return p.TenantID == "" }

// ScanToken is the opaque token of the scan page after the link (tenantID, linkID).
func ScanToken(tenantID, linkID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(scanTokenPrefix + tenantID + scanTokenSep + linkID))
}

// ParseScanToken returns the position a scan page starts after (the zero
// position for the first page).
func ParseScanToken(token string) (LinkPosition, error) {
	if token == "" {
		return LinkPosition{}, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return LinkPosition{}, errForeignToken()
	}
	rest, ok := strings.CutPrefix(string(raw), scanTokenPrefix)
	if !ok {
		return LinkPosition{}, errForeignToken()
	}
	tenant, link, ok := strings.Cut(rest, scanTokenSep)
	if !ok || CheckID("tenant_id", tenant) != nil || CheckID("link_id", link) != nil {
		return LinkPosition{}, errForeignToken()
	}
	return LinkPosition{TenantID: tenant, LinkID: link}, nil
}
