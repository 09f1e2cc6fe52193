package pinterestsim

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// call is one authenticated API request on its way through a handler.
type call struct {
	r    *http.Request
	user *account
	vars map[string]string
	body fields
	now  time.Time
}

// handler answers a call with a status and a value to encode as JSON (nil
// for no body), or an error; it runs with the Server's mutex held.
type handler func(s *Server, c *call) (int, any, error)

// route is one endpoint; "{name}" segments capture a path parameter.
type route struct {
	method   string
	pattern  []string
	op       string // the spec's operationId
	category string // the spec's x-ratelimit-category
	body     bool   // takes a JSON body
	handle   handler
}

func newRoute(method, pattern, op, category string, body bool, h handler) route {
	return route{method: method, pattern: strings.Split(strings.Trim(pattern, "/"), "/"), op: op,
		category: category, body: body, handle: h}
}

// routes lists the endpoints, paths relative to /v5.
func routes() []route {
	return []route{
		newRoute(http.MethodGet, "/boards", "boards/list", CategoryOrgRead, false, (*Server).listBoards),
		newRoute(http.MethodPost, "/boards", "boards/create", CategoryOrgWrite, true, (*Server).createBoard),
		newRoute(http.MethodGet, "/boards/{board_id}", "boards/get", CategoryOrgRead, false, (*Server).getBoard),
		newRoute(http.MethodGet, "/boards/{board_id}/pins", "boards/list_pins", CategoryOrgRead, false, (*Server).listBoardPins),
		newRoute(http.MethodPost, "/pins", "pins/create", CategoryOrgWrite, true, (*Server).createPin),
		newRoute(http.MethodGet, "/pins/{pin_id}", "pins/get", CategoryOrgRead, false, (*Server).getPin),
		newRoute(http.MethodPatch, "/pins/{pin_id}", "pins/update", CategoryOrgWrite, true, (*Server).updatePin),
		newRoute(http.MethodDelete, "/pins/{pin_id}", "pins/delete", CategoryOrgWrite, false, (*Server).deletePin),
	}
}

// match finds the route for a request. When the path is known but the
// method is not, it returns the allowed methods instead.
func match(table []route, method, path string) (*route, map[string]string, []string) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var allowed []string
	for i := range table {
		rt := &table[i]
		vars, ok := matchPattern(rt.pattern, segs)
		if !ok {
			continue
		}
		if rt.method == method {
			return rt, vars, nil
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
	vars := map[string]string{}
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if segs[i] == "" {
				return nil, false
			}
			vars[p[1:len(p)-1]] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return vars, true
}

// id reads a path id, which the spec requires to be decimal digits.
func (c *call) id(name string) (string, error) {
	v := c.vars[name]
	if !isDigits(v) {
		return "", invalid("'" + name + "' value '" + v + "' must match the pattern: ^\\d+$")
	}
	return v, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func idString(n uint64) string { return strconv.FormatUint(n, 10) }

// paging reads page_size (1 to 250, default 25) and bookmark.
func (c *call) paging() (size int, bookmark string, err error) {
	q := c.r.URL.Query()
	size = 25
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, "", invalid("Parameter 'page_size' was not numeric (was " + v + ")")
		}
		if n < 1 || n > 250 {
			return 0, "", invalid("Parameter 'page_size' must be between 1 and 250 (was " + v + ")")
		}
		size = n
	}
	return size, q.Get("bookmark"), nil
}
