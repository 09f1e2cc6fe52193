package mastodon

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
	// maxResponseBytes bounds what is read of an API answer; statuses and
	// attachments are a few KiB.
	maxResponseBytes = 1 << 20
	// defaultRateLimitWait is used when a 429 names no reset time; Mastodon's
	// shortest window is 5 minutes, so a minute is a polite first retry.
	defaultRateLimitWait = time.Minute
)

// APIError is an error answer of the Mastodon API.
type APIError struct {
	Method string
	Path   string
	Status int
	// Message is the answer's "error" (and "error_description") text.
	Message string
}

// Error implements error.
func (e *APIError) Error() string {
	return fmt.Sprintf("mastodon %s %s: %d %s", e.Method, e.Path, e.Status, e.Message)
}

// session is one connection's view of the API: base URL and bearer token.
type session struct {
	client *http.Client
	base   string
	token  string
	now    func() time.Time
}

// notFound says what a 404 means for a call: the item is gone (the caller
// reacts to platforms.ErrNotFound) or the request itself is wrong.
type notFound int

const (
	notFoundIsPermanent notFound = iota
	notFoundIsGone
)

func (a *Adapter) session(conn platforms.Connection) (*session, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(conn.BaseURL), "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: connection %s: base url %q is not an http(s) url", platforms.ErrPermanent, conn.ID, conn.BaseURL)
	}
	token := strings.TrimSpace(string(conn.Credentials))
	if token == "" {
		return nil, fmt.Errorf("%w: connection %s has no access token", platforms.ErrPermanent, conn.ID)
	}
	return &session{client: a.client, base: u.String(), token: token, now: a.now}, nil
}

// request is one API call.
type request struct {
	method      string
	path        string
	body        []byte
	contentType string
	header      http.Header
	notFound    notFound
	// answerHeader, when set, receives the answer's headers (e.g. Link).
	answerHeader *http.Header
}

// do sends a request and decodes a 2xx JSON answer into out (when not nil).
// It returns the status code; errors are classified for the writer: 429 is a
// *platforms.RateLimitError, 5xx and network failures a
// *platforms.TransientError, 404 platforms.ErrNotFound (when the call says the
// item is gone) and other client errors wrap platforms.ErrPermanent.
func (s *session) do(ctx context.Context, r request, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, r.method, s.base+r.path, bytes.NewReader(r.body))
	if err != nil {
		return 0, fmt.Errorf("%w: %s %s: %v", platforms.ErrPermanent, r.method, r.path, err)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Accept", "application/json")
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, fmt.Errorf("%s %s: %w", r.method, r.path, ctx.Err())
		}
		return 0, &platforms.TransientError{Err: fmt.Errorf("%s %s: %w", r.method, r.path, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return resp.StatusCode, &platforms.TransientError{Err: fmt.Errorf("%s %s: read answer: %w", r.method, r.path, err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, s.classify(r, resp, body)
	}
	if r.answerHeader != nil {
		*r.answerHeader = resp.Header
	}
	if out != nil && resp.StatusCode != http.StatusPartialContent && len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			// The call may have taken effect; a retry is safe (idempotency
			// key, or a repeatable edit) and may get a readable answer.
			return resp.StatusCode, &platforms.TransientError{Err: fmt.Errorf("%s %s: decode answer: %w", r.method, r.path, err)}
		}
	}
	return resp.StatusCode, nil
}

func (s *session) classify(r request, resp *http.Response, body []byte) error {
	apiErr := &APIError{Method: r.method, Path: r.path, Status: resp.StatusCode, Message: errorMessage(body)}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		return &platforms.RateLimitError{Reset: s.reset(resp.Header), Err: apiErr}
	case code == http.StatusNotFound && r.notFound == notFoundIsGone:
		return fmt.Errorf("%w: %w", platforms.ErrNotFound, apiErr)
	case code >= 500, code == http.StatusRequestTimeout:
		return &platforms.TransientError{Err: apiErr}
	default:
		// 401 bad token, 403 not permitted, 422 refused content, and any
		// other answer a retry would only repeat.
		return fmt.Errorf("%w: %w", platforms.ErrPermanent, apiErr)
	}
}

// reset reads when a rate limit ends: X-RateLimit-Reset is an ISO 8601
// timestamp in Mastodon; Retry-After (seconds or an HTTP date) is what
// proxies in front of an instance send.
func (s *session) reset(h http.Header) time.Time {
	if v := strings.TrimSpace(h.Get("X-RateLimit-Reset")); v != "" {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t
		}
	}
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

// errorMessage reads Mastodon's {"error": ..., "error_description": ...};
// anything else is quoted briefly, since it may be an HTML error page.
func errorMessage(body []byte) string {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &e); err == nil && e.Error != "" {
		if e.Description != "" {
			return e.Error + ": " + e.Description
		}
		return e.Error
	}
	const maxQuote = 200
	s := strings.TrimSpace(string(body))
	if len(s) > maxQuote {
		s = s[:maxQuote] + "..."
	}
	return strings.ToValidUTF8(s, "")
}

// isGone reports whether err says the item no longer exists.
func isGone(err error) bool { return errors.Is(err, platforms.ErrNotFound) }
