package wixsim_test

import (
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"gallerysync.dev/services/sandbox/wixsim"
)

func setFaults(t *testing.T, e *env, f wixsim.Faults) {
	t.Helper()
	if err := e.srv.SetFaults(f); err != nil {
		t.Fatalf("set faults: %v", err)
	}
}

func TestFaultDuplicate(t *testing.T) {
	t.Parallel()
	rc := startReceiver(t, nil)
	e := start(t, withWebhooks(rc.url))
	setFaults(t, e, wixsim.Faults{Duplicate: 2})
	e.mustDo(t, "POST", "/pro-gallery/v2/galleries", e.appToken(t, siteA), map[string]any{"gallery": map[string]any{"name": "twice"}}, nil)
	drain(t, e.srv)
	hooks := rc.hooks()
	if len(hooks) != 3 {
		t.Fatalf("%d webhooks, want the event and 2 copies", len(hooks))
	}
	first := decodeHook(t, &e.key.PublicKey, hooks[0].body)
	for i, h := range hooks[1:] {
		if d := decodeHook(t, &e.key.PublicKey, h.body); d.event.ID != first.event.ID || d.iat != first.iat {
			t.Fatalf("copy %d: event %s iat %d, want %s iat %d", i+1, d.event.ID, d.iat, first.event.ID, first.iat)
		}
	}
	if st := e.srv.Stats(siteA); st.WebhooksQueued != 3 || st.WebhooksDelivered != 3 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestFaultReorder(t *testing.T) {
	t.Parallel()
	for _, reorder := range []bool{false, true} {
		name := map[bool]string{false: "in order", true: "newest first"}[reorder]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rc := startReceiver(t, nil)
			e := start(t, withWebhooks(rc.url))
			g, _ := e.seedGallery(t, "reorder", 4)
			items, err := e.srv.Items(siteA, g.ID)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, it := range items {
				ids = append(ids, it.ID)
			}
			setFaults(t, e, wixsim.Faults{Reorder: reorder})
			// One change, four webhooks: they form one batch.
			e.mustDo(t, "POST", "/pro-gallery/v2/galleries/"+g.ID+"/items/delete", e.appToken(t, siteA), map[string]any{"itemIds": ids}, nil)
			drain(t, e.srv)
			var got []string
			for _, h := range rc.hooks() {
				d := decodeHook(t, &e.key.PublicKey, h.body)
				var body struct {
					ItemID string `json:"itemId"`
				}
				if err := jsonString(d.event.ActionEvent.BodyAsJSON, &body); err != nil {
					t.Fatal(err)
				}
				got = append(got, body.ItemID)
			}
			want := slices.Clone(ids)
			if reorder {
				slices.Reverse(want)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("delivered %v, want %v", got, want)
			}
		})
	}
}

func TestFaultDelay(t *testing.T) {
	t.Parallel()
	rc := startReceiver(t, nil)
	e := start(t, withWebhooks(rc.url))
	tok := e.appToken(t, siteA)
	setFaults(t, e, wixsim.Faults{Delay: time.Hour})
	var held galleryResp
	e.mustDo(t, "POST", "/pro-gallery/v2/galleries", tok, map[string]any{"gallery": map[string]any{"name": "held"}}, &held)
	setFaults(t, e, wixsim.Faults{})
	var quick galleryResp
	e.mustDo(t, "POST", "/pro-gallery/v2/galleries", tok, map[string]any{"gallery": map[string]any{"name": "quick"}}, &quick)
	waitFor(t, "the undelayed webhook", func() bool { return e.srv.Stats(siteA).WebhooksDelivered == 1 })
	hooks := rc.hooks()
	if len(hooks) != 1 || decodeHook(t, &e.key.PublicKey, hooks[0].body).event.EntityID != quick.Gallery.ID {
		t.Fatalf("%d webhooks delivered, want only the undelayed one", len(hooks))
	}
	if st := e.srv.Stats(siteA); st.WebhooksPending != 1 {
		t.Fatalf("stats = %+v, want the delayed webhook pending", st)
	}
}

func TestFaultFailFirst(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                       string
		failFirst                  int
		retry                      []time.Duration
		sent                       int
		failed, delivered, dropped int64
	}{
		{name: "retried until past the injected failures", failFirst: 2, retry: []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond},
			sent: 1, failed: 2, delivered: 1},
		{name: "dropped when the schedule runs out first", failFirst: 3, retry: []time.Duration{time.Millisecond, time.Millisecond},
			sent: 0, failed: 3, dropped: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc := startReceiver(t, nil)
			e := start(t, withWebhooks(rc.url), withRetry(tt.retry...))
			setFaults(t, e, wixsim.Faults{FailFirst: tt.failFirst})
			e.mustDo(t, "POST", "/pro-gallery/v2/galleries", e.appToken(t, siteA), map[string]any{"gallery": map[string]any{"name": "f"}}, nil)
			drain(t, e.srv)
			st := e.srv.Stats(siteA)
			if len(rc.hooks()) != tt.sent || st.WebhookAttemptsFailed != tt.failed || st.WebhooksDelivered != tt.delivered || st.WebhooksDropped != tt.dropped {
				t.Fatalf("%d sent, stats %+v", len(rc.hooks()), st)
			}
		})
	}
}

func TestFaultsEndpoint(t *testing.T) {
	t.Parallel()
	e := start(t)
	var got map[string]any
	e.mustDo(t, "POST", "/_sandbox/faults", "", map[string]any{"duplicate": 1, "reorder": true, "delay": "1.5s", "failFirst": 2}, &got)
	want := map[string]any{"duplicate": 1.0, "reorder": true, "delay": "1.5s", "failFirst": 2.0}
	if len(got) != len(want) {
		t.Fatalf("answer %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("answer %v, want %v", got, want)
		}
	}
	var read wixsim.Faults
	e.mustDo(t, "GET", "/_sandbox/faults", "", nil, &read)
	if read != (wixsim.Faults{Duplicate: 1, Reorder: true, Delay: 1500 * time.Millisecond, FailFirst: 2}) {
		t.Fatalf("GET = %+v", read)
	}

	bad := []struct {
		name string
		body any
	}{
		{"misspelt field", map[string]any{"fail_first": 1}},
		{"negative copies", map[string]any{"duplicate": -1}},
		{"too many copies", map[string]any{"duplicate": 1000}},
		{"negative delay", map[string]any{"delay": "-1s"}},
		{"delay without unit", map[string]any{"delay": "5"}},
		{"negative failures", map[string]any{"failFirst": -2}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			e.expectError(t, "POST", "/_sandbox/faults", "", tt.body, http.StatusBadRequest)
		})
	}
	e.mustDo(t, "GET", "/_sandbox/faults", "", nil, &read)
	if read.Duplicate != 1 {
		t.Fatalf("a refused POST changed the faults: %+v", read)
	}
	e.mustDo(t, "POST", "/_sandbox/faults", "", map[string]any{}, &read)
	if read != (wixsim.Faults{}) {
		t.Fatalf("{} left faults on: %+v", read)
	}
	if err := e.srv.SetFaults(wixsim.Faults{FailFirst: -1}); !errors.Is(err, wixsim.ErrInvalid) {
		t.Fatalf("SetFaults(-1) = %v, want ErrInvalid", err)
	}
}
