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

// FQDNs of the Media Manager file events and the App Installation events.
const (
	FqdnFileDescriptor  = "wix.media.site_media.v1.file_descriptor"
	FqdnAppInstallation = "wix.app.installations.v1.app_installation"
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
	// Event is the envelope's data: a DomainEvent (see ItemEvent,
	// GalleryEvent, FileEvent, AppInstallationEvent) or, for the app
	// lifecycle events, a bare payload (see AppPayload).
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

// GalleryEvent is a Pro Gallery event of the gallery itself: slug "created"
// and "updated" carry the gallery (without items) as the entity, "deleted"
// an empty deletedEvent; entityId is the gallery id.
func GalleryEvent(slug, eventID, galleryID string, at time.Time) map[string]any {
	ev := map[string]any{
		"id":                          eventID,
		"entityFqdn":                  FqdnV2Gallery,
		"slug":                        slug,
		"entityId":                    galleryID,
		"eventTime":                   at.UTC().Format(time.RFC3339Nano),
		"triggeredByAnonymizeRequest": false,
	}
	gallery := map[string]any{"id": galleryID, "name": "gallery", "totalItems": 0, "items": []any{}, "createdDate": at.Add(-time.Hour).UTC().Format(time.RFC3339Nano)}
	switch slug {
	case "created":
		ev["createdEvent"] = map[string]any{"entity": gallery}
	case "updated":
		ev["updatedEvent"] = map[string]any{"currentEntity": gallery}
	default:
		ev["deletedEvent"] = map[string]any{}
	}
	return ev
}

// FileEvent is a Media Manager file event ("file_ready", "file_failed") with
// an actionEvent body; entityId is the file id.
func FileEvent(slug, eventID, fileID string, at time.Time, body map[string]any) map[string]any {
	return map[string]any{
		"id":                          eventID,
		"entityFqdn":                  FqdnFileDescriptor,
		"slug":                        slug,
		"entityId":                    fileID,
		"eventTime":                   at.UTC().Format(time.RFC3339Nano),
		"triggeredByAnonymizeRequest": false,
		"actionEvent":                 map[string]any{"body": body},
	}
}

// File is the FileDescriptor of a processed image, as File Ready carries it.
func File(id, filename string, width, height int) map[string]any {
	url := "https://static.wixstatic.com/media/" + id
	return map[string]any{
		"id":             id,
		"displayName":    filename,
		"url":            url,
		"parentFolderId": "media-root",
		"sizeInBytes":    "406103",
		"private":        false,
		"mediaType":      "IMAGE",
		"media": map[string]any{"image": map[string]any{"image": map[string]any{
			"id": id, "url": url, "width": width, "height": height, "filename": filename, "sizeInBytes": "406103",
		}}},
		"operationStatus": "READY",
		"thumbnailUrl":    url,
		"state":           "OK",
	}
}

// ExternalInfo is the externalInfo given at import, echoed by the file events.
func ExternalInfo(origin string, externalIDs ...string) map[string]any {
	ids := make([]any, len(externalIDs))
	for i, id := range externalIDs {
		ids[i] = id
	}
	return map[string]any{"origin": origin, "externalIds": ids}
}

// AppPayload is the bare data of the app lifecycle events (AppInstalled,
// AppRemoved and the app instance events); originInstanceID is set only for
// an install on a duplicated site.
func AppPayload(appID, originInstanceID string) map[string]any {
	p := map[string]any{"appId": appID}
	if originInstanceID != "" {
		p["originInstanceId"] = originInstanceID
	}
	return p
}

// AppInstallationEvent is an App Installation DomainEvent: "created" and
// "updated" carry the installation with its status, "deleted" an empty
// deletedEvent; entityId is the installation id.
func AppInstallationEvent(slug, eventID, installationID, instanceID, appID, status string, at time.Time) map[string]any {
	ev := map[string]any{
		"id":                          eventID,
		"entityFqdn":                  FqdnAppInstallation,
		"slug":                        slug,
		"entityId":                    installationID,
		"eventTime":                   at.UTC().Format(time.RFC3339Nano),
		"triggeredByAnonymizeRequest": false,
	}
	installation := map[string]any{"id": installationID, "appId": appID, "instanceId": instanceID, "status": status}
	switch slug {
	case "created":
		ev["createdEvent"] = map[string]any{"entity": installation}
	case "updated":
		ev["updatedEvent"] = map[string]any{"currentEntity": installation}
	default:
		ev["deletedEvent"] = map[string]any{}
	}
	return ev
}
