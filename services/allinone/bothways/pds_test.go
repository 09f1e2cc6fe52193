package bothways

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"gallerysync.dev/libs/platforms/atproto"
	"gallerysync.dev/libs/testkit"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/allinone/stack"
)

// repoMethods is the path prefix of the repository methods: every write
// of a record or a blob is a POST to one of them.
const repoMethods = "/xrpc/com.atproto.repo."

// countingProxy stands in front of a PDS and counts the write calls that
// pass, by method (applyWrites, putRecord, deleteRecord, uploadBlob...),
// whether the PDS accepts them or not.
type countingProxy struct {
	srv *httptest.Server
	mu  sync.Mutex
	n   counts
}

func newCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("pds url %q: %v", target, err)
	}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u) }}
	p := &countingProxy{n: counts{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if nsid, ok := strings.CutPrefix(r.URL.Path, repoMethods); ok && r.Method == http.MethodPost {
			p.mu.Lock()
			p.n[nsid]++
			p.mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// URL is the proxy's base URL, to use as the PDS's.
func (p *countingProxy) URL() string { return p.srv.URL }

// writes are the write calls counted so far.
func (p *countingProxy) writes() counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n.plus()
}

// pdsSide is a new account on a real PDS (tools/pds), connected to the
// demo tenant through a counting proxy, with a new Grain gallery made
// through the adapter. The writes are counted by XRPC method, as the
// adapter documents them: Create is one uploadBlob and one applyWrites
// (photo and gallery item), a new text one putRecord of the photo, a new
// sort order one putRecord of the gallery item, Reorder one applyWrites,
// Delete one applyWrites.
func pdsSide(ctx context.Context, t *testing.T, s *stack.Stack, nonce string) side {
	pds := testkit.StartPDS(t)
	_, handle, password := pds.CreateAccount(t, "bothways")
	proxy := newCountingProxy(t, pds.URL())
	const connID = "bothways-pds"
	if _, err := s.Mapping().PutConnection(ctx, &gsv1.PutConnectionRequest{Connection: &gsv1.Connection{
		TenantId: s.Demo().InstanceID, ConnectionId: connID, Platform: atproto.Name,
		BaseUrl: proxy.URL(), AccountId: handle, DisplayName: "@" + handle, Credentials: []byte(password),
	}}); err != nil {
		t.Fatalf("put connection: %v", err)
	}
	client := atproto.New(mediaFetcher(s), atproto.WithHTTPClient(httpClient()))
	conn := connection(t, s, connID)
	album, err := client.EnsureAlbum(ctx, conn, "Bothways "+nonce)
	if err != nil {
		t.Fatalf("make gallery: %v", err)
	}
	return side{
		client: client,
		conn:   conn,
		album:  album,
		writes: proxy.writes,
		sync: writeCosts{
			create: counts{"uploadBlob": 1, "applyWrites": 1},
			update: counts{"putRecord": 1},
			move:   counts{"putRecord": 1},
			remove: counts{"applyWrites": 1},
		},
		own: writeCosts{
			create: counts{"uploadBlob": 1, "applyWrites": 1},
			update: counts{"putRecord": 1},
			move:   counts{"applyWrites": 1},
			remove: counts{"applyWrites": 1},
		},
	}
}
