package stack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/libs/testkit"
)

// TestEngineRestartsLoseNothing creates items on the Wix site while NATS and
// then Redis are down under the running system, and restarts them. Wix
// retries what ingress could not store (503 while NATS is down), the writers
// retry what the mapping could not record, and in the end every item is on
// Mastodon exactly once.
func TestEngineRestartsLoseNothing(t *testing.T) {
	s, e := startStackOn(t, engines{testkit.StartNATS(t), testkit.StartRedis(t)}, nil, func(c *Config) {
		c.MastodonLimits = "unlimited"
		c.WixRetry = []time.Duration{200 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}
	})
	d := s.Demo()
	site := ownerClient(t, d)
	const n = 12
	nonce := fmt.Sprint(time.Now().UnixNano())
	before := s.Sandbox().Mastodon().Stats()
	// Items 4-7 are made while NATS is down, 8-11 while Redis is down.
	for i := range n {
		switch i {
		case 4:
			e.nats.Shutdown()
		case 8:
			e.nats.Restart()
			e.redis.Kill()
		}
		site.createItem(t, d.LinkedGalleryID, fmt.Sprintf("Restart %s %02d", nonce, i))
	}
	time.Sleep(time.Second)
	e.redis.Restart()
	if failed := s.Sandbox().Wix().Stats(d.InstanceID).WebhookAttemptsFailed; failed == 0 {
		t.Fatal("no webhook delivery failed: the outage was not exercised")
	}

	count := func() int {
		c := 0
		for _, st := range s.Sandbox().Mastodon().Statuses(d.MastodonAccountID) {
			if strings.Contains(st.Content, "Restart "+nonce) {
				c++
			}
		}
		return c
	}
	deadline := time.Now().Add(90 * time.Second)
	for count() < n && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // a late duplicate would land now
	if got := count(); got != n {
		t.Fatalf("%d statuses for %d items", got, n)
	}
	if got := s.Sandbox().Mastodon().Stats().StatusesCreated - before.StatusesCreated; got != n {
		t.Fatalf("%d statuses created for %d items", got, n)
	}
}

// siteOwner acts on the sandbox's Wix API as the site owner.
type siteOwner struct {
	hc    *http.Client
	base  string
	token string
}

func ownerClient(t *testing.T, d Demo) siteOwner {
	t.Helper()
	o := siteOwner{hc: &http.Client{Timeout: 10 * time.Second}, base: d.SandboxURL + "/wix"}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	o.call(t, http.MethodPost, "/_sandbox/owner-token", fmt.Sprintf(`{"instanceId":%q}`, d.InstanceID), &tok)
	o.token = tok.AccessToken
	return o
}

// createItem imports a generated photo and makes an item of it.
func (o siteOwner) createItem(t *testing.T, gallery, title string) {
	t.Helper()
	var imp struct {
		File struct {
			ID              string `json:"id"`
			OperationStatus string `json:"operationStatus"`
		} `json:"file"`
	}
	src := o.base + "/_sandbox/images/" + url.PathEscape(title) + ".png?w=64&h=48"
	o.call(t, http.MethodPost, "/site-media/v1/files/import", fmt.Sprintf(`{"url":%q,"mimeType":"image/png"}`, src), &imp)
	for deadline := time.Now().Add(10 * time.Second); imp.File.OperationStatus != "READY"; {
		if time.Now().After(deadline) {
			t.Fatalf("file %s not READY", imp.File.ID)
		}
		time.Sleep(50 * time.Millisecond)
		o.call(t, http.MethodGet, "/site-media/v1/files/"+url.PathEscape(imp.File.ID), "", &imp)
	}
	o.call(t, http.MethodPost, "/pro-gallery/v2/galleries/"+url.PathEscape(gallery)+"/items",
		fmt.Sprintf(`{"item":{"title":%q,"image":{"imageInfo":{"id":%q}}}}`, title, imp.File.ID), nil)
}

func (o siteOwner) call(t *testing.T, method, path, body string, out any) {
	t.Helper()
	req, err := http.NewRequest(method, o.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if o.token != "" {
		req.Header.Set("Authorization", o.token)
	}
	resp, err := o.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s", method, path, resp.Status)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}
