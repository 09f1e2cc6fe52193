// Package wixtest builds webhooks the way Wix delivers them (wix-api.md 2):
// an RS256 JWS whose data claim holds the envelope, whose data and identity
// hold the event and the actor, each layer JSON-encoded as a string unless a
// test asks for an object. Tests use it to drive a receiver end to end.
package wixtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The two FQDN spellings Wix documents for Pro Gallery events.
const (
	FqdnV2Gallery = "wix.pro_gallery.v2.gallery"
	FqdnGalleryV2 = "wix.pro_gallery.gallery_v2"
)

// GenerateKey returns a fresh 2048-bit key standing in for the app's key pair.
func GenerateKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate RSA key: %v", err)
	}
	return key
}

// PublicKeyPEM encodes a public key as the PKIX "PUBLIC KEY" PEM block the
// Wix app dashboard shows.
func PublicKeyPEM(t testing.TB, key *rsa.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		t.Fatalf("marshal public key: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Webhook is one delivery before signing.
type Webhook struct {
	EventType  string
	InstanceID string
	// Identity is the identity object (identityType, appId, ...); nil omits it.
	Identity map[string]any
	// Event is the DomainEvent; see ItemEvent.
	Event map[string]any
	// Wix sends each layer as a JSON string; these send the layer as an
	// object instead, as some docs examples show.
	EnvelopeAsObject, EventAsObject, IdentityAsObject bool
	// ExpiresAt and IssuedAt set exp and iat when not zero.
	ExpiresAt, IssuedAt time.Time
}

// Claims returns the JWT claims of the webhook.
func (w Webhook) Claims(t testing.TB) jwt.MapClaims {
	t.Helper()
	env := map[string]any{"eventType": w.EventType, "instanceId": w.InstanceID}
	if w.Event != nil {
		env["data"] = layer(t, w.Event, w.EventAsObject)
	}
	if w.Identity != nil {
		env["identity"] = layer(t, w.Identity, w.IdentityAsObject)
	}
	claims := jwt.MapClaims{"data": layer(t, env, w.EnvelopeAsObject)}
	if !w.ExpiresAt.IsZero() {
		claims["exp"] = w.ExpiresAt.Unix()
	}
	if !w.IssuedAt.IsZero() {
		claims["iat"] = w.IssuedAt.Unix()
	}
	return claims
}

// Sign returns the request body Wix would post: the webhook signed with RS256.
func (w Webhook) Sign(t testing.TB, key *rsa.PrivateKey) []byte {
	t.Helper()
	return SignClaims(t, jwt.SigningMethodRS256, key, w.Claims(t))
}

// SignClaims signs any claims with any method and key, for building tokens
// that a verifier must refuse (alg none, HS256, RS512, a foreign key).
func SignClaims(t testing.TB, method jwt.SigningMethod, key any, claims jwt.Claims) []byte {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", method.Alg(), err)
	}
	return []byte(s)
}

// ItemEvent is a Pro Gallery DomainEvent with an actionEvent body, the shape
// of the item created/updated/deleted events; entityId is the gallery id.
func ItemEvent(slug, eventID, galleryID string, at time.Time, body map[string]any) map[string]any {
	return map[string]any{
		"id":                          eventID,
		"entityFqdn":                  FqdnV2Gallery,
		"slug":                        slug,
		"entityId":                    galleryID,
		"eventTime":                   at.UTC().Format(time.RFC3339Nano),
		"triggeredByAnonymizeRequest": false,
		"actionEvent":                 map[string]any{"body": body},
	}
}

// Item is a REST gallery image item as Wix sends it in item events.
func Item(id, title string, sortOrder float64, updated time.Time) map[string]any {
	fileID := "11062b_" + id + "~mv2.jpeg"
	return map[string]any{
		"id":          id,
		"sortOrder":   sortOrder,
		"title":       title,
		"description": "About " + title,
		"type":        "IMAGE",
		"link":        map[string]any{"text": "more", "url": "https://example.com/" + id, "target": "_blank"},
		"createdDate": updated.Add(-time.Hour).UTC().Format(time.RFC3339Nano),
		"updatedDate": updated.UTC().Format(time.RFC3339Nano),
		"image": map[string]any{
			"type": "WIX_MEDIA",
			"imageInfo": map[string]any{
				"id":     fileID,
				"url":    "https://static.wixstatic.com/media/" + fileID,
				"width":  6446,
				"height": 4298,
			},
		},
	}
}

func layer(t testing.TB, v any, asObject bool) any {
	t.Helper()
	if asObject {
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode webhook layer: %v", err)
	}
	return string(b)
}
