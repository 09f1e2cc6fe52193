// Package writer applies Wix gallery changes to one external platform. It
// consumes Wix-origin change events from the bus and, per linked album, brings
// the platform's item to the Wix item's current state through a
// platforms.Adapter, recording every step in the mapping service so that
// retries, duplicates, reordering and crashes never create a second external
// item (DESIGN.md section 3).
package writer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/lease"
	"gallerysync.dev/libs/platforms"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Deps are the writer's collaborators.
type Deps struct {
	// Bus is needed by Run only; Apply works without it.
	Bus     *bus.Bus
	Mapping gsv1.MappingServiceClient
	Adapter platforms.Adapter
	Logger  *slog.Logger
	Meter   metric.MeterProvider
	Tracer  trace.TracerProvider
}

// Writer applies Wix changes to one platform.
type Writer struct {
	cfg      Config
	bus      *bus.Bus
	mapping  gsv1.MappingServiceClient
	adapter  platforms.Adapter
	log      *slog.Logger
	tracer   trace.Tracer
	counters *counters
	// pacer is nil when pacing is off.
	pacer *pacer
	// locker serializes work on one item across every writer replica.
	locker *lease.Locker
	now    func() time.Time
}

// New returns a writer. The adapter must be the one cfg.Platform names.
func New(cfg Config, deps Deps) (*Writer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case deps.Mapping == nil:
		return nil, fmt.Errorf("%w: no mapping client", ErrConfig)
	case deps.Adapter == nil:
		return nil, fmt.Errorf("%w: no adapter", ErrConfig)
	case deps.Adapter.Name() != cfg.Platform:
		return nil, fmt.Errorf("%w: adapter %q does not serve platform %q", ErrConfig, deps.Adapter.Name(), cfg.Platform)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Meter == nil {
		deps.Meter = metricnoop.NewMeterProvider()
	}
	if deps.Tracer == nil {
		deps.Tracer = tracenoop.NewTracerProvider()
	}
	ctrs, err := newCounters(deps.Meter, cfg.Platform)
	if err != nil {
		return nil, err
	}
	locker, err := lease.New(deps.Mapping, cfg.DurableName(), cfg.LockTTL, deps.Logger)
	if err != nil {
		return nil, err
	}
	var p *pacer
	if cfg.Pace {
		p = newPacer(deps.Mapping, cfg.Platform, deps.Adapter.Limits())
	}
	return &Writer{
		pacer:    p,
		cfg:      cfg,
		bus:      deps.Bus,
		mapping:  deps.Mapping,
		adapter:  deps.Adapter,
		log:      deps.Logger.With(slog.String("platform", cfg.Platform)),
		tracer:   deps.Tracer.Tracer(instrumentationName),
		counters: ctrs,
		locker:   locker,
		now:      time.Now,
	}, nil
}

// Run consumes Wix changes until ctx is done, then stops the consumer: no
// new events are taken and those in flight finish (for at most
// cfg.ShutdownTimeout; then they are cancelled and redelivered later).
func (w *Writer) Run(ctx context.Context) error {
	if w.bus == nil {
		return fmt.Errorf("%w: run needs a bus", ErrConfig)
	}
	// Handlers run under a context that outlives ctx, so that a shutdown
	// lets an event finish instead of cutting a remote write in half.
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	consume := func(durable, filter string, concurrency int, h bus.Handler) (*bus.Consumer, error) {
		return w.bus.Consume(hctx, bus.ConsumerConfig{
			Durable:        durable,
			FilterSubjects: []string{filter},
			MaxDeliver:     w.cfg.MaxDeliver,
			Concurrency:    concurrency,
			// A write can wait for a busy item lease for a whole LockTTL; the
			// bus extends the ack deadline while the handler runs.
			AckWait: max(w.cfg.LockTTL, 30*time.Second),
		}, h)
	}
	live, err := consume(w.cfg.DurableName(), change.WixFilter(), w.cfg.Concurrency, w.handle)
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	share, err := consume(w.cfg.ShareDurable(), change.ShareFilter(w.cfg.Platform), w.cfg.ShareConcurrency, w.handleShare)
	if err != nil {
		live.Stop()
		return fmt.Errorf("consume share work: %w", err)
	}
	w.log.Info("platform writer running", slog.String("consumer", w.cfg.DurableName()),
		slog.String("share_consumer", w.cfg.ShareDurable()))
	<-ctx.Done()

	if !bus.StopWithin(w.cfg.ShutdownTimeout, cancel, live, share) {
		w.log.Warn("in-flight events did not finish in time; they were cancelled", slog.Duration("timeout", w.cfg.ShutdownTimeout))
	}
	return nil
}

// handle is the bus handler: apply, then tell the bus how to settle.
func (w *Writer) handle(ctx context.Context, ev *gsv1.ChangeEvent, d bus.Delivery) error {
	err := w.Apply(ctx, ev)
	if err != nil && ctx.Err() == nil {
		w.log.DebugContext(ctx, "apply failed", slog.String("event_id", ev.GetEventId()),
			slog.Uint64("delivery", d.NumDelivered), slog.Any("error", err))
	}
	return err
}

// newIntentKey is a fresh idempotency key for one remote create.
func newIntentKey() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("intent key: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
