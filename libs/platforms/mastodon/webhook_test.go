package mastodon_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/mastodon"
)

const webhookBody = `{"event":"status.created","created_at":"2025-06-01T12:00:00.000Z","object":{
"id":"110","created_at":"2025-06-01T12:00:00.000Z","edited_at":null,"url":"https://social.example/@owner/110",
"uri":"https://social.example/users/owner/statuses/110","account":{"id":"42","username":"owner"},
"content":"<p>Sunset</p><p>Over the bay</p><p><a href=\"https://social.example/tags/holiday\" class=\"mention hashtag\" rel=\"tag\">#<span>holiday</span></a></p>",
"tags":[{"name":"holiday","url":"https://social.example/tags/holiday"}],
"media_attachments":[{"id":"9","type":"image","url":"https://files.social.example/9.png","description":"Red sky"}],"reblog":null}}`

func sign(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func TestVerifyWebhook(t *testing.T) {
	t.Parallel()
	good := sign("s3cret", webhookBody)
	tests := []struct {
		name, secret, body, sig string
		ok                      bool
	}{
		{"valid", "s3cret", webhookBody, good, true},
		{"upper-case algorithm", "s3cret", webhookBody, "SHA256=" + good[len("sha256="):], true},
		{"other secret", "other", webhookBody, good, false},
		{"body changed", "s3cret", webhookBody + " ", good, false},
		{"missing", "s3cret", webhookBody, "", false},
		{"sha1", "s3cret", webhookBody, "sha1=" + good[len("sha256="):], false},
		{"not hex", "s3cret", webhookBody, "sha256=zz", false},
		{"short digest", "s3cret", webhookBody, good[:20], false},
		{"no secret configured", "", webhookBody, sign("", webhookBody), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := mastodon.VerifyWebhook([]byte(tc.secret), []byte(tc.body), tc.sig)
			if (err == nil) != tc.ok {
				t.Fatalf("VerifyWebhook = %v, want ok %v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, mastodon.ErrSignature) {
				t.Fatalf("error %v is not ErrSignature", err)
			}
		})
	}
}

func TestParseWebhook(t *testing.T) {
	t.Parallel()
	w, err := mastodon.ParseWebhook([]byte(webhookBody))
	if err != nil {
		t.Fatalf("ParseWebhook: %v", err)
	}
	if w.Event != mastodon.EventStatusCreated || !w.IsStatus() || w.AccountID() != "42" || w.Host() != "social.example" {
		t.Fatalf("event %q status %v account %q host %q", w.Event, w.IsStatus(), w.AccountID(), w.Host())
	}
	if !w.HasTag("Holiday") || w.HasTag("work") {
		t.Fatal("tags not read")
	}
	o := w.Observed("holiday")
	if o.ID != "110" || o.Album != "holiday" || o.Content.Title != "Sunset" || o.Content.Description != "Over the bay" ||
		o.Content.AltText != "Red sky" || o.Content.MediaURL != "https://files.social.example/9.png" ||
		o.Permalink != "https://social.example/@owner/110" || o.Hash == "" || o.UpdatedAt.IsZero() {
		t.Fatalf("observed %+v", o)
	}
	a := mastodon.New(nil)
	c := platforms.Content{Title: "Sunset", Description: "Over the bay", AltText: "Red sky", MediaURL: "https://origin.example/a.png"}
	if want := a.Expect("holiday", c); o.Hash != want {
		t.Fatalf("hash %q differs from Expect %q of the same content", o.Hash, want)
	}

	other, err := mastodon.ParseWebhook([]byte(`{"event":"account.created","object":{"id":"1"}}`))
	if err != nil || other.IsStatus() {
		t.Fatalf("account event: %v, status %v", err, other.IsStatus())
	}
	for _, bad := range []string{`not json`, `{"object":{}}`, `{"event":"status.updated","object":{"id":"1"}}`, `{"event":"status.created","object":"x"}`} {
		if _, err := mastodon.ParseWebhook([]byte(bad)); !errors.Is(err, mastodon.ErrMalformed) {
			t.Fatalf("ParseWebhook(%s) = %v, want ErrMalformed", bad, err)
		}
	}
}
