package pinterestsim_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/pinterest"
	"gallerysync.dev/services/sandbox/pinterestsim"
)

const (
	aliceToken = "alice-token"
	bobToken   = "bob-token"
)

// env is an emulator on a real listener, the adapter and a plain API client,
// both talking to it through the contract checker.
type env struct {
	sim     *pinterestsim.Server
	srv     *httptest.Server
	check   *checker
	faults  *faults
	adapter *pinterest.Adapter
	conn    platforms.Connection
	client  *http.Client
	alice   pinterestsim.Account
}

func newEnv(t *testing.T, spec *contract, simOpts []pinterestsim.Option, adapterOpts ...pinterest.Option) *env {
	t.Helper()
	sim := pinterestsim.New(simOpts...)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	e := &env{sim: sim, srv: srv}
	e.alice = sim.AddAccount("alice", aliceToken)
	sim.AddAccount("bob", bobToken)
	e.check = newChecker(t, spec, srv.Client().Transport)
	e.faults = &faults{next: e.check}
	e.client = &http.Client{Transport: e.check, Timeout: 10 * time.Second}
	opts := append([]pinterest.Option{
		pinterest.WithHTTPClient(&http.Client{Transport: e.faults, Timeout: 10 * time.Second}),
		pinterest.WithPollInterval(10 * time.Millisecond),
	}, adapterOpts...)
	e.adapter = pinterest.New(opts...)
	e.conn = platforms.Connection{ID: "conn-1", BaseURL: srv.URL + "/v5", AccountID: e.alice.ID, Credentials: []byte(aliceToken)}
	return e
}

// reply is an API answer.
type reply struct {
	code int
	body []byte
}

// call sends a request as the holder of token (a user acting on Pinterest
// directly, or a test probing the emulator) and returns the answer.
func (e *env) call(t *testing.T, method, path, token string, body any) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				t.Fatal(err)
			}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{code: resp.StatusCode, body: b}
}

// must is call that expects the given status and decodes the answer into out.
func (e *env) must(t *testing.T, want int, method, path, token string, body, out any) {
	t.Helper()
	r := e.call(t, method, path, token, body)
	if r.code != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.code, want, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, r.body, err)
		}
	}
}

// apiError decodes Pinterest's error body.
func (r reply) apiError(t *testing.T) (int, string) {
	t.Helper()
	var e struct {
		Code    *int   `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Code == nil || e.Message == "" {
		t.Fatalf("answer %d is not a Pinterest error: %s", r.code, r.body)
	}
	return *e.Code, e.Message
}

// board makes a board as alice and returns its id.
func (e *env) board(t *testing.T, name string) string {
	t.Helper()
	var b pinterestsim.Board
	e.must(t, http.StatusCreated, http.MethodPost, "/v5/boards", aliceToken, map[string]any{"name": name}, &b)
	return b.ID
}

// pins lists a board's Pins, newest first, as alice.
func (e *env) pins(t *testing.T, boardID string) []pinterestsim.Pin {
	t.Helper()
	var out []pinterestsim.Pin
	bookmark := ""
	for {
		path := "/v5/boards/" + boardID + "/pins?page_size=250"
		if bookmark != "" {
			path += "&bookmark=" + bookmark
		}
		var page struct {
			Items    []pinterestsim.Pin `json:"items"`
			Bookmark *string            `json:"bookmark"`
		}
		e.must(t, http.StatusOK, http.MethodGet, path, aliceToken, nil, &page)
		out = append(out, page.Items...)
		if page.Bookmark == nil {
			return out
		}
		bookmark = *page.Bookmark
	}
}

// userPin makes a Pin as alice would on Pinterest.
func (e *env) userPin(t *testing.T, boardID, title, mediaURL string) pinterestsim.Pin {
	t.Helper()
	var p pinterestsim.Pin
	e.must(t, http.StatusCreated, http.MethodPost, "/v5/pins", aliceToken, map[string]any{
		"board_id": boardID, "title": title,
		"media_source": map[string]any{"source_type": "image_url", "url": mediaURL},
	}, &p)
	return p
}

// faults sits between the adapter and the checker. lose, when it returns
// true for a request, lets the request reach the emulator and then drops
// the answer, as a crash or a broken connection after the platform acted.
type faults struct {
	next http.RoundTripper

	mu   sync.Mutex
	lose func(r *http.Request) bool
}

var errConnectionLost = errors.New("connection lost after the request was sent")

// RoundTrip implements http.RoundTripper.
func (f *faults) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	lose := f.lose
	f.mu.Unlock()
	resp, err := f.next.RoundTrip(req)
	if err == nil && lose != nil && lose(req) {
		resp.Body.Close()
		return nil, errConnectionLost
	}
	return resp, err
}

func (f *faults) set(lose func(r *http.Request) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lose = lose
}

// loseOnce drops the answer of the first request matching method and path prefix.
func loseOnce(method, pathPrefix string) func(r *http.Request) bool {
	var once sync.Once
	return func(r *http.Request) bool {
		hit := false
		if r.Method == method && strings.HasPrefix(r.URL.Path, pathPrefix) {
			once.Do(func() { hit = true })
		}
		return hit
	}
}
