package wixsim

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// EntityFQDN is the Pro Gallery entity name of the current Wix docs; a
// gallery webhook's eventType is EntityFQDN + "_" + slug.
const EntityFQDN = "wix.pro_gallery.gallery_v2"

// FileFQDN is the Media Manager file entity; File Ready and File Failed
// webhooks have eventType FileFQDN + "_" + slug.
const FileFQDN = "wix.media.site_media.v1.file_descriptor"

// Slugs of the Pro Gallery webhooks.
const (
	SlugGalleryCreated = "created"
	SlugGalleryUpdated = "updated"
	SlugGalleryDeleted = "deleted"
	SlugItemCreated    = "gallery_item_created"
	SlugItemUpdated    = "gallery_item_updated"
	SlugItemDeleted    = "gallery_item_deleted"
)

// Slugs of the Media Manager webhooks.
const (
	SlugFileReady  = "file_ready"
	SlugFileFailed = "file_failed"
)

// App lifecycle eventTypes: legacy, non-FQDN names whose envelope data is
// {appId, originInstanceId?} rather than a DomainEvent.
const (
	EventAppInstalled = "AppInstalled"
	EventAppRemoved   = "AppRemoved"
)

// jwtLifetime is the gap between a webhook JWT's iat and exp.
const jwtLifetime = time.Hour

// domainEvent is the payload Wix puts, as a JSON string, in envelope.data.
// payload is what goes, JSON-encoded, into the one event body that is set;
// encode fills it in.
type domainEvent struct {
	ID                          string        `json:"id"`
	EntityFqdn                  string        `json:"entityFqdn"`
	Slug                        string        `json:"slug"`
	EntityID                    string        `json:"entityId"`
	EventTime                   string        `json:"eventTime"`
	TriggeredByAnonymizeRequest bool          `json:"triggeredByAnonymizeRequest"`
	OriginatedFrom              string        `json:"originatedFrom,omitempty"`
	CreatedEvent                *createdEvent `json:"createdEvent,omitempty"`
	UpdatedEvent                *updatedEvent `json:"updatedEvent,omitempty"`
	DeletedEvent                *struct{}     `json:"deletedEvent,omitempty"`
	ActionEvent                 *actionEvent  `json:"actionEvent,omitempty"`

	payload any
}

type createdEvent struct {
	EntityAsJSON string `json:"entityAsJson"`
}

type updatedEvent struct {
	CurrentEntityAsJSON string `json:"currentEntityAsJson"`
}

type actionEvent struct {
	BodyAsJSON string `json:"bodyAsJson"`
}

// envelope is the JSON string in the JWT's data claim.
type envelope struct {
	EventType  string `json:"eventType"`
	InstanceID string `json:"instanceId"`
	Data       string `json:"data"`
	Identity   string `json:"identity"`
}

func newEvent(slug, galleryID string, now time.Time) domainEvent {
	return domainEvent{
		ID:         newUUID(),
		EntityFqdn: EntityFQDN,
		Slug:       slug,
		EntityID:   galleryID,
		EventTime:  now.UTC().Format(time.RFC3339Nano),
	}
}

// fileReadyBody is the File Ready action body; externalInfo is what the
// import named, and only these events carry it back.
type fileReadyBody struct {
	File                FileDescriptor `json:"file"`
	ExternalInfo        *ExternalInfo  `json:"externalInfo,omitempty"`
	TriggeredByUndelete bool           `json:"triggeredByUndelete"`
}

type fileFailedBody struct {
	ExternalInfo *ExternalInfo `json:"externalInfo,omitempty"`
}

func fileReady(f FileDescriptor, ext *ExternalInfo, now time.Time) domainEvent {
	ev := newEvent(SlugFileReady, f.ID, now)
	ev.EntityFqdn = FileFQDN
	ev.ActionEvent = &actionEvent{}
	ev.payload = fileReadyBody{File: f, ExternalInfo: ext}
	return ev
}

func fileFailed(fileID string, ext *ExternalInfo, now time.Time) domainEvent {
	ev := newEvent(SlugFileFailed, fileID, now)
	ev.EntityFqdn = FileFQDN
	ev.ActionEvent = &actionEvent{}
	ev.payload = fileFailedBody{ExternalInfo: ext}
	return ev
}

// withoutItems is a gallery as gallery events carry it: no items.
func withoutItems(g Gallery) Gallery {
	g.Items = []Item{}
	return g
}

func galleryCreated(g Gallery, now time.Time) domainEvent {
	ev := newEvent(SlugGalleryCreated, g.ID, now)
	ev.CreatedEvent = &createdEvent{}
	ev.payload = withoutItems(g)
	return ev
}

func galleryUpdated(g Gallery, now time.Time) domainEvent {
	ev := newEvent(SlugGalleryUpdated, g.ID, now)
	ev.UpdatedEvent = &updatedEvent{}
	ev.payload = withoutItems(g)
	return ev
}

func galleryDeleted(galleryID string, now time.Time) domainEvent {
	ev := newEvent(SlugGalleryDeleted, galleryID, now)
	ev.DeletedEvent = &struct{}{}
	return ev
}

func itemCreated(galleryID string, it Item, now time.Time) domainEvent {
	ev := newEvent(SlugItemCreated, galleryID, now)
	ev.ActionEvent = &actionEvent{}
	ev.payload = map[string]Item{"item": it}
	return ev
}

func itemUpdated(galleryID string, it Item, now time.Time) domainEvent {
	ev := newEvent(SlugItemUpdated, galleryID, now)
	ev.ActionEvent = &actionEvent{}
	ev.payload = map[string]Item{"updatedItem": it}
	return ev
}

func itemDeleted(galleryID, itemID, originatedFrom string, now time.Time) domainEvent {
	ev := newEvent(SlugItemDeleted, galleryID, now)
	ev.OriginatedFrom = originatedFrom
	ev.ActionEvent = &actionEvent{}
	ev.payload = map[string]string{"itemId": itemID}
	return ev
}

// encode returns the envelope JSON of the event as the given identity
// caused it, with every nested layer a JSON string as Wix sends it.
func (ev domainEvent) encode(instanceID string, who identity) (string, error) {
	if ev.payload != nil {
		b, err := json.Marshal(ev.payload)
		if err != nil {
			return "", fmt.Errorf("encode %s body: %w", ev.Slug, err)
		}
		switch {
		case ev.CreatedEvent != nil:
			ev.CreatedEvent = &createdEvent{EntityAsJSON: string(b)}
		case ev.UpdatedEvent != nil:
			ev.UpdatedEvent = &updatedEvent{CurrentEntityAsJSON: string(b)}
		case ev.ActionEvent != nil:
			ev.ActionEvent = &actionEvent{BodyAsJSON: string(b)}
		}
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return "", fmt.Errorf("encode %s event: %w", ev.Slug, err)
	}
	return encodeEnvelope(ev.EntityFqdn+"_"+ev.Slug, instanceID, data, who)
}

// encodeEnvelope wraps data, the already encoded payload, and the identity
// in an envelope, both as JSON strings as Wix sends them.
func encodeEnvelope(eventType, instanceID string, data []byte, who identity) (string, error) {
	id, err := json.Marshal(who)
	if err != nil {
		return "", fmt.Errorf("encode identity: %w", err)
	}
	env, err := json.Marshal(envelope{
		EventType:  eventType,
		InstanceID: instanceID,
		Data:       string(data),
		Identity:   string(id),
	})
	if err != nil {
		return "", fmt.Errorf("encode envelope: %w", err)
	}
	return string(env), nil
}

// lifecycleData is the envelope data of AppInstalled and AppRemoved.
type lifecycleData struct {
	AppID            string `json:"appId"`
	OriginInstanceID string `json:"originInstanceId,omitempty"`
}

// enqueue encodes the events of one change and queues them as one batch.
// The caller holds s.mu, so batches are queued in the order the changes
// happened; a site whose app was removed gets none.
func (s *Server) enqueue(st *site, who identity, events []domainEvent) {
	if s.cfg.WebhookURL == "" || !st.installed || len(events) == 0 {
		return
	}
	issued := s.now()
	var out []queuedEvent
	for _, ev := range events {
		payload, err := ev.encode(st.instanceID, who)
		if err != nil {
			s.log.Error("webhook not queued", "instance_id", st.instanceID, "event_id", ev.ID, "err", err)
			continue
		}
		out = append(out, queuedEvent{id: ev.ID, payload: payload, issued: issued})
	}
	s.pushWebhooks(st.instanceID, out)
}

// enqueueLifecycle queues AppInstalled or AppRemoved, sent as the site
// owner; the caller holds s.mu.
func (s *Server) enqueueLifecycle(st *site, eventType string, data lifecycleData) {
	if s.cfg.WebhookURL == "" {
		return
	}
	payload, err := lifecyclePayload(st, eventType, data)
	if err != nil {
		s.log.Error("webhook not queued", "instance_id", st.instanceID, "event_type", eventType, "err", err)
		return
	}
	s.pushWebhooks(st.instanceID, []queuedEvent{{id: newUUID(), payload: payload, issued: s.now()}})
}

func lifecyclePayload(st *site, eventType string, data lifecycleData) (string, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return "", fmt.Errorf("encode %s data: %w", eventType, err)
	}
	return encodeEnvelope(eventType, st.instanceID, b, identity{IdentityType: identityWixUser, WixUserID: st.ownerUserID})
}

// sign makes the webhook body: a JWT whose data claim is the envelope. iat
// is when the event was issued, the same on every attempt and copy, so a
// receiver can derive a stable id from it for events that carry none (app
// lifecycle); exp is counted from the attempt, so a late retry is not
// already expired.
func (s *Server) sign(payload string, issued time.Time) (string, error) {
	claims := jwt.MapClaims{
		"data": payload,
		"iat":  issued.Unix(),
		"exp":  s.now().Add(jwtLifetime).Unix(),
	}
	return jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(s.cfg.SigningKey)
}
