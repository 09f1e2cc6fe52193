package stack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/telemetry"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	ingress "gallerysync.dev/services/ingress/server"
	mapping "gallerysync.dev/services/mapping/server"
	"gallerysync.dev/services/sandbox/sandbox"
)

// Stack is every service running in this process.
type Stack struct {
	cfg     Config
	tel     *telemetry.Telemetry
	logger  *slog.Logger
	group   *group
	nats    *server.Server
	bus     *bus.Bus
	conn    *grpc.ClientConn
	sandbox *sandbox.Sandbox
	demo    Demo
}

// Start brings every service up, seeds the demo site and returns once all of
// them listen. Stop must be called whatever Wait returned.
func Start(ctx context.Context, cfg Config, logOut io.Writer, opts ...telemetry.Option) (*Stack, error) {
	if cfg.Telemetry.ServiceName == "" {
		cfg.Telemetry.ServiceName = "gallerysync"
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	tel, err := telemetry.New(ctx, cfg.Telemetry, logOut, opts...)
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	s := &Stack{cfg: cfg, tel: tel, logger: tel.Logger()}
	s.group = newGroup(s.logger)
	if err := s.start(ctx); err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	return s, nil
}

func (s *Stack) start(ctx context.Context) error {
	cfg := s.cfg
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	secret, err := secretKey(cfg)
	if err != nil {
		return err
	}

	natsURL := cfg.NATSURL
	if natsURL == "" {
		if s.nats, err = startNATS(cfg.NATSAddr, filepath.Join(cfg.DataDir, "nats")); err != nil {
			return err
		}
		natsURL = s.nats.ClientURL()
	}

	sbCfg := sandbox.Config{
		Addr:           cfg.SandboxAddr,
		WebhookURL:     "http://" + cfg.IngressAddr + "/webhooks/wix",
		AppID:          "gallerysync-demo-app",
		AppSecret:      "demo-secret",
		KeyFile:        filepath.Join(cfg.DataDir, "wix-app-key.pem"),
		MastodonLimits: cfg.MastodonLimits,
		WixRateLimit:   200,
		// Imports are PENDING first, as on Wix, so the writers' waiting is exercised.
		MediaReadyAfter: 300 * time.Millisecond,
		WixRetry:        cfg.WixRetry,
	}
	if s.sandbox, err = sandbox.New(sbCfg, s.logger.With("component", "sandbox")); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	seed, err := s.sandbox.Seed()
	if err != nil {
		return fmt.Errorf("seed sandbox: %w", err)
	}
	s.group.start(ctx, "sandbox", s.sandbox.Run)

	mappingSrv, err := mapping.New(ctx, mapping.Config{
		GRPCAddr:        cfg.MappingAddr,
		Store:           cfg.MappingStore,
		DataDir:         filepath.Join(cfg.DataDir, "mapping"),
		RedisAddr:       cfg.RedisAddr,
		SecretKey:       secret,
		ShutdownTimeout: cfg.ShutdownTimeout,
	}, s.logger.With("component", "mapping"), grpc.StatsHandler(s.tel.GRPCServerHandler()))
	if err != nil {
		return fmt.Errorf("mapping: %w", err)
	}
	s.group.start(ctx, "mapping", mappingSrv.Run)
	if s.conn, err = grpc.NewClient(mappingSrv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(s.tel.GRPCClientHandler())); err != nil {
		return fmt.Errorf("mapping client: %w", err)
	}
	mappingClient := gsv1.NewMappingServiceClient(s.conn)
	if s.demo, err = seedMapping(ctx, mappingClient, seed); err != nil {
		return err
	}

	if s.bus, err = bus.Connect(ctx, bus.Config{
		URL:             natsURL,
		PublishTimeout:  5 * time.Second,
		Replicas:        1,
		DuplicateWindow: 2 * time.Minute,
	}, bus.WithName("gallerysync"), bus.WithLogger(s.logger.With("component", "bus")),
		bus.WithTracerProvider(s.tel.TracerProvider()), bus.WithMeterProvider(s.tel.MeterProvider())); err != nil {
		return fmt.Errorf("bus: %w", err)
	}
	if err := s.bus.EnsureStreams(ctx); err != nil {
		return fmt.Errorf("bus streams: %w", err)
	}

	sandboxHost := strings.TrimPrefix(s.sandbox.BaseURL(), "http://")
	// Every call to a remote API is a client span of the change's trace.
	httpClient := &http.Client{Transport: s.tel.HTTPTransport(nil), Timeout: time.Minute}
	if err := s.startPlatformWriters(ctx, mappingClient, sandboxHost, httpClient); err != nil {
		return err
	}

	if err := s.startWixWriter(ctx, mappingClient, sandboxHost, httpClient, seed); err != nil {
		return err
	}
	if err := s.startWatchers(ctx, mappingClient, httpClient); err != nil {
		return err
	}

	ing, err := ingress.New(ingress.Config{
		HTTPAddr:        cfg.IngressAddr,
		MaxBodyBytes:    1 << 20,
		WixPublicKey:    string(s.sandbox.PublicKeyPEM()),
		WixAppID:        seed.AppID,
		PublishTimeout:  time.Second,
		ShutdownTimeout: cfg.ShutdownTimeout,
	}, ingress.Deps{
		Publisher: s.bus,
		Tenants:   ingress.NewMappingTenants(mappingClient, ingress.DefaultTenantCacheTTL),
		Logger:    s.logger.With("component", "ingress"),
		Meter:     s.tel.MeterProvider(),
		Tracer:    s.tel.TracerProvider(),
		Metrics:   s.tel.MetricsHandler(),
	})
	if err != nil {
		return fmt.Errorf("ingress: %w", err)
	}
	s.group.start(ctx, "ingress", ing.Run)

	s.demo.SandboxURL = s.sandbox.BaseURL()
	s.demo.IngressURL = "http://" + ing.Addr()
	s.demo.MappingAddr = mappingSrv.Addr()
	s.demo.NATSURL = natsURL
	if err := s.startConsole(ctx, mappingClient); err != nil {
		return err
	}
	return writeDemo(filepath.Join(cfg.DataDir, "demo.json"), s.demo)
}

// Demo says where everything runs and how to act on the demo site.
func (s *Stack) Demo() Demo { return s.demo }

// Sandbox is the emulated Wix and Mastodon, for tests that inspect them.
func (s *Stack) Sandbox() *sandbox.Sandbox { return s.sandbox }

// Logger is the stack's logger.
func (s *Stack) Logger() *slog.Logger { return s.logger }

// Wait blocks until ctx is done or a service fails.
func (s *Stack) Wait(ctx context.Context) error { return s.group.wait(ctx) }

// Stop shuts down in order: intake first (ingress), then the consumers, the
// mapping service and the sandbox, then the bus, NATS and telemetry.
func (s *Stack) Stop() error {
	errs := []error{s.group.stop(s.cfg.ShutdownTimeout)}
	if s.conn != nil {
		errs = append(errs, s.conn.Close())
		s.conn = nil
	}
	if s.bus != nil {
		errs = append(errs, s.bus.Close())
		s.bus = nil
	}
	if s.nats != nil {
		s.nats.Shutdown()
		s.nats.WaitForShutdown()
		s.nats = nil
	}
	if s.tel != nil {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		errs = append(errs, s.tel.Shutdown(ctx))
		cancel()
		s.tel = nil
	}
	return errors.Join(errs...)
}

// secretKey returns the configured sealing key, or the one kept in the data
// dir (made on first start), so credentials stay readable across restarts.
func secretKey(cfg Config) (string, error) {
	if cfg.SecretKey != "" {
		return cfg.SecretKey, nil
	}
	path := filepath.Join(cfg.DataDir, "secret.key")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read secret key: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("make secret key: %w", err)
	}
	key := base64.StdEncoding.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write secret key: %w", err)
	}
	return key, nil
}

func writeDemo(path string, d Demo) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the links stay readable and clickable
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return fmt.Errorf("encode demo: %w", err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write demo: %w", err)
	}
	return nil
}

// Bus is the stack's connection to JetStream, for tests that publish as a
// platform watcher would.
func (s *Stack) Bus() *bus.Bus { return s.bus }

// Mapping is a client of the stack's mapping service, for tests.
func (s *Stack) Mapping() gsv1.MappingServiceClient { return gsv1.NewMappingServiceClient(s.conn) }
