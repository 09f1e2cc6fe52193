package mastodonsim

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
)

// apiError is an error the API reports to the client as {"error": msg}.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func newAPIError(status int, msg string) *apiError { return &apiError{status: status, msg: msg} }

// The errors the API answers with in several places.
var (
	errNotFound         = newAPIError(http.StatusNotFound, "Record not found")
	errInvalidToken     = newAPIError(http.StatusUnauthorized, "The access token is invalid")
	errTooMany          = newAPIError(http.StatusTooManyRequests, "Too many requests")
	errBodyTooLarge     = newAPIError(http.StatusRequestEntityTooLarge, "Request entity too large")
	errMethodNotAllowed = newAPIError(http.StatusMethodNotAllowed, "Method not allowed")
	errTextBlank        = newAPIError(http.StatusUnprocessableEntity, "Validation failed: Text can't be blank")
)

// auth says whether a route needs a user token. Optional routes serve
// public statuses anonymously but still reject a token that is invalid.
type auth int

const (
	authRequired auth = iota
	authOptional
)

// call is one API request on its way through a handler.
type call struct {
	w        http.ResponseWriter
	r        *http.Request
	user     *account // nil when anonymous
	pathVars map[string]string
	base     string
}

// handler answers a call with a value to encode as JSON, or an error.
type handler func(s *Server, c *call) (any, error)

// route is one endpoint; ":name" segments capture a path parameter.
type route struct {
	method  string
	pattern []string
	auth    auth
	handle  handler
}

func newRoute(method, pattern string, a auth, h handler) route {
	return route{method: method, pattern: strings.Split(strings.Trim(pattern, "/"), "/"), auth: a, handle: h}
}

// routes lists the endpoints; literal patterns precede parameterised ones
// with the same shape so that verify_credentials is not taken for an id.
func routes() []route {
	return []route{
		newRoute(http.MethodGet, "/api/v1/accounts/verify_credentials", authRequired, (*Server).verifyCredentials),
		newRoute(http.MethodGet, "/api/v1/accounts/:id", authOptional, (*Server).getAccount),
		newRoute(http.MethodGet, "/api/v1/accounts/:id/statuses", authOptional, (*Server).accountStatuses),
		newRoute(http.MethodPost, "/api/v2/media", authRequired, (*Server).uploadMedia),
		newRoute(http.MethodPost, "/api/v1/media", authRequired, (*Server).uploadMedia),
		newRoute(http.MethodGet, "/api/v1/media/:id", authRequired, (*Server).getMedia),
		newRoute(http.MethodPut, "/api/v1/media/:id", authRequired, (*Server).updateMedia),
		newRoute(http.MethodDelete, "/api/v1/media/:id", authRequired, (*Server).deleteMedia),
		newRoute(http.MethodPost, "/api/v1/statuses", authRequired, (*Server).createStatus),
		newRoute(http.MethodGet, "/api/v1/statuses/:id", authOptional, (*Server).getStatus),
		newRoute(http.MethodPut, "/api/v1/statuses/:id", authRequired, (*Server).editStatus),
		newRoute(http.MethodDelete, "/api/v1/statuses/:id", authRequired, (*Server).deleteStatus),
		newRoute(http.MethodGet, "/api/v1/statuses/:id/history", authOptional, (*Server).statusHistory),
		newRoute(http.MethodGet, "/api/v1/statuses/:id/source", authRequired, (*Server).statusSource),
	}
}

// match finds the route for a request. When the path is known but the method
// is not, it returns the allowed methods instead.
func match(table []route, method, path string) (*route, map[string]string, []string) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var allowed []string
	for i := range table {
		rt := &table[i]
		params, ok := matchPattern(rt.pattern, segs)
		if !ok {
			continue
		}
		if rt.method == method {
			return rt, params, nil
		}
		allowed = append(allowed, rt.method)
	}
	sort.Strings(allowed)
	return nil, nil, allowed
}

func matchPattern(pattern, segs []string) (map[string]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	params := map[string]string{}
	for i, p := range pattern {
		if name, ok := strings.CutPrefix(p, ":"); ok {
			if segs[i] == "" {
				return nil, false
			}
			params[name] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// writeJSON encodes v with the given status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		body = []byte(`{"error":"Internal server error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// writeError answers with the API's error body.
func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = newAPIError(http.StatusInternalServerError, "Internal server error")
	}
	writeJSON(w, ae.status, map[string]string{"error": ae.msg})
}
