package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"gallerysync.dev/libs/platforms"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/console/auth"
	"gallerysync.dev/services/console/check"
	"gallerysync.dev/services/console/share"
	"gallerysync.dev/services/console/web"
)

// wixMediaOrigin serves the images of Wix sites.
const wixMediaOrigin = "https://static.wixstatic.com"

// Bus is what the console needs of the bus; *bus.Bus is the real one.
type Bus interface {
	share.Publisher
	web.DeadLetters
	// Ready reports whether the bus takes publishes.
	Ready() bool
}

// Wix is what the console needs of Wix; *wix.Client is the real one.
type Wix interface {
	share.Wix
	web.Galleries
}

// Deps are the console's collaborators.
type Deps struct {
	Mapping gsv1.MappingServiceClient
	Bus     Bus
	Wix     Wix
	// Albums make albums on the platforms that have them, by platform name.
	Albums map[string]platforms.AlbumMaker
	// Checkers verify new connections by platform name; nil means the
	// Mastodon, AT Protocol and Pinterest checks over plain net/http.
	Checkers map[string]check.Checker
	Logger   *slog.Logger
	// Metrics serves /metrics; nil serves nothing there.
	Metrics http.Handler
}

// Console is the running dashboard and share runner.
type Console struct {
	cfg    Config
	log    *slog.Logger
	ln     net.Listener
	srv    *http.Server
	runner *share.Runner
}

// New checks cfg and deps, builds the console and binds its listener, so
// Addr works at once. Nothing is served until Run.
func New(cfg Config, d Deps) (*Console, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Mapping == nil || d.Bus == nil || d.Wix == nil {
		return nil, fmt.Errorf("%w: mapping, bus and wix are required", ErrConfig)
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Checkers == nil {
		hc := check.NewHTTPClient(cfg.CheckTimeout, cfg.AllowPrivateHosts)
		d.Checkers = map[string]check.Checker{
			"mastodon": check.NewMastodon(hc), "atproto": check.NewATProto(hc), "pinterest": check.NewPinterest(hc),
		}
	}
	key, err := cfg.Key()
	if err != nil {
		return nil, err
	}
	sessions, err := auth.NewSessions(key, cfg.SessionTTL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	planner := share.NewPlanner(d.Mapping, d.Wix, d.Bus, d.Logger.With("component", "share-planner"))
	runner := share.NewRunner(d.Mapping, planner, d.Logger.With("component", "share-runner"), share.WithScanEvery(cfg.ShareScanEvery))
	h, err := web.New(web.Deps{
		Mapping:        d.Mapping,
		Galleries:      d.Wix,
		Failures:       d.Bus,
		Shares:         share.NewStarter(d.Mapping, d.Wix, d.Albums, runner),
		Checkers:       d.Checkers,
		Sessions:       sessions,
		AppSecret:      []byte(cfg.Wix.AppSecret),
		InstanceMaxAge: cfg.InstanceMaxAge,
		ImageOrigins:   []string{cfg.Wix.BaseURL, wixMediaOrigin},
		Logger:         d.Logger,
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	// Ready when the bus takes publishes: sharing and replays need it.
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !d.Bus.Ready() {
			http.Error(w, "bus not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	if d.Metrics != nil {
		mux.Handle("GET /metrics", d.Metrics)
	}
	mux.Handle("/", h)
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", cfg.HTTPAddr, err)
	}
	return &Console{
		cfg:    cfg,
		log:    d.Logger,
		ln:     ln,
		srv:    &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(d.Logger.Handler(), slog.LevelWarn)},
		runner: runner,
	}, nil
}

// Addr is the address the console listens on.
func (c *Console) Addr() string { return c.ln.Addr().String() }

// URL is the console's base URL.
func (c *Console) URL() string { return "http://" + c.Addr() }

// Run serves and plans shares until ctx is done, then shuts the server
// down (open requests get ShutdownTimeout) and waits for the runner.
func (c *Console) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	serveErr := make(chan error, 1)
	wg.Go(func() { serveErr <- c.srv.Serve(c.ln) })
	runCtx, stopRunner := context.WithCancel(ctx)
	wg.Go(func() { _ = c.runner.Run(runCtx) })
	c.log.Info("console listening", slog.String("url", c.URL()))

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("serve: %w", err)
	}
	stopRunner()
	sctx, cancel := context.WithTimeout(context.Background(), c.cfg.ShutdownTimeout)
	defer cancel()
	if serr := c.srv.Shutdown(sctx); serr != nil {
		_ = c.srv.Close()
		err = errors.Join(err, fmt.Errorf("shut down http: %w", serr))
	}
	wg.Wait()
	return err
}
