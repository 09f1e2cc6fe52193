package bus

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// ErrConfig is wrapped by every configuration problem.
var ErrConfig = errors.New("bus config")

// Config says which NATS server carries the bus and how the streams are made.
type Config struct {
	// URL of the NATS server; several may be given separated by commas.
	URL string
	// PublishTimeout bounds one publish, from send to JetStream ack, and every
	// other single JetStream call.
	PublishTimeout time.Duration
	// Replicas of each stream (1 on a single server, 3 on a cluster).
	Replicas int
	// DuplicateWindow is how long JetStream remembers a message id to drop a
	// republished event.
	DuplicateWindow time.Duration
}

// RegisterFlags binds c to fs with the defaults of a single local server.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.URL, "nats-url", "nats://127.0.0.1:4222", "NATS server URL (comma separated for a cluster)")
	fs.DurationVar(&c.PublishTimeout, "nats-publish-timeout", 5*time.Second, "how long a publish waits for the JetStream ack")
	fs.IntVar(&c.Replicas, "nats-replicas", 1, "replicas of each JetStream stream")
	fs.DurationVar(&c.DuplicateWindow, "nats-dedup-window", 2*time.Minute, "JetStream duplicate window for event ids")
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	switch {
	case c.URL == "":
		return fmt.Errorf("%w: no nats url", ErrConfig)
	case c.PublishTimeout <= 0:
		return fmt.Errorf("%w: publish timeout %s must be positive", ErrConfig, c.PublishTimeout)
	case c.Replicas < 1 || c.Replicas > 5:
		return fmt.Errorf("%w: replicas %d must be between 1 and 5", ErrConfig, c.Replicas)
	case c.DuplicateWindow <= 0:
		return fmt.Errorf("%w: duplicate window %s must be positive", ErrConfig, c.DuplicateWindow)
	}
	for _, u := range splitURLs(c.URL) {
		p, err := url.Parse(u)
		if err != nil || p.Host == "" {
			return fmt.Errorf("%w: nats url %q: want nats://host:port", ErrConfig, u)
		}
	}
	return nil
}

// Option changes how Connect builds a Bus.
type Option func(*options)

type options struct {
	logger *slog.Logger
	name   string
	tracer trace.TracerProvider
	meter  metric.MeterProvider
}

// WithLogger sets where connection changes and dead letters are logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithName names the NATS connection, so the server's connection list shows
// which service it belongs to.
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithTracerProvider sets where publish and process spans go.
func WithTracerProvider(tp trace.TracerProvider) Option { return func(o *options) { o.tracer = tp } }

// WithMeterProvider sets where the bus counters go.
func WithMeterProvider(mp metric.MeterProvider) Option { return func(o *options) { o.meter = mp } }

// splitURLs returns each server of a comma separated URL list, with the
// scheme nats.go assumes when none is given.
func splitURLs(s string) []string {
	var out []string
	for _, u := range strings.Split(s, ",") {
		u = strings.TrimSpace(u)
		if !strings.Contains(u, "://") {
			u = "nats://" + u
		}
		out = append(out, u)
	}
	return out
}
