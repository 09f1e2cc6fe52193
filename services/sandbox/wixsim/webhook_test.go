package wixsim_test

import (
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"gallerysync.dev/services/sandbox/wixsim"
)

// decoded is a webhook with every layer parsed.
type decoded struct {
	header    map[string]any
	iat, exp  int64
	eventType string
	instance  string
	identity  map[string]string
	// data is the envelope's data string as sent.
	data  string
	event struct {
		ID                          string `json:"id"`
		EntityFqdn                  string `json:"entityFqdn"`
		Slug                        string `json:"slug"`
		EntityID                    string `json:"entityId"`
		EventTime                   string `json:"eventTime"`
		TriggeredByAnonymizeRequest *bool  `json:"triggeredByAnonymizeRequest"`
		OriginatedFrom              string `json:"originatedFrom"`
		CreatedEvent                *struct {
			EntityAsJSON string `json:"entityAsJson"`
		} `json:"createdEvent"`
		UpdatedEvent *struct {
			CurrentEntityAsJSON string `json:"currentEntityAsJson"`
		} `json:"updatedEvent"`
		DeletedEvent *struct{} `json:"deletedEvent"`
		ActionEvent  *struct {
			BodyAsJSON string `json:"bodyAsJson"`
		} `json:"actionEvent"`
	}
}

// decodeHook verifies a webhook body with the public key, RS256 only, and
// parses the nested JSON strings the way a receiver must.
func decodeHook(t *testing.T, pub *rsa.PublicKey, body string) decoded {
	t.Helper()
	var d decoded
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(body, claims, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuedAt(), jwt.WithExpirationRequired())
	if err != nil || !tok.Valid {
		t.Fatalf("webhook does not verify: %v", err)
	}
	d.header = tok.Header
	iat, _ := claims.GetIssuedAt()
	exp, _ := claims.GetExpirationTime()
	d.iat, d.exp = iat.Unix(), exp.Unix()
	data, ok := claims["data"].(string)
	if !ok {
		t.Fatalf("data claim is %T, want a JSON string", claims["data"])
	}
	var env struct {
		EventType  string `json:"eventType"`
		InstanceID string `json:"instanceId"`
		Data       string `json:"data"`
		Identity   string `json:"identity"`
	}
	if err := json.Unmarshal([]byte(data), &env); err != nil {
		t.Fatalf("envelope %s: %v", data, err)
	}
	d.eventType, d.instance, d.data = env.EventType, env.InstanceID, env.Data
	if err := json.Unmarshal([]byte(env.Data), &d.event); err != nil {
		t.Fatalf("envelope data %q is not a JSON string of the event: %v", env.Data, err)
	}
	if err := json.Unmarshal([]byte(env.Identity), &d.identity); err != nil {
		t.Fatalf("envelope identity %q is not a JSON string: %v", env.Identity, err)
	}
	return d
}

func TestWebhooksAreSignedEnvelopes(t *testing.T) {
	t.Parallel()
	rc := startReceiver(t, nil)
	e := start(t, withWebhooks(rc.url))
	app := e.appToken(t, siteA)
	owner := e.ownerToken(t, siteA)
	photo, err := e.srv.AddImage(siteA, "hooks", 64, 48)
	if err != nil {
		t.Fatal(err)
	}
	seedGallery, err := e.srv.CreateGallery(siteA, "seeded")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.AddItem(siteA, seedGallery.ID, wixsim.Item{Image: &wixsim.ItemImage{ImageInfo: &wixsim.ImageInfo{ID: photo.ID}}}); err != nil {
		t.Fatal(err)
	}

	var g galleryResp
	e.mustDo(t, "POST", "/pro-gallery/v2/galleries", app, map[string]any{"gallery": map[string]any{"name": "Hooked"}}, &g)
	base := "/pro-gallery/v2/galleries/" + g.Gallery.ID
	var it itemResp
	e.mustDo(t, "POST", base+"/items", app, imageItem(photo.ID, "by app"), &it)
	e.mustDo(t, "PATCH", base+"/items/"+it.Item.ID, owner, map[string]any{"item": map[string]any{"title": "by owner"}}, nil)
	e.mustDo(t, "PATCH", base, owner, map[string]any{"gallery": map[string]any{"name": "Renamed"}}, nil)
	var it2 itemResp
	e.mustDo(t, "POST", base+"/items", app, imageItem(photo.ID, "second"), &it2)
	e.mustDo(t, "DELETE", base+"/items/"+it.Item.ID, app, nil, nil)
	e.mustDo(t, "DELETE", base, owner, nil, nil)
	drain(t, e.srv)

	hooks := rc.hooks()
	pub := &e.key.PublicKey
	var got []decoded
	for _, h := range hooks {
		if h.contentType != "text/plain" {
			t.Fatalf("Content-Type = %q, want text/plain", h.contentType)
		}
		got = append(got, decodeHook(t, pub, h.body))
	}
	appID := map[string]string{"identityType": "APP", "appId": testAppID}
	ownerID := map[string]string{"identityType": "WIX_USER", "wixUserId": ownerA}
	want := []struct {
		slug     string
		identity map[string]string
	}{
		{"created", appID},
		{"gallery_item_created", appID},
		{"gallery_item_updated", ownerID},
		{"updated", ownerID},
		{"gallery_item_created", appID},
		{"gallery_item_deleted", appID},
		{"deleted", ownerID},
		{"gallery_item_deleted", ownerID},
	}
	if len(got) != len(want) {
		var slugs []string
		for _, d := range got {
			slugs = append(slugs, d.event.Slug)
		}
		t.Fatalf("got %d webhooks %v, want %d (seeding must send none)", len(got), slugs, len(want))
	}
	ids := map[string]bool{}
	for i, d := range got {
		w := want[i]
		ev := d.event
		if ev.Slug != w.slug || d.eventType != "wix.pro_gallery.gallery_v2_"+w.slug {
			t.Fatalf("webhook %d: slug %s, eventType %s, want %s", i, ev.Slug, d.eventType, w.slug)
		}
		if !mapsEqual(d.identity, w.identity) {
			t.Fatalf("webhook %d (%s): identity %v, want %v", i, ev.Slug, d.identity, w.identity)
		}
		if _, hasKid := d.header["kid"]; hasKid || d.header["alg"] != "RS256" {
			t.Fatalf("webhook %d: JWT header %v", i, d.header)
		}
		// iat is when the event happened, exp an hour after the attempt.
		if d.exp < d.iat+3600 || d.exp > time.Now().Add(time.Hour+time.Minute).Unix() {
			t.Fatalf("webhook %d: exp %d, iat %d", i, d.exp, d.iat)
		}
		if d.instance != siteA || ev.EntityID != g.Gallery.ID || ev.EntityFqdn != "wix.pro_gallery.gallery_v2" {
			t.Fatalf("webhook %d: instance %s entity %s fqdn %s", i, d.instance, ev.EntityID, ev.EntityFqdn)
		}
		if ev.TriggeredByAnonymizeRequest == nil || *ev.TriggeredByAnonymizeRequest {
			t.Fatalf("webhook %d: triggeredByAnonymizeRequest must be false", i)
		}
		if _, err := time.Parse(time.RFC3339Nano, ev.EventTime); err != nil {
			t.Fatalf("webhook %d: eventTime %q: %v", i, ev.EventTime, err)
		}
		if ids[ev.ID] || ev.ID == "" {
			t.Fatalf("webhook %d: event id %q missing or repeated", i, ev.ID)
		}
		ids[ev.ID] = true
	}

	var body struct {
		Item        *wixsim.Item `json:"item"`
		UpdatedItem *wixsim.Item `json:"updatedItem"`
		ItemID      string       `json:"itemId"`
	}
	mustBody := func(i int) {
		t.Helper()
		body.Item, body.UpdatedItem, body.ItemID = nil, nil, ""
		if got[i].event.ActionEvent == nil {
			t.Fatalf("webhook %d has no actionEvent", i)
		}
		if err := json.Unmarshal([]byte(got[i].event.ActionEvent.BodyAsJSON), &body); err != nil {
			t.Fatalf("webhook %d: bodyAsJson: %v", i, err)
		}
	}
	mustBody(1)
	if body.Item == nil || body.Item.ID != it.Item.ID || body.Item.Title != "by app" || body.Item.Image.ImageInfo.Width != 64 {
		t.Fatalf("item created body = %+v", body.Item)
	}
	mustBody(2)
	if body.UpdatedItem == nil || body.UpdatedItem.Title != "by owner" {
		t.Fatalf("item updated body = %+v", body.UpdatedItem)
	}
	mustBody(5)
	if body.ItemID != it.Item.ID || got[5].event.OriginatedFrom != "" {
		t.Fatalf("item deleted: %q, originatedFrom %q", body.ItemID, got[5].event.OriginatedFrom)
	}
	mustBody(7)
	if body.ItemID != it2.Item.ID || got[7].event.OriginatedFrom != "Gallery Deleted" {
		t.Fatalf("cascaded delete: %q, originatedFrom %q", body.ItemID, got[7].event.OriginatedFrom)
	}
	var entity wixsim.Gallery
	if err := json.Unmarshal([]byte(got[0].event.CreatedEvent.EntityAsJSON), &entity); err != nil || entity.Name != "Hooked" {
		t.Fatalf("gallery created entity = %+v, %v", entity, err)
	}
	if err := json.Unmarshal([]byte(got[3].event.UpdatedEvent.CurrentEntityAsJSON), &entity); err != nil || entity.Name != "Renamed" || len(entity.Items) != 0 {
		t.Fatalf("gallery updated entity = %+v, %v", entity, err)
	}
	if got[6].event.DeletedEvent == nil {
		t.Fatal("gallery deleted has no deletedEvent")
	}
	st := e.srv.Stats(siteA)
	if st.WebhooksQueued != 8 || st.WebhooksDelivered != 8 || st.WebhookAttemptsFailed != 0 || st.WebhooksPending != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestWebhookRetries(t *testing.T) {
	t.Parallel()
	t.Run("failed delivery is retried with the same event", func(t *testing.T) {
		t.Parallel()
		rc := startReceiver(t, func(n int, _ *http.Request) int {
			if n < 2 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		})
		e := start(t, withWebhooks(rc.url), withRetry(10*time.Millisecond, 10*time.Millisecond, 10*time.Millisecond))
		tok := e.appToken(t, siteA)
		e.mustDo(t, "POST", "/pro-gallery/v2/galleries", tok, map[string]any{"gallery": map[string]any{"name": "A"}}, nil)
		drain(t, e.srv)
		hooks := rc.hooks()
		if len(hooks) != 3 {
			t.Fatalf("%d attempts, want 3 (two failures, then delivered)", len(hooks))
		}
		pub := &e.key.PublicKey
		first := decodeHook(t, pub, hooks[0].body)
		for i, h := range hooks {
			if got := decodeHook(t, pub, h.body); got.event.ID != first.event.ID || got.iat != first.iat {
				t.Fatalf("attempt %d carries event %s iat %d, want %s iat %d", i, got.event.ID, got.iat, first.event.ID, first.iat)
			}
		}
		st := e.srv.Stats(siteA)
		if st.WebhooksDelivered != 1 || st.WebhookAttemptsFailed != 2 || st.WebhooksDropped != 0 || st.WebhooksPending != 0 {
			t.Fatalf("stats = %+v", st)
		}
	})

	t.Run("a retry does not hold back later webhooks", func(t *testing.T) {
		t.Parallel()
		rc := startReceiver(t, func(n int, _ *http.Request) int {
			if n == 0 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		})
		e := start(t, withWebhooks(rc.url), withRetry(time.Hour))
		tok := e.appToken(t, siteA)
		e.mustDo(t, "POST", "/pro-gallery/v2/galleries", tok, map[string]any{"gallery": map[string]any{"name": "A"}}, nil)
		waitFor(t, "the first delivery to fail", func() bool { return e.srv.Stats(siteA).WebhookAttemptsFailed == 1 })
		var b galleryResp
		e.mustDo(t, "POST", "/pro-gallery/v2/galleries", tok, map[string]any{"gallery": map[string]any{"name": "B"}}, &b)
		waitFor(t, "B delivered while A waits for its retry", func() bool {
			st := e.srv.Stats(siteA)
			return st.WebhooksDelivered == 1 && st.WebhooksPending == 1
		})
		if n := len(rc.hooks()); n != 2 {
			t.Fatalf("%d attempts, want 2 (A failed, B delivered)", n)
		}
		if got := decodeHook(t, &e.key.PublicKey, rc.hooks()[1].body).event.EntityID; got != b.Gallery.ID {
			t.Fatalf("second delivery is for %s, want gallery B %s", got, b.Gallery.ID)
		}
	})

	t.Run("dropped after the schedule", func(t *testing.T) {
		t.Parallel()
		rc := startReceiver(t, func(int, *http.Request) int { return http.StatusServiceUnavailable })
		e := start(t, withWebhooks(rc.url), withRetry(time.Millisecond, time.Millisecond))
		tok := e.appToken(t, siteA)
		e.mustDo(t, "POST", "/pro-gallery/v2/galleries", tok, map[string]any{"gallery": map[string]any{"name": "A"}}, nil)
		drain(t, e.srv)
		st := e.srv.Stats(siteA)
		if len(rc.hooks()) != 3 || st.WebhookAttemptsFailed != 3 || st.WebhooksDropped != 1 || st.WebhooksDelivered != 0 {
			t.Fatalf("%d attempts, stats %+v; want 3 attempts then dropped", len(rc.hooks()), st)
		}
	})

	t.Run("too slow counts as failed", func(t *testing.T) {
		t.Parallel()
		rc := startReceiver(t, func(n int, r *http.Request) int {
			if n == 0 {
				<-r.Context().Done() // never answers; the sender gives up
			}
			return http.StatusOK
		})
		e := start(t, withWebhooks(rc.url), withRetry(time.Millisecond))
		tok := e.appToken(t, siteA)
		e.mustDo(t, "POST", "/pro-gallery/v2/galleries", tok, map[string]any{"gallery": map[string]any{"name": "slow"}}, nil)
		drain(t, e.srv)
		st := e.srv.Stats(siteA)
		if st.WebhookAttemptsFailed != 1 || st.WebhooksDelivered != 1 {
			t.Fatalf("stats = %+v", st)
		}
	})

	t.Run("non-200 success codes are failures", func(t *testing.T) {
		t.Parallel()
		rc := startReceiver(t, func(n int, _ *http.Request) int {
			if n == 0 {
				return http.StatusAccepted
			}
			return http.StatusOK
		})
		e := start(t, withWebhooks(rc.url), withRetry(time.Millisecond))
		tok := e.appToken(t, siteA)
		e.mustDo(t, "POST", "/pro-gallery/v2/galleries", tok, map[string]any{"gallery": map[string]any{"name": "x"}}, nil)
		drain(t, e.srv)
		if st := e.srv.Stats(siteA); st.WebhookAttemptsFailed != 1 || st.WebhooksDelivered != 1 {
			t.Fatalf("stats = %+v", st)
		}
	})
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
