// Package change holds the domain rules every service agrees on for a
// ChangeEvent: how its content is hashed, how it is named on the bus, and
// what makes one well formed.
package change

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Bus names. One stream carries every change; subjects say where it came from
// so each writer binds a durable consumer to its own input.
const (
	// Stream is the JetStream stream of all change events.
	Stream = "CHANGES"
	// DeadLetterStream keeps events that could not be applied.
	DeadLetterStream = "DEADLETTER"

	subjectRoot      = "changes"
	deadLetterRoot   = "deadletter"
	wixToken         = "wix"
	appToken         = "app"
	mediaToken       = "media"
	platformToken    = "platform"
	shareToken       = "share"
	anyTenantPattern = ">"
)

// StreamSubjects are the subjects bound to Stream.
func StreamSubjects() []string { return []string{subjectRoot + ".>"} }

// DeadLetterSubjects are the subjects bound to DeadLetterStream.
func DeadLetterSubjects() []string { return []string{deadLetterRoot + ".>"} }

// WixSubject is where Wix-origin changes of a tenant are published.
func WixSubject(tenant string) string { return subjectRoot + "." + wixToken + "." + tenant }

// WixFilter matches Wix-origin changes of every tenant.
func WixFilter() string { return subjectRoot + "." + wixToken + "." + anyTenantPattern }

// AppSubject is where a tenant's app lifecycle events (installed, removed)
// are published, apart from gallery changes so their consumer binds to them alone.
func AppSubject(tenant string) string { return subjectRoot + "." + appToken + "." + tenant }

// AppFilter matches app lifecycle events of every tenant.
func AppFilter() string { return subjectRoot + "." + appToken + "." + anyTenantPattern }

// MediaSubject is where Wix Media Manager file events (ready, failed) are published.
func MediaSubject(tenant string) string { return subjectRoot + "." + mediaToken + "." + tenant }

// MediaFilter matches Media Manager file events of every tenant.
func MediaFilter() string { return subjectRoot + "." + mediaToken + "." + anyTenantPattern }

// ShareSubject is where the per-item work of share jobs to one platform is
// published, apart from live changes so a large share never delays them.
func ShareSubject(platform, tenant string) string {
	return subjectRoot + "." + shareToken + "." + platform + "." + tenant
}

// ShareFilter matches the share work of one platform for every tenant.
func ShareFilter(platform string) string {
	return subjectRoot + "." + shareToken + "." + platform + "." + anyTenantPattern
}

// PlatformSubject is where changes seen on one platform are published.
func PlatformSubject(platform, tenant string) string {
	return subjectRoot + "." + platformToken + "." + platform + "." + tenant
}

// PlatformFilter matches platform-origin changes of every platform and tenant.
func PlatformFilter() string { return subjectRoot + "." + platformToken + "." + anyTenantPattern }

// DeadLetterSubject is where a consumer parks a message it gave up on.
func DeadLetterSubject(consumer string) string { return deadLetterRoot + "." + consumer }

// Subject returns the bus subject for an event.
func Subject(ev *gsv1.ChangeEvent) string {
	if ev.GetOrigin() == gsv1.Origin_ORIGIN_PLATFORM {
		return PlatformSubject(ev.GetPlatform(), ev.GetTenantId())
	}
	if ev.GetShareJobId() != "" {
		return ShareSubject(ev.GetPlatform(), ev.GetTenantId())
	}
	switch ev.GetKind() {
	case gsv1.ChangeKind_CHANGE_KIND_APP_INSTALLED, gsv1.ChangeKind_CHANGE_KIND_APP_REMOVED:
		return AppSubject(ev.GetTenantId())
	case gsv1.ChangeKind_CHANGE_KIND_MEDIA_READY, gsv1.ChangeKind_CHANGE_KIND_MEDIA_FAILED:
		return MediaSubject(ev.GetTenantId())
	}
	return WixSubject(ev.GetTenantId())
}

// EventID is the dedup id of an event: origin plus the source's own event id,
// so a source retry of the same event maps to the same id.
func EventID(origin gsv1.Origin, platform, sourceEventID string) string {
	switch origin {
	case gsv1.Origin_ORIGIN_WIX:
		return "wix:" + sourceEventID
	default:
		return "platform:" + platform + ":" + sourceEventID
	}
}

// ErrInvalid is wrapped by every validation failure.
var ErrInvalid = errors.New("invalid change event")

// Validate checks that an event can be routed and applied.
func Validate(ev *gsv1.ChangeEvent) error {
	switch {
	case ev.GetEventId() == "":
		return fmt.Errorf("%w: no event id", ErrInvalid)
	case ev.GetTenantId() == "":
		return fmt.Errorf("%w: no tenant", ErrInvalid)
	case !validToken(ev.GetTenantId()):
		return fmt.Errorf("%w: tenant %q is not a subject token", ErrInvalid, ev.GetTenantId())
	case ev.GetOrigin() == gsv1.Origin_ORIGIN_UNSPECIFIED:
		return fmt.Errorf("%w: no origin", ErrInvalid)
	case (ev.GetOrigin() == gsv1.Origin_ORIGIN_PLATFORM || ev.GetShareJobId() != "") && !validToken(ev.GetPlatform()):
		return fmt.Errorf("%w: platform %q is not a subject token", ErrInvalid, ev.GetPlatform())
	case ev.GetShareJobId() != "" && ev.GetLinkId() == "":
		return fmt.Errorf("%w: share work without a link", ErrInvalid)
	case ev.GetKind() == gsv1.ChangeKind_CHANGE_KIND_UNSPECIFIED:
		return fmt.Errorf("%w: no kind", ErrInvalid)
	case ev.GetOccurredAt() == nil:
		return fmt.Errorf("%w: no occurred_at", ErrInvalid)
	}
	if IsItemKind(ev.GetKind()) && ev.GetItem().GetItemId() == "" {
		return fmt.Errorf("%w: item event without item id", ErrInvalid)
	}
	if IsMediaKind(ev.GetKind()) && ev.GetMedia().GetFileId() == "" {
		return fmt.Errorf("%w: media event without file id", ErrInvalid)
	}
	return nil
}

// IsItemKind reports whether a kind names an item change.
func IsItemKind(k gsv1.ChangeKind) bool {
	switch k {
	case gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED,
		gsv1.ChangeKind_CHANGE_KIND_ITEM_UPDATED,
		gsv1.ChangeKind_CHANGE_KIND_ITEM_DELETED:
		return true
	}
	return false
}

// IsMediaKind reports whether a kind names a Media Manager file event.
func IsMediaKind(k gsv1.ChangeKind) bool {
	return k == gsv1.ChangeKind_CHANGE_KIND_MEDIA_READY || k == gsv1.ChangeKind_CHANGE_KIND_MEDIA_FAILED
}

// validToken reports whether s can stand as one NATS subject token.
func validToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == '.' || r == '*' || r == '>' || r > '~' {
			return false
		}
	}
	return true
}

// Hash is the content hash of an item snapshot: the fields that sync carries
// (title, description, link, media identity, alt text, sort order). Two snapshots with
// the same hash need no write; an event whose hash equals the one we wrote is
// our own echo. The media is identified by its id on its side, or by its URL
// when the side has no id.
func Hash(s *gsv1.ItemSnapshot) string {
	media := s.GetMediaId()
	if media == "" {
		media = s.GetMediaUrl()
	}
	h := sha256.New()
	for _, f := range []string{s.GetTitle(), s.GetDescription(), s.GetLinkUrl(), media, s.GetAltText()} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	var so [8]byte
	binary.BigEndian.PutUint64(so[:], math.Float64bits(s.GetSortOrder()))
	h.Write(so[:])
	return hex.EncodeToString(h.Sum(nil)[:16])
}
