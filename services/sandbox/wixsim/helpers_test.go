package wixsim_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"gallerysync.dev/services/sandbox/wixsim"
)

const (
	testAppID     = "test-app"
	testAppSecret = "test-secret"
	siteA         = "11111111-1111-4111-8111-111111111111"
	siteB         = "22222222-2222-4222-8222-222222222222"
	ownerA        = "aaaaaaaa-0000-4000-8000-00000000000a"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// hook is one received webhook.
type hook struct {
	contentType string
	body        string
}

// receiver is a webhook endpoint that records what arrives; respond decides
// the status of the n-th attempt (0-based); nil means 200.
type receiver struct {
	mu      sync.Mutex
	got     []hook
	respond func(n int, r *http.Request) int
	url     string
}

func (rc *receiver) hooks() []hook {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hook(nil), rc.got...)
}

func startReceiver(t *testing.T, respond func(n int, r *http.Request) int) *receiver {
	t.Helper()
	rc := &receiver{respond: respond}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.got)
		rc.got = append(rc.got, hook{contentType: r.Header.Get("Content-Type"), body: string(body)})
		rc.mu.Unlock()
		status := http.StatusOK
		if rc.respond != nil {
			status = rc.respond(n, r)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(ts.Close)
	rc.url = ts.URL
	return rc
}

// env is a running emulator with two sites.
type env struct {
	srv   *wixsim.Server
	base  string
	key   *rsa.PrivateKey
	clock *clock
}

type option func(*wixsim.Config)

func withWebhooks(url string) option { return func(c *wixsim.Config) { c.WebhookURL = url } }
func withRetry(d ...time.Duration) option {
	return func(c *wixsim.Config) { c.Retry = d }
}
func withRateLimit(n int) option { return func(c *wixsim.Config) { c.RateLimitPerMinute = n } }
func withMediaReadyAfter(d time.Duration) option {
	return func(c *wixsim.Config) { c.MediaReadyAfter = d }
}

func start(t *testing.T, opts ...option) *env {
	t.Helper()
	e := startStopped(t, opts...)
	e.run(t)
	return e
}

// startStopped is start without Run: nothing is delivered or imported
// until e.run.
func startStopped(t *testing.T, opts ...option) *env {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	var h http.Handler = http.NotFoundHandler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	clk := &clock{}
	cfg := wixsim.Config{
		AppID:      testAppID,
		AppSecret:  testAppSecret,
		SigningKey: key,
		BaseURL:    ts.URL,
		Retry:      []time.Duration{10 * time.Millisecond},
		Now:        clk.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := wixsim.New(cfg)
	if err != nil {
		t.Fatalf("new: %v", err)
	}
	h = srv.Handler()
	srv.AddSite(siteA, ownerA)
	srv.AddSite(siteB, "bbbbbbbb-0000-4000-8000-00000000000b")
	return &env{srv: srv, base: ts.URL, key: key, clock: clk}
}

// run starts Run and stops it at cleanup.
func (e *env) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
}

// appToken gets a client-credentials token for the instance.
func (e *env) appToken(t *testing.T, instanceID string) string {
	t.Helper()
	var resp struct {
		AccessToken string `json:"access_token"`
	}
	e.mustDo(t, "POST", "/oauth2/token", "", map[string]string{
		"grant_type": "client_credentials", "client_id": testAppID, "client_secret": testAppSecret, "instance_id": instanceID,
	}, &resp)
	return resp.AccessToken
}

func (e *env) ownerToken(t *testing.T, instanceID string) string {
	t.Helper()
	tok, err := e.srv.OwnerToken(instanceID)
	if err != nil {
		t.Fatalf("owner token: %v", err)
	}
	return tok
}

// do sends a request and returns the status and body.
func (e *env) do(t *testing.T, method, path, token string, body any) (int, []byte) {
	t.Helper()
	status, raw, err := e.try(method, path, token, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return status, raw
}

// try is do for goroutines other than the test's: it returns the error.
func (e *env) try(method, path, token string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// mustDo sends a request that must succeed and decodes the answer into out.
func (e *env) mustDo(t *testing.T, method, path, token string, body, out any) {
	t.Helper()
	status, raw := e.do(t, method, path, token, body)
	if status != http.StatusOK {
		t.Fatalf("%s %s: status %d: %s", method, path, status, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
}

// wixError is the Wix error body.
type wixError struct {
	Message string `json:"message"`
	Details struct {
		ApplicationError *struct {
			Code        string `json:"code"`
			Description string `json:"description"`
		} `json:"applicationError"`
		ValidationError *struct {
			FieldViolations []wixsim.FieldViolation `json:"fieldViolations"`
		} `json:"validationError"`
	} `json:"details"`
}

// expectError sends a request that must fail with status and returns the
// decoded Wix error, which must carry one of the two detail kinds.
func (e *env) expectError(t *testing.T, method, path, token string, body any, status int) wixError {
	t.Helper()
	got, raw := e.do(t, method, path, token, body)
	if got != status {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, got, status, raw)
	}
	var we wixError
	if err := json.Unmarshal(raw, &we); err != nil {
		t.Fatalf("%s %s: error body %s is not Wix format: %v", method, path, raw, err)
	}
	if we.Message == "" || (we.Details.ApplicationError == nil && we.Details.ValidationError == nil) {
		t.Fatalf("%s %s: error body %s lacks message or details", method, path, raw)
	}
	return we
}

// hasViolation reports whether a validation error names field.
func hasViolation(we wixError, field string) bool {
	if we.Details.ValidationError == nil {
		return false
	}
	for _, v := range we.Details.ValidationError.FieldViolations {
		if v.Field == field && v.ViolatedRule != "" && v.Description != "" {
			return true
		}
	}
	return false
}

// imageItem is the JSON of a new image item.
func imageItem(fileID, title string) map[string]any {
	return map[string]any{"item": map[string]any{
		"title": title,
		"image": map[string]any{"imageInfo": map[string]any{"id": fileID}},
	}}
}

// seedGallery makes a gallery with n items on siteA directly.
func (e *env) seedGallery(t *testing.T, name string, n int) (wixsim.Gallery, wixsim.FileDescriptor) {
	t.Helper()
	f, err := e.srv.AddImage(siteA, name+"-photo", 80, 60)
	if err != nil {
		t.Fatalf("add image: %v", err)
	}
	g, err := e.srv.CreateGallery(siteA, name)
	if err != nil {
		t.Fatalf("create gallery: %v", err)
	}
	for i := range n {
		_, err := e.srv.AddItem(siteA, g.ID, wixsim.Item{
			Title:     name,
			SortOrder: float64(1000 + i),
			Image:     &wixsim.ItemImage{ImageInfo: &wixsim.ImageInfo{ID: f.ID}},
		})
		if err != nil {
			t.Fatalf("add item %d: %v", i, err)
		}
	}
	return g, f
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func drain(t *testing.T, srv *wixsim.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.DrainWebhooks(ctx); err != nil {
		t.Fatalf("drain: %v", err)
	}
}

// jsonString decodes a JSON document held in a Go string.
func jsonString(s string, v any) error {
	return json.Unmarshal([]byte(s), v)
}
