// Command probe tells a container engine whether a gallerysync service is
// healthy. The images carry no shell and no curl, so their compose health
// checks run this instead. It exits 0 when the target answers healthy and 1
// otherwise, with the reason on stderr:
//
//	probe http://127.0.0.1:8080/readyz        GET; healthy on a 2xx answer
//	probe grpc://127.0.0.1:9090               grpc.health.v1 Check of the whole server
//	probe grpc://127.0.0.1:9090/<service>     the same for one gRPC service
//
// Kubernetes does not need it: its httpGet and grpc probes do the same.
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
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
