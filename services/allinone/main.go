// Command allinone runs every gallerysync service in one process with the
// sandbox and a seeded demo site: the `make run` experience.
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

	"gallerysync.dev/libs/flagenv"
	"gallerysync.dev/services/allinone/stack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, out, logOut io.Writer) error {
	var cfg stack.Config
	fs := flag.NewFlagSet("gallerysync", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := flagenv.Parse(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	s, err := stack.Start(ctx, cfg, logOut)
	if err != nil {
		return err
	}
	printBanner(out, s.Demo())
	waitErr := s.Wait(ctx)
	fmt.Fprintln(out, "stopping")
	return errors.Join(waitErr, s.Stop())
}

func printBanner(w io.Writer, d stack.Demo) {
	fmt.Fprintf(w, `gallerysync is running (Ctrl-C stops it)

  dashboard        %s
    open it as the site owner (as from the Wix dashboard):
    %s
  ingress          %s/webhooks/wix   (/healthz /readyz /metrics)
  mapping (gRPC)   %s
  NATS JetStream   %s
  sandbox          %s
    Wix API        %s/wix            (same paths as www.wixapis.com)
    Mastodon API   %s
    Pinterest API  %s
    AT Protocol    %s

demo site
  instance id      %s
  linked gallery   %s  <->  #%s on @%s
  other gallery    %s  (link it from the dashboard)
  site-owner token POST %s/wix/_sandbox/owner-token {"instanceId":"%s"}
  accounts and tokens: %s

check it with: make smoke
`, d.ConsoleURL, d.DashboardURL, d.IngressURL, d.MappingAddr, d.NATSURL,
		d.SandboxURL, d.SandboxURL, d.MastodonBaseURL, d.PinterestBaseURL, d.ATProtoBaseURL,
		d.InstanceID, d.LinkedGalleryID, d.Hashtag, d.MastodonUsername, d.OtherGalleryID,
		d.SandboxURL, d.InstanceID, "demo.json in the data dir")
}
