// Package media fetches the media of a gallery item from its source so an
// adapter can upload it elsewhere. Media URLs arrive in untrusted events, so
// the fetcher only talks to an allow list of hosts (no requests into the
// cluster), follows redirects only within that list and caps the body size.
package media

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of a Fetcher.
const (
	DefaultMaxBytes = 25 << 20
	DefaultTimeout  = 30 * time.Second
	// maxRedirects is small: a CDN needs one or two hops, more is suspicious.
	maxRedirects = 3
)

// Blob is fetched media.
type Blob struct {
	Data     []byte
	MimeType string
	Filename string
}

// Fetcher downloads media from allowed hosts. It is safe for concurrent use.
type Fetcher struct {
	allowed  []hostPort
	client   *http.Client
	maxBytes int64
	timeout  time.Duration
}

// Option configures a Fetcher.
type Option func(*Fetcher)

// WithMaxBytes caps the body size (default 25 MiB).
func WithMaxBytes(n int64) Option { return func(f *Fetcher) { f.maxBytes = n } }

// WithHTTPClient sets the client whose transport is used. The fetcher works on
// a copy with its own redirect policy, so the caller's client is not changed.
func WithHTTPClient(c *http.Client) Option {
	return func(f *Fetcher) {
		cp := *c
		f.client = &cp
	}
}

// WithTimeout bounds one fetch, body included (default 30s).
func WithTimeout(d time.Duration) Option { return func(f *Fetcher) { f.timeout = d } }

// NewFetcher returns a fetcher for the given hosts. An entry is a host name or
// host:port, matched exactly and case-insensitively; an entry without a port
// allows only the scheme's default port.
func NewFetcher(allowedHosts []string, opts ...Option) *Fetcher {
	f := &Fetcher{client: &http.Client{}, maxBytes: DefaultMaxBytes, timeout: DefaultTimeout}
	for _, h := range allowedHosts {
		if hp, ok := parseHostPort(h); ok {
			f.allowed = append(f.allowed, hp)
		}
	}
	for _, o := range opts {
		o(f)
	}
	f.client.CheckRedirect = f.checkRedirect
	return f
}

// Fetch downloads one media file. Its errors are permanent (ErrInvalidURL,
// ErrHostNotAllowed, ErrTooLarge, ErrUnsupportedMedia, ErrBadStatus) or a
// *RetryableError.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) (Blob, error) {
	u, err := f.check(rawURL)
	if err != nil {
		return Blob{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Blob{}, fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	req.Header.Set("Accept", "image/*, video/*")
	resp, err := f.client.Do(req)
	if err != nil {
		// The redirect policy's refusals come back inside a *url.Error.
		if IsPermanent(err) {
			return Blob{}, err
		}
		return Blob{}, retryable("fetch %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	if err := checkStatus(resp); err != nil {
		return Blob{}, err
	}
	if resp.ContentLength > f.maxBytes {
		return Blob{}, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, resp.ContentLength, f.maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return Blob{}, retryable("read %s: %w", u.Redacted(), err)
	}
	if int64(len(data)) > f.maxBytes {
		return Blob{}, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, f.maxBytes)
	}
	mt, err := mimeType(resp.Header.Get("Content-Type"), data)
	if err != nil {
		return Blob{}, err
	}
	return Blob{Data: data, MimeType: mt, Filename: filename(resp, mt)}, nil
}

// check parses a URL and tests it against the allow list.
func (f *Fetcher) check(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: scheme %q", ErrInvalidURL, u.Scheme)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: user info in url", ErrInvalidURL)
	}
	if !f.allows(u) {
		return nil, fmt.Errorf("%w: %s", ErrHostNotAllowed, u.Host)
	}
	return u, nil
}

func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return fmt.Errorf("%w: more than %d redirects", ErrBadStatus, maxRedirects)
	}
	_, err := f.check(req.URL.String())
	return err
}

func (f *Fetcher) allows(u *url.URL) bool {
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	for _, a := range f.allowed {
		if a.host != host {
			continue
		}
		if (a.port == "" && port == defaultPort(u.Scheme)) || a.port == port {
			return true
		}
	}
	return false
}

func checkStatus(resp *http.Response) error {
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests,
		resp.StatusCode == http.StatusRequestTimeout:
		return retryable("fetch %s: status %d", resp.Request.URL.Redacted(), resp.StatusCode)
	default:
		return fmt.Errorf("%w: %d from %s", ErrBadStatus, resp.StatusCode, resp.Request.URL.Redacted())
	}
}

// hostPort is one allow-list entry; port is empty for "default port only".
type hostPort struct{ host, port string }

func parseHostPort(s string) (hostPort, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return hostPort{}, false
	}
	if h, p, err := net.SplitHostPort(s); err == nil {
		return hostPort{host: h, port: p}, h != ""
	}
	return hostPort{host: strings.Trim(s, "[]")}, true
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}
