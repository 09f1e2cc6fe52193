package wix

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gallerysync.dev/libs/change"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Size limits on event fields. They bound what one event can carry into
// the bus and the writers; Wix's own limits are lower.
const (
	MaxTextBytes = 10_000
	MaxURLBytes  = 2_048
	MaxIDBytes   = 512
)

// NormalizeOption tunes Normalize.
type NormalizeOption func(*normalizeConfig)

type normalizeConfig struct {
	appID string
}

// WithAppID names our Wix app. App lifecycle events that name another app
// are then not synced (ErrUnsupported); without it, any app id is accepted.
func WithAppID(appID string) NormalizeOption {
	return func(c *normalizeConfig) { c.appID = appID }
}

// Normalize turns a verified webhook into a ChangeEvent: Pro Gallery gallery
// and item events, Media Manager File Ready/Failed, and the app lifecycle
// events. Events that are not synced wrap ErrUnsupported; an event whose body
// cannot be read, or whose result does not pass change.Validate, wraps
// ErrMalformed. Entity events are routed on slug and FQDN, not on the
// eventType string, because Wix has documented more than one spelling of it.
func Normalize(env *Envelope, opts ...NormalizeOption) (*gsv1.ChangeEvent, error) {
	if env == nil {
		return nil, fmt.Errorf("%w: no envelope", ErrMalformed)
	}
	var cfg normalizeConfig
	for _, o := range opts {
		o(&cfg)
	}
	if ev, err := normalizeLifecycle(env, cfg); ev != nil || err != nil {
		return ev, err
	}
	ev := &env.Event
	if !env.HasDomainEvent() {
		// Gallery and media events always come as a DomainEvent, which holds
		// their dedup id; one without it cannot be synced safely.
		if strings.Contains(env.EventType, proGalleryFqdnMark) || strings.HasPrefix(env.EventType, FqdnFileDescriptor) {
			return nil, fmt.Errorf("%w: event %q carries no DomainEvent", ErrMalformed, env.EventType)
		}
		return nil, fmt.Errorf("%w: event %q", ErrUnsupported, env.EventType)
	}
	switch {
	case strings.Contains(ev.EntityFqdn, proGalleryFqdnMark):
		return normalizeGallery(env)
	case ev.EntityFqdn == FqdnFileDescriptor:
		return normalizeMedia(env)
	}
	return nil, unsupported(env)
}

func unsupported(env *Envelope) error {
	return fmt.Errorf("%w: event %q (fqdn %q, slug %q)", ErrUnsupported, env.EventType, env.Event.EntityFqdn, env.Event.Slug)
}

// newEvent is the part of a ChangeEvent every Wix event fills the same way.
func newEvent(env *Envelope, sourceEventID string, kind gsv1.ChangeKind, at time.Time) *gsv1.ChangeEvent {
	return &gsv1.ChangeEvent{
		EventId:        change.EventID(gsv1.Origin_ORIGIN_WIX, "", sourceEventID),
		TenantId:       env.InstanceID,
		Origin:         gsv1.Origin_ORIGIN_WIX,
		SourceEventId:  sourceEventID,
		OccurredAt:     timestamppb.New(at),
		Kind:           kind,
		Identity:       identityProto(env.Identity),
		OriginatedFrom: env.Event.OriginatedFrom,
	}
}

// finish checks what every event must satisfy before it may be published.
func finish(out *gsv1.ChangeEvent) (*gsv1.ChangeEvent, error) {
	if err := checkFields(
		field{"gallery id", out.GetGalleryId(), MaxIDBytes},
		field{"origin instance id", out.GetOriginInstanceId(), MaxIDBytes},
		field{"originatedFrom", out.GetOriginatedFrom(), MaxTextBytes},
	); err != nil {
		return nil, fmt.Errorf("%w: event %s: %w", ErrMalformed, out.GetSourceEventId(), err)
	}
	if err := change.Validate(out); err != nil {
		return nil, fmt.Errorf("%w: event %s: %w", ErrMalformed, out.GetSourceEventId(), err)
	}
	return out, nil
}

// eventTime is the time of an entity event, which Wix always sends.
func eventTime(ev *DomainEvent) (time.Time, error) {
	if ev.EventTime.IsZero() {
		return time.Time{}, fmt.Errorf("%w: event %s has no eventTime", ErrMalformed, ev.ID)
	}
	return ev.EventTime, nil
}

func firstPresent(raws ...json.RawMessage) json.RawMessage {
	for _, r := range raws {
		if len(r) > 0 && string(r) != "null" {
			return r
		}
	}
	return nil
}

func identityProto(id Identity) *gsv1.Identity {
	out := &gsv1.Identity{AppId: id.AppID, WixUserId: id.WixUserID}
	switch id.Type {
	case "ANONYMOUS_VISITOR":
		out.Type = gsv1.IdentityType_IDENTITY_TYPE_ANONYMOUS_VISITOR
	case "MEMBER":
		out.Type = gsv1.IdentityType_IDENTITY_TYPE_MEMBER
	case "WIX_USER":
		out.Type = gsv1.IdentityType_IDENTITY_TYPE_WIX_USER
	case "APP":
		out.Type = gsv1.IdentityType_IDENTITY_TYPE_APP
	default:
		out.Type = gsv1.IdentityType_IDENTITY_TYPE_UNSPECIFIED
	}
	return out
}

// field is one value checked against its size limit.
type field struct {
	name, value string
	limit       int
}

func checkFields(fields ...field) error {
	for _, f := range fields {
		if len(f.value) > f.limit {
			return fmt.Errorf("%s is %d bytes, limit %d", f.name, len(f.value), f.limit)
		}
	}
	return nil
}

// updatedAt is the item's own version time, which orders versions of one
// item better than the event time; the event time stands in when it is absent.
func updatedAt(updatedDate string, eventTime time.Time) (time.Time, error) {
	if updatedDate == "" {
		return eventTime, nil
	}
	t, err := time.Parse(time.RFC3339Nano, updatedDate)
	if err != nil {
		return time.Time{}, fmt.Errorf("updatedDate: %w", err)
	}
	return t, nil
}
