package wix

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gallerysync.dev/libs/throttle"
)

// The shared limiter is what services plug in.
var _ Limiter = (*throttle.Shared)(nil)

func TestAPIErrorParsing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		status    int
		header    http.Header
		body      string
		want      APIError
		is        error
		retryable bool
	}{
		{
			name:   "application error",
			status: http.StatusConflict,
			body:   `{"message":"item exists","details":{"applicationError":{"code":"ALREADY_EXISTS","description":"an item with this id exists","data":{"itemId":"x"}}}}`,
			want:   APIError{Status: 409, Message: "item exists", Code: "ALREADY_EXISTS", Description: "an item with this id exists", Data: json.RawMessage(`{"itemId":"x"}`)},
		},
		{
			name:   "validation error",
			status: http.StatusBadRequest,
			body: `{"message":"invalid item","details":{"validationError":{"fieldViolations":[` +
				`{"field":"item.image.imageInfo.id","description":"must not be empty","violatedRule":"REQUIRED_FIELD","ruleName":"required"},` +
				`{"field":"item.sortOrder","description":"duplicate sort order","violatedRule":"CUSTOM","ruleName":"unique","data":{"taken":1}}]}}}`,
			want: APIError{Status: 400, Message: "invalid item", Violations: []FieldViolation{
				{Field: "item.image.imageInfo.id", Description: "must not be empty", ViolatedRule: "REQUIRED_FIELD", RuleName: "required"},
				{Field: "item.sortOrder", Description: "duplicate sort order", ViolatedRule: "CUSTOM", RuleName: "unique", Data: json.RawMessage(`{"taken":1}`)},
			}},
			is: ErrInvalidRequest,
		},
		{name: "empty system error", status: 500, body: `{"message":"","details":{}}`, want: APIError{Status: 500}, retryable: true},
		{name: "no body", status: 503, want: APIError{Status: 503}, retryable: true},
		{name: "proxy page", status: 502, body: "<html>Bad gateway</html>", want: APIError{Status: 502, Message: "<html>Bad gateway</html>"}, retryable: true},
		{name: "gateway timeout", status: 504, want: APIError{Status: 504}, retryable: true},
		{name: "not found", status: 404, body: `{"message":"gallery not found","details":{}}`, want: APIError{Status: 404, Message: "gallery not found"}, is: ErrNotFound},
		{name: "forbidden", status: 403, body: `{"message":"missing scope","details":{}}`, want: APIError{Status: 403, Message: "missing scope"}, is: ErrUnauthorized},
		{name: "unprocessable", status: 422, want: APIError{Status: 422}, is: ErrInvalidRequest},
		{name: "not implemented", status: 501, want: APIError{Status: 501}},
		{
			name: "rate limited with Retry-After", status: 429, header: http.Header{"Retry-After": {"7"}},
			body: `{"message":"Resource exhausted","details":{}}`,
			want: APIError{Status: 429, Message: "Resource exhausted", RetryAfter: 7 * time.Second}, is: ErrRateLimited, retryable: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeWix(t)
			// One attempt, so a retryable answer is returned as it came.
			c, err := NewClient(ClientConfig{BaseURL: f.srv.URL, AppID: testAppID, AppSecret: testAppSecret, MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			f.failNext(1, scriptedFailure{match: "GET ", status: tc.status, header: tc.header, body: tc.body})
			_, err = c.GetItem(t.Context(), testInstance, testGallery, "i1")
			apiErr, ok := errors.AsType[*APIError](err)
			if !ok {
				t.Fatalf("GetItem = %v, want an *APIError", err)
			}
			if apiErr.Status != tc.want.Status || apiErr.Message != tc.want.Message || apiErr.Code != tc.want.Code ||
				apiErr.Description != tc.want.Description || apiErr.RetryAfter != tc.want.RetryAfter ||
				!rawJSONEqual(apiErr.Data, tc.want.Data) || !slices.EqualFunc(apiErr.Violations, tc.want.Violations, violationEqual) {
				t.Errorf("APIError = %+v, want %+v", *apiErr, tc.want)
			}
			for _, s := range []error{ErrNotFound, ErrUnauthorized, ErrRateLimited, ErrInvalidRequest} {
				if got := errors.Is(err, s); got != (s == tc.is) {
					t.Errorf("errors.Is(err, %v) = %v", s, got)
				}
			}
			if got := IsRetryable(err); got != tc.retryable {
				t.Errorf("IsRetryable = %v, want %v", got, tc.retryable)
			}
			if !strings.Contains(err.Error(), "get item i1") {
				t.Errorf("error %q does not say which call failed", err)
			}
		})
	}
}

func rawJSONEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func violationEqual(a, b FieldViolation) bool {
	return a.Field == b.Field && a.Description == b.Description && a.ViolatedRule == b.ViolatedRule &&
		a.RuleName == b.RuleName && rawJSONEqual(a.Data, b.Data)
}

// recordingBackoff returns no wait and records the attempts it was asked for.
type recordingBackoff struct {
	mu       sync.Mutex
	attempts []int
}

func (b *recordingBackoff) wait(attempt int) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.attempts = append(b.attempts, attempt)
	return time.Millisecond
}

func TestRetries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		failures []scriptedFailure
		call     func(ctx context.Context, c *Client) error
		// attempts is how many requests reach the API.
		attempts int
		is       error
		// retryAfter: the waits come from Retry-After, not the backoff.
		retryAfter bool
	}{
		{
			name:     "429 then 503 then success",
			failures: []scriptedFailure{{match: "GET ", status: 429}, {match: "GET ", status: 503}},
			call:     getTestGallery,
			attempts: 3,
		},
		{
			name:     "retries exhausted",
			failures: slices.Repeat([]scriptedFailure{{match: "GET ", status: 429, body: `{"message":"too many requests","details":{}}`}}, 4),
			call:     getTestGallery,
			attempts: 4,
			is:       ErrRateLimited,
		},
		{
			name:     "connection dropped then success",
			failures: []scriptedFailure{{match: "GET ", hangup: true}},
			call:     getTestGallery,
			attempts: 2,
		},
		{
			name:     "not found is not retried",
			failures: []scriptedFailure{{match: "GET ", status: 404}},
			call:     getTestGallery,
			attempts: 1,
			is:       ErrNotFound,
		},
		{
			name:     "create is retried after 429",
			failures: []scriptedFailure{{match: "POST ", status: 429}},
			call:     createTestItem,
			attempts: 2,
		},
		{
			// The create may have happened; the caller reconciles.
			name:     "create is not retried after 503",
			failures: []scriptedFailure{{match: "POST ", status: 503}},
			call:     createTestItem,
			attempts: 1,
		},
		{
			name:       "Retry-After is honoured",
			failures:   []scriptedFailure{{match: "GET ", status: 429, header: http.Header{"Retry-After": {"1"}}}},
			call:       getTestGallery,
			attempts:   2,
			retryAfter: true,
		},
		{
			name:     "Retry-After too long to sleep is returned",
			failures: []scriptedFailure{{match: "GET ", status: 429, header: http.Header{"Retry-After": {"120"}}}},
			call:     getTestGallery,
			attempts: 1,
			is:       ErrRateLimited,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeWix(t)
			lim := &countingLimiter{}
			bo := &recordingBackoff{}
			// Without keep-alive, Go's transport never resends a request by
			// itself, so every attempt counted is the client's own.
			hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			c := f.client(t, WithLimiter(lim), WithBackoff(bo.wait), WithHTTPClient(hc))
			for _, fl := range tc.failures {
				f.failNext(1, fl)
			}
			err := tc.call(t.Context(), c)
			if tc.is == nil && tc.attempts > 1 && err != nil {
				t.Fatalf("call = %v, want success after retries", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("call = %v, want %v", err, tc.is)
			}
			if got := len(f.seen(DefaultGalleryPrefix)); got != tc.attempts {
				t.Errorf("%d attempts reached the API, want %d", got, tc.attempts)
			}
			if got := lim.count(testInstance); got != tc.attempts {
				t.Errorf("limiter called %d times, want once per attempt (%d)", got, tc.attempts)
			}
			want := attemptSeq(1, tc.attempts-1)
			if tc.retryAfter {
				want = nil
			}
			if !slices.Equal(bo.attempts, want) {
				t.Errorf("backoff asked for attempts %v, want %v", bo.attempts, want)
			}
		})
	}
}

func attemptSeq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func getTestGallery(ctx context.Context, c *Client) error {
	_, err := c.GetGallery(ctx, testInstance, testGallery, 0, 10)
	return err
}

func createTestItem(ctx context.Context, c *Client) error {
	_, err := c.CreateItem(ctx, testInstance, testGallery, Item{Title: "New", Image: &Image{ImageInfo: &ImageInfo{ID: "a1b2c3_x~mv2.jpg", Width: 10, Height: 10}}})
	return err
}

func TestAttemptTimeoutIsRetried(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	var mu sync.Mutex
	hang, seen := 0, 0
	// A slow proxy in front of the fake: the next `hang` gallery requests
	// get no answer until the client gives up on them.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		isGallery := strings.HasPrefix(r.URL.Path, DefaultGalleryPrefix)
		stall := isGallery && hang > 0
		if isGallery {
			seen++
		}
		if stall {
			hang--
		}
		mu.Unlock()
		if stall {
			<-r.Context().Done()
			return
		}
		f.srv.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	set := func(n int) {
		mu.Lock()
		defer mu.Unlock()
		hang, seen = n, 0
	}
	cfg := ClientConfig{BaseURL: proxy.URL, AppID: testAppID, AppSecret: testAppSecret, Timeout: 200 * time.Millisecond}
	c, err := NewClient(cfg, WithBackoff(func(int) time.Duration { return time.Millisecond }))
	if err != nil {
		t.Fatal(err)
	}
	set(1)
	if _, err := c.GetGallery(t.Context(), testInstance, testGallery, 0, 10); err != nil {
		t.Fatalf("GetGallery after a timed out attempt: %v", err)
	}
	mu.Lock()
	if seen != 2 {
		t.Errorf("%d attempts, want 2", seen)
	}
	mu.Unlock()

	cfg.MaxAttempts = 1
	one, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	set(1)
	_, err = one.GetGallery(t.Context(), testInstance, testGallery, 0, 10)
	if err == nil || !IsRetryable(err) || errors.Is(err, context.Canceled) {
		t.Errorf("GetGallery with a hanging attempt = %v, want a retryable timeout", err)
	}
}

func TestLimitedErrorEndsCallAtOnce(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	lim := &countingLimiter{err: &throttle.LimitedError{RetryAfter: 3 * time.Second}}
	c := f.client(t, WithLimiter(lim))
	_, err := c.GetGallery(t.Context(), testInstance, testGallery, 0, 10)
	limited, ok := errors.AsType[*throttle.LimitedError](err)
	if !ok || limited.RetryAfter != 3*time.Second {
		t.Fatalf("GetGallery = %v, want the limiter's *LimitedError", err)
	}
	if IsRetryable(err) {
		t.Error("a limiter refusal reported retryable here; the caller schedules it")
	}
	if n := lim.count(testInstance); n != 1 {
		t.Errorf("limiter called %d times, want 1", n)
	}
	if n := len(f.seen("")); n != 0 {
		t.Errorf("%d requests reached the API, want 0", n)
	}
}

func TestCanceledContextIsNotRetried(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	c := f.client(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.GetGallery(ctx, testInstance, testGallery, 0, 10)
	if !errors.Is(err, context.Canceled) || IsRetryable(err) {
		t.Errorf("GetGallery with a canceled context = %v", err)
	}
}
