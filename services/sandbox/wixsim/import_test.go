package wixsim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gallerysync.dev/services/sandbox/wixsim"
)

// fileEvent is the action body of File Ready and File Failed.
type fileEvent struct {
	File                *wixsim.FileDescriptor `json:"file"`
	ExternalInfo        *wixsim.ExternalInfo   `json:"externalInfo"`
	TriggeredByUndelete *bool                  `json:"triggeredByUndelete"`
}

// fileHooks returns the decoded File Ready / File Failed webhooks received.
func fileHooks(t *testing.T, e *env, rc *receiver) map[string]decoded {
	t.Helper()
	out := map[string]decoded{}
	for _, h := range rc.hooks() {
		d := decodeHook(t, &e.key.PublicKey, h.body)
		if d.event.EntityFqdn == wixsim.FileFQDN {
			out[d.event.EntityID] = d
		}
	}
	return out
}

// gate serves a generated picture only once released, so that a test can
// look at an import while it is PENDING.
func gate(t *testing.T, e *env) (url string, release func()) {
	t.Helper()
	ch := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-ch:
		case <-r.Context().Done():
			return
		}
		resp, err := http.Get(e.base + "/_sandbox/images/gated.png?w=90&h=30")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", "image/png")
		_, _ = io.Copy(w, resp.Body)
	}))
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(func() { release(); ts.Close() })
	return ts.URL + "/gated.png", release
}

func TestImportIsPendingUntilProcessed(t *testing.T) {
	t.Parallel()
	rc := startReceiver(t, nil)
	e := start(t, withWebhooks(rc.url))
	tok := e.appToken(t, siteA)
	g, _ := e.seedGallery(t, "pending", 0)
	src, release := gate(t, e)
	ext := map[string]any{"origin": testAppID, "externalIds": []string{"mastodon:42", "album:7"}}
	f := e.importPending(t, tok, map[string]any{"url": src, "displayName": "slow.png", "externalInfo": ext})

	var got fileResp
	e.mustDo(t, "GET", "/site-media/v1/files/"+f.ID, tok, nil, &got)
	if got.File.OperationStatus != "PENDING" || got.File.Media != nil {
		t.Fatalf("file while its source hangs = %+v", got.File)
	}
	if st := e.srv.Stats(siteA); st.ImportsPending != 1 {
		t.Fatalf("stats = %+v, want one import pending", st)
	}
	we := e.expectError(t, "POST", "/pro-gallery/v2/galleries/"+g.ID+"/items", tok, imageItem(f.ID, "too early"), http.StatusBadRequest)
	if !hasViolation(we, "item.image.imageInfo.id") {
		t.Fatalf("a PENDING file was accepted in an item: %+v", we)
	}
	resp, err := http.Get(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("media URL of a PENDING file: status %d, want 404", resp.StatusCode)
	}

	release()
	ready := e.waitSettled(t, tok, f.ID)
	if ready.OperationStatus != "READY" || ready.Media.Image.Image.Width != 90 || ready.Media.Image.Image.Height != 30 {
		t.Fatalf("file = %+v", ready)
	}
	e.mustDo(t, "POST", "/pro-gallery/v2/galleries/"+g.ID+"/items", tok, imageItem(f.ID, "in time"), nil)
	drain(t, e.srv)

	d, ok := fileHooks(t, e, rc)[f.ID]
	if !ok {
		t.Fatal("no File Ready webhook")
	}
	if d.eventType != "wix.media.site_media.v1.file_descriptor_file_ready" || d.event.Slug != "file_ready" || d.instance != siteA {
		t.Fatalf("webhook: eventType %s slug %s instance %s", d.eventType, d.event.Slug, d.instance)
	}
	if !mapsEqual(d.identity, map[string]string{"identityType": "APP", "appId": testAppID}) {
		t.Fatalf("identity = %v, want the importing app", d.identity)
	}
	var body fileEvent
	if err := json.Unmarshal([]byte(d.event.ActionEvent.BodyAsJSON), &body); err != nil {
		t.Fatalf("bodyAsJson: %v", err)
	}
	if body.File == nil || body.File.ID != f.ID || body.File.OperationStatus != "READY" || body.File.Media == nil ||
		body.File.Media.Image.Image.Width != 90 {
		t.Fatalf("file in File Ready = %+v", body.File)
	}
	if body.TriggeredByUndelete == nil || *body.TriggeredByUndelete {
		t.Fatal("triggeredByUndelete must be present and false")
	}
	if body.ExternalInfo == nil || body.ExternalInfo.Origin != testAppID || len(body.ExternalInfo.ExternalIDs) != 2 ||
		body.ExternalInfo.ExternalIDs[0] != "mastodon:42" || body.ExternalInfo.ExternalIDs[1] != "album:7" {
		t.Fatalf("externalInfo = %+v, want what the import named", body.ExternalInfo)
	}
	if st := e.srv.Stats(siteA); st.ImportsPending != 0 {
		t.Fatalf("stats = %+v, want no import pending", st)
	}
}

func TestMediaReadyAfterHoldsImports(t *testing.T) {
	t.Parallel()
	var fetched atomic.Int32
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fetched.Add(1) }))
	t.Cleanup(src.Close)
	e := start(t, withMediaReadyAfter(time.Hour))
	tok := e.appToken(t, siteA)
	f := e.importPending(t, tok, map[string]any{"url": src.URL + "/a.png"})
	// Other work goes on meanwhile; the import stays PENDING, unfetched.
	quick := e.appToken(t, siteB)
	e.mustDo(t, "GET", "/pro-gallery/v2/galleries", quick, nil, nil)
	var got fileResp
	e.mustDo(t, "GET", "/site-media/v1/files/"+f.ID, tok, nil, &got)
	if got.File.OperationStatus != "PENDING" || fetched.Load() != 0 || e.srv.Stats(siteA).ImportsPending != 1 {
		t.Fatalf("status %s, source fetched %d times; want PENDING and unfetched", got.File.OperationStatus, fetched.Load())
	}
	if _, err := wixsim.New(wixsim.Config{AppID: "a", AppSecret: "b", SigningKey: e.key, BaseURL: "http://x", MediaReadyAfter: -time.Second}); err == nil {
		t.Fatal("a negative MediaReadyAfter was accepted")
	}
}

func TestImportWebhooks(t *testing.T) {
	t.Parallel()
	rc := startReceiver(t, nil)
	e := start(t, withWebhooks(rc.url))
	src := source(t)
	owner := e.ownerToken(t, siteA)
	ext := map[string]any{"origin": "elsewhere", "externalIds": []string{"x:1"}}
	good := e.importPending(t, owner, map[string]any{"url": src.URL + "/photo.jpg"})
	bad := e.importPending(t, owner, map[string]any{"url": src.URL + "/text.txt", "externalInfo": ext})
	drain(t, e.srv)

	hooks := fileHooks(t, e, rc)
	if len(hooks) != 2 {
		t.Fatalf("%d file webhooks, want 2", len(hooks))
	}
	ownerID := map[string]string{"identityType": "WIX_USER", "wixUserId": ownerA}
	tests := []struct {
		name, fileID, slug string
		check              func(t *testing.T, body fileEvent, raw map[string]json.RawMessage)
	}{
		{name: "ready without externalInfo", fileID: good.ID, slug: "file_ready", check: func(t *testing.T, body fileEvent, _ map[string]json.RawMessage) {
			if body.File == nil || body.File.OperationStatus != "READY" || body.ExternalInfo != nil {
				t.Fatalf("body = %+v", body)
			}
		}},
		{name: "failed carries only externalInfo", fileID: bad.ID, slug: "file_failed", check: func(t *testing.T, body fileEvent, raw map[string]json.RawMessage) {
			if len(raw) != 1 || body.ExternalInfo == nil || body.ExternalInfo.Origin != "elsewhere" || body.ExternalInfo.ExternalIDs[0] != "x:1" {
				t.Fatalf("body = %s", mustJSON(t, raw))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := hooks[tt.fileID]
			if !ok {
				t.Fatalf("no webhook for %s", tt.fileID)
			}
			if d.event.Slug != tt.slug || d.eventType != wixsim.FileFQDN+"_"+tt.slug || !mapsEqual(d.identity, ownerID) {
				t.Fatalf("slug %s eventType %s identity %v", d.event.Slug, d.eventType, d.identity)
			}
			var body fileEvent
			var raw map[string]json.RawMessage
			if err := json.Unmarshal([]byte(d.event.ActionEvent.BodyAsJSON), &body); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(d.event.ActionEvent.BodyAsJSON), &raw); err != nil {
				t.Fatal(err)
			}
			tt.check(t, body, raw)
		})
	}
}

func TestImportsWaitForRun(t *testing.T) {
	t.Parallel()
	e := startStopped(t)
	tok := e.appToken(t, siteA)
	f := e.importPending(t, tok, map[string]any{"url": e.base + "/_sandbox/images/later.png"})
	var got fileResp
	e.mustDo(t, "GET", "/site-media/v1/files/"+f.ID, tok, nil, &got)
	if got.File.OperationStatus != "PENDING" || e.srv.Stats(siteA).ImportsPending != 1 {
		t.Fatalf("without Run: %+v", got.File)
	}
	e.run(t)
	if f := e.waitSettled(t, tok, f.ID); f.OperationStatus != "READY" {
		t.Fatalf("after Run: %+v", f)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
