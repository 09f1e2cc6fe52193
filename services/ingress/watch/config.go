package watch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.opentelemetry.io/otel/metric"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/platforms"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// ErrConfig is wrapped by every configuration problem.
var ErrConfig = errors.New("watch config")

// Defaults. A replica that dies is replaced within LeaseTTL + Interval.
const (
	DefaultInterval       = 5 * time.Second
	DefaultLeaseTTL       = 20 * time.Second
	DefaultReconcileEvery = 5 * time.Minute
)

// Config is how the watchers run.
type Config struct {
	// Enabled runs the watchers (the command turns them off when there is
	// no mapping service to ask).
	Enabled bool
	// Interval is how often the links are scanned for connections to watch.
	Interval time.Duration
	// LeaseTTL is the lease on one connection's watch; it is renewed every
	// third of it, and a watcher that cannot renew stops before it lapses.
	LeaseTTL time.Duration
	// ReconcileEvery is how often each watched album is listed and compared
	// with the mapping, to find changes no stream reported.
	ReconcileEvery time.Duration
	// Owner names this replica in leases; empty means host name plus a
	// random suffix, so a restarted replica is a new owner.
	Owner string
}

// RegisterFlags binds c to fs with the defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.BoolVar(&c.Enabled, "watch", true, "run the platform watchers (needs -mapping-addr)")
	fs.DurationVar(&c.Interval, "watch-interval", DefaultInterval, "how often links are scanned for connections to watch")
	fs.DurationVar(&c.LeaseTTL, "watch-lease-ttl", DefaultLeaseTTL, "lease on one connection's watch (renewed every third of it)")
	fs.DurationVar(&c.ReconcileEvery, "watch-reconcile-every", DefaultReconcileEvery, "how often watched albums are listed and compared with the mapping")
	fs.StringVar(&c.Owner, "watch-owner", "", "this replica's name in watch leases (default: host name and a random suffix)")
}

// Validate reports the first problem with c; zero durations take their
// defaults in New and are valid.
func (c Config) Validate() error {
	switch {
	case c.Interval < 0:
		return fmt.Errorf("%w: interval %s must not be negative", ErrConfig, c.Interval)
	case c.LeaseTTL < 0:
		return fmt.Errorf("%w: lease ttl %s must not be negative", ErrConfig, c.LeaseTTL)
	case c.LeaseTTL > 0 && c.LeaseTTL < 3*time.Millisecond:
		return fmt.Errorf("%w: lease ttl %s is too short to renew", ErrConfig, c.LeaseTTL)
	case c.ReconcileEvery < 0:
		return fmt.Errorf("%w: reconcile interval %s must not be negative", ErrConfig, c.ReconcileEvery)
	}
	return nil
}

// withDefaults fills in what was left zero.
func (c Config) withDefaults() (Config, error) {
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.ReconcileEvery == 0 {
		c.ReconcileEvery = DefaultReconcileEvery
	}
	if c.Owner == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "ingress"
		}
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			return c, fmt.Errorf("watch owner: %w", err)
		}
		c.Owner = host + "-" + hex.EncodeToString(b[:])
	}
	return c, nil
}

// Publisher stores change events on the bus; *bus.Bus is one.
type Publisher interface {
	// Publish returns once JetStream acknowledged the event.
	Publish(ctx context.Context, ev *gsv1.ChangeEvent) (bus.PublishResult, error)
}

// Deps are what the watchers read from and publish to. Mapping, Publisher
// and at least one adapter are required.
type Deps struct {
	Mapping   gsv1.MappingServiceClient
	Publisher Publisher
	// Adapters by platform name; those implementing platforms.Watcher are
	// watched, those implementing platforms.Lister are also reconciled.
	Adapters map[string]platforms.Adapter
	Logger   *slog.Logger
	Meter    metric.MeterProvider
}
