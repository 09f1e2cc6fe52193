package mastodonsim

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Paging of account timelines.
const (
	defaultStatusesLimit = 20
	maxStatusesLimit     = 40
)

// linkParams are the query parameters that Link URLs carry over.
func linkParams() []string {
	return []string{"limit", "exclude_reblogs", "exclude_replies", "only_media", "pinned", "tagged"}
}

// verifyCredentials handles GET /api/v1/accounts/verify_credentials.
func (s *Server) verifyCredentials(c *call) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acc := accountEntity(c.user, c.base)
	acc.Source = &AccountSource{Privacy: "public", Fields: []Field{}}
	return acc, nil
}

// getAccount handles GET /api/v1/accounts/:id.
func (s *Server) getAccount(c *call) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[c.pathVars["id"]]
	if a == nil {
		return nil, errNotFound
	}
	return accountEntity(a, c.base), nil
}

// accountStatuses handles GET /api/v1/accounts/:id/statuses: newest first,
// filtered, paged by id with a Link header for the next (older) and
// previous (newer) pages.
func (s *Server) accountStatuses(c *call) (any, error) {
	q := c.r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[c.pathVars["id"]]
	if a == nil {
		return nil, errNotFound
	}
	if truthy(q.Get("pinned")) {
		return []Status{}, nil // the emulator has no pins
	}
	limit := defaultStatusesLimit
	if v, ok := q["limit"]; ok && len(v) > 0 {
		limit = int(min(leadingInt(v[0]), maxStatusesLimit))
	}

	candidates := s.timeline(a, c.user, q)
	maxID, hasMax := idParam(q, "max_id")
	sinceID, hasSince := idParam(q, "since_id")
	minID, hasMin := idParam(q, "min_id")
	var page []*status
	if hasMin {
		// Immediately newer than min_id: walk up from it, then show newest first.
		for i := len(candidates) - 1; i >= 0 && len(page) < limit; i-- {
			st := candidates[i]
			if st.id > minID && (!hasMax || st.id < maxID) {
				page = append(page, st)
			}
		}
		slices.Reverse(page)
	} else {
		for _, st := range candidates {
			if len(page) >= limit {
				break
			}
			if (!hasMax || st.id < maxID) && (!hasSince || st.id > sinceID) {
				page = append(page, st)
			}
		}
	}

	var links []string
	if len(page) > 0 && len(page) == limit {
		links = append(links, "<"+s.pageURL(c, a, q, "max_id", page[len(page)-1].id)+`>; rel="next"`)
	}
	if len(page) > 0 {
		links = append(links, "<"+s.pageURL(c, a, q, "min_id", page[0].id)+`>; rel="prev"`)
	}
	if len(links) > 0 {
		c.w.Header().Set("Link", strings.Join(links, ", "))
	}
	out := make([]Status, 0, len(page))
	for _, st := range page {
		out = append(out, statusEntity(st, c.user, c.base))
	}
	return out, nil
}

// timeline lists the account's live statuses the viewer may see that pass
// the filters, newest first.
func (s *Server) timeline(a, viewer *account, q url.Values) []*status {
	onlyMedia := truthy(q.Get("only_media"))
	excludeReplies := truthy(q.Get("exclude_replies"))
	tagged := normalizeTag(q.Get("tagged"))
	var out []*status
	for i := len(a.statuses) - 1; i >= 0; i-- {
		st := a.statuses[i]
		switch {
		case st.deleted:
		case viewer != a && st.visibility != "public" && st.visibility != "unlisted":
		case onlyMedia && len(st.media) == 0:
		case excludeReplies && st.inReplyTo != nil && st.inReplyTo.account != a:
		case tagged != "" && !hasTag(st.text, tagged):
		default:
			out = append(out, st)
		}
	}
	return out
}

// hasTag reports whether text uses the hashtag, compared case-insensitively.
func hasTag(text, tag string) bool {
	for _, e := range extractEntities(text) {
		if e.tag != "" && strings.EqualFold(e.tag, tag) {
			return true
		}
	}
	return false
}

// pageURL builds a Link target that keeps limit and the filters.
func (s *Server) pageURL(c *call, a *account, q url.Values, cursor string, id uint64) string {
	v := url.Values{}
	for _, k := range linkParams() {
		if q.Has(k) {
			v.Set(k, q.Get(k))
		}
	}
	v.Set(cursor, idString(id))
	return c.base + "/api/v1/accounts/" + url.PathEscape(a.id) + "/statuses?" + v.Encode()
}

// idParam reads a cursor; like Rails it is used only when present and not
// blank, and it is read as an integer.
func idParam(q url.Values, name string) (uint64, bool) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return 0, false
	}
	return leadingInt(v), true
}

// leadingInt reads the leading digits of s as Ruby's to_i does, ignoring
// the sign (callers want a magnitude).
func leadingInt(s string) uint64 {
	s = strings.TrimLeft(strings.TrimSpace(s), "+-")
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, err := strconv.ParseUint(s[:end], 10, 64)
	if err != nil && end > 0 {
		return ^uint64(0)
	}
	return n
}

// truthy casts a query flag the way ActiveModel does.
func truthy(v string) bool {
	switch v {
	case "", "0", "f", "F", "false", "FALSE", "off", "OFF":
		return false
	}
	return true
}
