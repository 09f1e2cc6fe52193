package atprotosim_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"gallerysync.dev/services/sandbox/atprotosim"
)

func post(t *testing.T, url, token string, body any) (*http.Response, map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

func login(t *testing.T, base, handle, password string) (token, did string) {
	t.Helper()
	resp, out := post(t, base+"/xrpc/com.atproto.server.createSession", "", map[string]string{"identifier": handle, "password": password})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d %v", resp.StatusCode, out)
	}
	return out["accessJwt"].(string), out["did"].(string)
}

func TestWritePointsThrottle(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	sim := atprotosim.New(atprotosim.WithClock(func() time.Time { return now }),
		atprotosim.WithLimits(atprotosim.Limits{WritesHour: atprotosim.Limit{Points: 7, Window: time.Hour}}))
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	sim.AddAccount("writer.test", "pw")
	token, did := login(t, srv.URL, "writer.test", "pw")
	create := func(rkey string) (*http.Response, map[string]any) {
		return post(t, srv.URL+"/xrpc/com.atproto.repo.createRecord", token, map[string]any{
			"repo": did, "collection": "social.grain.gallery", "rkey": rkey,
			"record": map[string]any{"$type": "social.grain.gallery", "title": rkey, "createdAt": "2026-11-30T09:00:00.000Z"},
		})
	}
	for _, rkey := range []string{"3kaaaaaaaaaa2", "3kaaaaaaaaaa3"} { // 3 points each
		if resp, out := create(rkey); resp.StatusCode != http.StatusOK {
			t.Fatalf("create %s: %d %v", rkey, resp.StatusCode, out)
		}
	}
	resp, out := create("3kaaaaaaaaaa4")
	if resp.StatusCode != http.StatusTooManyRequests || out["error"] != "RateLimitExceeded" {
		t.Fatalf("third create past 7 points: %d %v", resp.StatusCode, out)
	}
	reset, err := strconv.ParseInt(resp.Header.Get("RateLimit-Reset"), 10, 64)
	if err != nil || !time.Unix(reset, 0).Equal(now.Add(time.Hour)) || resp.Header.Get("RateLimit-Policy") != "7;w=3600" {
		t.Fatalf("429 headers: reset %q policy %q", resp.Header.Get("RateLimit-Reset"), resp.Header.Get("RateLimit-Policy"))
	}
	// A refused write writes nothing.
	get, err := http.Get(srv.URL + "/xrpc/com.atproto.repo.getRecord?repo=" + did + "&collection=social.grain.gallery&rkey=3kaaaaaaaaaa4")
	if err != nil {
		t.Fatal(err)
	}
	get.Body.Close()
	if get.StatusCode != http.StatusBadRequest {
		t.Fatalf("the refused record reads with status %d", get.StatusCode)
	}
	st := sim.Stats()
	if st.Commits != 2 || st.RecordsCreated != 2 || st.Throttled != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestStatsEndpoint(t *testing.T) {
	t.Parallel()
	sim := atprotosim.New()
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	sim.AddAccount("stats.test", "pw")
	login(t, srv.URL, "stats.test", "pw")
	resp, err := http.Get(srv.URL + "/_sandbox/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st atprotosim.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("stats: %d %v", resp.StatusCode, err)
	}
	if st.Logins != 1 {
		t.Fatalf("stats after one login: %+v", st)
	}
}

func TestAccountsAndTokens(t *testing.T) {
	t.Parallel()
	sim := atprotosim.New()
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	a := sim.AddAccount("Ann.test", "one")
	if again := sim.AddAccount("ann.test", "two"); again.DID != a.DID {
		t.Fatalf("re-adding a handle made a new DID: %s, %s", a.DID, again.DID)
	}
	if resp, _ := post(t, srv.URL+"/xrpc/com.atproto.server.createSession", "", map[string]string{"identifier": "ann.test", "password": "one"}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("old password: status %d", resp.StatusCode)
	}
	token, did := login(t, srv.URL, a.DID, "two")
	if did != a.DID {
		t.Fatalf("did %s, want %s", did, a.DID)
	}
	del := map[string]string{"repo": did, "collection": "social.grain.photo", "rkey": "3kaaaaaaaaaa2"}
	tests := []struct {
		name   string
		token  string
		expire bool
		status int
		error  string
	}{
		{"valid", token, false, http.StatusOK, ""},
		{"missing", "", false, http.StatusUnauthorized, "AuthMissing"},
		{"forged", token + "x", false, http.StatusBadRequest, "InvalidToken"},
		{"expired", token, true, http.StatusBadRequest, "ExpiredToken"},
	}
	for _, tc := range tests {
		if tc.expire {
			sim.ExpireTokens()
		}
		resp, out := post(t, srv.URL+"/xrpc/com.atproto.repo.deleteRecord", tc.token, del)
		if resp.StatusCode != tc.status || (tc.error != "" && out["error"] != tc.error) {
			t.Fatalf("%s token: %d %v, want %d %s", tc.name, resp.StatusCode, out, tc.status, tc.error)
		}
	}
	// A new login after ExpireTokens works.
	fresh, _ := login(t, srv.URL, "ann.test", "two")
	if resp, out := post(t, srv.URL+"/xrpc/com.atproto.repo.deleteRecord", fresh, del); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh token: %d %v", resp.StatusCode, out)
	}
}
