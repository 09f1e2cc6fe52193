// Package wixsim emulates the parts of the Wix REST API that gallerysync
// uses: OAuth client-credentials tokens, Pro Gallery v2, Media Manager
// (imports that go PENDING, then READY or FAILED, and file descriptors),
// static media URLs, per-instance rate limits, app install and removal, and
// signed webhook delivery with Wix's retry policy (Pro Gallery, File Ready
// and Failed, AppInstalled and AppRemoved), with delivery faults on demand.
// It follows the documented contracts, including error bodies, paging
// limits and 429s.
package wixsim

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultRateLimit is Wix's documented budget per app instance and minute.
const DefaultRateLimit = 200

// tokenTTL is the lifetime of a client-credentials token (4 hours).
const tokenTTL = 14400 * time.Second

// maxBodyBytes bounds every JSON request body.
const maxBodyBytes = 1 << 20

// DefaultRetry is Wix's resend schedule: the delay before each retry,
// counted from the previous failed attempt.
func DefaultRetry() []time.Duration {
	return []time.Duration{
		time.Minute, 10 * time.Minute, time.Hour, 2 * time.Hour, 2 * time.Hour, 2 * time.Hour,
		4 * time.Hour, 4 * time.Hour, 4 * time.Hour, 8 * time.Hour, 8 * time.Hour, 12 * time.Hour,
	}
}

// Config configures the emulator.
type Config struct {
	// AppID and AppSecret are the app's OAuth client credentials.
	AppID, AppSecret string
	// SigningKey signs webhooks (RS256); receivers verify with its public key.
	SigningKey *rsa.PrivateKey
	// WebhookURL is where webhooks are POSTed; "" disables delivery.
	WebhookURL string
	// BaseURL is the public base the handler is served at, e.g.
	// "http://127.0.0.1:8090/wix"; media URLs are <BaseURL>/media/<fileId>.
	BaseURL string
	// RateLimitPerMinute is the per-instance budget; 0 means DefaultRateLimit,
	// a negative value means unlimited.
	RateLimitPerMinute int
	// Retry is the delay before each retry of a failed delivery; nil means
	// DefaultRetry. Tests pass compressed schedules.
	Retry []time.Duration
	// MediaReadyAfter is how long an import stays PENDING before the worker
	// fetches its source and makes it READY or FAILED; 0 processes it at
	// once. The sandbox command defaults to DefaultMediaReadyAfter.
	MediaReadyAfter time.Duration
	// HTTPClient delivers webhooks and fetches imported files; nil means a
	// fresh client.
	HTTPClient *http.Client
	// Logger receives operational logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock for timestamps, token expiry and the rate-limit
	// window; nil means time.Now. Webhook retry timing always uses real time.
	Now func() time.Time
}

// Server is the emulator. Create it with New; it is safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	client  *http.Client
	limiter *limiter
	stats   *statsBook
	queue   *schedule[*delivery]
	imports *schedule[*importJob]
	faults  atomic.Pointer[Faults]
	running atomic.Bool

	pictures pictureCache

	mu     sync.Mutex
	sites  map[string]*site
	files  map[string]*mediaFile
	tokens map[string]token
	// queued numbers deliveries in queueing order (for Faults.Reorder).
	queued uint64
}

// New checks cfg and builds a Server with no sites.
func New(cfg Config) (*Server, error) {
	if cfg.AppID == "" || cfg.AppSecret == "" {
		return nil, fmt.Errorf("new wix emulator: app id and secret are required: %w", ErrInvalid)
	}
	if cfg.SigningKey == nil {
		return nil, fmt.Errorf("new wix emulator: signing key is required: %w", ErrInvalid)
	}
	if cfg.BaseURL == "" {
		return nil, fmt.Errorf("new wix emulator: base url is required: %w", ErrInvalid)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.RateLimitPerMinute == 0 {
		cfg.RateLimitPerMinute = DefaultRateLimit
	}
	if cfg.Retry == nil {
		cfg.Retry = DefaultRetry()
	}
	for _, d := range cfg.Retry {
		if d < 0 {
			return nil, fmt.Errorf("new wix emulator: negative retry delay %v: %w", d, ErrInvalid)
		}
	}
	if cfg.MediaReadyAfter < 0 {
		return nil, fmt.Errorf("new wix emulator: negative media ready delay %v: %w", cfg.MediaReadyAfter, ErrInvalid)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	return &Server{
		cfg:     cfg,
		log:     log,
		now:     now,
		client:  client,
		limiter: newLimiter(cfg.RateLimitPerMinute, time.Minute),
		stats:   newStatsBook(),
		queue:   newSchedule[*delivery](),
		imports: newSchedule[*importJob](),
		sites:   map[string]*site{},
		files:   map[string]*mediaFile{},
		tokens:  map[string]token{},
	}, nil
}

// Handler serves the emulated API at its root: /oauth2/token,
// /pro-gallery/v2/..., /progallery/v2/..., /site-media/v1/..., /media/<fileId>
// and the sandbox-only /_sandbox/... endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", s.handleToken)
	for _, prefix := range []string{"/pro-gallery/v2", "/progallery/v2"} {
		s.routeGallery(mux, prefix)
	}
	s.routeMedia(mux)
	mux.HandleFunc("POST /_sandbox/owner-token", s.handleOwnerToken)
	mux.HandleFunc("POST /_sandbox/apps/install", s.handleInstall)
	mux.HandleFunc("POST /_sandbox/apps/remove", s.handleRemove)
	mux.HandleFunc("GET /_sandbox/faults", s.handleGetFaults)
	mux.HandleFunc("POST /_sandbox/faults", s.handleFaults)
	mux.HandleFunc("GET /_sandbox/images/{name}", s.handleImage)
	mux.HandleFunc("GET /_sandbox/stats", s.handleStats)
	mux.HandleFunc("GET /_sandbox/dashboard", s.handleDashboard)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, appError(http.StatusNotFound, nil, "NOT_FOUND", "no such endpoint: "+r.Method+" "+r.URL.Path))
	})
	return mux
}

// Run delivers webhooks and processes imports until ctx is done, and
// returns once its workers have stopped. Deliveries and imports still
// queued stay queued (imports PENDING) for the next Run.
func (s *Server) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer s.running.Store(false)
	var wg sync.WaitGroup
	wg.Go(func() { s.runImports(ctx) })
	s.deliverLoop(ctx)
	wg.Wait()
	return nil
}

// mediaURL is the static URL of a Media Manager file.
func (s *Server) mediaURL(fileID string) string {
	return s.cfg.BaseURL + "/media/" + fileID
}

// timestamp formats t as Wix does, in UTC with milliseconds.
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
