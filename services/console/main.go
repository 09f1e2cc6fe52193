// Command console serves the site owner's dashboard: the site's Pro
// Galleries, platform connections, sharing a gallery with live progress,
// links with per-item history and failed events with replay. Wix opens it
// with a signed instance that says which site (tenant) it acts for.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
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
