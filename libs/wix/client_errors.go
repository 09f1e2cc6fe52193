package wix

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinels an *APIError matches with errors.Is, by HTTP status. Calls also
// wrap ErrInvalidRequest when their arguments are refused before sending.
var (
	// ErrNotFound is a 404: the gallery, item or file does not exist.
	ErrNotFound = errors.New("wix: not found")
	// ErrUnauthorized is a 401 or 403: bad credentials, a removed app, or a
	// permission the site owner did not grant.
	ErrUnauthorized = errors.New("wix: unauthorized")
	// ErrRateLimited is a 429: the app instance sent too many requests.
	ErrRateLimited = errors.New("wix: rate limited")
	// ErrInvalidRequest is a 400 or 422, or arguments refused locally.
	ErrInvalidRequest = errors.New("wix: invalid request")
)

// Sentinels of WaitReady.
var (
	// ErrFileFailed means Wix could not import or process the file.
	ErrFileFailed = errors.New("wix: media file failed")
	// ErrFileTimeout means the file was still not ready when the wait ended.
	ErrFileTimeout = errors.New("wix: media file not ready in time")
)

// APIError is an error answer of a Wix REST API, in Wix's error format
// (wix-api.md 5.2). System errors (5xx) come with an empty body on purpose,
// so only Status is set then.
type APIError struct {
	Status      int
	Message     string
	Code        string
	Description string
	// Data is details.applicationError.data as sent, if any.
	Data       json.RawMessage
	Violations []FieldViolation
	// RetryAfter is the wait a Retry-After header asked for (0 without one).
	RetryAfter time.Duration
}

// FieldViolation is one entry of details.validationError.fieldViolations.
type FieldViolation struct {
	Field        string          `json:"field"`
	Description  string          `json:"description"`
	ViolatedRule string          `json:"violatedRule"`
	RuleName     string          `json:"ruleName"`
	Data         json.RawMessage `json:"data,omitempty"`
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "wix api: %d %s", e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		fmt.Fprintf(&b, ": %s", e.Code)
	}
	switch {
	case e.Message != "":
		fmt.Fprintf(&b, ": %s", e.Message)
	case e.Description != "":
		fmt.Fprintf(&b, ": %s", e.Description)
	}
	for i, v := range e.Violations {
		sep := "; "
		if i == 0 {
			sep = " ("
		}
		fmt.Fprintf(&b, "%s%s: %s", sep, v.Field, v.Description)
		if v.ViolatedRule != "" {
			fmt.Fprintf(&b, " [%s]", v.ViolatedRule)
		}
	}
	if len(e.Violations) > 0 {
		b.WriteString(")")
	}
	return b.String()
}

// Is matches the sentinel of the error's status.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ErrInvalidRequest:
		return e.Status == http.StatusBadRequest || e.Status == http.StatusUnprocessableEntity
	}
	return false
}

// retryable reports whether the status is one Wix asks to retry later.
func (e *APIError) retryable() bool {
	switch e.Status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// transportError is a request that got no answer: a network failure or an
// attempt that ran out of its time.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// IsRetryable reports whether a call may succeed if sent again later: rate
// limiting (429), Wix-side failures (500, 502, 503, 504), network errors and
// timeouts of an attempt. Canceled contexts and refused requests are not.
func IsRetryable(err error) bool {
	if apiErr, ok := errors.AsType[*APIError](err); ok {
		return apiErr.retryable()
	}
	_, ok := errors.AsType[*transportError](err)
	return ok
}

// wireError is Wix's error body.
type wireError struct {
	Message string `json:"message"`
	Details struct {
		ApplicationError *struct {
			Code        string          `json:"code"`
			Description string          `json:"description"`
			Data        json.RawMessage `json:"data"`
		} `json:"applicationError"`
		ValidationError *struct {
			FieldViolations []FieldViolation `json:"fieldViolations"`
		} `json:"validationError"`
	} `json:"details"`
}

// maxQuotedBody bounds how much of a body that is not Wix's error format
// (a proxy's HTML page, say) goes into the message.
const maxQuotedBody = 200

// parseAPIError reads an error answer; the body may be empty or not JSON.
func parseAPIError(status int, header http.Header, body []byte, now time.Time) *APIError {
	e := &APIError{Status: status, RetryAfter: retryAfter(header, now)}
	var w wireError
	if err := json.Unmarshal(body, &w); err != nil {
		s := strings.ToValidUTF8(strings.TrimSpace(string(body)), "")
		if len(s) > maxQuotedBody {
			s = strings.ToValidUTF8(s[:maxQuotedBody], "") + "..."
		}
		e.Message = s
		return e
	}
	e.Message = w.Message
	if ae := w.Details.ApplicationError; ae != nil {
		e.Code, e.Description, e.Data = ae.Code, ae.Description, ae.Data
	}
	if ve := w.Details.ValidationError; ve != nil {
		e.Violations = ve.FieldViolations
	}
	return e
}

// maxRetryAfterSecs caps a Retry-After so the duration cannot overflow.
const maxRetryAfterSecs = 24 * 60 * 60

// retryAfter reads a Retry-After header: seconds or an HTTP date. Wix
// documents none, but a proxy in front of it may send one.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(0, min(secs, maxRetryAfterSecs))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now))
	}
	return 0
}
