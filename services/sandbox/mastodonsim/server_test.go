package mastodonsim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func TestRouting(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	tests := []struct {
		name      string
		method    string
		path      string
		token     string
		body      string
		json      bool
		wantCode  int
		wantAllow string
	}{
		{name: "unknown api route", method: "GET", path: "/api/v1/timelines/nope", token: aliceToken, wantCode: 404},
		{name: "unknown root", method: "GET", path: "/elsewhere", wantCode: 404},
		{name: "wrong method on statuses", method: "GET", path: "/api/v1/statuses", token: aliceToken, wantCode: 405, wantAllow: "POST"},
		{name: "wrong method on a status", method: "PATCH", path: "/api/v1/statuses/1", token: aliceToken, wantCode: 405, wantAllow: "DELETE, GET, PUT"},
		{name: "wrong method on media upload", method: "GET", path: "/api/v2/media", token: aliceToken, wantCode: 405, wantAllow: "POST"},
		{name: "oversized form body", method: "POST", path: "/api/v1/statuses", token: aliceToken,
			body: "status=" + strings.Repeat("x", maxFormBody+10), wantCode: 413},
		{name: "malformed json", method: "POST", path: "/api/v1/statuses", token: aliceToken, body: "{", json: true, wantCode: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctype := "application/x-www-form-urlencoded"
			if tc.json {
				ctype = "application/json"
			}
			r := in.request(t, tc.method, tc.path, tc.token, ctype, strings.NewReader(tc.body), nil)
			if r.code != tc.wantCode {
				t.Fatalf("status %d, want %d; body %s", r.code, tc.wantCode, r.body)
			}
			if r.errorText(t) == "" {
				t.Fatalf("body %s has no error message", r.body)
			}
			if got := r.header.Get("Allow"); got != tc.wantAllow {
				t.Fatalf("Allow %q, want %q", got, tc.wantAllow)
			}
		})
	}
}

func TestStatsEndpoint(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	st := in.postText(t, aliceToken, "one")
	in.form(t, http.MethodPut, "/api/v1/statuses/"+st.ID, aliceToken, url.Values{"status": {"two"}}, nil)
	in.upload(t, aliceToken, 2, 2, "")
	in.request(t, http.MethodDelete, "/api/v1/statuses/"+st.ID, aliceToken, "", nil, nil)

	r := in.get(t, "/_sandbox/stats", "")
	var raw map[string]int64
	if err := json.Unmarshal(decodeBody(t, r), &raw); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{
		"statuses_created": 1, "statuses_edited": 1, "statuses_deleted": 1,
		"media_uploaded": 1, "requests": 4, "rate_limited": 0,
	}
	for k, v := range want {
		if got, ok := raw[k]; !ok || got != v {
			t.Errorf("%s = %d (present %v), want %d", k, got, ok, v)
		}
	}
	if got := in.srv.Stats(); got.Requests != 4 || got.StatusesEdited != 1 {
		t.Fatalf("Stats() = %+v", got)
	}
}

func TestMountedUnderPrefix(t *testing.T) {
	t.Parallel()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String() + "/mastodon"
	srv := New(WithBaseURL(base), WithLimits(Unlimited()))
	mux := http.NewServeMux()
	mux.Handle("/mastodon/", http.StripPrefix("/mastodon", srv.Handler()))
	ts.Config.Handler = mux
	ts.Start()
	t.Cleanup(ts.Close)
	alice := srv.AddAccount("alice", "tok")
	in := &instance{srv: srv, base: base, alice: alice}

	m := in.upload(t, "tok", 3, 3, "")
	if got := in.get(t, *m.URL, ""); got.code != 200 {
		t.Fatalf("media URL %s: status %d", *m.URL, got.code)
	}
	for range 3 {
		in.postText(t, "tok", "x")
	}
	r := in.get(t, "/api/v1/accounts/"+alice.ID+"/statuses?limit=2", "tok")
	next := links(t, r.header.Get("Link"))["next"]
	if !strings.HasPrefix(next, base+"/api/v1/accounts/") {
		t.Fatalf("next link %q is not under %s", next, base)
	}
	if page := decode[[]Status](t, in.get(t, next, "tok")); len(page) != 1 {
		t.Fatalf("next page has %d statuses, want 1", len(page))
	}
}

func TestConcurrentPosts(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan string, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				req, err := http.NewRequest(http.MethodPost, in.base+"/api/v1/statuses",
					strings.NewReader(url.Values{"status": {"w" + string(rune('a'+w)) + string(rune('a'+i))}}.Encode()))
				if err != nil {
					errs <- err.Error()
					return
				}
				req.Header.Set("Authorization", "Bearer "+aliceToken)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- resp.Status
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	sts := in.srv.Statuses(in.alice.ID)
	seen := map[string]bool{}
	for i, st := range sts {
		if seen[st.ID] {
			t.Fatalf("duplicate id %s", st.ID)
		}
		seen[st.ID] = true
		if i > 0 && numeric(t, st.ID) <= numeric(t, sts[i-1].ID) {
			t.Fatal("Statuses() is not oldest first")
		}
	}
	if len(sts) != workers*each || in.srv.Stats().StatusesCreated != workers*each {
		t.Fatalf("%d statuses, stats %+v; want %d", len(sts), in.srv.Stats(), workers*each)
	}
}

func TestAddAccountReplacesToken(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	again := in.srv.AddAccount("alice", "new-token")
	if again.ID != in.alice.ID {
		t.Fatalf("re-adding alice made a new account %s, want %s", again.ID, in.alice.ID)
	}
	if r := in.get(t, "/api/v1/accounts/verify_credentials", aliceToken); r.code != 401 {
		t.Fatalf("old token: status %d, want 401", r.code)
	}
	if r := in.get(t, "/api/v1/accounts/verify_credentials", "new-token"); r.code != 200 {
		t.Fatalf("new token: status %d, want 200", r.code)
	}
}
