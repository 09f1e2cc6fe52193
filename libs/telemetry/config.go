package telemetry

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
)

// ErrConfig is wrapped by every configuration problem.
var ErrConfig = errors.New("telemetry config")

// Config says where telemetry goes. ServiceName is set by the service itself,
// not by a flag, so two services can never report under the same name by a
// typo in their deployment.
type Config struct {
	ServiceName string
	// OTLPEndpoint is the OTLP/gRPC collector: "host:port" (plain text),
	// "http://host:port" (plain text) or "https://host:port" (TLS). Empty means
	// spans are not exported.
	OTLPEndpoint string
	// LogLevel is debug, info, warn or error.
	LogLevel string
}

// RegisterFlags binds the operator-settable fields to fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.OTLPEndpoint, "otlp-endpoint", "", "OTLP/gRPC trace collector (host:port, http://host:port or https://host:port); empty disables export")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	if c.ServiceName == "" {
		return fmt.Errorf("%w: no service name", ErrConfig)
	}
	if _, err := c.level(); err != nil {
		return err
	}
	if _, err := c.endpoint(); err != nil {
		return err
	}
	return nil
}

func (c Config) level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("%w: log level %q: want debug, info, warn or error", ErrConfig, c.LogLevel)
	}
	return l, nil
}

// collector is a parsed OTLPEndpoint.
type collector struct {
	hostPort string
	insecure bool
}

// endpoint parses OTLPEndpoint; a zero collector means export is off.
func (c Config) endpoint() (collector, error) {
	raw := c.OTLPEndpoint
	if raw == "" {
		return collector{}, nil
	}
	col := collector{hostPort: raw, insecure: true}
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			return collector{}, fmt.Errorf("%w: otlp endpoint %q: %w", ErrConfig, raw, err)
		}
		switch u.Scheme {
		case "http":
		case "https":
			col.insecure = false
		default:
			return collector{}, fmt.Errorf("%w: otlp endpoint %q: scheme must be http or https", ErrConfig, raw)
		}
		col.hostPort = u.Host
	}
	host, port, err := net.SplitHostPort(col.hostPort)
	if err != nil || host == "" || port == "" {
		return collector{}, fmt.Errorf("%w: otlp endpoint %q: want host:port", ErrConfig, raw)
	}
	return col, nil
}
