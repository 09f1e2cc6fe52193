package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/flagenv"
	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/atproto"
	"gallerysync.dev/libs/platforms/mastodon"
	"gallerysync.dev/libs/platforms/pinterest"
	"gallerysync.dev/libs/telemetry"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/ingress/server"
	"gallerysync.dev/services/ingress/watch"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

const serviceName = "ingress"

// run wires telemetry, the bus, the mapping client, the platform watchers
// and the HTTP server, serves until ctx is done, then stops them in
// reverse: no new webhooks and no more watching first (the watchers release
// their leases), then the mapping connection, the bus (flushing acks), then
// telemetry (flushing spans), each bounded in time.
func run(ctx context.Context, args []string, getenv func(string) string) (err error) {
	fs := flag.NewFlagSet(serviceName, flag.ContinueOnError)
	telCfg := telemetry.Config{ServiceName: serviceName}
	var busCfg bus.Config
	var srvCfg server.Config
	var watchCfg watch.Config
	var hookCfg watch.HookConfig
	telCfg.RegisterFlags(fs)
	busCfg.RegisterFlags(fs)
	srvCfg.RegisterFlags(fs)
	watchCfg.RegisterFlags(fs)
	hookCfg.RegisterFlags(fs)
	if err := flagenv.Parse(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	hookCfg.MaxBodyBytes = srvCfg.MaxBodyBytes
	if err := errors.Join(telCfg.Validate(), busCfg.Validate(), srvCfg.Validate(), watchCfg.Validate(), hookCfg.Validate()); err != nil {
		return err
	}
	if hookCfg.Enabled() && srvCfg.MappingAddr == "" {
		return fmt.Errorf("%w: -mastodon-webhook-secret needs -mapping-addr", server.ErrConfig)
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
	var mapping gsv1.MappingServiceClient
	if srvCfg.MappingAddr != "" {
		// The client connects lazily: ingress starts, and serves, while the
		// mapping service is still down; checks then fail open.
		conn, err := grpc.NewClient(srvCfg.MappingAddr,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithStatsHandler(tel.GRPCClientHandler()))
		if err != nil {
			return fmt.Errorf("mapping client: %w", err)
		}
		defer func() { err = errors.Join(err, conn.Close()) }()
		mapping = gsv1.NewMappingServiceClient(conn)
		deps.Tenants = server.NewMappingTenants(mapping, server.DefaultTenantCacheTTL)
	} else {
		log.Warn("no -mapping-addr: events of removed tenants are accepted, platforms are not watched")
	}

	watchDeps := watch.Deps{
		Mapping:   mapping,
		Publisher: b,
		Adapters:  watchedPlatforms(log),
		Logger:    log,
		Meter:     tel.MeterProvider(),
	}
	if hookCfg.Enabled() {
		hook, err := watch.NewMastodonHook(hookCfg, watchDeps)
		if err != nil {
			return err
		}
		deps.Webhooks = map[string]http.Handler{watch.MastodonHookPath: hook}
	}
	var watcher *watch.Manager
	if watchCfg.Enabled && mapping != nil {
		if watcher, err = watch.New(watchCfg, watchDeps); err != nil {
			return err
		}
	}

	srv, err := server.New(srvCfg, deps)
	if err != nil {
		return err
	}
	// The watchers stop with ctx and release their leases before Run
	// returns; both finish before the deferred mapping, bus and telemetry
	// stops.
	var wg sync.WaitGroup
	var watchErr error
	if watcher != nil {
		wg.Go(func() { watchErr = watcher.Run(ctx) })
	}
	// Run returns only after the HTTP server stopped (bounded by its own
	// shutdown timeout).
	err = srv.Run(ctx)
	wg.Wait()
	log.Info("ingress stopped")
	return errors.Join(err, watchErr)
}

// watchedPlatforms are the adapters whose platforms are watched. An adapter
// only reads here (streams, listings), so it needs no media fetcher.
func watchedPlatforms(log *slog.Logger) map[string]platforms.Adapter {
	return map[string]platforms.Adapter{
		mastodon.Name:  mastodon.New(nil, mastodon.WithLogger(log)),
		pinterest.Name: pinterest.New(),
		// Watching only reads (listings, records): no media fetcher needed.
		atproto.Name: atproto.New(nil, atproto.WithLogger(log)),
	}
}
