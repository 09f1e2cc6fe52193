package wix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Identity is who caused a Wix event. Type is one of ANONYMOUS_VISITOR,
// MEMBER, WIX_USER, APP or UNKNOWN (also used when Wix sends none); a value
// Wix adds later is passed through as sent.
type Identity struct {
	Type      string
	AppID     string
	WixUserID string
	MemberID  string
}

// IdentityUnknown is the Identity.Type of an event whose sender is not named.
const IdentityUnknown = "UNKNOWN"

// Envelope is a verified webhook: which app instance (tenant) it is for, what
// happened and who did it.
type Envelope struct {
	// EventType is "<entityFqdn>_<slug>" for entity events; informative only,
	// since Wix has documented two FQDN spellings (route on Event.Slug and
	// Event.EntityFqdn). Legacy app events have only this name ("AppInstalled").
	EventType  string
	InstanceID string
	Identity   Identity
	// Event is the DomainEvent the data carried; its ID is empty when the data
	// is a bare payload instead, as in the app lifecycle events (see Data).
	Event DomainEvent
	// Data is the envelope's data object as sent: the DomainEvent, or the bare
	// payload of an event that has none (e.g. {appId, originInstanceId}).
	Data json.RawMessage
	// IssuedAt is the token's iat claim; zero when Wix sent none.
	IssuedAt time.Time
	// ReceivedAt is when the verifier accepted the webhook.
	ReceivedAt time.Time
}

// HasDomainEvent reports whether the data was a DomainEvent rather than a
// bare payload.
func (e *Envelope) HasDomainEvent() bool { return e.Event.ID != "" }

// BodyKind names which body variant a DomainEvent carried.
type BodyKind string

// The body variants of a DomainEvent; exactly one is present in a Wix event.
const (
	BodyNone    BodyKind = ""
	BodyAction  BodyKind = "actionEvent"
	BodyCreated BodyKind = "createdEvent"
	BodyUpdated BodyKind = "updatedEvent"
	BodyDeleted BodyKind = "deletedEvent"
)

// DomainEvent is the event inside an envelope.
type DomainEvent struct {
	// ID is unique per event and stable across Wix's retries: the dedup key.
	ID         string
	EntityFqdn string
	Slug       string
	// EntityID is the gallery id for Pro Gallery events, item events included.
	EntityID       string
	OriginatedFrom string
	EventTime      time.Time
	// TriggeredByAnonymizeRequest is set on changes made to honor a GDPR request.
	TriggeredByAnonymizeRequest bool
	// BodyKind says which variant Body came from.
	BodyKind BodyKind
	// Body is the action body (actionEvent) or the entity (created, updated,
	// deleted), always as JSON object bytes; "{}" when the event carries none.
	Body json.RawMessage
}

type wireEnvelope struct {
	EventType  string          `json:"eventType"`
	InstanceID string          `json:"instanceId"`
	Data       json.RawMessage `json:"data"`
	Identity   json.RawMessage `json:"identity"`
}

type wireIdentity struct {
	IdentityType string `json:"identityType"`
	AppID        string `json:"appId"`
	WixUserID    string `json:"wixUserId"`
	MemberID     string `json:"memberId"`
}

// wireDomainEvent lists every key spelling seen for the body variants: the
// documented *AsJson keys and the plain keys that current docs and working
// integrations read (wix-api.md 2.2). Each value may be an object or a string.
type wireDomainEvent struct {
	ID                          string `json:"id"`
	EntityFqdn                  string `json:"entityFqdn"`
	Slug                        string `json:"slug"`
	EntityID                    string `json:"entityId"`
	EventTime                   string `json:"eventTime"`
	OriginatedFrom              string `json:"originatedFrom"`
	TriggeredByAnonymizeRequest bool   `json:"triggeredByAnonymizeRequest"`
	CreatedEvent                *struct {
		Entity       json.RawMessage `json:"entity"`
		EntityAsJSON json.RawMessage `json:"entityAsJson"`
	} `json:"createdEvent"`
	UpdatedEvent *struct {
		CurrentEntity       json.RawMessage `json:"currentEntity"`
		CurrentEntityAsJSON json.RawMessage `json:"currentEntityAsJson"`
	} `json:"updatedEvent"`
	DeletedEvent *struct {
		DeletedEntity       json.RawMessage `json:"deletedEntity"`
		DeletedEntityAsJSON json.RawMessage `json:"deletedEntityAsJson"`
	} `json:"deletedEvent"`
	ActionEvent *struct {
		Body       json.RawMessage `json:"body"`
		BodyAsJSON json.RawMessage `json:"bodyAsJson"`
	} `json:"actionEvent"`
}

// isBarePayload reports whether the decoded data has none of the keys
// that make a DomainEvent.
func (w *wireDomainEvent) isBarePayload() bool {
	return w.ID == "" && w.EntityFqdn == "" && w.Slug == "" && w.EntityID == "" &&
		w.CreatedEvent == nil && w.UpdatedEvent == nil && w.DeletedEvent == nil && w.ActionEvent == nil
}

// emptyObject is the Body of an event that carries none.
const emptyObject = "{}"

// decodeEnvelope decodes the claims' data value: the envelope, its identity
// and its event, each of which Wix may send as a JSON-encoded string.
func decodeEnvelope(data json.RawMessage) (*Envelope, error) {
	envJSON, err := objectJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%w: data claim: %w", ErrMalformed, err)
	}
	if envJSON == nil {
		return nil, fmt.Errorf("%w: no data claim", ErrMalformed)
	}
	var w wireEnvelope
	if err := json.Unmarshal(envJSON, &w); err != nil {
		return nil, fmt.Errorf("%w: envelope: %w", ErrMalformed, err)
	}
	if w.InstanceID == "" {
		return nil, fmt.Errorf("%w: envelope has no instanceId", ErrMalformed)
	}
	identity, err := decodeIdentity(w.Identity)
	if err != nil {
		return nil, fmt.Errorf("%w: identity: %w", ErrMalformed, err)
	}
	payload, err := objectJSON(w.Data)
	if err != nil {
		return nil, fmt.Errorf("%w: event: %w", ErrMalformed, err)
	}
	if payload == nil {
		return nil, fmt.Errorf("%w: event: envelope has no data", ErrMalformed)
	}
	event, err := decodeEvent(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: event: %w", ErrMalformed, err)
	}
	return &Envelope{EventType: w.EventType, InstanceID: w.InstanceID, Identity: identity, Event: event, Data: payload}, nil
}

func decodeIdentity(raw json.RawMessage) (Identity, error) {
	obj, err := objectJSON(raw)
	if err != nil || obj == nil {
		return Identity{Type: IdentityUnknown}, err
	}
	var w wireIdentity
	if err := json.Unmarshal(obj, &w); err != nil {
		return Identity{}, err
	}
	id := Identity{Type: w.IdentityType, AppID: w.AppID, WixUserID: w.WixUserID, MemberID: w.MemberID}
	if id.Type == "" {
		id.Type = IdentityUnknown
	}
	return id, nil
}

// decodeEvent decodes the data object as a DomainEvent. Data that carries
// none of a DomainEvent's keys is a bare payload (the legacy app events send
// {appId, ...}); it yields the zero DomainEvent. Data that looks like a
// DomainEvent must have its id, the dedup key.
func decodeEvent(obj json.RawMessage) (DomainEvent, error) {
	var w wireDomainEvent
	if err := json.Unmarshal(obj, &w); err != nil {
		return DomainEvent{}, err
	}
	if w.ID == "" {
		if w.isBarePayload() {
			return DomainEvent{}, nil
		}
		return DomainEvent{}, errors.New("no event id")
	}
	ev := DomainEvent{
		ID:                          w.ID,
		EntityFqdn:                  w.EntityFqdn,
		Slug:                        w.Slug,
		EntityID:                    w.EntityID,
		OriginatedFrom:              w.OriginatedFrom,
		TriggeredByAnonymizeRequest: w.TriggeredByAnonymizeRequest,
	}
	if w.EventTime != "" {
		t, err := time.Parse(time.RFC3339Nano, w.EventTime)
		if err != nil {
			return DomainEvent{}, fmt.Errorf("eventTime: %w", err)
		}
		ev.EventTime = t
	}
	kind, body, err := eventBody(&w)
	if err != nil {
		return DomainEvent{}, err
	}
	ev.BodyKind, ev.Body = kind, body
	return ev, nil
}

// eventBody picks the one body variant present and decodes it. The plain key
// wins over its *AsJson twin, as in Wix's own SDK.
func eventBody(w *wireDomainEvent) (BodyKind, json.RawMessage, error) {
	type variant struct {
		kind           BodyKind
		plain, encoded json.RawMessage
	}
	var found []variant
	if e := w.ActionEvent; e != nil {
		found = append(found, variant{BodyAction, e.Body, e.BodyAsJSON})
	}
	if e := w.CreatedEvent; e != nil {
		found = append(found, variant{BodyCreated, e.Entity, e.EntityAsJSON})
	}
	if e := w.UpdatedEvent; e != nil {
		found = append(found, variant{BodyUpdated, e.CurrentEntity, e.CurrentEntityAsJSON})
	}
	if e := w.DeletedEvent; e != nil {
		found = append(found, variant{BodyDeleted, e.DeletedEntity, e.DeletedEntityAsJSON})
	}
	switch len(found) {
	case 0:
		return BodyNone, json.RawMessage(emptyObject), nil
	case 1:
	default:
		return BodyNone, nil, fmt.Errorf("%d body variants (%s, %s, ...), want one", len(found), found[0].kind, found[1].kind)
	}
	v := found[0]
	for _, raw := range []json.RawMessage{v.plain, v.encoded} {
		obj, err := objectJSON(raw)
		if err != nil {
			return BodyNone, nil, fmt.Errorf("%s: %w", v.kind, err)
		}
		if obj != nil {
			return v.kind, obj, nil
		}
	}
	return v.kind, json.RawMessage(emptyObject), nil
}

// objectJSON returns the JSON object raw holds, either directly or encoded in
// a JSON string (Wix does both, depending on layer and docs generation). It
// returns nil for an absent value, null, or an empty string.
func objectJSON(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	switch raw[0] {
	case '{':
		if !json.Valid(raw) {
			return nil, errors.New("invalid JSON object")
		}
		return raw, nil
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		inner := bytes.TrimSpace([]byte(s))
		if len(inner) == 0 {
			return nil, nil
		}
		if inner[0] != '{' || !json.Valid(inner) {
			return nil, errors.New("string does not hold a JSON object")
		}
		return inner, nil
	default:
		return nil, fmt.Errorf("want a JSON object or a string holding one, got %s", jsonKind(raw[0]))
	}
}

// jsonKind names the kind of JSON value that starts with c, so errors can say
// what was found without quoting webhook content into logs.
func jsonKind(c byte) string {
	switch {
	case c == '[':
		return "an array"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	}
	return "invalid JSON"
}
