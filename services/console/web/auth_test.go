package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/console/auth"
)

func TestSignInFromTheWixDashboard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.mc.PutTenant(context.Background(), &gsv1.PutTenantRequest{Tenant: &gsv1.Tenant{TenantId: "site-gone", State: gsv1.TenantState_TENANT_STATE_REMOVED}}); err != nil {
		t.Fatal(err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	forged, _ := auth.SignInstance([]byte("not-the-secret"), auth.Instance{InstanceID: siteA, SignDate: time.Now()})
	tests := []struct {
		name     string
		url      string
		status   int
		contains string
	}{
		{"no session", e.srv.URL + "/galleries", http.StatusUnauthorized, "Open gallerysync from your Wix dashboard"},
		{"api without session", e.srv.URL + "/api/links", http.StatusUnauthorized, "sign in"},
		{"forged instance", e.srv.URL + "/?instance=" + url.QueryEscape(forged), http.StatusUnauthorized, "could not be verified"},
		{"garbage instance", e.srv.URL + "/?instance=abc", http.StatusUnauthorized, "could not be verified"},
		{"stale instance", dashboardURL(t, e.srv.URL, "/", siteA, time.Now().Add(-2*time.Hour)), http.StatusUnauthorized, "expired"},
		{"removed app", dashboardURL(t, e.srv.URL, "/", "site-gone", time.Now()), http.StatusUnauthorized, "removed"},
		{"valid", dashboardURL(t, e.srv.URL, "/links", siteA, time.Now()), http.StatusSeeOther, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := noFollow.Get(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body bytes.Buffer
			_, _ = body.ReadFrom(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(body.String(), tt.contains) {
				t.Fatalf("status %d, want %d with %q: %s", resp.StatusCode, tt.status, tt.contains, body.String())
			}
			cookies := resp.Cookies()
			if tt.status != http.StatusSeeOther {
				if len(cookies) != 0 {
					t.Fatalf("a refused sign-in set cookies %v", cookies)
				}
				return
			}
			if resp.Header.Get("Location") != "/links" {
				t.Fatalf("redirect to %q, want /links without the instance", resp.Header.Get("Location"))
			}
			if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteLaxMode {
				t.Fatalf("cookies %v: want one HttpOnly SameSite=Lax session cookie on plain http", cookies)
			}
		})
	}
}

func TestStateChangesNeedTheCSRFToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := e.signIn(t, siteA)
	token := o.csrf
	o.csrf = ""
	if code, _, _ := o.do(http.MethodPost, "/api/connections", strings.NewReader(`{"platform":"mastodon","base_url":"http://m","secret":"good-token"}`), "application/json"); code != http.StatusForbidden {
		t.Fatalf("API call without the header: status %d, want 403", code)
	}
	if code, _, body := o.form("/connections", url.Values{"csrf": {"wrong"}, "platform": {"mastodon"}, "base_url": {"http://m"}, "secret": {"good-token"}}); code != http.StatusForbidden {
		t.Fatalf("form with a wrong token: status %d, want 403: %s", code, body)
	}
	var conns struct{ Connections []json.RawMessage }
	o.json(http.MethodGet, "/api/connections", nil, http.StatusOK, &conns)
	if len(conns.Connections) != 0 {
		t.Fatalf("%d connections after refused requests, want none", len(conns.Connections))
	}
	o.csrf = token
	if code, loc, body := o.form("/connections", url.Values{"platform": {"mastodon"}, "base_url": {"http://m"}, "secret": {"good-token"}}); code != http.StatusSeeOther || loc != "/connections?ok=connected" {
		t.Fatalf("form with the token: %d to %q, want 303 to the connections page: %s", code, loc, body)
	}
}

func TestPagesRenderForTheOwner(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := e.signIn(t, siteA)
	for path, want := range map[string]string{
		"/":            "Harbour at dawn",
		"/galleries":   "12 Pro Galleries",
		"/connections": "Connect a Mastodon account",
		"/share":       "Connect an account first",
		"/links":       "No gallery is linked yet",
		"/failures":    "No failed events",
		"/nowhere":     "Not found",
	} {
		code, body := o.page(path)
		if (code != http.StatusOK && path != "/nowhere") || !strings.Contains(body, want) {
			t.Errorf("%s: status %d, want a page with %q", path, code, want)
		}
		if !strings.Contains(body, `href="/assets/app.css"`) || strings.Contains(body, "https://fonts.") {
			t.Errorf("%s: want only our own stylesheet", path)
		}
	}
	code, body := o.page("/assets/app.js")
	if code != http.StatusOK || !strings.Contains(body, "data-confirm") {
		t.Fatalf("app.js: status %d", code)
	}
}
