package wixsim_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"testing"

	"gallerysync.dev/services/sandbox/wixsim"
)

// lifecycleHooks returns the decoded AppInstalled / AppRemoved webhooks.
func lifecycleHooks(t *testing.T, e *env, rc *receiver) []decoded {
	t.Helper()
	var out []decoded
	for _, h := range rc.hooks() {
		d := decodeHook(t, &e.key.PublicKey, h.body)
		if d.eventType == wixsim.EventAppInstalled || d.eventType == wixsim.EventAppRemoved {
			out = append(out, d)
		}
	}
	return out
}

func TestAppLifecycle(t *testing.T) {
	t.Parallel()
	rc := startReceiver(t, nil)
	e := start(t, withWebhooks(rc.url))
	const fresh = "33333333-3333-4333-8333-333333333333"
	const origin = "44444444-4444-4444-8444-444444444444"

	// A new site: install creates it and the app can get a token at once.
	var inst struct {
		InstanceID string `json:"instanceId"`
		AppID      string `json:"appId"`
		Installed  bool   `json:"installed"`
	}
	e.mustDo(t, "POST", "/_sandbox/apps/install", "", map[string]string{"instanceId": fresh, "originInstanceId": origin}, &inst)
	if inst.InstanceID != fresh || inst.AppID != testAppID || !inst.Installed {
		t.Fatalf("install answered %+v", inst)
	}
	tok := e.appToken(t, fresh)
	var created galleryResp
	e.mustDo(t, "POST", "/pro-gallery/v2/galleries", tok, map[string]any{"gallery": map[string]any{"name": "Kept"}}, &created)
	owner := e.ownerToken(t, fresh)
	we := e.expectError(t, "POST", "/_sandbox/apps/install", "", map[string]string{"instanceId": fresh}, http.StatusConflict)
	if we.Details.ApplicationError == nil || we.Details.ApplicationError.Code != "APP_ALREADY_INSTALLED" {
		t.Fatalf("second install: %+v", we)
	}

	// Removal revokes every token and closes the token endpoint.
	e.mustDo(t, "POST", "/_sandbox/apps/remove", "", map[string]string{"instanceId": fresh}, &inst)
	if inst.Installed {
		t.Fatalf("remove answered %+v", inst)
	}
	for name, old := range map[string]string{"app": tok, "owner": owner} {
		we := e.expectError(t, "GET", "/pro-gallery/v2/galleries", old, nil, http.StatusUnauthorized)
		if we.Details.ApplicationError == nil || we.Details.ApplicationError.Code != "UNAUTHENTICATED" {
			t.Fatalf("%s token after removal: %+v", name, we)
		}
	}
	we = e.expectError(t, "POST", "/oauth2/token", "", map[string]string{
		"grant_type": "client_credentials", "client_id": testAppID, "client_secret": testAppSecret, "instance_id": fresh,
	}, http.StatusUnauthorized)
	if we.Details.ApplicationError == nil || we.Details.ApplicationError.Code != "APP_NOT_INSTALLED" {
		t.Fatalf("token for a removed instance: %+v", we)
	}
	e.expectError(t, "POST", "/_sandbox/owner-token", "", map[string]string{"instanceId": fresh}, http.StatusNotFound)
	e.expectError(t, "POST", "/_sandbox/apps/remove", "", map[string]string{"instanceId": fresh}, http.StatusNotFound)

	// Reinstalling finds the site's content as it was.
	if err := e.srv.InstallApp(fresh, ""); err != nil {
		t.Fatalf("reinstall: %v", err)
	}
	var list struct {
		TotalGalleries int `json:"totalGalleries"`
	}
	e.mustDo(t, "GET", "/pro-gallery/v2/galleries", e.appToken(t, fresh), nil, &list)
	if list.TotalGalleries != 1 {
		t.Fatalf("%d galleries after reinstalling, want the 1 made before", list.TotalGalleries)
	}
	drain(t, e.srv)

	hooks := lifecycleHooks(t, e, rc)
	want := []struct {
		eventType string
		data      map[string]string
	}{
		{wixsim.EventAppInstalled, map[string]string{"appId": testAppID, "originInstanceId": origin}},
		{wixsim.EventAppRemoved, map[string]string{"appId": testAppID}},
		{wixsim.EventAppInstalled, map[string]string{"appId": testAppID}},
	}
	if len(hooks) != len(want) {
		t.Fatalf("%d lifecycle webhooks, want %d", len(hooks), len(want))
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	ownerID := hooks[0].identity["wixUserId"]
	for i, d := range hooks {
		var data map[string]string
		if err := json.Unmarshal([]byte(d.data), &data); err != nil {
			t.Fatalf("webhook %d: data %q is not a JSON string of an object: %v", i, d.data, err)
		}
		if d.eventType != want[i].eventType || d.instance != fresh || !mapsEqual(data, want[i].data) {
			t.Fatalf("webhook %d: %s %s %v, want %s %v", i, d.eventType, d.instance, data, want[i].eventType, want[i].data)
		}
		if d.identity["identityType"] != "WIX_USER" || !uuid.MatchString(d.identity["wixUserId"]) || d.identity["wixUserId"] != ownerID {
			t.Fatalf("webhook %d: identity %v, want the site owner", i, d.identity)
		}
		if d.iat == 0 {
			t.Fatalf("webhook %d has no iat", i)
		}
	}
}

func TestAppLifecycleGoAPI(t *testing.T) {
	t.Parallel()
	e := start(t)
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"install without instance", func() error { return e.srv.InstallApp("", "") }, wixsim.ErrInvalid},
		{"install where installed", func() error { return e.srv.InstallApp(siteA, "") }, wixsim.ErrConflict},
		{"remove from an unknown site", func() error { return e.srv.RemoveApp("nope") }, wixsim.ErrSiteNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	e.expectError(t, "POST", "/_sandbox/apps/install", "", map[string]string{}, http.StatusBadRequest)
	e.expectError(t, "POST", "/_sandbox/apps/remove", "", map[string]string{}, http.StatusBadRequest)
}

func TestRemovedAppGetsNoWebhooks(t *testing.T) {
	t.Parallel()
	rc := startReceiver(t, nil)
	e := start(t, withWebhooks(rc.url))
	src, release := gate(t, e)
	tok := e.appToken(t, siteA)
	e.importPending(t, tok, map[string]any{"url": src})
	if err := e.srv.RemoveApp(siteA); err != nil {
		t.Fatal(err)
	}
	// The import settles after the removal: no File Ready goes out for it.
	release()
	drain(t, e.srv)
	for _, h := range rc.hooks() {
		if d := decodeHook(t, &e.key.PublicKey, h.body); d.eventType != wixsim.EventAppRemoved {
			t.Fatalf("webhook %s sent for a site without the app", d.eventType)
		}
	}
	if n := len(rc.hooks()); n != 1 {
		t.Fatalf("%d webhooks, want only AppRemoved", n)
	}
}
