package atproto

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
	// maxResponseBytes bounds what is read of an XRPC answer; a page of 100
	// records is a few tens of KiB.
	maxResponseBytes = 8 << 20
	// defaultRateLimitWait is used when a 429 names no reset time; the
	// shortest PDS window is 5 minutes, so a minute is a polite first retry.
	defaultRateLimitWait = time.Minute
)

// APIError is an error answer of an XRPC call: {"error": Name, "message": Message}.
type APIError struct {
	// NSID is the method called, e.g. com.atproto.repo.putRecord.
	NSID   string
	Status int
	// Name is the error's name, e.g. InvalidSwap, RecordNotFound, ExpiredToken.
	Name    string
	Message string
}

// Error implements error.
func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("atproto %s: %d %s", e.NSID, e.Status, e.Name)
	}
	return fmt.Sprintf("atproto %s: %d %s: %s", e.NSID, e.Status, e.Name, e.Message)
}

// xrpc is one call.
type xrpc struct {
	nsid  string
	query url.Values
	// body is sent as JSON (when set, the call is a POST).
	body any
	// raw is sent as is with contentType (a POST), e.g. a blob.
	raw         []byte
	contentType string
	// post makes a call without body a POST (refreshSession refuses any
	// body, even an empty JSON object).
	post bool
	// token is the bearer token; "" for calls without authentication.
	token string
}

// send makes one call against base and decodes a 2xx JSON answer into out
// (when not nil). Errors are classified for the writer: 429 is a
// *platforms.RateLimitError, 5xx and network failures a
// *platforms.TransientError, RecordNotFound wraps platforms.ErrNotFound, and
// other client errors wrap platforms.ErrPermanent; each carries the
// *APIError, so callers can react to a name (InvalidSwap, ExpiredToken).
func (a *Adapter) send(ctx context.Context, base string, x xrpc, out any) error {
	u := base + "/xrpc/" + x.nsid
	if len(x.query) > 0 {
		u += "?" + x.query.Encode()
	}
	method, body, contentType := http.MethodGet, []byte(nil), ""
	switch {
	case x.body != nil:
		b, err := json.Marshal(x.body)
		if err != nil {
			return permanentf("%s: encode request: %v", x.nsid, err)
		}
		method, body, contentType = http.MethodPost, b, "application/json"
	case x.raw != nil:
		method, body, contentType = http.MethodPost, x.raw, x.contentType
	case x.post:
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return permanentf("%s: %v", x.nsid, err)
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if x.token != "" {
		req.Header.Set("Authorization", "Bearer "+x.token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", x.nsid, ctx.Err())
		}
		return &platforms.TransientError{Err: fmt.Errorf("%s: %w", x.nsid, err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return &platforms.TransientError{Err: fmt.Errorf("%s: read answer: %w", x.nsid, err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return a.classify(x.nsid, resp, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return &platforms.TransientError{Err: fmt.Errorf("%s: decode answer: %w", x.nsid, err)}
		}
	}
	return nil
}

func (a *Adapter) classify(nsid string, resp *http.Response, body []byte) error {
	apiErr := &APIError{NSID: nsid, Status: resp.StatusCode}
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		apiErr.Name, apiErr.Message = e.Error, e.Message
	} else {
		apiErr.Name = http.StatusText(resp.StatusCode)
		apiErr.Message = quote(body)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		return &platforms.RateLimitError{Reset: a.reset(resp.Header), Err: apiErr}
	case apiErr.Name == "RecordNotFound":
		return fmt.Errorf("%w: %w", platforms.ErrNotFound, apiErr)
	case code >= 500, code == http.StatusRequestTimeout:
		return &platforms.TransientError{Err: apiErr}
	default:
		// 400 InvalidRequest/InvalidSwap/ExpiredToken, 401 bad password,
		// 403, 413: the same request would be refused again. The session
		// and swap handling look past this class at the error's name.
		return fmt.Errorf("%w: %w", platforms.ErrPermanent, apiErr)
	}
}

// reset reads when a rate limit ends: RateLimit-Reset is unix seconds on a
// PDS; Retry-After (seconds) comes with it on a 429, and alone from proxies.
func (a *Adapter) reset(h http.Header) time.Time {
	if v := strings.TrimSpace(h.Get("RateLimit-Reset")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs > 0 {
			return time.Unix(secs, 0)
		}
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
			return a.now().Add(time.Duration(secs) * time.Second)
		}
		if t, err := http.ParseTime(v); err == nil {
			return t
		}
	}
	return a.now().Add(defaultRateLimitWait)
}

// quote is a short printable excerpt of an answer that is not an XRPC
// error, which may be an HTML page of a proxy.
func quote(body []byte) string {
	const maxQuote = 200
	s := strings.TrimSpace(string(body))
	if len(s) > maxQuote {
		s = s[:maxQuote] + "..."
	}
	return strings.ToValidUTF8(s, "")
}

// isAPIError reports whether err carries an XRPC error of one of the names.
func isAPIError(err error, names ...string) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	for _, n := range names {
		if e.Name == n {
			return true
		}
	}
	return false
}

// isRateLimit reports whether err is a 429.
func isRateLimit(err error) bool {
	var rl *platforms.RateLimitError
	return errors.As(err, &rl)
}

func permanentf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", platforms.ErrPermanent, fmt.Sprintf(format, args...))
}

func transientf(format string, args ...any) error {
	return &platforms.TransientError{Err: fmt.Errorf(format, args...)}
}
