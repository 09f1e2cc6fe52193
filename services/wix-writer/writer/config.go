package writer

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"gallerysync.dev/libs/wix"
)

// ErrConfig is wrapped by every configuration problem.
var ErrConfig = errors.New("wix-writer config")

// Config is what an operator sets for the wix-writer deployment.
type Config struct {
	// Durable names the bus consumer of platform changes; the app lifecycle
	// consumer is Durable + "-lifecycle".
	Durable string
	// MaxDeliver is how many deliveries an event gets before it is dead-lettered.
	MaxDeliver int
	// Concurrency is how many events are applied at once.
	Concurrency int
	// LockTTL is the lease on one item while it is written; a crashed
	// writer's lease frees itself after this long.
	LockTTL time.Duration
	// DedupTTL is how long a processed event id is remembered.
	DedupTTL time.Duration
	// IntentTTL is how long a pending Wix create stays reconcilable after a
	// crash; a retry or a replay within it cannot make a second Wix item.
	IntentTTL time.Duration
	// MediaAllowedHosts is the comma separated list of hosts (host or
	// host:port) Wix may be asked to import media from. Wix fetches the
	// media itself, but only URLs on these hosts are handed to it, so an
	// event cannot turn Wix into a proxy for arbitrary addresses.
	MediaAllowedHosts string
	// MappingAddr is the mapping service's gRPC address.
	MappingAddr string
	// ShutdownTimeout bounds how long in-flight events may take to finish
	// on shutdown before they are cancelled (and redelivered later).
	ShutdownTimeout time.Duration
	// Wix is how the Wix REST API is reached; run builds the client from it.
	Wix wix.ClientConfig
}

// RegisterFlags binds c to fs with production defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Durable, "durable", "wix-writer", `bus consumer name (the lifecycle consumer is "<durable>-lifecycle")`)
	fs.IntVar(&c.MaxDeliver, "max-deliver", 8, "deliveries of an event before it is dead-lettered")
	fs.IntVar(&c.Concurrency, "concurrency", 8, "events applied at once")
	fs.DurationVar(&c.LockTTL, "lock-ttl", 30*time.Second, "lease on one item while it is written")
	fs.DurationVar(&c.DedupTTL, "dedup-ttl", 72*time.Hour, "how long processed event ids are remembered")
	fs.DurationVar(&c.IntentTTL, "intent-ttl", 24*time.Hour, "how long a pending Wix create stays reconcilable")
	fs.StringVar(&c.MediaAllowedHosts, "media-allowed-hosts", "", "comma separated platform media hosts (host or host:port) Wix may import from")
	fs.StringVar(&c.MappingAddr, "mapping-addr", "127.0.0.1:9090", "mapping service gRPC address")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight events may finish on shutdown")
	c.Wix.RegisterFlags(fs)
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	switch {
	case !isToken(c.Durable):
		return fmt.Errorf("%w: durable %q must be one name without dots, wildcards or spaces", ErrConfig, c.Durable)
	case len(c.LifecycleDurable()) > 64:
		return fmt.Errorf("%w: durable %q is too long (at most %d bytes)", ErrConfig, c.Durable, 64-len(lifecycleSuffix))
	case c.MaxDeliver < 1:
		return fmt.Errorf("%w: max deliver %d must be at least 1", ErrConfig, c.MaxDeliver)
	case c.Concurrency < 1:
		return fmt.Errorf("%w: concurrency %d must be at least 1", ErrConfig, c.Concurrency)
	case c.LockTTL < time.Second:
		return fmt.Errorf("%w: lock ttl %s must be at least 1s", ErrConfig, c.LockTTL)
	case c.DedupTTL <= 0:
		return fmt.Errorf("%w: dedup ttl %s must be positive", ErrConfig, c.DedupTTL)
	case c.IntentTTL < time.Minute:
		return fmt.Errorf("%w: intent ttl %s must be at least 1m", ErrConfig, c.IntentTTL)
	case len(c.AllowedHosts()) == 0:
		return fmt.Errorf("%w: no media allowed hosts (-media-allowed-hosts)", ErrConfig)
	case c.MappingAddr == "":
		return fmt.Errorf("%w: no mapping address", ErrConfig)
	case c.ShutdownTimeout <= 0:
		return fmt.Errorf("%w: shutdown timeout %s must be positive", ErrConfig, c.ShutdownTimeout)
	}
	for _, h := range c.AllowedHosts() {
		if strings.ContainsAny(h, "/ @?#") {
			return fmt.Errorf("%w: media allowed host %q must be host or host:port", ErrConfig, h)
		}
	}
	if err := c.Wix.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}

// lifecycleSuffix names the app lifecycle consumer after the main one.
const lifecycleSuffix = "-lifecycle"

// LifecycleDurable is the bus consumer name of app lifecycle events.
func (c Config) LifecycleDurable() string { return c.Durable + lifecycleSuffix }

// AllowedHosts splits MediaAllowedHosts, lower-cased.
func (c Config) AllowedHosts() []string {
	var out []string
	for _, h := range strings.Split(c.MediaAllowedHosts, ",") {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			out = append(out, h)
		}
	}
	return out
}

// isToken reports whether s can be one NATS subject token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r > '~' || strings.ContainsRune(".*>", r) {
			return false
		}
	}
	return true
}
