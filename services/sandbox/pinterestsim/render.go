package pinterestsim

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// apiError is an error the API answers with: {"code", "message"}.
type apiError struct {
	status int
	code   int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

// invalid is a 400 for a request Pinterest cannot understand (code 1).
func invalid(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: 1, msg: msg}
}

// The errors with fixed texts, with the codes the reference's examples use.
func errAuth() *apiError {
	return &apiError{status: http.StatusUnauthorized, code: 2, msg: "Authentication failed."}
}

func errForbidden() *apiError {
	return &apiError{status: http.StatusForbidden, code: 29, msg: "You are not permitted to access that resource."}
}

func errBoardNotFound() *apiError {
	return &apiError{status: http.StatusNotFound, code: 40, msg: "Board not found."}
}

func errPinNotFound() *apiError {
	return &apiError{status: http.StatusNotFound, code: 50, msg: "Pin not found."}
}

func errRateLimited() *apiError {
	return &apiError{status: http.StatusTooManyRequests, code: 8,
		msg: "This request exceeded a rate limit. This can happen if the client exceeds one\nof the published rate limits within a short time window."}
}

func errMethodNotAllowed() *apiError {
	return &apiError{status: http.StatusMethodNotAllowed, code: 5, msg: "Method not allowed"}
}

func errNoRoute() *apiError {
	return &apiError{status: http.StatusNotFound, code: 404, msg: "Not found."}
}

// writeJSON encodes v with the given status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		body = []byte(`{"code":500,"message":"Internal server error."}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// writeError answers with the API's error body.
func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{status: http.StatusInternalServerError, code: 500, msg: "Internal server error."}
	}
	writeJSON(w, ae.status, map[string]any{"code": ae.code, "message": ae.msg})
}

// formatTime renders a date-time as the API does, in UTC with microseconds.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }
