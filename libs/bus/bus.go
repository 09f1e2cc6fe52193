// Package bus carries ChangeEvents over NATS JetStream: it creates the
// streams, publishes events with their dedup id and trace context, and runs
// durable consumers that retry, back off and dead-letter what cannot be
// applied.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"gallerysync.dev/libs/change"
)

// Stream retention.
const (
	changeMaxAge     = 7 * 24 * time.Hour
	deadLetterMaxAge = 30 * 24 * time.Hour
	// reconnectWait is the pause between reconnect attempts to one server.
	reconnectWait = time.Second
	// probeEvery limits how often Ready asks JetStream whether it is back.
	probeEvery = time.Second
)

// ErrUnavailable means a publish could not reach JetStream: not connected,
// no ack in time, or no stream answering. Retrying later can succeed.
var ErrUnavailable = errors.New("bus unavailable")

// Bus is a connection to JetStream shared by the publishers and consumers of
// one process.
type Bus struct {
	cfg        Config
	nc         *nats.Conn
	js         jetstream.JetStream
	log        *slog.Logger
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	counters   counters

	// jsOK is whether the last JetStream call worked.
	jsOK atomic.Bool
	// probeMu serializes Ready's probes; lastProbe is guarded by it.
	probeMu   sync.Mutex
	lastProbe time.Time

	closed    chan struct{}
	closeOnce sync.Once
	drainErr  atomic.Pointer[error]
}

// Connect dials NATS and returns once connected. The connection reconnects
// forever afterwards; if the server is not reachable yet, Connect keeps
// trying until ctx is done.
func Connect(ctx context.Context, cfg Config, opts ...Option) (*Bus, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := options{
		logger: slog.New(slog.DiscardHandler),
		tracer: tracenoop.NewTracerProvider(),
		meter:  metricnoop.NewMeterProvider(),
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.tracer == nil {
		o.tracer = tracenoop.NewTracerProvider()
	}
	if o.meter == nil {
		o.meter = metricnoop.NewMeterProvider()
	}
	ctrs, err := newCounters(o.meter)
	if err != nil {
		return nil, err
	}
	b := &Bus{
		cfg:        cfg,
		log:        o.logger,
		tracer:     o.tracer.Tracer(instrumentationName),
		propagator: newPropagator(),
		counters:   ctrs,
		closed:     make(chan struct{}),
	}
	b.jsOK.Store(true)
	nc, err := nats.Connect(cfg.URL,
		nats.Name(o.name),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(reconnectWait),
		// A publish made while reconnecting fails at once instead of waiting
		// in a buffer for an ack that the caller has stopped waiting for.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			b.log.Warn("nats disconnected", slog.Any("error", err))
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			b.log.Info("nats reconnected", slog.String("server", c.ConnectedUrlRedacted()))
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrDrainTimeout) {
				b.drainErr.Store(&err)
			}
			b.log.Warn("nats async error", slog.Any("error", err))
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(b.closed) }),
	)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", redactURL(cfg.URL), err)
	}
	b.nc = nc
	if err := waitConnected(ctx, nc); err != nil {
		nc.Close()
		return nil, fmt.Errorf("connect %s: %w", redactURL(cfg.URL), err)
	}
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(cfg.PublishTimeout))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	b.js = js
	b.log.Info("nats connected", slog.String("server", nc.ConnectedUrlRedacted()))
	return b, nil
}

// waitConnected returns once nc is connected, or with ctx's error.
func waitConnected(ctx context.Context, nc *nats.Conn) error {
	if nc.IsConnected() {
		return nil
	}
	ch := nc.StatusChanged(nats.CONNECTED, nats.CLOSED)
	defer nc.RemoveStatusListener(ch)
	for !nc.IsConnected() {
		if nc.IsClosed() {
			return nats.ErrConnectionClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// EnsureStreams creates the change and dead-letter streams, or brings an
// existing one to this configuration. It is safe to run from every replica
// at start-up.
func (b *Bus) EnsureStreams(ctx context.Context) error {
	for _, sc := range []jetstream.StreamConfig{
		{
			Name:       change.Stream,
			Subjects:   change.StreamSubjects(),
			Storage:    jetstream.FileStorage,
			Replicas:   b.cfg.Replicas,
			Duplicates: b.cfg.DuplicateWindow,
			MaxAge:     changeMaxAge,
		},
		{
			Name:       change.DeadLetterStream,
			Subjects:   change.DeadLetterSubjects(),
			Storage:    jetstream.FileStorage,
			Replicas:   b.cfg.Replicas,
			Duplicates: b.cfg.DuplicateWindow,
			MaxAge:     deadLetterMaxAge,
		},
	} {
		if _, err := b.js.CreateOrUpdateStream(ctx, sc); err != nil {
			b.jsOK.Store(false)
			return fmt.Errorf("ensure stream %s: %w", sc.Name, err)
		}
	}
	b.jsOK.Store(true)
	return nil
}

// Ready reports whether the bus can take a publish: connected, and the last
// JetStream call worked. After a failure it asks JetStream again, at most
// once a second, so readiness comes back without waiting for traffic.
func (b *Bus) Ready() bool {
	if !b.nc.IsConnected() {
		return false
	}
	if b.jsOK.Load() {
		return true
	}
	if !b.probeMu.TryLock() {
		return false
	}
	defer b.probeMu.Unlock()
	if time.Since(b.lastProbe) < probeEvery {
		return false
	}
	b.lastProbe = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), min(b.cfg.PublishTimeout, 2*time.Second))
	defer cancel()
	if _, err := b.js.AccountInfo(ctx); err != nil {
		return false
	}
	b.jsOK.Store(true)
	return true
}

// Conn is the underlying connection.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// Close drains the connection: subscriptions stop, pending acks and
// publishes are flushed, then it closes. Stop consumers first so their
// handlers can still settle messages. Later calls return the first result.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		if err := b.nc.Drain(); err != nil {
			// Not connected: there is nothing to flush.
			b.nc.Close()
		}
		<-b.closed
	})
	if err := b.drainErr.Load(); err != nil {
		return fmt.Errorf("close: %w", *err)
	}
	return nil
}

// redactURL hides passwords in a comma separated URL list.
func redactURL(s string) string {
	parts := splitURLs(s)
	for i, p := range parts {
		if u, err := url.Parse(p); err == nil {
			parts[i] = u.Redacted()
		}
	}
	return strings.Join(parts, ",")
}
