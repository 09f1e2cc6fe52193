// Package server is the HTTP front of ingress: it receives Wix webhooks,
// verifies and normalizes them, and answers 200 only once the resulting
// ChangeEvent is stored in JetStream, so Wix retries whatever was not.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/wix"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// instrumentationName names this package's tracer and meter.
const instrumentationName = "gallerysync.dev/services/ingress/server"

// HTTP server limits. Writes must outlast the publish timeout; the rest keep
// slow or idle clients from holding connections.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 15 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 64 << 10
)

// Publisher stores change events on the bus; *bus.Bus is one.
type Publisher interface {
	// Publish publishes the event and returns after JetStream acked it.
	Publish(ctx context.Context, ev *gsv1.ChangeEvent) (bus.PublishResult, error)
	// Ready reports whether publishing can work now.
	Ready() bool
}

// Deps are what the server reports through and publishes to. Only Publisher
// is required; a nil Metrics handler makes /metrics a 404.
type Deps struct {
	Publisher Publisher
	Logger    *slog.Logger
	Meter     metric.MeterProvider
	Tracer    trace.TracerProvider
	// Metrics is served at /metrics.
	Metrics http.Handler
	// Tenants, when set, makes the server refuse events of tenants whose
	// app was removed (see NewMappingTenants); nil accepts every tenant.
	Tenants TenantState
	// Webhooks are other receivers served beside Wix's, by path (e.g. the
	// platforms' webhooks at "/webhooks/mastodon"); each gets POST only
	// and does its own verification.
	Webhooks map[string]http.Handler
}

// Server is the ingress HTTP server.
type Server struct {
	cfg       Config
	verifier  *wix.Verifier
	normalize []wix.NormalizeOption
	pub       Publisher
	tenants   TenantState
	log       *slog.Logger
	tracer    trace.Tracer
	inst      instruments
	handler   http.Handler
	http      *http.Server
	ln        net.Listener
}

// New loads the Wix key and binds the listener, so Addr is valid at once and
// a port clash fails here rather than after start-up reported success.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Publisher == nil {
		return nil, fmt.Errorf("%w: no publisher", ErrConfig)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Meter == nil {
		deps.Meter = metricnoop.NewMeterProvider()
	}
	if deps.Tracer == nil {
		deps.Tracer = tracenoop.NewTracerProvider()
	}
	pemBytes, err := cfg.publicKeyPEM()
	if err != nil {
		return nil, err
	}
	key, err := wix.ParsePublicKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	inst, err := newInstruments(deps.Meter.Meter(instrumentationName))
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		verifier: wix.NewVerifier(key),
		pub:      deps.Publisher,
		tenants:  deps.Tenants,
		log:      deps.Logger,
		tracer:   deps.Tracer.Tracer(instrumentationName),
		inst:     inst,
	}
	if cfg.WixAppID != "" {
		s.normalize = append(s.normalize, wix.WithAppID(cfg.WixAppID))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/wix", s.handleWix)
	for path, h := range deps.Webhooks {
		if !strings.HasPrefix(path, "/") || path == "/webhooks/wix" || h == nil {
			return nil, fmt.Errorf("%w: webhook route %q", ErrConfig, path)
		}
		mux.Handle("POST "+path, h)
	}
	mux.HandleFunc("GET /healthz", handleHealth)
	mux.HandleFunc("GET /readyz", s.handleReady)
	if deps.Metrics != nil {
		mux.Handle("GET /metrics", deps.Metrics)
	}
	s.handler = mux

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", cfg.HTTPAddr, err)
	}
	s.ln = ln
	s.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(deps.Logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Addr is the address the server listens on, with the real port when ":0"
// was configured.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Handler is the server's routing, for embedding it in another server.
func (s *Server) Handler() http.Handler { return s.handler }

// Run serves until ctx is done, then stops gracefully within the shutdown
// timeout: requests in flight finish (and so get their ack) before it
// returns. It returns nil on a clean stop.
func (s *Server) Run(ctx context.Context) error {
	served := make(chan error, 1)
	go func() { served <- s.http.Serve(s.ln) }()
	s.log.Info("ingress listening", slog.String("addr", s.Addr()))

	select {
	case err := <-served:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve %s: %w", s.Addr(), err)
	case <-ctx.Done():
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.http.Shutdown(stopCtx)
	if err != nil {
		// Out of time: cut the connections still open.
		err = errors.Join(fmt.Errorf("shutdown: %w", err), s.http.Close())
	}
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("serve %s: %w", s.Addr(), serveErr))
	}
	return err
}

// Close releases the listener of a server whose Run was never called, and
// stops a running one at once without waiting for requests in flight.
func (s *Server) Close() error {
	err := s.http.Close()
	if lnErr := s.ln.Close(); lnErr != nil && !errors.Is(lnErr, net.ErrClosed) {
		err = errors.Join(err, lnErr)
	}
	return err
}

func handleHealth(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok")
}

func (s *Server) handleReady(w http.ResponseWriter, _ *http.Request) {
	if !s.pub.Ready() {
		writeText(w, http.StatusServiceUnavailable, "bus not ready")
		return
	}
	writeText(w, http.StatusOK, "ready")
}

func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text + "\n"))
}
