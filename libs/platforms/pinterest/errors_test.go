package pinterest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/pinterest"
)

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	pinterestError := `{"code": 8, "message": "This request exceeded a rate limit."}`
	tests := []struct {
		name      string
		status    int
		header    http.Header
		body      string
		permanent bool
		retryable bool
		reset     time.Time // for 429
		message   string
	}{
		{name: "bad request", status: 400, body: `{"code": 1, "message": "Invalid parameters."}`, permanent: true, message: "Invalid parameters."},
		{name: "bad token", status: 401, body: `{"code": 2, "message": "Authentication failed."}`, permanent: true, message: "Authentication failed."},
		{name: "not permitted", status: 403, body: `{"code": 29, "message": "You are not permitted to access that resource."}`, permanent: true},
		{name: "rate limited, no header", status: 429, body: pinterestError, retryable: true, reset: now.Add(time.Minute)},
		{name: "rate limited, Retry-After seconds", status: 429, header: http.Header{"Retry-After": {"30"}}, body: pinterestError,
			retryable: true, reset: now.Add(30 * time.Second)},
		{name: "rate limited, Retry-After date", status: 429, header: http.Header{"Retry-After": {now.Add(2 * time.Hour).Format(http.TimeFormat)}},
			body: pinterestError, retryable: true, reset: now.Add(2 * time.Hour)},
		{name: "server error", status: 500, body: `{"code": 500, "message": "oops"}`, retryable: true},
		{name: "endpoint ramped down", status: 503, body: `<html>Service Unavailable</html>`, retryable: true, message: "<html>Service Unavailable</html>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := startFake(t)
			f.setInject(func(w http.ResponseWriter, r *http.Request) bool {
				for k, v := range tc.header {
					w.Header()[k] = v
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
				return true
			})
			a := newAdapter(pinterest.WithClock(func() time.Time { return now }))
			_, err := a.EnsureAlbum(context.Background(), f.conn(), "Board")
			if got := errors.Is(err, platforms.ErrPermanent); got != tc.permanent {
				t.Fatalf("permanent = %v, want %v: %v", got, tc.permanent, err)
			}
			if got := platforms.IsRetryable(err); got != tc.retryable {
				t.Fatalf("retryable = %v, want %v: %v", got, tc.retryable, err)
			}
			var apiErr *pinterest.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != tc.status || !strings.Contains(apiErr.Message, tc.message) {
				t.Fatalf("error chain %v lacks the API answer %d %q", err, tc.status, tc.message)
			}
			var rl *platforms.RateLimitError
			if isRL := errors.As(err, &rl); isRL != (tc.status == 429) {
				t.Fatalf("RateLimitError = %v for status %d", isRL, tc.status)
			} else if isRL && !rl.Reset.Equal(tc.reset) {
				t.Fatalf("Reset = %v, want %v", rl.Reset, tc.reset)
			}
		})
	}
}

func TestConnectionProblems(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := startFake(t)
	a := newAdapter()
	tests := []struct {
		name      string
		conn      platforms.Connection
		permanent bool
	}{
		{name: "no token", conn: platforms.Connection{ID: "c", BaseURL: f.srv.URL + "/v5"}, permanent: true},
		{name: "base url not http", conn: platforms.Connection{ID: "c", BaseURL: "ftp://x/v5", Credentials: []byte("t")}, permanent: true},
		{name: "server unreachable", conn: platforms.Connection{ID: "c", BaseURL: "http://127.0.0.1:1/v5", Credentials: []byte("t")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := a.EnsureAlbum(ctx, tc.conn, "Board")
			if err == nil || errors.Is(err, platforms.ErrPermanent) != tc.permanent || platforms.IsRetryable(err) == tc.permanent {
				t.Fatalf("EnsureAlbum = %v, want permanent=%v", err, tc.permanent)
			}
		})
	}
}

func TestUnreadableAnswerIsRetryable(t *testing.T) {
	t.Parallel()
	f := startFake(t)
	f.setInject(func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"items": [`)
		return true
	})
	_, err := newAdapter().EnsureAlbum(context.Background(), f.conn(), "Board")
	if !platforms.IsRetryable(err) {
		t.Fatalf("EnsureAlbum with a cut answer = %v, want a retryable error", err)
	}
}

// An empty base URL is Pinterest's production API.
func TestDefaultBaseURL(t *testing.T) {
	t.Parallel()
	var got string
	client := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		got = r.URL.String()
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"items": [{"id": "7", "name": "Board"}]}`))}, nil
	})}
	a := pinterest.New(pinterest.WithHTTPClient(client))
	id, err := a.EnsureAlbum(context.Background(), platforms.Connection{Credentials: []byte("t")}, "Board")
	if err != nil || id != "7" {
		t.Fatalf("EnsureAlbum = %q, %v", id, err)
	}
	if !strings.HasPrefix(got, pinterest.DefaultBaseURL+"/boards?") {
		t.Fatalf("called %s, want %s/boards", got, pinterest.DefaultBaseURL)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
