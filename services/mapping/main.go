// Command mapping serves gallerysync's MappingService: tenants, connections,
// links, item mappings, echo and dedup markers and item locks, kept in the
// embedded store or in Redis.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"

	"gallerysync.dev/libs/flagenv"
	"gallerysync.dev/libs/telemetry"
	"gallerysync.dev/services/mapping/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run parses flags (and GALLERYSYNC_* variables), serves until ctx is done,
// then stops the server before flushing telemetry.
func run(ctx context.Context, args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet("mapping", flag.ContinueOnError)
	var cfg server.Config
	cfg.RegisterFlags(fs)
	telCfg := telemetry.Config{ServiceName: "mapping"}
	telCfg.RegisterFlags(fs)
	if err := flagenv.Parse(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if err := errors.Join(cfg.Validate(), telCfg.Validate()); err != nil {
		return err
	}

	tel, err := telemetry.New(ctx, telCfg, os.Stderr)
	if err != nil {
		return err
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = tel.Shutdown(flushCtx)
	}()

	srv, err := server.New(ctx, cfg, tel.Logger(), grpc.StatsHandler(tel.GRPCServerHandler()))
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}
