// Package server runs the console: the dashboard and its API over HTTP,
// next to /healthz, /readyz and /metrics, and the share runner that plans
// share jobs in the background.
package server

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net"
	"time"

	"gallerysync.dev/libs/wix"
	"gallerysync.dev/services/console/auth"
	"gallerysync.dev/services/console/share"
)

// ErrConfig is wrapped by every configuration problem.
var ErrConfig = errors.New("console config")

// Config is the console's configuration.
type Config struct {
	// HTTPAddr serves the dashboard, its API and the health endpoints.
	HTTPAddr string
	// MappingAddr is the mapping service (gRPC).
	MappingAddr string
	// SessionKey signs session cookies: base64 of 32 random bytes. Every
	// replica needs the same key.
	SessionKey string
	// SessionTTL is how long a session lasts after the owner opened the page.
	SessionTTL time.Duration
	// InstanceMaxAge is how old the signed instance of the dashboard URL may be.
	InstanceMaxAge time.Duration
	// CheckTimeout bounds the call that checks new credentials.
	CheckTimeout time.Duration
	// AllowPrivateHosts lets credential checks reach loopback and private
	// addresses: for local runs against the sandbox, never in production.
	AllowPrivateHosts bool
	// ShareScanEvery is how often PLANNING jobs nobody plans are looked for.
	ShareScanEvery  time.Duration
	ShutdownTimeout time.Duration
	// Wix is where Wix is and the app's credentials; the app secret also
	// verifies the signed instance.
	Wix wix.ClientConfig
}

// RegisterFlags binds c to fs with its defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.HTTPAddr, "http-addr", "127.0.0.1:8081", "dashboard, API, /healthz, /readyz and /metrics listen address")
	fs.StringVar(&c.MappingAddr, "mapping-addr", "127.0.0.1:9090", "mapping service gRPC address")
	fs.StringVar(&c.SessionKey, "session-key", "", "base64 key (32 bytes) signing session cookies; the same on every replica (required)")
	fs.DurationVar(&c.SessionTTL, "session-ttl", 12*time.Hour, "how long a dashboard session lasts")
	fs.DurationVar(&c.InstanceMaxAge, "instance-max-age", 24*time.Hour, "how old the signed instance of a dashboard URL may be")
	fs.DurationVar(&c.CheckTimeout, "check-timeout", 10*time.Second, "timeout of the call checking new platform credentials")
	fs.BoolVar(&c.AllowPrivateHosts, "allow-private-hosts", false, "let credential checks reach loopback and private addresses (local runs only)")
	fs.DurationVar(&c.ShareScanEvery, "share-scan-every", share.DefaultScanEvery, "how often share jobs left planning are looked for")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long shutdown may take")
	c.Wix.RegisterFlags(fs)
}

// Validate reports every setting that cannot work.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("%w: http-addr %q: %v", ErrConfig, c.HTTPAddr, err))
	}
	if _, _, err := net.SplitHostPort(c.MappingAddr); err != nil {
		errs = append(errs, fmt.Errorf("%w: mapping-addr %q: %v", ErrConfig, c.MappingAddr, err))
	}
	if _, err := c.Key(); err != nil {
		errs = append(errs, err)
	}
	for name, d := range map[string]time.Duration{
		"session-ttl": c.SessionTTL, "instance-max-age": c.InstanceMaxAge, "check-timeout": c.CheckTimeout,
		"share-scan-every": c.ShareScanEvery, "shutdown-timeout": c.ShutdownTimeout,
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%w: %s %s must be positive", ErrConfig, name, d))
		}
	}
	if err := c.Wix.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Key decodes SessionKey.
func (c Config) Key() ([]byte, error) {
	if c.SessionKey == "" {
		return nil, fmt.Errorf("%w: session-key is required (base64 of 32 random bytes)", ErrConfig)
	}
	k, err := base64.StdEncoding.DecodeString(c.SessionKey)
	if err != nil {
		return nil, fmt.Errorf("%w: session-key is not base64", ErrConfig)
	}
	if len(k) < auth.MinKeyLen {
		return nil, fmt.Errorf("%w: session-key has %d bytes, at least %d needed", ErrConfig, len(k), auth.MinKeyLen)
	}
	return k, nil
}
