package mastodon

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"gallerysync.dev/libs/platforms"
)

// Admin webhook errors.
var (
	// ErrSignature: the X-Hub-Signature header is missing, malformed or
	// does not match the body.
	ErrSignature = errors.New("mastodon webhook: bad signature")
	// ErrMalformed: a correctly signed body that is not a webhook event.
	ErrMalformed = errors.New("mastodon webhook: malformed")
)

// Webhook event names that carry a status.
const (
	EventStatusCreated = "status.created"
	EventStatusUpdated = "status.updated"
)

// VerifyWebhook checks an admin webhook's X-Hub-Signature header,
// "sha256=<hex HMAC-SHA256(secret, raw body)>", in constant time. Call it on
// the raw body before parsing anything of it.
func VerifyWebhook(secret, body []byte, signature string) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: no secret configured", ErrSignature)
	}
	algo, hexSum, ok := strings.Cut(strings.TrimSpace(signature), "=")
	if !ok || !strings.EqualFold(algo, "sha256") {
		return fmt.Errorf("%w: want sha256=<hex>", ErrSignature)
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: digest is not 32 hex bytes", ErrSignature)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrSignature
	}
	return nil
}

// Webhook is an admin webhook event (default payload, not a custom template).
type Webhook struct {
	// Event is the event name, e.g. "status.created".
	Event string
	st    *status
}

// ParseWebhook reads a verified webhook body. Events that are not about a
// status parse too (IsStatus reports false); a body that is not a webhook
// event at all, or a status event without a status, is ErrMalformed.
func ParseWebhook(body []byte) (Webhook, error) {
	var raw struct {
		Event  string          `json:"event"`
		Object json.RawMessage `json:"object"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Webhook{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if raw.Event == "" {
		return Webhook{}, fmt.Errorf("%w: no event", ErrMalformed)
	}
	w := Webhook{Event: raw.Event}
	if raw.Event != EventStatusCreated && raw.Event != EventStatusUpdated {
		return w, nil
	}
	var st status
	if err := json.Unmarshal(raw.Object, &st); err != nil {
		return Webhook{}, fmt.Errorf("%w: %s object: %v", ErrMalformed, raw.Event, err)
	}
	if st.ID == "" || st.Account.ID == "" {
		return Webhook{}, fmt.Errorf("%w: %s without status or account id", ErrMalformed, raw.Event)
	}
	w.st = &st
	return w, nil
}

// IsStatus reports whether the event carries a status (created or updated);
// reblogs do not count, as they are not the account's own posts.
func (w Webhook) IsStatus() bool { return w.st != nil && !w.st.isReblog() }

// AccountID is the id of the status's author ("" for other events).
func (w Webhook) AccountID() string {
	if w.st == nil {
		return ""
	}
	return string(w.st.Account.ID)
}

// Host is the host of the status's URL (else its URI): the instance it was
// posted on, to tell apart equal account ids of different instances.
func (w Webhook) Host() string {
	if w.st == nil {
		return ""
	}
	for _, s := range []string{deref(w.st.URL), w.st.URI} {
		if u, err := url.Parse(s); err == nil && u.Host != "" {
			return strings.ToLower(u.Host)
		}
	}
	return ""
}

// HasTag reports whether the status carries the album's hashtag.
func (w Webhook) HasTag(album string) bool { return w.st != nil && w.st.hasTag(album) }

// Observed is the status as an item of album, exactly as the watcher
// reports it (Observed.Hash included).
func (w Webhook) Observed(album string) platforms.Observed {
	if w.st == nil {
		return platforms.Observed{}
	}
	return w.st.observed(album)
}
