package writer

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"
)

// ErrConfig is wrapped by every configuration problem.
var ErrConfig = errors.New("platform-writer config")

// Config is what an operator sets for one platform-writer deployment.
type Config struct {
	// Platform is the adapter this writer serves ("mastodon"); only links
	// whose connection is on this platform are written.
	Platform string
	// Durable names the bus consumer; empty means "platform-writer-<platform>".
	Durable string
	// MaxDeliver is how many deliveries an event gets before it is dead-lettered.
	MaxDeliver int
	// Concurrency is how many events are applied at once.
	Concurrency int
	// ShareConcurrency is how many items of share jobs are uploaded at once:
	// each waits mostly on the network, and the pacer, not the worker
	// count, keeps them under the platform's limits.
	ShareConcurrency int
	// Pace keeps writes under the adapter's documented rate limits, shared
	// across replicas. Off only against a platform without limits (a
	// sandbox emulator run unlimited).
	Pace bool
	// LockTTL is the lease on one item while it is written; a crashed
	// writer's lease frees itself after this long.
	LockTTL time.Duration
	// DedupTTL is how long a processed event id is remembered. Wix retries a
	// webhook for about 47 hours, far past JetStream's duplicate window.
	DedupTTL time.Duration
	// MediaAllowedHosts is the comma separated list of hosts media may be
	// fetched from (host or host:port).
	MediaAllowedHosts string
	// MappingAddr is the mapping service's gRPC address.
	MappingAddr string
	// ShutdownTimeout bounds how long in-flight events may take to finish
	// on shutdown before they are cancelled (and redelivered later).
	ShutdownTimeout time.Duration
}

// RegisterFlags binds c to fs with production defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Platform, "platform", "mastodon", "platform adapter this writer serves")
	fs.StringVar(&c.Durable, "durable", "", `bus consumer name (default "platform-writer-<platform>")`)
	fs.IntVar(&c.MaxDeliver, "max-deliver", 8, "deliveries of an event before it is dead-lettered")
	fs.IntVar(&c.Concurrency, "concurrency", 32, "events applied at once (each waits mostly on the network)")
	fs.IntVar(&c.ShareConcurrency, "share-concurrency", 32, "items of share jobs uploaded at once")
	fs.BoolVar(&c.Pace, "pace", true, "keep writes under the platform's documented rate limits (shared across replicas)")
	fs.DurationVar(&c.LockTTL, "lock-ttl", 30*time.Second, "lease on one item while it is written")
	fs.DurationVar(&c.DedupTTL, "dedup-ttl", 72*time.Hour, "how long processed event ids are remembered (Wix retries for ~47h)")
	fs.StringVar(&c.MediaAllowedHosts, "media-allowed-hosts", "static.wixstatic.com", "comma separated hosts (host or host:port) media may be fetched from")
	fs.StringVar(&c.MappingAddr, "mapping-addr", "127.0.0.1:9090", "mapping service gRPC address")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight events may finish on shutdown")
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	switch {
	case c.Platform == "" || !isToken(c.Platform):
		return fmt.Errorf("%w: platform %q must be a plain name", ErrConfig, c.Platform)
	case c.Durable != "" && !isToken(c.Durable):
		return fmt.Errorf("%w: durable %q must be one name without dots, wildcards or spaces", ErrConfig, c.Durable)
	case len(c.ShareDurable()) > 64:
		return fmt.Errorf("%w: durable %q is longer than %d bytes", ErrConfig, c.DurableName(), 64-len("-share"))
	case c.MaxDeliver < 1:
		return fmt.Errorf("%w: max deliver %d must be at least 1", ErrConfig, c.MaxDeliver)
	case c.Concurrency < 1:
		return fmt.Errorf("%w: concurrency %d must be at least 1", ErrConfig, c.Concurrency)
	case c.ShareConcurrency < 1:
		return fmt.Errorf("%w: share concurrency %d must be at least 1", ErrConfig, c.ShareConcurrency)
	case c.LockTTL < time.Second:
		return fmt.Errorf("%w: lock ttl %s must be at least 1s", ErrConfig, c.LockTTL)
	case c.DedupTTL <= 0:
		return fmt.Errorf("%w: dedup ttl %s must be positive", ErrConfig, c.DedupTTL)
	case len(c.AllowedHosts()) == 0:
		return fmt.Errorf("%w: no media allowed hosts", ErrConfig)
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
	return nil
}

// DurableName is the bus consumer name: Durable, or one per platform so
// that each platform's writers share one position in the stream.
func (c Config) DurableName() string {
	if c.Durable != "" {
		return c.Durable
	}
	return "platform-writer-" + c.Platform
}

// AllowedHosts splits MediaAllowedHosts.
func (c Config) AllowedHosts() []string {
	var out []string
	for _, h := range strings.Split(c.MediaAllowedHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return out
}

// isToken reports whether s can be one NATS subject token and a metric label.
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
