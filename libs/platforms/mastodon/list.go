package mastodon

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"gallerysync.dev/libs/platforms"
)

const (
	// pageLimit is the largest page of account statuses Mastodon serves.
	pageLimit = 40
	// maxPages bounds one listing (20,000 statuses), so a server that pages
	// in circles cannot keep a caller busy forever.
	maxPages = 500
)

var _ platforms.Lister = (*Adapter)(nil)

// List implements platforms.Lister: every status of the connection's
// account tagged with the album (reblogs left out), newest first, paged
// with max_id.
func (a *Adapter) List(ctx context.Context, conn platforms.Connection, album string) ([]platforms.Observed, error) {
	s, err := a.session(conn)
	if err != nil {
		return nil, err
	}
	account, err := a.accountID(ctx, s, conn)
	if err != nil {
		return nil, err
	}
	var out []platforms.Observed
	maxID := ""
	for range maxPages {
		page, older, err := s.statusPage(ctx, account, album, "max_id", maxID)
		if err != nil {
			return nil, fmt.Errorf("list #%s: %w", album, err)
		}
		for _, st := range page {
			if st.Account.ID == id(account) && !st.isReblog() && st.hasTag(album) {
				out = append(out, st.observed(album))
			}
		}
		if len(page) == 0 || older == "" {
			return out, nil
		}
		maxID = older
	}
	return nil, fmt.Errorf("list #%s: more than %d pages", album, maxPages)
}

// newerThan lists the account's statuses tagged with the album whose id is
// above minID, oldest first, paging with min_id.
func (s *session) newerThan(ctx context.Context, account, album, minID string) ([]status, error) {
	var out []status
	for range maxPages {
		page, _, err := s.statusPage(ctx, account, album, "min_id", minID)
		if err != nil {
			return nil, fmt.Errorf("list #%s after %s: %w", album, minID, err)
		}
		// A page is newest first; the next page starts after its newest.
		for i := len(page) - 1; i >= 0; i-- {
			out = append(out, page[i])
			if idLess(id(minID), page[i].ID) {
				minID = string(page[i].ID)
			}
		}
		if len(page) < pageLimit {
			return out, nil
		}
	}
	return nil, fmt.Errorf("list #%s after %s: more than %d pages", album, minID, maxPages)
}

// newestID is the id of the account's newest status, "" when it has none.
func (s *session) newestID(ctx context.Context, account string) (string, error) {
	var page []status
	_, err := s.do(ctx, request{
		method: http.MethodGet,
		path:   "/api/v1/accounts/" + url.PathEscape(account) + "/statuses?limit=1",
	}, &page)
	if err != nil {
		return "", fmt.Errorf("newest status: %w", err)
	}
	if len(page) == 0 {
		return "", nil
	}
	return string(page[0].ID), nil
}

// statusPage fetches one page of the account's statuses with the hashtag;
// cursor names the paging parameter (max_id or min_id), "" value for the
// first page. older is the max_id of the next older page from the Link
// header ("" when there is none).
func (s *session) statusPage(ctx context.Context, account, album, cursor, value string) (page []status, older string, err error) {
	q := url.Values{
		"tagged":          {normalizeTag(album)},
		"exclude_reblogs": {"true"},
		"limit":           {strconv.Itoa(pageLimit)},
	}
	if value != "" {
		q.Set(cursor, value)
	}
	var hdr http.Header
	_, err = s.do(ctx, request{
		method:       http.MethodGet,
		path:         "/api/v1/accounts/" + url.PathEscape(account) + "/statuses?" + q.Encode(),
		answerHeader: &hdr,
	}, &page)
	if err != nil {
		return nil, "", err
	}
	return page, linkCursor(hdr.Get("Link"), "next", "max_id"), nil
}

// linkTarget matches one entry of a Link header: <url>; rel="name".
var linkTarget = regexp.MustCompile(`<([^>]*)>\s*;\s*rel="?([^",;]+)"?`)

// linkCursor reads the paging parameter param of the Link entry rel. Only
// the parameter is taken, never the URL itself: requests carrying the
// token go to the connection's base URL alone.
func linkCursor(header, rel, param string) string {
	for _, m := range linkTarget.FindAllStringSubmatch(header, -1) {
		if !strings.EqualFold(strings.TrimSpace(m[2]), rel) {
			continue
		}
		u, err := url.Parse(m[1])
		if err != nil {
			return ""
		}
		return u.Query().Get(param)
	}
	return ""
}

// accountID is the connection's account id, asked of the server when the
// connection does not carry it.
func (a *Adapter) accountID(ctx context.Context, s *session, conn platforms.Connection) (string, error) {
	if acc := strings.TrimSpace(conn.AccountID); acc != "" {
		return acc, nil
	}
	var me struct {
		ID id `json:"id"`
	}
	if _, err := s.do(ctx, request{method: http.MethodGet, path: "/api/v1/accounts/verify_credentials"}, &me); err != nil {
		return "", fmt.Errorf("verify credentials: %w", err)
	}
	if me.ID == "" {
		return "", &platforms.TransientError{Err: fmt.Errorf("verify credentials: answer without id")}
	}
	return string(me.ID), nil
}

// idLess orders status ids: numerically when both are numbers (Mastodon's
// snowflakes), else as strings.
func idLess(a, b id) bool {
	if isDigits(string(a)) && isDigits(string(b)) {
		as, bs := strings.TrimLeft(string(a), "0"), strings.TrimLeft(string(b), "0")
		if len(as) != len(bs) {
			return len(as) < len(bs)
		}
		return as < bs
	}
	return a < b
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
