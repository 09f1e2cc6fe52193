package wixsim_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	e := start(t)
	good := map[string]string{"grant_type": "client_credentials", "client_id": testAppID, "client_secret": testAppSecret, "instance_id": siteA}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name   string
		body   map[string]string
		status int
		code   string
	}{
		{name: "wrong secret", body: with("client_secret", "nope"), status: http.StatusUnauthorized, code: "INVALID_CLIENT_CREDENTIALS"},
		{name: "wrong client id", body: with("client_id", "other-app"), status: http.StatusUnauthorized, code: "INVALID_CLIENT_CREDENTIALS"},
		{name: "unknown instance", body: with("instance_id", "33333333-3333-4333-8333-333333333333"), status: http.StatusBadRequest, code: "INSTANCE_NOT_FOUND"},
		{name: "other grant", body: with("grant_type", "authorization_code"), status: http.StatusBadRequest, code: "UNSUPPORTED_GRANT_TYPE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			we := e.expectError(t, "POST", "/oauth2/token", "", tt.body, tt.status)
			if we.Details.ApplicationError == nil || we.Details.ApplicationError.Code != tt.code {
				t.Fatalf("error = %+v, want code %s", we, tt.code)
			}
		})
	}

	t.Run("success", func(t *testing.T) {
		t.Parallel()
		var resp struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
			ExpiresIn   int    `json:"expires_in"`
		}
		e.mustDo(t, "POST", "/oauth2/token", "", good, &resp)
		if resp.AccessToken == "" || resp.TokenType != "Bearer" || resp.ExpiresIn != 14400 {
			t.Fatalf("token response = %+v", resp)
		}
		other := e.appToken(t, siteA)
		if other == resp.AccessToken {
			t.Fatal("two token requests returned the same token")
		}
	})

	t.Run("form encoded", func(t *testing.T) {
		t.Parallel()
		form := url.Values{}
		for k, v := range good {
			form.Set(k, v)
		}
		resp, err := http.Post(e.base+"/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})

	t.Run("malformed body", func(t *testing.T) {
		t.Parallel()
		resp, err := http.Post(e.base+"/oauth2/token", "application/json", strings.NewReader("{not json"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", resp.StatusCode)
		}
	})
}

func TestTokenUse(t *testing.T) {
	t.Parallel()
	e := start(t)
	tok := e.appToken(t, siteA)

	tests := []struct {
		name   string
		header string
		status int
	}{
		{name: "raw token", header: tok, status: http.StatusOK},
		{name: "bearer token", header: "Bearer " + tok, status: http.StatusOK},
		{name: "missing", header: "", status: http.StatusUnauthorized},
		{name: "unknown", header: "Bearer not-a-token", status: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.status == http.StatusOK {
				e.mustDo(t, "GET", "/pro-gallery/v2/galleries", tt.header, nil, nil)
				return
			}
			we := e.expectError(t, "GET", "/pro-gallery/v2/galleries", tt.header, nil, tt.status)
			if we.Details.ApplicationError == nil {
				t.Fatalf("401 without applicationError: %+v", we)
			}
		})
	}

	t.Run("app-level token cannot call site APIs", func(t *testing.T) {
		t.Parallel()
		var resp struct {
			AccessToken string `json:"access_token"`
		}
		e.mustDo(t, "POST", "/oauth2/token", "", map[string]string{
			"grant_type": "client_credentials", "client_id": testAppID, "client_secret": testAppSecret,
		}, &resp)
		e.expectError(t, "GET", "/pro-gallery/v2/galleries", resp.AccessToken, nil, http.StatusForbidden)
	})

	t.Run("owner token from the sandbox endpoint", func(t *testing.T) {
		t.Parallel()
		var resp struct {
			AccessToken string `json:"access_token"`
		}
		e.mustDo(t, "POST", "/_sandbox/owner-token", "", map[string]string{"instanceId": siteA}, &resp)
		e.mustDo(t, "GET", "/pro-gallery/v2/galleries", resp.AccessToken, nil, nil)
		e.expectError(t, "POST", "/_sandbox/owner-token", "", map[string]string{"instanceId": "nope"}, http.StatusNotFound)
		e.expectError(t, "POST", "/_sandbox/owner-token", "", map[string]string{}, http.StatusBadRequest)
	})
}

func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	e := start(t)
	tok := e.appToken(t, siteA)
	e.mustDo(t, "GET", "/pro-gallery/v2/galleries", tok, nil, nil)
	e.clock.Advance(4*time.Hour + time.Second)
	we := e.expectError(t, "GET", "/pro-gallery/v2/galleries", tok, nil, http.StatusUnauthorized)
	if !strings.Contains(we.Message, "expired") {
		t.Fatalf("message = %q, want it to say the token expired", we.Message)
	}
	e.mustDo(t, "GET", "/pro-gallery/v2/galleries", e.appToken(t, siteA), nil, nil)
}

func TestTokensAreScopedToTheirSite(t *testing.T) {
	t.Parallel()
	e := start(t)
	g, _ := e.seedGallery(t, "private", 1)
	e.expectError(t, "GET", "/pro-gallery/v2/galleries/"+g.ID, e.appToken(t, siteB), nil, http.StatusNotFound)
	var list struct {
		TotalGalleries int `json:"totalGalleries"`
	}
	e.mustDo(t, "GET", "/pro-gallery/v2/galleries", e.appToken(t, siteB), nil, &list)
	if list.TotalGalleries != 0 {
		t.Fatalf("site B sees %d galleries of site A", list.TotalGalleries)
	}
}

func TestUnknownEndpointIsWixFormat(t *testing.T) {
	t.Parallel()
	e := start(t)
	_, raw := e.do(t, "GET", "/pro-gallery/v3/nothing", "", nil)
	var we wixError
	if err := json.Unmarshal(raw, &we); err != nil || we.Details.ApplicationError == nil {
		t.Fatalf("body %s is not a Wix error", raw)
	}
}
