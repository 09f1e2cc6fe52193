package mastodon_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/libs/media"
	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/mastodon"
)

func TestErrorsAreClassified(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	answer := func(code int, header map[string]string, body string) func(w http.ResponseWriter, r *http.Request) bool {
		return func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path != "/api/v1/statuses" {
				return false
			}
			for k, v := range header {
				w.Header().Set(k, v)
			}
			w.WriteHeader(code)
			w.Write([]byte(body))
			return true
		}
	}
	tests := []struct {
		name      string
		inject    func(w http.ResponseWriter, r *http.Request) bool
		token     string
		mediaURL  string
		want      error
		retryable bool
		reset     time.Time
	}{
		{name: "validation 422", inject: answer(422, nil, `{"error":"Validation failed: Text can't be blank"}`),
			want: platforms.ErrPermanent},
		{name: "bad token 401", token: "wrong", want: platforms.ErrPermanent},
		{name: "forbidden 403", inject: answer(403, nil, `{"error":"This action is not allowed"}`), want: platforms.ErrPermanent},
		{name: "endpoint missing 404", inject: answer(404, nil, `{"error":"Record not found"}`), want: platforms.ErrPermanent},
		{name: "throttled with reset", inject: answer(429, map[string]string{"X-RateLimit-Reset": "2030-05-06T07:13:00.000000Z"}, `{"error":"Too many requests"}`),
			retryable: true, reset: time.Date(2030, 5, 6, 7, 13, 0, 0, time.UTC)},
		{name: "throttled with retry-after", inject: answer(429, map[string]string{"Retry-After": "30"}, `{"error":"Too many requests"}`),
			retryable: true, reset: now.Add(30 * time.Second)},
		{name: "server error", inject: answer(503, nil, `<html>maintenance</html>`), retryable: true},
		{name: "media host not allowed", mediaURL: "http://169.254.169.254/latest/meta-data", want: media.ErrHostNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, mastodon.WithClock(func() time.Time { return now }))
			e.api.setInject(tc.inject)
			if tc.token != "" {
				e.conn.Credentials = []byte(tc.token)
			}
			c := e.content("A", "a.png")
			if tc.mediaURL != "" {
				c.MediaURL = tc.mediaURL
			}
			_, err := e.adapter.Create(context.Background(), e.conn, "holiday", c, "key-1")
			if err == nil {
				t.Fatal("Create succeeded, want an error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !tc.retryable && !errors.Is(err, platforms.ErrPermanent) {
				t.Fatalf("err = %v, want it to wrap ErrPermanent", err)
			}
			if got := platforms.IsRetryable(err); got != tc.retryable {
				t.Fatalf("IsRetryable(%v) = %v, want %v", err, got, tc.retryable)
			}
			var rl *platforms.RateLimitError
			if isRL := errors.As(err, &rl); isRL != !tc.reset.IsZero() {
				t.Fatalf("rate limit error: %v, want %v (%v)", isRL, !tc.reset.IsZero(), err)
			}
			if rl != nil && !rl.Reset.Equal(tc.reset) {
				t.Fatalf("reset = %v, want %v", rl.Reset, tc.reset)
			}
			if strings.Contains(err.Error(), testToken) || (tc.token != "" && strings.Contains(err.Error(), tc.token)) {
				t.Fatalf("error text carries the token: %v", err)
			}
		})
	}
}

func TestDeleteErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.api.setInject(func(w http.ResponseWriter, r *http.Request) bool {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "boom"})
		return true
	})
	err := e.adapter.Delete(context.Background(), e.conn, platforms.Remote{ID: "1"})
	if !platforms.IsRetryable(err) {
		t.Fatalf("Delete on a 500: %v, want a retryable error", err)
	}
}

func TestConnectionChecked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name string
		conn platforms.Connection
	}{
		{"no token", platforms.Connection{ID: "c", BaseURL: e.api.srv.URL}},
		{"not a url", platforms.Connection{ID: "c", BaseURL: "mastodon.example", Credentials: []byte(testToken)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.adapter.Create(context.Background(), tc.conn, "holiday", e.content("A", "a.png"), "k")
			if !errors.Is(err, platforms.ErrPermanent) {
				t.Fatalf("err = %v, want ErrPermanent", err)
			}
		})
	}
	// The parent's cleanup runs after its parallel subtests.
	t.Cleanup(func() {
		if _, reqs := e.api.snapshot(); len(reqs) != 0 {
			t.Errorf("%d requests sent for a broken connection", len(reqs))
		}
	})
}
