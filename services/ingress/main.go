// Command ingress receives Wix webhooks, verifies and normalizes them, and
// publishes each as a ChangeEvent to NATS JetStream.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/flagenv"
	"gallerysync.dev/libs/telemetry"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/ingress/server"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

const serviceName = "ingress"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run wires telemetry, the bus, the mapping client and the HTTP server,
// serves until ctx is done, then stops them in reverse: no new webhooks
// first, then the mapping connection, the bus (flushing acks), then telemetry
// (flushing spans), each bounded in time.
func run(ctx context.Context, args []string, getenv func(string) string) (err error) {
	fs := flag.NewFlagSet(serviceName, flag.ContinueOnError)
	telCfg := telemetry.Config{ServiceName: serviceName}
	var busCfg bus.Config
	var srvCfg server.Config
	telCfg.RegisterFlags(fs)
	busCfg.RegisterFlags(fs)
	srvCfg.RegisterFlags(fs)
	if err := flagenv.Parse(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if err := errors.Join(telCfg.Validate(), busCfg.Validate(), srvCfg.Validate()); err != nil {
		return err
	}

	tel, err := telemetry.New(ctx, telCfg, os.Stderr)
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), srvCfg.ShutdownTimeout)
		defer cancel()
		err = errors.Join(err, tel.Shutdown(stopCtx))
	}()
	log := tel.Logger()

	b, err := bus.Connect(ctx, busCfg,
		bus.WithName(serviceName),
		bus.WithLogger(log),
		bus.WithTracerProvider(tel.TracerProvider()),
		bus.WithMeterProvider(tel.MeterProvider()),
	)
	if err != nil {
		return err
	}
	// Close drains: acks in flight are flushed. It takes no context; the NATS
	// client bounds the drain with its drain timeout.
	defer func() { err = errors.Join(err, b.Close()) }()
	if err := b.EnsureStreams(ctx); err != nil {
		return err
	}

	deps := server.Deps{
		Publisher: b,
		Logger:    log,
		Meter:     tel.MeterProvider(),
		Tracer:    tel.TracerProvider(),
		Metrics:   tel.MetricsHandler(),
	}
	if srvCfg.MappingAddr != "" {
		// The client connects lazily: ingress starts, and serves, while the
		// mapping service is still down; checks then fail open.
		conn, err := grpc.NewClient(srvCfg.MappingAddr,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithStatsHandler(otelgrpc.NewClientHandler(
				otelgrpc.WithTracerProvider(tel.TracerProvider()),
				otelgrpc.WithMeterProvider(tel.MeterProvider()),
				otelgrpc.WithPropagators(tel.Propagator()))))
		if err != nil {
			return fmt.Errorf("mapping client: %w", err)
		}
		defer func() { err = errors.Join(err, conn.Close()) }()
		deps.Tenants = server.NewMappingTenants(gsv1.NewMappingServiceClient(conn), server.DefaultTenantCacheTTL)
	} else {
		log.Warn("no -mapping-addr: events of removed tenants are accepted")
	}

	srv, err := server.New(srvCfg, deps)
	if err != nil {
		return err
	}
	// Run returns only after the HTTP server stopped (bounded by its own
	// shutdown timeout), so the deferred bus and telemetry stops come after.
	err = srv.Run(ctx)
	log.Info("ingress stopped")
	return err
}
