// Package sandbox is the top level of the emulators: one HTTP listener that
// serves the Wix emulator under /wix and the Mastodon emulator under
// /mastodon, seeds a demo site, and runs the Wix webhook worker.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"gallerysync.dev/services/sandbox/atprotosim"
	"gallerysync.dev/services/sandbox/mastodonsim"
	"gallerysync.dev/services/sandbox/pinterestsim"
	"gallerysync.dev/services/sandbox/wixsim"
)

// Path prefixes of the emulators.
const (
	WixPrefix      = "/wix"
	MastodonPrefix = "/mastodon"
	// PinterestPrefix is where the Pinterest emulator is served; its API
	// base (the connection's base URL) is PinterestPrefix + "/v5".
	PinterestPrefix = "/pinterest"
	// ATProtoPrefix is where the AT Protocol (PDS) emulator is served: a
	// connection's base URL, like a PDS's origin.
	ATProtoPrefix = "/atproto"
	publicKeyPath = "/wix-app-public-key.pem"
)

// shutdownTimeout bounds how long Run waits for open requests at the end.
// It is longer than the 5 s net/http gives a connection that was opened but
// never sent a request (a client's cancelled fetch leaves one behind):
// Shutdown counts such a connection as busy until then.
const shutdownTimeout = 10 * time.Second

// ErrRunning means Run was called twice.
var ErrRunning = errors.New("sandbox already running")

// Sandbox holds the listener and both emulators.
type Sandbox struct {
	cfg       Config
	log       *slog.Logger
	ln        net.Listener
	base      string
	publicKey []byte
	wix       *wixsim.Server
	mastodon  *mastodonsim.Server
	pinterest *pinterestsim.Server
	atproto   *atprotosim.Server
	clock     *seedClock
	handler   http.Handler
	started   atomic.Bool

	mu   sync.Mutex
	demo *Demo
}

// New checks cfg, loads or creates the signing key, binds the listener (so
// Addr works at once) and builds both emulators. Nothing is served until Run.
func New(cfg Config, logger *slog.Logger) (*Sandbox, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	key, err := loadOrCreateKey(cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("webhook signing key: %w", err)
	}
	pub, err := publicKeyPEM(key)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	base := "http://" + reachable(ln.Addr())
	wix, err := wixsim.New(wixsim.Config{
		AppID:              cfg.AppID,
		AppSecret:          cfg.AppSecret,
		SigningKey:         key,
		WebhookURL:         cfg.WebhookURL,
		BaseURL:            base + WixPrefix,
		RateLimitPerMinute: cfg.WixRateLimit,
		MediaReadyAfter:    cfg.MediaReadyAfter,
		Retry:              cfg.WixRetry,
		Logger:             logger.With("emulator", "wix"),
	})
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("wix emulator: %w", err)
	}
	limits := mastodonsim.DefaultLimits()
	pinLimits := pinterestsim.StandardLimits()
	atLimits := atprotosim.DefaultLimits()
	if cfg.MastodonLimits == LimitsUnlimited {
		limits = mastodonsim.Unlimited()
		pinLimits = nil
		atLimits = atprotosim.Unlimited()
	}
	clock := &seedClock{}
	s := &Sandbox{
		cfg:       cfg,
		log:       logger,
		ln:        ln,
		base:      base,
		publicKey: pub,
		wix:       wix,
		mastodon: mastodonsim.New(
			mastodonsim.WithBaseURL(base+MastodonPrefix),
			mastodonsim.WithLimits(limits),
			mastodonsim.WithClock(clock.Now),
		),
		pinterest: pinterestsim.New(pinterestsim.WithLimits(pinLimits...)),
		atproto:   atprotosim.New(atprotosim.WithLimits(atLimits)),
		clock:     clock,
	}
	s.handler = s.routes()
	return s, nil
}

// reachable turns a listen address into one a client can dial: an
// unspecified host (":0", "0.0.0.0") becomes loopback.
func reachable(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	ip := tcp.IP
	switch {
	case ip == nil || ip.IsUnspecified() && ip.To4() != nil:
		ip = net.IPv4(127, 0, 0, 1)
	case ip.IsUnspecified():
		ip = net.IPv6loopback
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}

func (s *Sandbox) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(WixPrefix+"/", http.StripPrefix(WixPrefix, s.wix.Handler()))
	mux.Handle(MastodonPrefix+"/", http.StripPrefix(MastodonPrefix, s.mastodon.Handler()))
	mux.Handle(PinterestPrefix+"/", http.StripPrefix(PinterestPrefix, s.pinterest.Handler()))
	mux.Handle(ATProtoPrefix+"/", http.StripPrefix(ATProtoPrefix, s.atproto.Handler()))
	mux.HandleFunc("GET "+publicKeyPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(s.publicKey)
	})
	mux.HandleFunc("GET /{$}", s.serveIndex)
	return mux
}

// Addr is the address the sandbox listens on.
func (s *Sandbox) Addr() string { return s.ln.Addr().String() }

// BaseURL is "http://<addr>", with loopback for an unspecified host.
func (s *Sandbox) BaseURL() string { return s.base }

// PublicKeyPEM is the PEM public key of the Wix app; ingress verifies the
// emulator's webhooks with it.
func (s *Sandbox) PublicKeyPEM() []byte { return append([]byte(nil), s.publicKey...) }

// Wix is the Wix emulator, for seeding and inspection.
func (s *Sandbox) Wix() *wixsim.Server { return s.wix }

// Mastodon is the Mastodon emulator, for seeding and inspection.
func (s *Sandbox) Mastodon() *mastodonsim.Server { return s.mastodon }

// Pinterest is the Pinterest emulator, for seeding and inspection.
func (s *Sandbox) Pinterest() *pinterestsim.Server { return s.pinterest }

// ATProto is the AT Protocol (PDS) emulator, for seeding and inspection.
func (s *Sandbox) ATProto() *atprotosim.Server { return s.atproto }

// Run serves HTTP and runs the Wix webhook and import workers until ctx is done, then
// shuts the HTTP server down (waiting at most a few seconds for open
// requests) and waits for the worker.
func (s *Sandbox) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return ErrRunning
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	// Streaming clients hold their requests open; Shutdown ends them so it
	// does not wait out its timeout.
	srv.RegisterOnShutdown(s.mastodon.DropStreams)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(s.ln) }()
	workerCtx, stopWorker := context.WithCancel(ctx)
	defer stopWorker()
	workerDone := make(chan error, 1)
	go func() { workerDone <- s.wix.Run(workerCtx) }()

	var err error
	served := false
	select {
	case <-ctx.Done():
	case serr := <-serveErr:
		served = true
		err = fmt.Errorf("serve: %w", serr)
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if shutErr := srv.Shutdown(sctx); shutErr != nil {
		_ = srv.Close()
		err = errors.Join(err, fmt.Errorf("shut down http: %w", shutErr))
	}
	if !served {
		if serr := <-serveErr; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, fmt.Errorf("serve: %w", serr))
		}
	}
	stopWorker()
	if werr := <-workerDone; werr != nil {
		err = errors.Join(err, fmt.Errorf("wix webhook worker: %w", werr))
	}
	return err
}

// Close releases the listener of a sandbox that was never run.
func (s *Sandbox) Close() error {
	if s.started.Load() {
		return nil
	}
	return s.ln.Close()
}
