// Command wix-writer applies changes seen on external platforms to the
// linked Wix Pro Galleries: it consumes platform-origin change events from
// JetStream, imports their media into the Wix Media Manager and creates,
// updates or deletes the gallery items, keeping its records in the mapping
// service. It also carries app installs and removals to the tenant record.
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
