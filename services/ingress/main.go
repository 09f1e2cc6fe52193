// Command ingress receives Wix webhooks (and Mastodon admin webhooks),
// verifies and normalizes them, and publishes each as a ChangeEvent to NATS
// JetStream; it also runs the platform watchers (see package watch).
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
