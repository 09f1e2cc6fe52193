package wixsim

import (
	"encoding/json"
	"errors"
	"net/http"
)

// Sentinel errors returned by the seeding methods; API handlers turn them into
// Wix-format HTTP errors.
var (
	// ErrSiteNotFound means the instance id names no site.
	ErrSiteNotFound = errors.New("site not found")
	// ErrGalleryNotFound means the gallery does not exist on the site.
	ErrGalleryNotFound = errors.New("gallery not found")
	// ErrItemNotFound means the item does not exist in the gallery.
	ErrItemNotFound = errors.New("item not found")
	// ErrFileNotFound means the Media Manager file does not exist on the site.
	ErrFileNotFound = errors.New("file not found")
	// ErrInvalid means the input failed validation.
	ErrInvalid = errors.New("invalid input")
	// ErrConflict means an id is already taken.
	ErrConflict = errors.New("already exists")
	// ErrRunning means Run was called while the worker was already running.
	ErrRunning = errors.New("webhook worker already running")
)

// FieldViolation is one entry of a Wix validationError.
type FieldViolation struct {
	Field        string `json:"field"`
	Description  string `json:"description"`
	ViolatedRule string `json:"violatedRule"`
}

// apiError is an error with the HTTP status and the Wix error body it maps to.
type apiError struct {
	status   int
	sentinel error
	body     errorBody
}

type errorBody struct {
	Message string       `json:"message"`
	Details errorDetails `json:"details"`
}

type errorDetails struct {
	ApplicationError *applicationError `json:"applicationError,omitempty"`
	ValidationError  *validationError  `json:"validationError,omitempty"`
}

type applicationError struct {
	Code        string `json:"code"`
	Description string `json:"description"`
}

type validationError struct {
	FieldViolations []FieldViolation `json:"fieldViolations"`
}

func (e *apiError) Error() string {
	if e.body.Message != "" {
		return e.body.Message
	}
	return http.StatusText(e.status)
}

func (e *apiError) Unwrap() error { return e.sentinel }

// appError builds an error carrying a details.applicationError.
func appError(status int, sentinel error, code, message string) *apiError {
	return &apiError{
		status:   status,
		sentinel: sentinel,
		body: errorBody{
			Message: message,
			Details: errorDetails{ApplicationError: &applicationError{Code: code, Description: message}},
		},
	}
}

// invalid builds a 400 carrying a details.validationError.
func invalid(violations ...FieldViolation) *apiError {
	msg := "invalid request"
	if len(violations) > 0 {
		msg = violations[0].Field + ": " + violations[0].Description
	}
	return &apiError{
		status:   http.StatusBadRequest,
		sentinel: ErrInvalid,
		body: errorBody{
			Message: msg,
			Details: errorDetails{ValidationError: &validationError{FieldViolations: violations}},
		},
	}
}

func violation(field, rule, description string) FieldViolation {
	return FieldViolation{Field: field, Description: description, ViolatedRule: rule}
}

func galleryNotFound(id string) *apiError {
	return appError(http.StatusNotFound, ErrGalleryNotFound, "GALLERY_NOT_FOUND", "gallery "+id+" not found")
}

func itemNotFound(galleryID, id string) *apiError {
	return appError(http.StatusNotFound, ErrItemNotFound, "ITEM_NOT_FOUND", "item "+id+" not found in gallery "+galleryID)
}

func fileNotFound(id string) *apiError {
	return appError(http.StatusNotFound, ErrFileNotFound, "FILE_NOT_FOUND", "file "+id+" not found")
}

func siteNotFound(id string) *apiError {
	return appError(http.StatusNotFound, ErrSiteNotFound, "INSTANCE_NOT_FOUND", "app instance "+id+" not found")
}

// writeJSON answers with a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with err in the Wix error format; errors that are not
// API errors become the empty body Wix sends for system errors.
func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		writeJSON(w, ae.status, ae.body)
		return
	}
	writeJSON(w, http.StatusInternalServerError, errorBody{})
}
