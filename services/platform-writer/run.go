package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/flagenv"
	"gallerysync.dev/libs/media"
	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/atproto"
	"gallerysync.dev/libs/platforms/mastodon"
	"gallerysync.dev/libs/platforms/pinterest"
	"gallerysync.dev/libs/telemetry"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/platform-writer/writer"
)

// serviceName is how this service reports itself in traces and logs.
const serviceName = "platform-writer"

// config is everything the process is configured with.
type config struct {
	Writer    writer.Config
	Bus       bus.Config
	Telemetry telemetry.Config
	// HTTPAddr serves /healthz, /readyz and /metrics.
	HTTPAddr string
}

// registerFlags binds c to fs.
func (c *config) registerFlags(fs *flag.FlagSet) {
	c.Writer.RegisterFlags(fs)
	c.Bus.RegisterFlags(fs)
	c.Telemetry.RegisterFlags(fs)
	fs.StringVar(&c.HTTPAddr, "http-addr", "127.0.0.1:8082", "address of the /healthz, /readyz and /metrics server")
}

// validate reports the first problem with c.
func (c config) validate() error {
	if err := c.Writer.Validate(); err != nil {
		return err
	}
	if err := c.Bus.Validate(); err != nil {
		return err
	}
	if err := c.Telemetry.Validate(); err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		return fmt.Errorf("http addr %q: %w", c.HTTPAddr, err)
	}
	return nil
}

// newAdapter builds the adapter -platform names.
func newAdapter(platform string, fetcher *media.Fetcher) (platforms.Adapter, error) {
	switch platform {
	case mastodon.Name:
		return mastodon.New(fetcher), nil
	case pinterest.Name:
		// Pinterest fetches the media from its URL itself.
		return pinterest.New(), nil
	case atproto.Name:
		return atproto.New(fetcher), nil
	default:
		return nil, fmt.Errorf("%w: unknown -platform %q (known: %s, %s, %s)", writer.ErrConfig, platform,
			mastodon.Name, pinterest.Name, atproto.Name)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string) error {
	cfg := config{Telemetry: telemetry.Config{ServiceName: serviceName}}
	fs := flag.NewFlagSet(serviceName, flag.ContinueOnError)
	cfg.registerFlags(fs)
	if err := flagenv.Parse(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // the usage was printed; asking for it is not a failure
		}
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	fetcher := media.NewFetcher(cfg.Writer.AllowedHosts())
	adapter, err := newAdapter(cfg.Writer.Platform, fetcher)
	if err != nil {
		return err
	}

	tel, err := telemetry.New(ctx, cfg.Telemetry, os.Stderr)
	if err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	log := tel.Logger()
	defer shutdown(log, "telemetry", cfg.Writer.ShutdownTimeout, tel.Shutdown)

	b, err := bus.Connect(ctx, cfg.Bus,
		bus.WithName(serviceName+"-"+cfg.Writer.Platform),
		bus.WithLogger(log),
		bus.WithTracerProvider(tel.TracerProvider()),
		bus.WithMeterProvider(tel.MeterProvider()))
	if err != nil {
		return fmt.Errorf("bus: %w", err)
	}
	defer shutdown(log, "bus", cfg.Writer.ShutdownTimeout, func(context.Context) error { return b.Close() })
	if err := b.EnsureStreams(ctx); err != nil {
		return fmt.Errorf("bus: %w", err)
	}

	conn, err := grpc.NewClient(cfg.Writer.MappingAddr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(
			otelgrpc.WithTracerProvider(tel.TracerProvider()),
			otelgrpc.WithMeterProvider(tel.MeterProvider()))))
	if err != nil {
		return fmt.Errorf("mapping client: %w", err)
	}
	defer shutdown(log, "mapping connection", cfg.Writer.ShutdownTimeout, func(context.Context) error { return conn.Close() })

	w, err := writer.New(cfg.Writer, writer.Deps{
		Bus:     b,
		Mapping: gsv1.NewMappingServiceClient(conn),
		Adapter: adapter,
		Logger:  log,
		Meter:   tel.MeterProvider(),
		Tracer:  tel.TracerProvider(),
	})
	if err != nil {
		return err
	}

	// Ready when the bus is connected: without it no event arrives.
	srv, err := telemetry.StartOpsServer(cfg.HTTPAddr, b.Ready, tel.MetricsHandler(), log)
	if err != nil {
		return err
	}
	defer shutdown(log, "http server", cfg.Writer.ShutdownTimeout, srv.Stop)

	// Run returns once ctx is done and the consumer has stopped; the
	// deferred steps then close the HTTP server, the mapping connection,
	// the bus and telemetry, in that order.
	return w.Run(ctx)
}

// shutdown runs one shutdown step with its own deadline and logs a failure.
func shutdown(log *slog.Logger, what string, timeout time.Duration, stop func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := stop(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("shutdown", slog.String("component", what), slog.Any("error", err))
	}
}
