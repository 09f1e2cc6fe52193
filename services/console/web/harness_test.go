package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/testkit"
	"gallerysync.dev/libs/testkit/mappingfake"
	"gallerysync.dev/libs/wix"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/console/auth"
	"gallerysync.dev/services/console/check"
	"gallerysync.dev/services/console/internal/fake"
	"gallerysync.dev/services/console/share"
	"gallerysync.dev/services/console/web"
)

const (
	appSecret = "app-secret"
	siteA     = "site-a"
	siteB     = "site-b"
	waitMax   = 20 * time.Second
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// checker is a platform check that accepts one token.
type checker struct{ token string }

func (c checker) Check(_ context.Context, cr check.Credentials) (check.Account, error) {
	if cr.Secret != c.token {
		return check.Account{}, fmt.Errorf("mastodon: %w: it answered 401", check.ErrRejected)
	}
	return check.Account{BaseURL: strings.TrimRight(cr.BaseURL, "/"), AccountID: "42", DisplayName: "@me@masto.test"}, nil
}

// env is a dashboard over a fake mapping and Wix, a real JetStream and a
// running share runner, with two sites.
type env struct {
	srv     *httptest.Server
	mapping *mappingfake.Fake
	mc      gsv1.MappingServiceClient
	wix     *fake.Wix
	bus     *bus.Bus
}

func newEnv(t *testing.T) *env {
	t.Helper()
	m, mc := mappingfake.Start(t)
	w := fake.NewWix()
	var items []wix.Item
	for _, id := range []string{"a1", "a2", "a3"} {
		items = append(items, fake.ImageItem(id, "Photo "+id, "http://media.test/"+id+".png"))
	}
	w.AddGallery(siteA, wix.Gallery{ID: "gal-a", Name: "Harbour at dawn", Items: items})
	for i := range 11 {
		w.AddGallery(siteA, wix.Gallery{ID: "gal-a" + string(rune('a'+i)), Name: "More " + string(rune('A'+i))})
	}
	w.AddGallery(siteB, wix.Gallery{ID: "gal-b", Name: "Site B only", Items: []wix.Item{fake.ImageItem("b1", "B", "http://media.test/b1.png")}})

	n := testkit.StartNATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), waitMax)
	defer cancel()
	b, err := bus.Connect(ctx, bus.Config{URL: n.URL(), PublishTimeout: 2 * time.Second, Replicas: 1, DuplicateWindow: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	if err := b.EnsureStreams(ctx); err != nil {
		t.Fatal(err)
	}
	runner := share.NewRunner(mc, share.NewPlanner(mc, w, b, quiet), quiet, share.WithScanEvery(time.Hour))
	rctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = runner.Run(rctx) }()
	t.Cleanup(func() { stop(); <-done })

	sessions, err := auth.NewSessions([]byte("0123456789abcdef0123456789abcdef"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	h, err := web.New(web.Deps{
		Mapping: mc, Galleries: w, Failures: b, Shares: share.NewStarter(mc, w, nil, runner),
		Checkers:  map[string]check.Checker{"mastodon": checker{token: "good-token"}},
		Sessions:  sessions,
		AppSecret: []byte(appSecret), InstanceMaxAge: time.Hour,
		ImageOrigins: []string{"http://media.test"}, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{srv: srv, mapping: m, mc: mc, wix: w, bus: b}
}

// owner is a browser-like client of one site: cookies, no redirects followed
// unless asked, the CSRF token of its session.
type owner struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

// dashboardURL is what Wix opens: path with a fresh signed instance.
func dashboardURL(t *testing.T, base, path, tenant string, signed time.Time) string {
	t.Helper()
	inst, err := auth.SignInstance([]byte(appSecret), auth.Instance{InstanceID: tenant, UID: "owner-" + tenant, Permissions: "OWNER", SignDate: signed})
	if err != nil {
		t.Fatal(err)
	}
	return base + path + "?instance=" + url.QueryEscape(inst)
}

// signIn opens the dashboard as the owner of tenant.
func (e *env) signIn(t *testing.T, tenant string) *owner {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	o := &owner{t: t, base: e.srv.URL, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	resp, err := o.hc.Get(dashboardURL(t, e.srv.URL, "/", tenant, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign-in answered %d to %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	var sess struct {
		Tenant string `json:"tenant"`
		CSRF   string `json:"csrf"`
	}
	o.json(http.MethodGet, "/api/session", nil, http.StatusOK, &sess)
	if sess.Tenant != tenant || sess.CSRF == "" {
		t.Fatalf("session %+v, want tenant %s with a CSRF token", sess, tenant)
	}
	o.csrf = sess.CSRF
	return o
}

// do sends a request with the session's CSRF header.
func (o *owner) do(method, path string, body io.Reader, contentType string) (int, []byte, http.Header) {
	o.t.Helper()
	req, err := http.NewRequest(method, o.base+path, body)
	if err != nil {
		o.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if o.csrf != "" && method != http.MethodGet {
		req.Header.Set("X-CSRF-Token", o.csrf)
	}
	resp, err := o.hc.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

// json calls the API and decodes the answer, failing on another status.
func (o *owner) json(method, path string, in any, want int, out any) {
	o.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	code, raw, _ := o.do(method, path, body, "application/json")
	if code != want {
		o.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			o.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
}

// form posts a form with the session's CSRF field.
func (o *owner) form(path string, v url.Values) (int, string, string) {
	o.t.Helper()
	if v == nil {
		v = url.Values{}
	}
	if v.Get("csrf") == "" {
		v.Set("csrf", o.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, o.base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := o.hc.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// page fetches a page.
func (o *owner) page(path string) (int, string) {
	o.t.Helper()
	code, b, _ := o.do(http.MethodGet, path, nil, "")
	return code, string(b)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitMax)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
