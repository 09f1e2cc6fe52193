package store

import (
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Limits on what callers may send. Ids become parts of storage keys, so they
// are short, printable text; keys (dedup, lock) may be built from several ids.
const (
	MaxIDLen  = 256
	MaxKeyLen = 1024
	// MinTTL is the shortest marker or lease; backends count in milliseconds.
	MinTTL = time.Millisecond
	// MaxAttrs is the most attrs an intent may carry, MaxAttrValueLen the
	// longest value in bytes: enough for ids and URLs, not for payloads.
	MaxAttrs        = 64
	MaxAttrValueLen = 4096
)

// CheckID returns an ErrInvalid error unless v is a usable id: non-empty, at
// most MaxIDLen bytes of valid UTF-8 without control characters.
func CheckID(field, v string) error {
	if v == "" {
		return fmt.Errorf("%w %s: must not be empty", ErrInvalid, field)
	}
	return checkText(field, v, MaxIDLen)
}

// CheckOptionalID is CheckID for a field that may be empty.
func CheckOptionalID(field, v string) error {
	if v == "" {
		return nil
	}
	return checkText(field, v, MaxIDLen)
}

// CheckKey is CheckID for dedup and lock keys, which may be up to MaxKeyLen bytes.
func CheckKey(field, v string) error {
	if v == "" {
		return fmt.Errorf("%w %s: must not be empty", ErrInvalid, field)
	}
	return checkText(field, v, MaxKeyLen)
}

// CheckOptionalKey is CheckKey for a field that may be empty.
func CheckOptionalKey(field, v string) error {
	if v == "" {
		return nil
	}
	return checkText(field, v, MaxKeyLen)
}

func checkText(field, v string, maxLen int) error {
	if len(v) > maxLen {
		return fmt.Errorf("%w %s: %d bytes, at most %d allowed", ErrInvalid, field, len(v), maxLen)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%w %s: not valid UTF-8", ErrInvalid, field)
	}
	for i, r := range v {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w %s: control character at byte %d", ErrInvalid, field, i)
		}
	}
	return nil
}

// CheckTTL returns an ErrInvalid error unless ttl is at least MinTTL.
func CheckTTL(ttl time.Duration) error {
	if ttl < MinTTL {
		return fmt.Errorf("%w ttl: %v, at least %v required", ErrInvalid, ttl, MinTTL)
	}
	return nil
}

// CheckSide returns an ErrInvalid error unless side names one side of a link.
func CheckSide(side gsv1.Side) error {
	if side != gsv1.Side_SIDE_WIX && side != gsv1.Side_SIDE_PLATFORM {
		return fmt.Errorf("%w side: %v is not SIDE_WIX or SIDE_PLATFORM", ErrInvalid, side)
	}
	return nil
}

// CheckTenant validates a tenant before it is stored.
func CheckTenant(t *gsv1.Tenant) error {
	if t == nil {
		return fmt.Errorf("%w tenant: missing", ErrInvalid)
	}
	return CheckID("tenant_id", t.GetTenantId())
}

// CheckConnection validates a connection before it is stored.
func CheckConnection(c *gsv1.Connection) error {
	if c == nil {
		return fmt.Errorf("%w connection: missing", ErrInvalid)
	}
	return firstErr(
		CheckID("tenant_id", c.GetTenantId()),
		CheckID("connection_id", c.GetConnectionId()),
		CheckID("platform", c.GetPlatform()),
	)
}

// CheckLink validates a link before it is stored.
func CheckLink(l *gsv1.Link) error {
	if l == nil {
		return fmt.Errorf("%w link: missing", ErrInvalid)
	}
	return firstErr(
		CheckID("tenant_id", l.GetTenantId()),
		CheckID("link_id", l.GetLinkId()),
		CheckID("gallery_id", l.GetGalleryId()),
		CheckID("connection_id", l.GetConnectionId()),
		CheckOptionalID("album_id", l.GetAlbumId()),
	)
}

// CheckItem validates an item mapping and the revision it expects.
func CheckItem(item *gsv1.ItemMapping, expectedRevision int64) error {
	if item == nil {
		return fmt.Errorf("%w item: missing", ErrInvalid)
	}
	if expectedRevision < 0 {
		return fmt.Errorf("%w expected_revision: %d is negative", ErrInvalid, expectedRevision)
	}
	return firstErr(
		CheckID("tenant_id", item.GetTenantId()),
		CheckID("link_id", item.GetLinkId()),
		CheckID("wix_item_id", item.GetWixItemId()),
		CheckOptionalID("external_id", item.GetExternalId()),
	)
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// CheckIntent validates an intent before it is stored. Attr names are ids;
// values are any valid UTF-8 up to MaxAttrValueLen bytes.
func CheckIntent(in *gsv1.Intent) error {
	if in == nil {
		return fmt.Errorf("%w intent: missing", ErrInvalid)
	}
	if err := firstErr(
		CheckID("tenant_id", in.GetTenantId()),
		CheckKey("key", in.GetKey()),
		CheckOptionalID("link_id", in.GetLinkId()),
		CheckOptionalID("external_id", in.GetExternalId()),
		CheckOptionalKey("content_hash", in.GetContentHash()),
	); err != nil {
		return err
	}
	attrs := in.GetAttrs()
	if len(attrs) > MaxAttrs {
		return fmt.Errorf("%w attrs: %d entries, at most %d allowed", ErrInvalid, len(attrs), MaxAttrs)
	}
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		if err := CheckID("attrs name", name); err != nil {
			return err
		}
		v := attrs[name]
		if len(v) > MaxAttrValueLen {
			return fmt.Errorf("%w attrs[%s]: %d bytes, at most %d allowed", ErrInvalid, name, len(v), MaxAttrValueLen)
		}
		if !utf8.ValidString(v) {
			return fmt.Errorf("%w attrs[%s]: not valid UTF-8", ErrInvalid, name)
		}
	}
	return nil
}

// MaxCursorLen is the longest cursor value in bytes: a feed position (an id,
// a timestamp, a continuation token), never a payload.
const MaxCursorLen = 4096

// CheckCursor validates a cursor before it is stored. The value is opaque to
// the service: any valid UTF-8 of at most MaxCursorLen bytes, empty included.
func CheckCursor(tenantID, key, value string) error {
	if err := firstErr(CheckID("tenant_id", tenantID), CheckKey("key", key)); err != nil {
		return err
	}
	if len(value) > MaxCursorLen {
		return fmt.Errorf("%w value: %d bytes, at most %d allowed", ErrInvalid, len(value), MaxCursorLen)
	}
	if !utf8.ValidString(value) {
		return fmt.Errorf("%w value: not valid UTF-8", ErrInvalid)
	}
	return nil
}
