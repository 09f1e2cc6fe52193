package wixsim_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/services/sandbox/wixsim"
)

// signedInstance is what an app reads from a dashboard URL's instance.
type signedInstance struct {
	InstanceID  string `json:"instanceId"`
	AppDefID    string `json:"appDefId"`
	SignDate    string `json:"signDate"`
	UID         string `json:"uid"`
	Permissions string `json:"permissions"`
}

// readInstance checks the signature the way an app does (HMAC-SHA256 of the
// data part with the app secret) and decodes the data.
func readInstance(t *testing.T, raw, secret string) signedInstance {
	t.Helper()
	sig, data, ok := strings.Cut(raw, ".")
	if !ok || strings.ContainsAny(raw, "=+/") {
		t.Fatalf("instance %q is not <signature>.<data> in unpadded base64url", raw)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(data))
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		t.Fatalf("instance signature does not verify with the app secret")
	}
	js, err := base64.RawURLEncoding.DecodeString(data)
	if err != nil {
		t.Fatalf("instance data: %v", err)
	}
	var in signedInstance
	if err := json.Unmarshal(js, &in); err != nil {
		t.Fatalf("instance data %s: %v", js, err)
	}
	return in
}

func TestDashboardURLSignsTheInstance(t *testing.T) {
	t.Parallel()
	e := start(t)
	got, err := e.srv.DashboardURL(siteA, "http://127.0.0.1:8081/?lang=en")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(got)
	if err != nil || u.Host != "127.0.0.1:8081" || u.Query().Get("lang") != "en" {
		t.Fatalf("dashboard url %q: want the app url with its own query kept", got)
	}
	in := readInstance(t, u.Query().Get("instance"), testAppSecret)
	signed, err := time.Parse(time.RFC3339, in.SignDate)
	if err != nil || time.Since(signed).Abs() > time.Minute {
		t.Fatalf("signDate %q: want now", in.SignDate)
	}
	if in.InstanceID != siteA || in.UID != ownerA || in.AppDefID != testAppID || in.Permissions != "OWNER" {
		t.Fatalf("instance %+v: want site A opened by its owner in this app", in)
	}
}

func TestDashboardEndpointRedirects(t *testing.T) {
	t.Parallel()
	e := start(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(q url.Values) *http.Response {
		t.Helper()
		resp, err := noFollow.Get(e.base + "/_sandbox/dashboard?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := get(url.Values{"instanceId": {siteB}, "appUrl": {"https://console.example/dash"}})
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Host != "console.example" || loc.Path != "/dash" {
		t.Fatalf("Location %q: want the app url", resp.Header.Get("Location"))
	}
	if in := readInstance(t, loc.Query().Get("instance"), testAppSecret); in.InstanceID != siteB {
		t.Fatalf("instance of %q, want site B", in.InstanceID)
	}

	tests := []struct {
		name   string
		q      url.Values
		status int
	}{
		{"no instance", url.Values{"appUrl": {"http://x.example/"}}, http.StatusBadRequest},
		{"no app url", url.Values{"instanceId": {siteA}}, http.StatusBadRequest},
		{"relative app url", url.Values{"instanceId": {siteA}, "appUrl": {"/dash"}}, http.StatusBadRequest},
		{"other scheme", url.Values{"instanceId": {siteA}, "appUrl": {"javascript:alert(1)"}}, http.StatusBadRequest},
		{"unknown site", url.Values{"instanceId": {"33333333-3333-4333-8333-333333333333"}, "appUrl": {"http://x.example/"}}, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := get(tt.q); got.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", got.StatusCode, tt.status)
			}
		})
	}
}

func TestDashboardURLNeedsTheAppInstalled(t *testing.T) {
	t.Parallel()
	e := start(t)
	if err := e.srv.RemoveApp(siteA); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.DashboardURL(siteA, "http://127.0.0.1:8081/"); !errors.Is(err, wixsim.ErrSiteNotFound) {
		t.Fatalf("removed app: error %v, want ErrSiteNotFound", err)
	}
	if _, err := e.srv.DashboardURL(siteB, "ftp://x/"); !errors.Is(err, wixsim.ErrInvalid) {
		t.Fatalf("ftp app url: error %v, want ErrInvalid", err)
	}
}
