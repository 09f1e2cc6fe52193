// Package stack wires every gallerysync service into one process for local
// runs and end-to-end tests: an embedded NATS JetStream server, the mapping
// service, the sandbox with a seeded demo site, a platform-writer per adapter
// and the ingress, all talking over real sockets as they do when deployed apart.
package stack

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"gallerysync.dev/libs/telemetry"
)

// Config is the single-process runner's configuration. Each service keeps its
// own config; this one only chooses addresses and storage for all of them.
type Config struct {
	// DataDir holds the embedded stores (NATS, mapping) and demo.json.
	DataDir string
	// NATSAddr is where the embedded NATS server listens (not 4222, which a
	// system NATS may hold). Ignored when NATSURL is set.
	NATSAddr string
	// NATSURL uses an external NATS server instead of the embedded one.
	NATSURL      string
	IngressAddr  string
	ConsoleAddr  string // the console (dashboard) HTTP address; empty: no console
	MappingAddr  string
	SandboxAddr  string
	MappingStore string
	RedisAddr    string
	// SecretKey seals connection credentials (base64, 32 bytes); generated
	// into DataDir when empty.
	SecretKey string
	// MastodonLimits is "documented" (the real defaults) or "unlimited".
	MastodonLimits  string
	ShutdownTimeout time.Duration
	Telemetry       telemetry.Config
	// WixRetry is the sandbox's webhook resend schedule (nil: Wix's own);
	// tests compress it. Not a flag: a person running the demo wants Wix's.
	WixRetry []time.Duration
}

// RegisterFlags registers the runner's flags.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", ".data", "folder for the embedded stores and demo.json")
	fs.StringVar(&c.NATSAddr, "nats-addr", "127.0.0.1:4223", "listen address of the embedded NATS JetStream server")
	fs.StringVar(&c.NATSURL, "nats-url", "", "use this NATS server instead of the embedded one")
	fs.StringVar(&c.IngressAddr, "ingress-addr", "127.0.0.1:8080", "ingress HTTP listen address")
	fs.StringVar(&c.ConsoleAddr, "console-addr", "127.0.0.1:8081", "console (dashboard) HTTP listen address; empty runs no console")
	fs.StringVar(&c.MappingAddr, "mapping-addr", "127.0.0.1:9090", "mapping gRPC listen address")
	fs.StringVar(&c.SandboxAddr, "sandbox-addr", "127.0.0.1:8090", "sandbox HTTP listen address (Wix under /wix, Mastodon under /mastodon)")
	fs.StringVar(&c.MappingStore, "mapping-store", "embedded", `mapping store: "embedded" (under data-dir) or "redis"`)
	fs.StringVar(&c.RedisAddr, "redis-addr", "127.0.0.1:6379", "Redis address when mapping-store is redis")
	fs.StringVar(&c.SecretKey, "secret-key", "", "base64 key (32 bytes) sealing platform credentials; generated into data-dir when empty")
	fs.StringVar(&c.MastodonLimits, "mastodon-limits", "documented", `sandbox Mastodon rate limits: "documented" or "unlimited"`)
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long each component may take to stop")
	c.Telemetry.RegisterFlags(fs)
}

// Validate reports a configuration that cannot run.
func (c Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data-dir is required"))
	}
	if c.NATSURL == "" && c.NATSAddr == "" {
		errs = append(errs, errors.New("nats-addr or nats-url is required"))
	}
	switch c.MappingStore {
	case "embedded", "redis":
	default:
		errs = append(errs, fmt.Errorf("mapping-store %q: want embedded or redis", c.MappingStore))
	}
	switch c.MastodonLimits {
	case "documented", "unlimited":
	default:
		errs = append(errs, fmt.Errorf("mastodon-limits %q: want documented or unlimited", c.MastodonLimits))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("shutdown-timeout must be positive"))
	}
	if err := c.Telemetry.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
