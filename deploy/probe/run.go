package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"time"
)

// errUsage is wrapped by every problem with the command line.
var errUsage = errors.New("usage: probe [-timeout 2s] http://host:port/path | grpc://host:port[/service]")

// config is what the command line says.
type config struct {
	// Target is the URL to check.
	Target string
	// Timeout bounds the whole check, connection included.
	Timeout time.Duration
}

// registerFlags binds c to fs.
func (c *config) registerFlags(fs *flag.FlagSet) {
	fs.DurationVar(&c.Timeout, "timeout", 2*time.Second, "how long the check may take")
}

// validate reports the first problem with c.
func (c config) validate() error {
	if c.Timeout <= 0 {
		return fmt.Errorf("%w: -timeout %s is not positive", errUsage, c.Timeout)
	}
	u, err := url.Parse(c.Target)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: target %q is not an absolute URL", errUsage, c.Target)
	}
	if u.Scheme != "http" && u.Scheme != "grpc" {
		return fmt.Errorf("%w: target scheme %q: want http or grpc", errUsage, u.Scheme)
	}
	return nil
}

// run parses args and checks the target once.
func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg config
	cfg.registerFlags(fs)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() != 1 {
		return errUsage
	}
	cfg.Target = fs.Arg(0)
	if err := cfg.validate(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	u, _ := url.Parse(cfg.Target) // validated above
	if u.Scheme == "grpc" {
		return checkGRPC(ctx, u)
	}
	return checkHTTP(ctx, u)
}
