package mastodonsim

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// instance is an emulator served over HTTP with two seeded accounts.
type instance struct {
	srv   *Server
	base  string
	alice Account
	bob   Account
}

const (
	aliceToken = "alice-token"
	bobToken   = "bob-token"
)

// startInstance serves a new emulator on a loopback port and registers its
// shutdown with t.Cleanup. Rate limits are off unless opts set them.
func startInstance(t *testing.T, opts ...Option) *instance {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	all := append([]Option{WithBaseURL(base), WithLimits(Unlimited())}, opts...)
	srv := New(all...)
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return &instance{
		srv:   srv,
		base:  base,
		alice: srv.AddAccount("alice", aliceToken),
		bob:   srv.AddAccount("bob", bobToken),
	}
}

// reply is a response with its body read.
type reply struct {
	code   int
	header http.Header
	body   []byte
}

// errorText returns the "error" member of an error body.
func (r reply) errorText(t *testing.T) string {
	t.Helper()
	var e map[string]string
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", r.body, err)
	}
	return e["error"]
}

// request sends a request; token "" sends no Authorization header.
func (in *instance) request(t *testing.T, method, path, token, contentType string, body io.Reader, header map[string]string) reply {
	t.Helper()
	target := path
	if !strings.HasPrefix(path, "http") {
		target = in.base + path
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{code: resp.StatusCode, header: resp.Header, body: data}
}

func (in *instance) get(t *testing.T, path, token string) reply {
	t.Helper()
	return in.request(t, http.MethodGet, path, token, "", nil, nil)
}

// form sends a form-urlencoded body.
func (in *instance) form(t *testing.T, method, path, token string, values url.Values, header map[string]string) reply {
	t.Helper()
	return in.request(t, method, path, token, "application/x-www-form-urlencoded", strings.NewReader(values.Encode()), header)
}

// sendJSON sends a JSON body.
func (in *instance) sendJSON(t *testing.T, method, path, token string, v any) reply {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return in.request(t, method, path, token, "application/json", bytes.NewReader(data), nil)
}

// decode unmarshals a 200 response into v.
func decode[T any](t *testing.T, r reply) T {
	t.Helper()
	if r.code != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", r.code, r.body)
	}
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

// multipartBody builds a multipart form; a nil file sends no file part.
func multipartBody(t *testing.T, file []byte, fields map[string]string) (string, io.Reader) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if file != nil {
		fw, err := mw.CreateFormFile("file", "photo.png")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(file); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), &buf
}

func (in *instance) uploadRaw(t *testing.T, token string, file []byte, fields map[string]string) reply {
	t.Helper()
	ctype, body := multipartBody(t, file, fields)
	return in.request(t, http.MethodPost, "/api/v2/media", token, ctype, body, nil)
}

// upload posts a PNG of the given size and returns the attachment.
func (in *instance) upload(t *testing.T, token string, w, h int, description string) MediaAttachment {
	t.Helper()
	fields := map[string]string{}
	if description != "" {
		fields["description"] = description
	}
	return decode[MediaAttachment](t, in.uploadRaw(t, token, pngImage(t, w, h), fields))
}

// post creates a status from form values.
func (in *instance) post(t *testing.T, token string, values url.Values) Status {
	t.Helper()
	return decode[Status](t, in.form(t, http.MethodPost, "/api/v1/statuses", token, values, nil))
}

// postText creates a public text status.
func (in *instance) postText(t *testing.T, token, text string) Status {
	t.Helper()
	return in.post(t, token, url.Values{"status": {text}})
}

// pngImage encodes a w×h PNG with a gradient so images differ by size.
func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{R: uint8(x), G: uint8(y), B: 128, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakeClock is a settable time source for WithClock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock(start time.Time) *fakeClock { return &fakeClock{now: start} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// ids returns the ids of statuses, in order.
func ids(sts []Status) []string {
	out := make([]string, 0, len(sts))
	for _, s := range sts {
		out = append(out, s.ID)
	}
	return out
}

// mediaIDs returns the attachment ids of a status, in order.
func mediaIDs(st Status) []string {
	out := make([]string, 0, len(st.MediaAttachments))
	for _, m := range st.MediaAttachments {
		out = append(out, m.ID)
	}
	return out
}
