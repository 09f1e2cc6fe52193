// Package atprototest wires the AT Protocol adapter to an account on any
// AT Protocol server (a real PDS or the sandbox's emulator) for the
// conformance suite, and reads albums back with plain XRPC calls of its own,
// so the suite checks the server's records, not the adapter's view of them.
package atprototest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"gallerysync.dev/libs/media"
	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/atproto"
	"gallerysync.dev/libs/platforms/platformtest"
)

// Account is an account on the server.
type Account struct {
	DID, Handle, Password string
}

// NewEnv returns a conformance env for the account on the server at base:
// an adapter polling every 200ms, a media origin its fetcher accepts, and a
// reader of the albums' records. Throttle and ExpireSession are left for
// the caller, which knows how to make its server do that.
func NewEnv(t *testing.T, base string, acct Account, opts ...atproto.Option) platformtest.Env {
	t.Helper()
	origin := newOrigin(t)
	fetcher := media.NewFetcher([]string{strings.TrimPrefix(origin.srv.URL, "http://")})
	adapter := atproto.New(fetcher, append([]atproto.Option{atproto.WithPollInterval(200 * time.Millisecond)}, opts...)...)
	r := &Reader{Base: base, Identifier: acct.Handle, Password: acct.Password}
	return platformtest.Env{
		Adapter:      adapter,
		Conn:         platforms.Connection{ID: "conn-" + acct.Handle, BaseURL: base, AccountID: acct.Handle, Credentials: []byte(acct.Password)},
		Serve:        origin.serve,
		Read:         r.Album,
		ReplayCursor: "replay-everything",
	}
}

// origin is a media host for the tests.
type origin struct {
	srv *httptest.Server
	mux *http.ServeMux
	n   chan int
}

func newOrigin(t *testing.T) *origin {
	o := &origin{mux: http.NewServeMux(), n: make(chan int, 1)}
	o.n <- 0
	o.srv = httptest.NewServer(o.mux)
	t.Cleanup(o.srv.Close)
	return o
}

func (o *origin) serve(t *testing.T, data []byte, mimeType string) string {
	n := <-o.n
	o.n <- n + 1
	path := fmt.Sprintf("/media/%d", n)
	o.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", mimeType)
		_, _ = w.Write(data)
	})
	return o.srv.URL + path
}

// Reader reads an account's Grain records with plain XRPC calls. It logs in
// once and again only when its token is refused, since a PDS allows 30
// logins per 5 minutes.
type Reader struct {
	Base       string
	Identifier string
	Password   string

	mu    sync.Mutex
	did   string
	token string
}

// Album lists the items of a gallery (by record key) as the records say:
// each gallery item joined to its photo.
func (r *Reader) Album(ctx context.Context, album string) ([]platformtest.Item, error) {
	did, token, err := r.session(ctx, false)
	if err != nil {
		return nil, err
	}
	items, err := r.List(ctx, token, did, atproto.CollectionGalleryItem)
	if isTokenError(err) {
		if did, token, err = r.session(ctx, true); err == nil {
			items, err = r.List(ctx, token, did, atproto.CollectionGalleryItem)
		}
	}
	if err != nil {
		return nil, err
	}
	photos, err := r.List(ctx, token, did, atproto.CollectionPhoto)
	if err != nil {
		return nil, err
	}
	byURI := map[string]Record{}
	for _, p := range photos {
		byURI[p.URI] = p
	}
	galleryURI := "at://" + did + "/" + atproto.CollectionGallery + "/" + album
	var out []platformtest.Item
	for _, rec := range items {
		var it struct {
			Gallery  string `json:"gallery"`
			Item     string `json:"item"`
			Position int64  `json:"position"`
		}
		if err := json.Unmarshal(rec.Value, &it); err != nil {
			return nil, fmt.Errorf("gallery item %s: %w", rec.URI, err)
		}
		if it.Gallery != galleryURI {
			continue
		}
		p, ok := byURI[it.Item]
		if !ok {
			continue
		}
		var ph struct {
			Photo struct {
				Ref struct {
					Link string `json:"$link"`
				} `json:"ref"`
				MimeType string `json:"mimeType"`
				Size     int64  `json:"size"`
			} `json:"photo"`
			Alt         string `json:"alt"`
			Title       string `json:"title"`
			Description string `json:"description"`
			Link        string `json:"link"`
		}
		if err := json.Unmarshal(p.Value, &ph); err != nil {
			return nil, fmt.Errorf("photo %s: %w", p.URI, err)
		}
		out = append(out, platformtest.Item{
			ID: p.URI[strings.LastIndex(p.URI, "/")+1:],
			Content: platforms.Content{
				Title: ph.Title, Description: ph.Description, LinkURL: ph.Link, AltText: ph.Alt,
				SortOrder: float64(it.Position) / 1000,
			},
			Media: ph.Photo.Ref.Link, MediaBytes: ph.Photo.Size, MediaType: ph.Photo.MimeType,
		})
	}
	return out, nil
}

// Record is a record as listRecords returns it.
type Record struct {
	URI   string          `json:"uri"`
	CID   string          `json:"cid"`
	Value json.RawMessage `json:"value"`
}

// List reads every record of a collection, page by page.
func (r *Reader) List(ctx context.Context, token, did, collection string) ([]Record, error) {
	var out []Record
	cursor := ""
	for range 1000 {
		q := url.Values{"repo": {did}, "collection": {collection}, "limit": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Records []Record `json:"records"`
			Cursor  string   `json:"cursor"`
		}
		if err := r.Call(ctx, http.MethodGet, "com.atproto.repo.listRecords?"+q.Encode(), token, nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Records...)
		if len(page.Records) == 0 || page.Cursor == "" {
			return out, nil
		}
		cursor = page.Cursor
	}
	return nil, fmt.Errorf("list %s: too many pages", collection)
}

// session is the reader's login, made anew when fresh is set.
func (r *Reader) session(ctx context.Context, fresh bool) (did, token string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.token != "" && !fresh {
		return r.did, r.token, nil
	}
	var s struct {
		DID       string `json:"did"`
		AccessJwt string `json:"accessJwt"`
	}
	err = r.Call(ctx, http.MethodPost, "com.atproto.server.createSession", "",
		map[string]string{"identifier": r.Identifier, "password": r.Password}, &s)
	if err != nil {
		return "", "", err
	}
	r.did, r.token = s.DID, s.AccessJwt
	return r.did, r.token, nil
}

// isTokenError reports whether the server refused the access token.
func isTokenError(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "ExpiredToken") || strings.Contains(err.Error(), "InvalidToken"))
}

// Call makes one XRPC call (method is the NSID plus any query) and decodes
// a 200 answer.
func (r *Reader) Call(ctx context.Context, httpMethod, method, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, httpMethod, r.Base+"/xrpc/"+method, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d %s", method, resp.StatusCode, bytes.TrimSpace(data))
	}
	return json.Unmarshal(data, out)
}

// ExhaustLogins spends the server's login allowance for an identifier (30
// createSession calls per 5 minutes on a PDS; wrong passwords count too),
// so the next login of that account is answered with 429.
func ExhaustLogins(t *testing.T, base, identifier string, calls int) {
	t.Helper()
	r := &Reader{Base: base}
	for range calls {
		err := r.Call(t.Context(), http.MethodPost, "com.atproto.server.createSession", "",
			map[string]string{"identifier": identifier, "password": "wrong"}, &struct{}{})
		if err != nil && strings.Contains(err.Error(), ": 429 ") {
			return
		}
	}
}
