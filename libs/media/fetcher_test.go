package media_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gallerysync.dev/libs/media"
)

// Smallest bodies the content sniffer recognizes.
const (
	pngBytes  = "\x89PNG\r\n\x1a\n" + "\x00\x00\x00\x0dIHDR"
	jpegBytes = "\xFF\xD8\xFF\xE0" + "\x00\x10JFIF"
)

// origin is a media host; hits counts requests so tests can prove a refused
// URL was never fetched.
type origin struct {
	srv  *httptest.Server
	hits atomic.Int64
}

func startOrigin(t *testing.T, h http.HandlerFunc) *origin {
	t.Helper()
	o := &origin{}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *origin) host() string { return strings.TrimPrefix(o.srv.URL, "http://") }

func TestFetchAccepts(t *testing.T) {
	t.Parallel()
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/typed/photo.png":
			w.Header().Set("Content-Type", "image/png")
			io.WriteString(w, pngBytes)
		case "/sniffed/abc":
			w.Header()["Content-Type"] = nil
			io.WriteString(w, pngBytes)
		case "/octet/file":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Disposition", `attachment; filename="../../etc/My Photo.jpeg"`)
			io.WriteString(w, jpegBytes)
		case "/video/clip":
			w.Header().Set("Content-Type", "video/mp4; codecs=avc1")
			w.Write([]byte("not really a video, but declared as one"))
		case "/redirect":
			http.Redirect(w, r, "/typed/photo.png", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	})
	f := media.NewFetcher([]string{"example.org", strings.ToUpper(o.host())})
	tests := []struct {
		path, wantMime, wantName string
		wantData                 string
	}{
		{"/typed/photo.png", "image/png", "photo.png", pngBytes},
		{"/sniffed/abc", "image/png", "abc.png", pngBytes},
		{"/octet/file", "image/jpeg", "My_Photo.jpeg", jpegBytes},
		{"/video/clip", "video/mp4", "clip.mp4", "not really a video, but declared as one"},
		{"/redirect", "image/png", "photo.png", pngBytes},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			b, err := f.Fetch(context.Background(), o.srv.URL+tc.path)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if b.MimeType != tc.wantMime || b.Filename != tc.wantName || string(b.Data) != tc.wantData {
				t.Fatalf("got mime %q name %q %d bytes; want %q %q %d bytes",
					b.MimeType, b.Filename, len(b.Data), tc.wantMime, tc.wantName, len(tc.wantData))
			}
		})
	}
}

func TestFetchRefuses(t *testing.T) {
	t.Parallel()
	other := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		io.WriteString(w, pngBytes)
	})
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/html":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html></html>"))
		case "/empty":
			w.Header().Set("Content-Type", "image/png")
		case "/big":
			w.Header().Set("Content-Type", "image/png")
			w.Header().Set("Content-Length", "2048")
			w.Write(make([]byte, 2048))
		case "/big-chunked":
			w.Header().Set("Content-Type", "image/png")
			for range 4 {
				w.Write(make([]byte, 512))
				w.(http.Flusher).Flush()
			}
		case "/away":
			http.Redirect(w, r, other.srv.URL+"/x.png", http.StatusFound)
		case "/loop":
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			http.Redirect(w, r, "/loop?n="+strconv.Itoa(n+1), http.StatusFound)
		case "/missing":
			http.NotFound(w, r)
		case "/broken":
			http.Error(w, "boom", http.StatusBadGateway)
		case "/busy":
			w.WriteHeader(http.StatusTooManyRequests)
		case "/slow":
			<-r.Context().Done()
		}
	})
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	allowed := []string{o.host(), strings.TrimPrefix(closedURL, "http://"), "127.0.0.1"}
	f := media.NewFetcher(allowed, media.WithMaxBytes(1024), media.WithTimeout(200*time.Millisecond))
	tests := []struct {
		name      string
		url       string
		want      error
		retryable bool
	}{
		{"not image", o.srv.URL + "/html", media.ErrUnsupportedMedia, false},
		{"empty body", o.srv.URL + "/empty", media.ErrUnsupportedMedia, false},
		{"declared too large", o.srv.URL + "/big", media.ErrTooLarge, false},
		{"streamed too large", o.srv.URL + "/big-chunked", media.ErrTooLarge, false},
		{"other host", other.srv.URL + "/x.png", media.ErrHostNotAllowed, false},
		{"host without port entry only allows default port", "http://127.0.0.1:1/x.png", media.ErrHostNotAllowed, false},
		{"redirect to other host", o.srv.URL + "/away", media.ErrHostNotAllowed, false},
		{"redirect loop", o.srv.URL + "/loop", media.ErrBadStatus, false},
		{"file scheme", "file:///etc/passwd", media.ErrInvalidURL, false},
		{"user info", "http://user:pw@" + o.host() + "/x", media.ErrInvalidURL, false},
		{"not found", o.srv.URL + "/missing", media.ErrBadStatus, false},
		{"server error", o.srv.URL + "/broken", nil, true},
		{"throttled", o.srv.URL + "/busy", nil, true},
		{"timeout", o.srv.URL + "/slow", nil, true},
		{"connection refused", closedURL + "/x.png", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.Fetch(context.Background(), tc.url)
			if err == nil {
				t.Fatal("Fetch succeeded, want an error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if got := media.IsRetryable(err); got != tc.retryable {
				t.Fatalf("IsRetryable(%v) = %v, want %v", err, got, tc.retryable)
			}
			if got := media.IsPermanent(err); got == tc.retryable {
				t.Fatalf("IsPermanent(%v) = %v, want %v", err, got, !tc.retryable)
			}
		})
	}
	// The parent's cleanup runs once every parallel subtest has finished.
	t.Cleanup(func() {
		if n := other.hits.Load(); n != 0 {
			t.Errorf("disallowed host got %d requests", n)
		}
	})
}

func TestFetchKeepsCallersClient(t *testing.T) {
	t.Parallel()
	client := &http.Client{}
	media.NewFetcher([]string{"example.org"}, media.WithHTTPClient(client))
	if client.CheckRedirect != nil {
		t.Fatal("NewFetcher changed the caller's client")
	}
}
