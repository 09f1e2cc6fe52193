package mastodonsim

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

func TestRateLimitAllEndpoints(t *testing.T) {
	t.Parallel()
	limits := Limits{Window: 5 * time.Minute, PerAccount: 3}
	in := startInstance(t, WithLimits(limits))

	for i, wantRemaining := range []int{2, 1, 0} {
		r := in.get(t, "/api/v1/accounts/verify_credentials", aliceToken)
		if r.code != 200 {
			t.Fatalf("request %d: status %d", i+1, r.code)
		}
		if got := r.header.Get("X-RateLimit-Limit"); got != "3" {
			t.Fatalf("X-RateLimit-Limit %q, want 3", got)
		}
		if got := r.header.Get("X-RateLimit-Remaining"); got != strconv.Itoa(wantRemaining) {
			t.Fatalf("request %d: X-RateLimit-Remaining %q, want %d", i+1, got, wantRemaining)
		}
	}
	r := in.form(t, http.MethodPost, "/api/v1/statuses", aliceToken, url.Values{"status": {"over the limit"}}, nil)
	if r.code != http.StatusTooManyRequests || r.errorText(t) != "Too many requests" {
		t.Fatalf("status %d body %s, want 429 Too many requests", r.code, r.body)
	}
	if r.header.Get("X-RateLimit-Limit") != "3" || r.header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("429 headers limit %q remaining %q", r.header.Get("X-RateLimit-Limit"), r.header.Get("X-RateLimit-Remaining"))
	}
	reset, err := time.Parse(time.RFC3339, r.header.Get("X-RateLimit-Reset"))
	if err != nil {
		t.Fatalf("X-RateLimit-Reset %q: %v", r.header.Get("X-RateLimit-Reset"), err)
	}
	if !reset.After(time.Now()) || reset.After(time.Now().Add(limits.Window)) {
		t.Fatalf("reset %v, want within the next %v", reset, limits.Window)
	}
	if got := in.srv.Stats(); got.StatusesCreated != 0 || got.RateLimited != 1 {
		t.Fatalf("stats %+v, want no status created and one refusal", got)
	}
	// Limits are per account.
	if r := in.get(t, "/api/v1/accounts/verify_credentials", bobToken); r.code != 200 || r.header.Get("X-RateLimit-Remaining") != "2" {
		t.Fatalf("bob: status %d remaining %q, want 200 and 2", r.code, r.header.Get("X-RateLimit-Remaining"))
	}
}

func TestRateLimitWindowResets(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Date(2026, 3, 1, 12, 1, 0, 0, time.UTC))
	in := startInstance(t, WithClock(clock.Now), WithLimits(Limits{Window: 5 * time.Minute, PerAccount: 1}))

	first := in.get(t, "/api/v1/accounts/verify_credentials", aliceToken)
	if want := "2026-03-01T12:05:00.000000Z"; first.header.Get("X-RateLimit-Reset") != want {
		t.Fatalf("X-RateLimit-Reset %q, want the window end %s", first.header.Get("X-RateLimit-Reset"), want)
	}
	if r := in.get(t, "/api/v1/accounts/verify_credentials", aliceToken); r.code != 429 {
		t.Fatalf("second request: %d, want 429", r.code)
	}
	clock.Advance(4 * time.Minute)
	if r := in.get(t, "/api/v1/accounts/verify_credentials", aliceToken); r.code != 200 {
		t.Fatalf("in the next window: %d, want 200", r.code)
	}
}

func TestRateLimitFamilies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		limits  Limits
		prepare func(t *testing.T, in *instance) string // returns a status id to delete, if any
		send    func(t *testing.T, in *instance, id string) reply
		allowed int
	}{
		{
			name:   "media uploads",
			limits: Limits{Window: time.Hour, PerAccount: 100, MediaWindow: 30 * time.Minute, Media: 2},
			send: func(t *testing.T, in *instance, _ string) reply {
				return in.uploadRaw(t, aliceToken, pngImage(t, 2, 2), nil)
			},
			allowed: 2,
		},
		{
			name:   "status deletes",
			limits: Limits{Window: time.Hour, PerAccount: 100, DeleteWindow: 30 * time.Minute, Deletes: 2},
			prepare: func(t *testing.T, in *instance) string {
				return in.postText(t, aliceToken, "to delete").ID
			},
			send: func(t *testing.T, in *instance, id string) reply {
				return in.request(t, http.MethodDelete, "/api/v1/statuses/"+id, aliceToken, "", nil, nil)
			},
			allowed: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := startInstance(t, WithLimits(tc.limits))
			for i := range tc.allowed + 1 {
				id := ""
				if tc.prepare != nil {
					id = tc.prepare(t, in)
				}
				r := tc.send(t, in, id)
				wantCode := 200
				if i == tc.allowed {
					wantCode = 429
				}
				if r.code != wantCode {
					t.Fatalf("request %d: status %d, want %d; body %s", i+1, r.code, wantCode, r.body)
				}
				// The headers describe the family closest to exhaustion.
				if got := r.header.Get("X-RateLimit-Limit"); got != strconv.Itoa(tc.allowed) {
					t.Fatalf("request %d: X-RateLimit-Limit %q, want %d", i+1, got, tc.allowed)
				}
				if got, want := r.header.Get("X-RateLimit-Remaining"), strconv.Itoa(max(tc.allowed-i-1, 0)); got != want {
					t.Fatalf("request %d: X-RateLimit-Remaining %q, want %s", i+1, got, want)
				}
			}
			if got := in.srv.Stats(); got.MediaUploaded+got.StatusesDeleted != int64(tc.allowed) {
				t.Fatalf("stats %+v, want %d effective writes", got, tc.allowed)
			}
			// Other endpoints are still open and report the general limit.
			r := in.get(t, "/api/v1/accounts/verify_credentials", aliceToken)
			if r.code != 200 || r.header.Get("X-RateLimit-Limit") != "100" {
				t.Fatalf("general endpoint: status %d limit %q, want 200 and 100", r.code, r.header.Get("X-RateLimit-Limit"))
			}
		})
	}
}

func TestUnlimitedHasNoHeaders(t *testing.T) {
	t.Parallel()
	in := startInstance(t, WithLimits(Unlimited()))
	r := in.get(t, "/api/v1/accounts/verify_credentials", aliceToken)
	if r.code != 200 || r.header.Get("X-RateLimit-Limit") != "" {
		t.Fatalf("status %d X-RateLimit-Limit %q, want 200 and no header", r.code, r.header.Get("X-RateLimit-Limit"))
	}
}

func TestDefaultLimits(t *testing.T) {
	t.Parallel()
	in := startInstance(t, WithLimits(DefaultLimits()))
	r := in.get(t, "/api/v1/accounts/verify_credentials", aliceToken)
	if r.header.Get("X-RateLimit-Limit") != "300" || r.header.Get("X-RateLimit-Remaining") != "299" {
		t.Fatalf("limit %q remaining %q, want 300 and 299", r.header.Get("X-RateLimit-Limit"), r.header.Get("X-RateLimit-Remaining"))
	}
	up := in.uploadRaw(t, aliceToken, pngImage(t, 2, 2), nil)
	if up.header.Get("X-RateLimit-Limit") != "30" || up.header.Get("X-RateLimit-Remaining") != "29" {
		t.Fatalf("upload limit %q remaining %q, want 30 and 29", up.header.Get("X-RateLimit-Limit"), up.header.Get("X-RateLimit-Remaining"))
	}
}
