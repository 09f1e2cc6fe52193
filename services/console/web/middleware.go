package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"gallerysync.dev/libs/throttle"
	"gallerysync.dev/libs/wix"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/console/auth"
	"gallerysync.dev/services/console/check"
	"gallerysync.dev/services/console/share"
)

// Errors the handlers return; fail turns them into answers.
var (
	errNotFound = errors.New("not found")
	// errBadInput wraps a request that cannot be read.
	errBadInput = errors.New("bad request")
	// errForbidden: the request is not this session's to make.
	errForbidden = errors.New("forbidden")
)

// csrfField and csrfHeader carry the CSRF token of state-changing requests.
const (
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
)

// maxForm bounds a request body.
const maxForm = 64 << 10

// pageFunc renders a page (or redirects) for a session.
type pageFunc func(w http.ResponseWriter, r *http.Request, s auth.Session) error

// apiFunc answers an API call with a value encoded as JSON.
type apiFunc func(r *http.Request, s auth.Session) (any, error)

// created is an API answer with status 201.
type created struct{ v any }

// page wraps a page handler: sign-in from a signed instance, the session,
// the CSRF check of POSTs, and error pages.
func (h *Handler) page(fn pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if r.Method == http.MethodGet && r.URL.Query().Has("instance") {
			h.signIn(w, r)
			return
		}
		s, err := h.d.Sessions.Read(r)
		if err != nil {
			h.unauthorized(w, r, "Your session has ended or was never started.")
			return
		}
		if r.Method != http.MethodGet {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if !h.d.Sessions.CheckCSRF(s, r.PostFormValue(csrfField)) {
				h.errorPage(w, r, s, http.StatusForbidden, "This form has expired. Go back, reload the page and try again.")
				return
			}
		}
		if err := fn(w, r, s); err != nil {
			code, msg := h.statusOf(r, err)
			h.errorPage(w, r, s, code, msg)
		}
	}
}

// api wraps an API handler: the session (401 without), the CSRF header of
// every call that changes something, JSON answers and errors.
func (h *Handler) api(fn apiFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		s, err := h.d.Sessions.Read(r)
		if err != nil {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "open gallerysync from your Wix dashboard to sign in"})
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if !h.d.Sessions.CheckCSRF(s, r.Header.Get(csrfHeader)) {
				writeJSON(w, http.StatusForbidden, map[string]string{"error": "missing or wrong " + csrfHeader + " header"})
				return
			}
		}
		v, err := fn(r, s)
		if err != nil {
			code, msg := h.statusOf(r, err)
			writeJSON(w, code, map[string]string{"error": msg})
			return
		}
		switch c := v.(type) {
		case nil:
			w.WriteHeader(http.StatusNoContent)
		case created:
			writeJSON(w, http.StatusCreated, c.v)
		default:
			writeJSON(w, http.StatusOK, v)
		}
	}
}

// signIn verifies the signed instance Wix opened the page with, starts the
// session and sends the browser to the same page without it, so the
// instance does not stay in the address bar or the history.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	in, err := auth.VerifyInstance(h.d.AppSecret, r.URL.Query().Get("instance"), h.now(), h.d.InstanceMaxAge)
	if err != nil {
		h.log.InfoContext(r.Context(), "sign-in refused", slog.Any("error", err))
		msg := "The link you followed could not be verified."
		if errors.Is(err, auth.ErrStale) {
			msg = "The link you followed has expired."
		}
		h.unauthorized(w, r, msg)
		return
	}
	t, err := h.d.Mapping.GetTenant(r.Context(), &gsv1.GetTenantRequest{TenantId: in.InstanceID})
	if err == nil && t.GetTenant().GetState() == gsv1.TenantState_TENANT_STATE_REMOVED {
		h.unauthorized(w, r, "gallerysync was removed from this site. Add it again from the Wix App Market.")
		return
	}
	if _, err := h.d.Sessions.Issue(w, r, in); err != nil {
		h.errorPage(w, r, auth.Session{}, http.StatusInternalServerError, "Could not start a session.")
		return
	}
	u := *r.URL
	q := u.Query()
	q.Del("instance")
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
}

// statusOf maps an error to a status and a message fit for the site owner;
// unexpected errors are logged and not shown.
func (h *Handler) statusOf(r *http.Request, err error) (int, string) {
	var limited *throttle.LimitedError
	switch {
	case errors.Is(err, errNotFound), status.Code(err) == codes.NotFound, errors.Is(err, wix.ErrNotFound),
		errors.Is(err, share.ErrUnknownAction):
		return http.StatusNotFound, "Not found: it may have been removed, or it belongs to another site."
	case errors.Is(err, errBadInput):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, errForbidden):
		return http.StatusForbidden, "That is not allowed."
	case errors.Is(err, share.ErrBadRequest), errors.Is(err, check.ErrInvalid), errors.Is(err, check.ErrRejected):
		return http.StatusUnprocessableEntity, err.Error()
	case errors.Is(err, check.ErrUnreachable):
		return http.StatusBadGateway, err.Error()
	case errors.Is(err, share.ErrTransition):
		return http.StatusConflict, err.Error()
	case errors.As(err, &limited):
		return http.StatusServiceUnavailable, fmt.Sprintf("Wix is busy with this site's requests; try again in %s.", limited.RetryAfter.Round(1e9))
	case errors.Is(err, wix.ErrRateLimited), status.Code(err) == codes.Unavailable:
		return http.StatusServiceUnavailable, "A service is busy or restarting; try again in a minute."
	}
	h.log.ErrorContext(r.Context(), "request failed", slog.String("path", r.URL.Path), slog.Any("error", err))
	return http.StatusInternalServerError, "Something went wrong on our side. Try again; if it persists, contact support."
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// decodeJSON reads a JSON request body into v, refusing unknown fields.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: body is not the expected JSON: %v", errBadInput, err)
	}
	return nil
}

// seqParam reads a dead-letter sequence from the path.
func seqParam(r *http.Request) (uint64, error) {
	n, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || n == 0 {
		return 0, errNotFound
	}
	return n, nil
}
