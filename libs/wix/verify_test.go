package wix

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/libs/wix/wixtest"
	"github.com/golang-jwt/jwt/v5"
)

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	key := wixtest.GenerateKey(t)
	other := wixtest.GenerateKey(t)
	pemBytes := wixtest.PublicKeyPEM(t, &key.PublicKey)
	now := testEventTime()
	v := NewVerifier(&key.PublicKey, WithClock(func() time.Time { return now }))

	good := webhook("wix.pro_gallery.v2.gallery_gallery_item_created",
		wixtest.ItemEvent(SlugItemCreated, "ev-1", galleryA, now, map[string]any{"item": wixtest.Item(itemA, "t", 1, now)}), wixUser())
	claims := good.Claims(t)
	signed := good.Sign(t, key)
	withClaims := func(edit func(jwt.MapClaims)) []byte {
		c := good.Claims(t)
		edit(c)
		return wixtest.SignClaims(t, jwt.SigningMethodRS256, key, c)
	}
	withEnvelope := func(edit func(map[string]any)) []byte {
		env := map[string]any{}
		if err := json.Unmarshal([]byte(claims["data"].(string)), &env); err != nil {
			t.Fatal(err)
		}
		edit(env)
		b, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		return withClaims(func(c jwt.MapClaims) { c["data"] = string(b) })
	}
	withEvent := func(edit func(map[string]any)) []byte {
		ev := wixtest.ItemEvent(SlugItemCreated, "ev-1", galleryA, now, map[string]any{"item": wixtest.Item(itemA, "t", 1, now)})
		edit(ev)
		h := good
		h.Event = ev
		return h.Sign(t, key)
	}
	expired := good
	expired.ExpiresAt = now.Add(-DefaultLeeway - time.Second)

	tests := []struct {
		name string
		body []byte
		want error
	}{
		{"empty body", nil, ErrSignature},
		{"not a token", []byte("hello"), ErrSignature},
		{"JSON instead of a token", []byte(`{"data":"{}"}`), ErrSignature},
		{"signed by another key", good.Sign(t, other), ErrSignature},
		{"alg none", wixtest.SignClaims(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims), ErrSignature},
		{"HS256 keyed with the public key PEM", wixtest.SignClaims(t, jwt.SigningMethodHS256, pemBytes, claims), ErrSignature},
		{"RS512 with the right key", wixtest.SignClaims(t, jwt.SigningMethodRS512, key, claims), ErrSignature},
		{"PS256 with the right key", wixtest.SignClaims(t, jwt.SigningMethodPS256, key, claims), ErrSignature},
		{"truncated token", signed[:len(signed)-10], ErrSignature},
		{"signature stripped", signed[:bytes.LastIndexByte(signed, '.')+1], ErrSignature},
		{"payload swapped", swapPayload(t, signed, withEnvelope(func(e map[string]any) { e["instanceId"] = "another-tenant" })), ErrSignature},
		{"expired past leeway", expired.Sign(t, key), ErrSignature},
		{"exp not a number", withClaims(func(c jwt.MapClaims) { c["exp"] = "tomorrow" }), ErrSignature},
		{"not valid yet", withClaims(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() }), ErrSignature},
		{"no data claim", withClaims(func(c jwt.MapClaims) { delete(c, "data") }), ErrMalformed},
		{"data claim not JSON", withClaims(func(c jwt.MapClaims) { c["data"] = "{not json" }), ErrMalformed},
		{"data claim a number", withClaims(func(c jwt.MapClaims) { c["data"] = 42 }), ErrMalformed},
		{"data claim a JSON array", withClaims(func(c jwt.MapClaims) { c["data"] = "[1,2]" }), ErrMalformed},
		{"missing instanceId", withEnvelope(func(e map[string]any) { delete(e, "instanceId") }), ErrMalformed},
		{"instanceId a number", withEnvelope(func(e map[string]any) { e["instanceId"] = 7 }), ErrMalformed},
		{"event data not JSON", withEnvelope(func(e map[string]any) { e["data"] = "{{" }), ErrMalformed},
		{"no event data", withEnvelope(func(e map[string]any) { delete(e, "data") }), ErrMalformed},
		{"identity not JSON", withEnvelope(func(e map[string]any) { e["identity"] = "nope" }), ErrMalformed},
		{"missing event id", withEvent(func(e map[string]any) { delete(e, "id") }), ErrMalformed},
		{"bad eventTime", withEvent(func(e map[string]any) { e["eventTime"] = "yesterday" }), ErrMalformed},
		{"body string not JSON", withEvent(func(e map[string]any) { e["actionEvent"] = map[string]any{"bodyAsJson": "{"} }), ErrMalformed},
		{"body an array", withEvent(func(e map[string]any) { e["actionEvent"] = map[string]any{"body": []any{1}} }), ErrMalformed},
		{"two body variants", withEvent(func(e map[string]any) { e["deletedEvent"] = map[string]any{} }), ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env, err := v.Verify(tc.body)
			if env != nil || !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, %v; want error %v", env, err, tc.want)
			}
			if s := sentinelsOf(err); len(s) != 1 {
				t.Errorf("error %v wraps %v, want exactly %v", err, s, tc.want)
			}
		})
	}
}

// swapPayload puts b's payload under a's header and signature.
func swapPayload(t *testing.T, a, b []byte) []byte {
	t.Helper()
	pa, pb := strings.Split(string(a), "."), strings.Split(string(b), ".")
	if len(pa) != 3 || len(pb) != 3 {
		t.Fatalf("tokens with %d and %d parts", len(pa), len(pb))
	}
	return []byte(pa[0] + "." + pb[1] + "." + pa[2])
}

func TestVerifyExpiry(t *testing.T) {
	t.Parallel()
	key := wixtest.GenerateKey(t)
	now := testEventTime()
	hook := webhook("e", wixtest.ItemEvent(SlugItemDeleted, "ev-exp", galleryA, now, map[string]any{"itemId": itemA}), nil)
	tests := []struct {
		name    string
		exp     time.Time
		leeway  time.Duration
		wantErr bool
	}{
		{"no exp", time.Time{}, DefaultLeeway, false},
		{"exp ahead", now.Add(time.Hour), DefaultLeeway, false},
		{"expired within the default leeway", now.Add(-4 * time.Minute), DefaultLeeway, false},
		{"expired past the default leeway", now.Add(-6 * time.Minute), DefaultLeeway, true},
		{"expired with no leeway", now.Add(-2 * time.Second), 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := hook
			h.ExpiresAt, h.IssuedAt = tc.exp, now.Add(-time.Hour)
			v := NewVerifier(&key.PublicKey, WithClock(func() time.Time { return now }), WithLeeway(tc.leeway))
			_, err := v.Verify(h.Sign(t, key))
			if tc.wantErr != (err != nil) || (err != nil && !errors.Is(err, ErrSignature)) {
				t.Fatalf("Verify err = %v, want error: %v (ErrSignature)", err, tc.wantErr)
			}
		})
	}
}

// TestVerifyBodyVariants checks that every documented spelling of the event
// body yields the same Body.
func TestVerifyBodyVariants(t *testing.T) {
	t.Parallel()
	key := wixtest.GenerateKey(t)
	v := NewVerifier(&key.PublicKey)
	entity := map[string]any{"id": galleryA, "name": "Holiday", "totalItems": 3.0}
	entityJSON, err := json.Marshal(entity)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		variant, key string
		kind         BodyKind
	}{
		{"actionEvent", "body", BodyAction},
		{"actionEvent", "bodyAsJson", BodyAction},
		{"createdEvent", "entity", BodyCreated},
		{"createdEvent", "entityAsJson", BodyCreated},
		{"updatedEvent", "currentEntity", BodyUpdated},
		{"updatedEvent", "currentEntityAsJson", BodyUpdated},
		{"deletedEvent", "deletedEntity", BodyDeleted},
		{"deletedEvent", "deletedEntityAsJson", BodyDeleted},
	}
	for _, tc := range tests {
		for _, asString := range []bool{false, true} {
			name := tc.variant + "." + tc.key
			if asString {
				name += " as string"
			}
			var value any = entity
			if asString {
				value = string(entityJSON)
			}
			ev := map[string]any{"id": "ev-" + name, "entityFqdn": wixtest.FqdnV2Gallery, "slug": "x", "entityId": galleryA,
				tc.variant: map[string]any{tc.key: value}}
			body := webhook("x", ev, nil).Sign(t, key)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				env, err := v.Verify(body)
				if err != nil {
					t.Fatal(err)
				}
				if env.Event.BodyKind != tc.kind {
					t.Errorf("BodyKind = %q, want %q", env.Event.BodyKind, tc.kind)
				}
				var got map[string]any
				if err := json.Unmarshal(env.Event.Body, &got); err != nil {
					t.Fatalf("Body %q: %v", env.Event.Body, err)
				}
				if !reflect.DeepEqual(got, entity) {
					t.Errorf("Body = %v, want %v", got, entity)
				}
			})
		}
	}
	t.Run("deletedEvent empty", func(t *testing.T) {
		t.Parallel()
		ev := map[string]any{"id": "ev-del", "entityFqdn": wixtest.FqdnV2Gallery, "slug": "deleted", "entityId": galleryA,
			"deletedEvent": map[string]any{}}
		env, err := v.Verify(webhook("x", ev, nil).Sign(t, key))
		if err != nil {
			t.Fatal(err)
		}
		if env.Event.BodyKind != BodyDeleted || string(env.Event.Body) != "{}" {
			t.Errorf("BodyKind %q Body %q, want deletedEvent {}", env.Event.BodyKind, env.Event.Body)
		}
	})
}

func TestVerifyEnvelopeFields(t *testing.T) {
	t.Parallel()
	key := wixtest.GenerateKey(t)
	v := NewVerifier(&key.PublicKey)
	ev := wixtest.ItemEvent(SlugItemDeleted, "ev-fields", galleryA, testEventTime(), map[string]any{"itemId": itemA})
	ev["originatedFrom"] = "Gallery Deleted"
	ev["triggeredByAnonymizeRequest"] = true
	hook := webhook("wix.pro_gallery.v2.gallery_gallery_item_deleted", ev, map[string]any{"identityType": "MEMBER", "memberId": "m-1"})
	// Wix may pad the body; the token is what counts.
	body := append(append([]byte("\r\n "), hook.Sign(t, key)...), '\n')
	env, err := v.Verify(body)
	if err != nil {
		t.Fatal(err)
	}
	want := DomainEvent{
		ID: "ev-fields", EntityFqdn: wixtest.FqdnV2Gallery, Slug: SlugItemDeleted, EntityID: galleryA,
		OriginatedFrom: "Gallery Deleted", EventTime: testEventTime(), TriggeredByAnonymizeRequest: true,
		BodyKind: BodyAction, Body: []byte(`{"itemId":"` + itemA + `"}`),
	}
	if !reflect.DeepEqual(env.Event, want) {
		t.Errorf("Event = %+v\nwant %+v", env.Event, want)
	}
	if env.Identity != (Identity{Type: "MEMBER", MemberID: "m-1"}) {
		t.Errorf("Identity = %+v", env.Identity)
	}
}
