// Command platform-writer applies Wix gallery changes to one external
// platform (chosen with -platform): it consumes Wix-origin change events from
// JetStream and writes them through the platform's adapter, keeping its
// records in the mapping service.
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
