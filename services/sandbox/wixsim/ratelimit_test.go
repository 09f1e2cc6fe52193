package wixsim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"gallerysync.dev/services/sandbox/wixsim"
)

func TestRateLimit(t *testing.T) {
	t.Parallel()
	e := start(t)
	tok := e.appToken(t, siteA)
	for i := range 200 {
		if status, raw := e.do(t, "GET", "/pro-gallery/v2/galleries", tok, nil); status != http.StatusOK {
			t.Fatalf("call %d: status %d: %s", i+1, status, raw)
		}
	}
	we := e.expectError(t, "GET", "/pro-gallery/v2/galleries", tok, nil, http.StatusTooManyRequests)
	if we.Details.ApplicationError == nil {
		t.Fatalf("429 body = %+v", we)
	}
	// The other site has its own budget, and owner tokens share the site's.
	e.mustDo(t, "GET", "/pro-gallery/v2/galleries", e.appToken(t, siteB), nil, nil)
	e.expectError(t, "GET", "/pro-gallery/v2/galleries", e.ownerToken(t, siteA), nil, http.StatusTooManyRequests)

	st := e.srv.Stats(siteA)
	if st.Calls["ListGalleries"] != 200 || st.RateLimited != 2 {
		t.Fatalf("stats = %+v", st)
	}
	e.clock.Advance(61 * time.Second)
	e.mustDo(t, "GET", "/pro-gallery/v2/galleries", tok, nil, nil)
}

func TestRateLimitSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		limit   int
		calls   int
		limited bool
	}{
		{name: "custom limit", limit: 5, calls: 6, limited: true},
		{name: "unlimited", limit: -1, calls: 300, limited: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, withRateLimit(tt.limit))
			tok := e.appToken(t, siteA)
			limited := false
			for range tt.calls {
				if status, _ := e.do(t, "GET", "/pro-gallery/v2/galleries", tok, nil); status == http.StatusTooManyRequests {
					limited = true
				}
			}
			if limited != tt.limited {
				t.Fatalf("limited = %v after %d calls, want %v", limited, tt.calls, tt.limited)
			}
		})
	}
}

func TestStatsEndpoint(t *testing.T) {
	t.Parallel()
	e := start(t)
	tok := e.appToken(t, siteA)
	g, _ := e.seedGallery(t, "stats", 2)
	e.mustDo(t, "GET", "/pro-gallery/v2/galleries/"+g.ID, tok, nil, nil)
	e.mustDo(t, "GET", "/progallery/v2/galleries/"+g.ID, tok, nil, nil)
	e.expectError(t, "GET", "/pro-gallery/v2/galleries/missing", tok, nil, http.StatusNotFound)
	e.mustDo(t, "GET", "/pro-gallery/v2/galleries/"+g.ID+"/items", tok, nil, nil)

	var st wixsim.Stats
	e.mustDo(t, "GET", "/_sandbox/stats?instanceId="+siteA, "", nil, &st)
	if st.Calls["GetGallery"] != 3 || st.Calls["ListGalleryItems"] != 1 || st.Calls["CreateAccessToken"] != 1 {
		t.Fatalf("stats = %+v", st)
	}
	e.expectError(t, "GET", "/_sandbox/stats?instanceId=unknown", "", nil, http.StatusNotFound)
	e.expectError(t, "GET", "/_sandbox/stats", "", nil, http.StatusBadRequest)
}

func TestConcurrentChanges(t *testing.T) {
	t.Parallel()
	rc := startReceiver(t, nil)
	e := start(t, withWebhooks(rc.url), withRateLimit(-1))
	tok := e.appToken(t, siteA)
	g, photo := e.seedGallery(t, "busy", 0)
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				status, raw, err := e.try("POST", "/pro-gallery/v2/galleries/"+g.ID+"/items", tok, imageItem(photo.ID, fmt.Sprintf("%d-%d", w, i)))
				if err != nil {
					errs <- err
					continue
				}
				if status != http.StatusOK {
					errs <- fmt.Errorf("status %d: %s", status, raw)
					continue
				}
				var r itemResp
				if err := json.Unmarshal(raw, &r); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	items, err := e.srv.Items(siteA, g.ID)
	if err != nil || len(items) != workers*each {
		t.Fatalf("%d items (%v), want %d", len(items), err, workers*each)
	}
	orders := map[float64]bool{}
	for _, it := range items {
		if orders[it.SortOrder] {
			t.Fatalf("two items share the default sortOrder %v", it.SortOrder)
		}
		orders[it.SortOrder] = true
	}
	drain(t, e.srv)
	if n := len(rc.hooks()); n != workers*each {
		t.Fatalf("%d webhooks, want %d", n, workers*each)
	}
}

func TestRateLimitedCallHasNoEffect(t *testing.T) {
	t.Parallel()
	rc := startReceiver(t, nil)
	e := start(t, withWebhooks(rc.url), withRateLimit(2))
	g, photo := e.seedGallery(t, "limited", 1)
	tok := e.appToken(t, siteA)
	base := "/pro-gallery/v2/galleries/" + g.ID
	e.mustDo(t, "GET", base, tok, nil, nil)
	e.mustDo(t, "GET", base, tok, nil, nil)

	calls := []struct {
		name, method, path string
		body               any
	}{
		{"create item", "POST", base + "/items", imageItem(photo.ID, "refused")},
		{"import", "POST", "/site-media/v1/files/import", map[string]any{"url": e.base + "/_sandbox/images/refused.png"}},
		{"delete gallery", "DELETE", base, nil},
	}
	for _, c := range calls {
		we := e.expectError(t, c.method, c.path, tok, c.body, http.StatusTooManyRequests)
		if we.Details.ApplicationError == nil || we.Details.ApplicationError.Code != "RESOURCE_EXHAUSTED" {
			t.Fatalf("%s: 429 body = %+v", c.name, we)
		}
	}
	items, err := e.srv.Items(siteA, g.ID)
	if err != nil || len(items) != 1 {
		t.Fatalf("gallery after refused calls: %d items, %v; want it untouched", len(items), err)
	}
	drain(t, e.srv)
	if st := e.srv.Stats(siteA); st.WebhooksQueued != 0 || st.ImportsPending != 0 || st.RateLimited != 3 || len(rc.hooks()) != 0 {
		t.Fatalf("refused calls left traces: stats %+v, %d webhooks", st, len(rc.hooks()))
	}
	e.clock.Advance(61 * time.Second)
	e.mustDo(t, "POST", base+"/items", tok, imageItem(photo.ID, "later"), nil)
}
