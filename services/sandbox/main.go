// Command sandbox runs the Wix and Mastodon emulators on one listener with
// a seeded demo site, for local runs and end-to-end tests.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"gallerysync.dev/libs/flagenv"
	"gallerysync.dev/libs/telemetry"
	"gallerysync.dev/services/sandbox/sandbox"
)

const serviceName = "sandbox"

// telemetryStopTimeout bounds the final flush of spans and metrics.
const telemetryStopTimeout = 5 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run parses the flags, seeds the demo, prints where everything is served
// and serves until ctx is done; the sandbox stops before telemetry.
func run(ctx context.Context, args []string, getenv func(string) string) (err error) {
	fs := flag.NewFlagSet(serviceName, flag.ContinueOnError)
	telCfg := telemetry.Config{ServiceName: serviceName}
	var cfg sandbox.Config
	telCfg.RegisterFlags(fs)
	cfg.RegisterFlags(fs)
	if err := flagenv.Parse(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if err := errors.Join(telCfg.Validate(), cfg.Validate()); err != nil {
		return err
	}

	tel, err := telemetry.New(ctx, telCfg, os.Stderr)
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), telemetryStopTimeout)
		defer cancel()
		err = errors.Join(err, tel.Shutdown(stopCtx))
	}()
	log := tel.Logger()

	sb, err := sandbox.New(cfg, log)
	if err != nil {
		return err
	}
	demo, err := sb.Seed()
	if err != nil {
		return errors.Join(err, sb.Close())
	}
	announce(os.Stdout, sb, demo)
	log.Info("sandbox listening", "addr", sb.Addr(), "base_url", sb.BaseURL())
	err = sb.Run(ctx)
	log.Info("sandbox stopped")
	return err
}

// announce prints where the sandbox listens and the demo's ids; tokens and
// secrets are left to the README.
func announce(w io.Writer, sb *sandbox.Sandbox, demo sandbox.Demo) {
	fmt.Fprintf(w, "sandbox listening on %s (index at %s/)\n", sb.BaseURL(), sb.BaseURL())
	fmt.Fprintf(w, "  wix       %s%s   instanceId %s\n", sb.BaseURL(), sandbox.WixPrefix, demo.InstanceID)
	for _, g := range demo.Galleries {
		fmt.Fprintf(w, "            gallery %s %q, %d items\n", g.ID, g.Name, len(g.ItemIDs))
	}
	fmt.Fprintf(w, "  mastodon  %s   account %s @%s\n", demo.MastodonBaseURL, demo.MastodonAccountID, demo.MastodonUsername)
}
