package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/flagenv"
	"gallerysync.dev/libs/media"
	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/atproto"
	"gallerysync.dev/libs/platforms/pinterest"
	"gallerysync.dev/libs/telemetry"
	"gallerysync.dev/libs/throttle"
	"gallerysync.dev/libs/wix"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/console/server"
)

// serviceName is how this service reports itself in traces and logs.
const serviceName = "console"

// config is everything the process is configured with.
type config struct {
	Console   server.Config
	Bus       bus.Config
	Telemetry telemetry.Config
}

func (c *config) registerFlags(fs *flag.FlagSet) {
	c.Console.RegisterFlags(fs)
	c.Bus.RegisterFlags(fs)
	c.Telemetry.RegisterFlags(fs)
}

func (c config) validate() error {
	return errors.Join(c.Console.Validate(), c.Bus.Validate(), c.Telemetry.Validate())
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
	tel, err := telemetry.New(ctx, cfg.Telemetry, os.Stderr)
	if err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	log := tel.Logger()
	timeout := cfg.Console.ShutdownTimeout
	defer shutdown(log, "telemetry", timeout, tel.Shutdown)

	b, err := bus.Connect(ctx, cfg.Bus, bus.WithName(serviceName), bus.WithLogger(log),
		bus.WithTracerProvider(tel.TracerProvider()), bus.WithMeterProvider(tel.MeterProvider()))
	if err != nil {
		return fmt.Errorf("bus: %w", err)
	}
	defer shutdown(log, "bus", timeout, func(context.Context) error { return b.Close() })
	if err := b.EnsureStreams(ctx); err != nil {
		return fmt.Errorf("bus: %w", err)
	}

	conn, err := grpc.NewClient(cfg.Console.MappingAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(tel.GRPCClientHandler()))
	if err != nil {
		return fmt.Errorf("mapping client: %w", err)
	}
	defer shutdown(log, "mapping connection", timeout, func(context.Context) error { return conn.Close() })
	mc := gsv1.NewMappingServiceClient(conn)

	httpClient := &http.Client{Transport: tel.HTTPTransport(nil), Timeout: time.Minute}
	limit, period := throttle.Wix()
	wixClient, err := wix.NewClient(cfg.Console.Wix, wix.WithHTTPClient(httpClient), wix.WithLogger(log),
		wix.WithLimiter(throttle.NewShared(mc, throttle.BucketWix, limit, period)))
	if err != nil {
		return err
	}
	// Albums are made through the adapters; they fetch no media for it.
	noMedia := media.NewFetcher(nil)
	c, err := server.New(cfg.Console, server.Deps{
		Mapping: mc,
		Bus:     b,
		Wix:     wixClient,
		Albums: map[string]platforms.AlbumMaker{
			atproto.Name:   atproto.New(noMedia, atproto.WithHTTPClient(httpClient)),
			pinterest.Name: pinterest.New(pinterest.WithHTTPClient(httpClient)),
		},
		Logger:  log,
		Metrics: tel.MetricsHandler(),
	})
	if err != nil {
		return err
	}
	// Run returns once ctx is done and the server and runner stopped; the
	// deferred steps then close the mapping connection, the bus and
	// telemetry, in that order.
	return c.Run(ctx)
}

// shutdown runs one shutdown step with its own deadline and logs a failure.
func shutdown(log *slog.Logger, what string, timeout time.Duration, stop func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := stop(ctx); err != nil {
		log.Warn("shutdown", slog.String("component", what), slog.Any("error", err))
	}
}
