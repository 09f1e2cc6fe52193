package pinterest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gallerysync.dev/libs/platforms"
)

const (
	// maxResponseBytes bounds what is read of an API answer; a page of 250
	// Pins is a few hundred KiB.
	maxResponseBytes = 8 << 20
	// defaultRateLimitWait is used when a 429 names no reset time. The v5
	// reference documents no rate limit headers, and the per-category
	// limits count per minute.
	defaultRateLimitWait = time.Minute
	// maxPageSize is the largest page_size the list endpoints take.
	maxPageSize = 250
)

// ErrEditNotAvailable is wrapped (with platforms.ErrPermanent) by Update
// when Pinterest refuses PATCH /pins/{pin_id}: the endpoint is a beta that
// is "not available to all apps", so the Pin's text cannot be changed by
// this app. A change of the image still works (it makes a new Pin).
var ErrEditNotAvailable = errors.New("pinterest: editing pins (PATCH /pins, a beta not open to all apps) is not available to this app")

// APIError is an error answer of the Pinterest API ({"code", "message"}).
type APIError struct {
	Method string
	Path   string
	Status int
	// Code is Pinterest's error code (e.g. 8 rate limited, 29 not
	// permitted, 50 Pin not found); 0 when the answer had none.
	Code    int
	Message string
}

// Error implements error.
func (e *APIError) Error() string {
	return fmt.Sprintf("pinterest %s %s: %d (code %d) %s", e.Method, e.Path, e.Status, e.Code, e.Message)
}

// session is one connection's view of the API: base URL and bearer token.
type session struct {
	client *http.Client
	base   string
	token  string
	now    func() time.Time
}

func (a *Adapter) session(conn platforms.Connection) (*session, error) {
	raw := strings.TrimRight(strings.TrimSpace(conn.BaseURL), "/")
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: connection %s: base url %q is not an http(s) url", platforms.ErrPermanent, conn.ID, conn.BaseURL)
	}
	token := strings.TrimSpace(string(conn.Credentials))
	if token == "" {
		return nil, fmt.Errorf("%w: connection %s has no access token", platforms.ErrPermanent, conn.ID)
	}
	return &session{client: a.client, base: u.String(), token: token, now: a.now}, nil
}

// notFound says what a 404 means for a call: the thing asked for is gone
// (platforms.ErrNotFound) or the request cannot succeed (ErrPermanent).
type notFound int

const (
	notFoundIsPermanent notFound = iota
	notFoundIsGone
)

// request is one API call.
type request struct {
	method   string
	path     string
	query    url.Values
	body     any
	notFound notFound
}

// do sends a request and decodes a 2xx JSON answer into out (when not nil).
// Errors are classified for the writer: 429 is a *platforms.RateLimitError,
// 5xx and network failures a *platforms.TransientError, 404 wraps
// platforms.ErrNotFound when the call says so, and every other refusal
// (401 bad token, 403 not permitted, 400 refused content) wraps
// platforms.ErrPermanent. The *APIError is in the chain of each.
func (s *session) do(ctx context.Context, r request, out any) error {
	target := s.base + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("%w: %s %s: encode body: %v", platforms.ErrPermanent, r.method, r.path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %v", platforms.ErrPermanent, r.method, r.path, err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s %s: %w", r.method, r.path, ctx.Err())
		}
		return &platforms.TransientError{Err: fmt.Errorf("%s %s: %w", r.method, r.path, err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return &platforms.TransientError{Err: fmt.Errorf("%s %s: read answer: %w", r.method, r.path, err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return s.classify(r, resp, raw)
	}
	if out != nil && len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			// The call may have taken effect; every call here is safe to
			// repeat (creates find their marker), and a retry may read.
			return &platforms.TransientError{Err: fmt.Errorf("%s %s: decode answer: %w", r.method, r.path, err)}
		}
	}
	return nil
}

func (s *session) classify(r request, resp *http.Response, body []byte) error {
	apiErr := &APIError{Method: r.method, Path: r.path, Status: resp.StatusCode}
	apiErr.Code, apiErr.Message = errorBody(body)
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		return &platforms.RateLimitError{Reset: s.reset(resp.Header), Err: apiErr}
	case code == http.StatusNotFound && r.notFound == notFoundIsGone:
		return fmt.Errorf("%w: %w", platforms.ErrNotFound, apiErr)
	case code >= 500, code == http.StatusRequestTimeout:
		return &platforms.TransientError{Err: apiErr}
	default:
		return fmt.Errorf("%w: %w", platforms.ErrPermanent, apiErr)
	}
}

// reset reads when a rate limit ends. The v5 reference documents no rate
// limit headers; Retry-After (seconds or an HTTP date) is honoured when a
// proxy or the API sends it, else the limit is assumed to reset in a minute.
func (s *session) reset(h http.Header) time.Time {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
			return s.now().Add(time.Duration(secs) * time.Second)
		}
		if t, err := http.ParseTime(v); err == nil {
			return t
		}
	}
	return s.now().Add(defaultRateLimitWait)
}

// errorBody reads Pinterest's {"code": int, "message": string}; anything
// else is quoted briefly, since it may be an HTML error page.
func errorBody(body []byte) (int, string) {
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &e); err == nil && e.Message != "" {
		return e.Code, e.Message
	}
	const maxQuote = 200
	s := strings.TrimSpace(string(body))
	if len(s) > maxQuote {
		s = s[:maxQuote] + "..."
	}
	return 0, strings.ToValidUTF8(s, "")
}

// apiStatus is the HTTP status of the API answer in err's chain (0: none).
func apiStatus(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// isGone reports whether err says the thing asked for no longer exists.
func isGone(err error) bool { return errors.Is(err, platforms.ErrNotFound) }
