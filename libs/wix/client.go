package wix

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of ClientConfig, as documented by Wix (wix-api.md 0 and 1.1).
const (
	DefaultBaseURL       = "https://www.wixapis.com"
	DefaultGalleryPrefix = "/pro-gallery/v2"
	DefaultTimeout       = 15 * time.Second
	DefaultMaxAttempts   = 4
)

// maxMaxAttempts bounds MaxAttempts: more retries than this only hold a
// worker while Wix is down, which the bus's redelivery handles better.
const maxMaxAttempts = 10

// ClientConfig configures a Client: where Wix is and the app's OAuth
// credentials.
type ClientConfig struct {
	// BaseURL is the REST API root.
	BaseURL string
	// GalleryPrefix is the Pro Gallery path under BaseURL; the older
	// "/progallery/v2" also works on Wix.
	GalleryPrefix string
	// AppID is the app's OAuth client id; it is also the origin of imports.
	AppID string
	// AppSecret is the app's OAuth client secret; it is never logged.
	AppSecret string
	// Timeout bounds each HTTP attempt.
	Timeout time.Duration
	// MaxAttempts is how often a call is tried when Wix answers 429 or 5xx
	// or the network fails.
	MaxAttempts int
}

// RegisterFlags registers the -wix-* flags with their defaults.
func (c *ClientConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.BaseURL, "wix-base-url", DefaultBaseURL, "Wix REST API base URL")
	fs.StringVar(&c.GalleryPrefix, "wix-gallery-prefix", DefaultGalleryPrefix, "Pro Gallery API path prefix under the base URL")
	fs.StringVar(&c.AppID, "wix-app-id", "", "Wix app id (OAuth client id)")
	fs.StringVar(&c.AppSecret, "wix-app-secret", "", "Wix app secret (OAuth client secret)")
	fs.DurationVar(&c.Timeout, "wix-timeout", DefaultTimeout, "timeout of one HTTP attempt to Wix")
	fs.IntVar(&c.MaxAttempts, "wix-max-attempts", DefaultMaxAttempts, "attempts per Wix call when it answers 429 or 5xx or the network fails")
}

// Validate reports every setting that cannot work.
func (c ClientConfig) Validate() error {
	var errs []error
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		errs = append(errs, fmt.Errorf("wix-base-url %q is not an http(s) URL without query", c.BaseURL))
	}
	if !strings.HasPrefix(c.GalleryPrefix, "/") || strings.ContainsAny(c.GalleryPrefix, "?#") {
		errs = append(errs, fmt.Errorf("wix-gallery-prefix %q must be a path starting with /", c.GalleryPrefix))
	}
	if strings.TrimSpace(c.AppID) == "" {
		errs = append(errs, errors.New("wix-app-id is required"))
	}
	if c.AppSecret == "" {
		errs = append(errs, errors.New("wix-app-secret is required"))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("wix-timeout %s must be positive", c.Timeout))
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > maxMaxAttempts {
		errs = append(errs, fmt.Errorf("wix-max-attempts %d must be 1..%d", c.MaxAttempts, maxMaxAttempts))
	}
	return errors.Join(errs...)
}

// withDefaults fills the settings left zero, for configs built in code.
func (c ClientConfig) withDefaults() ClientConfig {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if c.GalleryPrefix == "" {
		c.GalleryPrefix = DefaultGalleryPrefix
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	return c
}

// Limiter paces requests per tenant (Wix allows about 200 a minute per app
// instance); *throttle.Shared is the one shared by all replicas.
type Limiter interface {
	// Wait returns when one more request of this tenant may be sent, or an error
	// (e.g. *throttle.LimitedError) when the wait would be too long to spend here.
	Wait(ctx context.Context, tenant string) error
}

// ClientOption tunes a Client.
type ClientOption func(*clientOptions)

type clientOptions struct {
	http      *http.Client
	limiter   Limiter
	now       func() time.Time
	logger    *slog.Logger
	backoff   func(attempt int) time.Duration
	pollFirst time.Duration
	pollMax   time.Duration
	pollBound time.Duration
}

// WithHTTPClient sets the HTTP client (default: a plain one; each attempt's
// time is bounded by ClientConfig.Timeout).
func WithHTTPClient(hc *http.Client) ClientOption {
	return func(o *clientOptions) { o.http = hc }
}

// WithLimiter sets the limiter every attempt waits for; nil means none.
func WithLimiter(l Limiter) ClientOption {
	return func(o *clientOptions) { o.limiter = l }
}

// WithClientClock sets the clock that token lifetimes are measured with.
// (WithClock is the Verifier's option of the same kind.)
func WithClientClock(now func() time.Time) ClientOption {
	return func(o *clientOptions) { o.now = now }
}

// WithLogger sets the logger; retries and token fetches are logged at debug
// and warn levels, never with a token or the secret.
func WithLogger(l *slog.Logger) ClientOption {
	return func(o *clientOptions) { o.logger = l }
}

// WithBackoff sets the wait before retry number attempt (1 for the first
// retry). The default is exponential from 250ms, capped at 10s, with full
// jitter.
func WithBackoff(f func(attempt int) time.Duration) ClientOption {
	return func(o *clientOptions) { o.backoff = f }
}

// WithMediaPolling sets how WaitReady polls a file: first wait, largest wait
// (the wait doubles in between) and the bound on the whole wait. Defaults:
// 250ms, 2s, 60s.
func WithMediaPolling(first, maxWait, bound time.Duration) ClientOption {
	return func(o *clientOptions) { o.pollFirst, o.pollMax, o.pollBound = first, maxWait, bound }
}

// Default polling and backoff settings.
const (
	defaultPollFirst   = 250 * time.Millisecond
	defaultPollMax     = 2 * time.Second
	defaultPollBound   = 60 * time.Second
	defaultBackoffBase = 250 * time.Millisecond
	defaultBackoffCap  = 10 * time.Second
)

// defaultBackoff is exponential backoff with full jitter.
func defaultBackoff(attempt int) time.Duration {
	ceiling := defaultBackoffCap
	if attempt < 16 {
		ceiling = min(ceiling, defaultBackoffBase<<max(0, attempt-1))
	}
	return rand.N(ceiling)
}

// Client calls Wix's REST APIs (Pro Gallery v2, Media Manager) on behalf of
// app instances. It mints and caches one OAuth token per instance, paces
// every attempt through its Limiter and retries what Wix asks to retry. It
// is safe for concurrent use.
type Client struct {
	cfg     ClientConfig
	base    string
	gallery string
	http    *http.Client
	limiter Limiter
	now     func() time.Time
	log     *slog.Logger
	backoff func(attempt int) time.Duration
	poll    pollSettings
	tokens  tokenCache
}

type pollSettings struct {
	first, max, bound time.Duration
}

// NewClient returns a Client. Settings of cfg left zero take their defaults.
func NewClient(cfg ClientConfig, opts ...ClientOption) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("wix client config: %w", err)
	}
	o := clientOptions{
		http:      &http.Client{},
		now:       time.Now,
		logger:    slog.New(slog.DiscardHandler),
		backoff:   defaultBackoff,
		pollFirst: defaultPollFirst,
		pollMax:   defaultPollMax,
		pollBound: defaultPollBound,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.http == nil || o.now == nil || o.logger == nil || o.backoff == nil {
		return nil, errors.New("wix client: nil HTTP client, clock, logger or backoff option")
	}
	if o.pollFirst <= 0 || o.pollMax < o.pollFirst || o.pollBound <= 0 {
		return nil, fmt.Errorf("wix client: media polling %s..%s within %s: want 0 < first <= max and a positive bound", o.pollFirst, o.pollMax, o.pollBound)
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	return &Client{
		cfg:     cfg,
		base:    base,
		gallery: base + strings.TrimRight(cfg.GalleryPrefix, "/"),
		http:    o.http,
		limiter: o.limiter,
		now:     o.now,
		log:     o.logger,
		backoff: o.backoff,
		poll:    pollSettings{first: o.pollFirst, max: o.pollMax, bound: o.pollBound},
		tokens:  newTokenCache(),
	}, nil
}
