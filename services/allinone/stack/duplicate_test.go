package stack

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestDuplicateWebhookGivesOneStatus delivers the same signed Wix webhook
// several times, as Wix does when it retries, and expects one status.
func TestDuplicateWebhookGivesOneStatus(t *testing.T) {
	s := startStack(t)
	d := s.Demo()
	key := readKey(t, filepath.Join(s.cfg.DataDir, "wix-app-key.pem"))
	title := fmt.Sprintf("Duplicate %d", time.Now().UnixNano())
	body := signedItemCreated(t, key, d, title)

	before := s.Sandbox().Mastodon().Stats()
	for i := range 3 {
		resp, err := http.Post(d.IngressURL+"/webhooks/wix", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("delivery %d: status %d, want 200", i, resp.StatusCode)
		}
	}

	deadline := time.Now().Add(10 * time.Second)
	for {
		n := 0
		for _, st := range s.Sandbox().Mastodon().Statuses(d.MastodonAccountID) {
			if strings.Contains(st.Content, title) {
				n++
			}
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no status after 10s")
		}
		time.Sleep(25 * time.Millisecond)
	}
	time.Sleep(time.Second) // let any duplicate write land before counting
	after := s.Sandbox().Mastodon().Stats()
	if got := after.StatusesCreated - before.StatusesCreated; got != 1 {
		t.Fatalf("statuses created = %d, want 1", got)
	}
	if got := after.MediaUploaded - before.MediaUploaded; got != 1 {
		t.Fatalf("media uploaded = %d, want 1", got)
	}
}

func readKey(t testing.TB, path string) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read sandbox key: %v", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatalf("parse sandbox key: %v", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		t.Fatalf("sandbox key is %T, want RSA", k)
	}
	return rk
}

// signedItemCreated builds a Gallery Item Created webhook the way Wix sends it:
// a RS256 JWT whose data claim is the envelope, whose data is the event.
func signedItemCreated(t testing.TB, key *rsa.PrivateKey, d Demo, title string) string {
	t.Helper()
	mustJSON := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	now := time.Now().UTC()
	item := map[string]any{
		"id":          "dup-item-" + fmt.Sprint(now.UnixNano()),
		"title":       title,
		"type":        "IMAGE",
		"sortOrder":   1,
		"createdDate": now.Format(time.RFC3339Nano),
		"updatedDate": now.Format(time.RFC3339Nano),
		"image": map[string]any{"type": "WIX_MEDIA", "imageInfo": map[string]any{
			"id": "dup.png", "url": d.SandboxURL + "/wix/_sandbox/images/dup.png", "width": 640, "height": 480,
		}},
	}
	event := map[string]any{
		"id":          fmt.Sprintf("evt-%d", now.UnixNano()),
		"entityFqdn":  "wix.pro_gallery.gallery_v2",
		"slug":        "gallery_item_created",
		"entityId":    d.LinkedGalleryID,
		"eventTime":   now.Format(time.RFC3339Nano),
		"actionEvent": map[string]any{"bodyAsJson": mustJSON(map[string]any{"item": item})},
	}
	envelope := map[string]any{
		"eventType":  "wix.pro_gallery.gallery_v2_gallery_item_created",
		"instanceId": d.InstanceID,
		"data":       mustJSON(event),
		"identity":   mustJSON(map[string]any{"identityType": "WIX_USER", "wixUserId": "owner"}),
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"data": mustJSON(envelope), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	signed, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}
