package store

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// Page sizes of ListItems.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// tokenPrefix versions the token format so it can change without old tokens
// being misread.
const tokenPrefix = "p1:"

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
		return "", fmt.Errorf("%w page_token: not a token this service issued", ErrInvalid)
	}
	return string(raw[len(tokenPrefix):]), nil
}
