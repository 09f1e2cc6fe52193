package server

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// ErrConfig is wrapped by every configuration problem.
var ErrConfig = errors.New("ingress config")

// Config is the HTTP side of ingress.
type Config struct {
	// HTTPAddr is where webhooks, probes and metrics are served; ":0" picks a port.
	HTTPAddr string
	// MaxBodyBytes bounds a webhook body; larger ones get 413 unread.
	MaxBodyBytes int64
	// WixPublicKey is the app's webhook public key as PEM text.
	WixPublicKey string
	// WixPublicKeyFile is a file holding that PEM (e.g. a mounted secret).
	WixPublicKeyFile string
	// WixAppID is our Wix app id; events our own app caused are marked in
	// logs, spans and metrics. Optional.
	WixAppID string
	// PublishTimeout bounds the wait for JetStream's ack. Wix counts a
	// webhook as failed when no 200 arrives within 1.25 s, so this stays below.
	PublishTimeout time.Duration
	// ShutdownTimeout bounds the graceful stop of the HTTP server.
	ShutdownTimeout time.Duration
	// MappingAddr is the mapping service's gRPC address, asked whether a
	// tenant was removed (see Deps.Tenants, which the command builds from
	// it); empty turns the check off.
	MappingAddr string
}

// RegisterFlags binds c to fs with the production defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.HTTPAddr, "http-addr", "127.0.0.1:8080", "listen address for webhooks, /healthz, /readyz and /metrics")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", 1<<20, "largest webhook body accepted, in bytes")
	fs.StringVar(&c.WixPublicKey, "wix-public-key", "", "Wix app webhook public key (PEM text)")
	fs.StringVar(&c.WixPublicKeyFile, "wix-public-key-file", "", "file holding the Wix app webhook public key (PEM)")
	fs.StringVar(&c.WixAppID, "wix-app-id", "", "our Wix app id, to mark events our own writes caused")
	fs.DurationVar(&c.PublishTimeout, "publish-timeout", time.Second, "how long a webhook waits for the JetStream ack (Wix waits 1.25s)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long a graceful stop may take")
	fs.StringVar(&c.MappingAddr, "mapping-addr", "127.0.0.1:9090", "mapping service gRPC address, to refuse events of removed tenants (empty: accept every tenant)")
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	switch {
	case c.HTTPAddr == "":
		return fmt.Errorf("%w: no http address", ErrConfig)
	case c.MaxBodyBytes <= 0:
		return fmt.Errorf("%w: max body bytes %d must be positive", ErrConfig, c.MaxBodyBytes)
	case (c.WixPublicKey == "") == (c.WixPublicKeyFile == ""):
		return fmt.Errorf("%w: give exactly one of -wix-public-key and -wix-public-key-file", ErrConfig)
	case c.PublishTimeout <= 0:
		return fmt.Errorf("%w: publish timeout %s must be positive", ErrConfig, c.PublishTimeout)
	case c.ShutdownTimeout <= 0:
		return fmt.Errorf("%w: shutdown timeout %s must be positive", ErrConfig, c.ShutdownTimeout)
	}
	return nil
}

// publicKeyPEM returns the configured key's PEM bytes. A key passed through
// an environment variable often arrives with its line breaks written as
// "\n"; those are turned back into line breaks.
func (c Config) publicKeyPEM() ([]byte, error) {
	if c.WixPublicKeyFile != "" {
		b, err := os.ReadFile(c.WixPublicKeyFile)
		if err != nil {
			return nil, fmt.Errorf("read wix public key: %w", err)
		}
		return b, nil
	}
	text := c.WixPublicKey
	if !strings.Contains(text, "\n") {
		text = strings.ReplaceAll(text, `\n`, "\n")
	}
	return []byte(text), nil
}
