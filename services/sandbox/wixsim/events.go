package wixsim

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// EntityFQDN is the Pro Gallery entity name of the current Wix docs; every
// webhook's eventType is EntityFQDN + "_" + slug.
const EntityFQDN = "wix.pro_gallery.gallery_v2"

// Slugs of the Pro Gallery webhooks.
const (
	SlugGalleryCreated = "created"
	SlugGalleryUpdated = "updated"
	SlugGalleryDeleted = "deleted"
	SlugItemCreated    = "gallery_item_created"
	SlugItemUpdated    = "gallery_item_updated"
	SlugItemDeleted    = "gallery_item_deleted"
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
	id, err := json.Marshal(who)
	if err != nil {
		return "", fmt.Errorf("encode identity: %w", err)
	}
	env, err := json.Marshal(envelope{
		EventType:  EntityFQDN + "_" + ev.Slug,
		InstanceID: instanceID,
		Data:       string(data),
		Identity:   string(id),
	})
	if err != nil {
		return "", fmt.Errorf("encode envelope: %w", err)
	}
	return string(env), nil
}

// enqueue wraps an event in its envelope and queues it for delivery. The
// caller holds s.mu, so events are queued in the order the changes happened.
func (s *Server) enqueue(instanceID string, who identity, ev domainEvent) {
	if s.cfg.WebhookURL == "" {
		return
	}
	payload, err := ev.encode(instanceID, who)
	if err != nil {
		s.log.Error("webhook not queued", "instance_id", instanceID, "event_id", ev.ID, "err", err)
		return
	}
	s.stats.update(instanceID, func(c *counters) { c.webhooksQueued++ })
	s.queue.push(&delivery{instanceID: instanceID, eventID: ev.ID, payload: payload, due: time.Now()})
}

// sign makes the webhook body: a JWT whose data claim is the envelope.
// It is signed afresh on every attempt so that a late retry is not expired.
func (s *Server) sign(payload string) (string, error) {
	iat := s.now()
	claims := jwt.MapClaims{
		"data": payload,
		"iat":  iat.Unix(),
		"exp":  iat.Add(jwtLifetime).Unix(),
	}
	return jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(s.cfg.SigningKey)
}
