// Package writer applies changes seen on external platforms to the linked
// Wix Pro Galleries. It consumes platform-origin change events from the bus
// and, per linked gallery, brings the Wix item to the platform item's current
// state: the media is imported into the Media Manager, then the gallery item
// is created, updated or deleted. Every step is recorded in the mapping
// service so that retries, duplicates, reordering and crashes never create a
// second Wix item, and every write is announced with an echo marker so that
// the webhook it causes is not carried back to the platform (DESIGN.md
// section 3). It also keeps the tenant record in step with app installs and
// removals.
package writer

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/lease"
	"gallerysync.dev/libs/wix"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Wix is the part of the Wix REST client the writer uses; *wix.Client
// implements it. inst is always the tenant's app instance id.
type Wix interface {
	GetItem(ctx context.Context, inst, galleryID, itemID string) (wix.Item, error)
	CreateItem(ctx context.Context, inst, galleryID string, it wix.Item) (wix.Item, error)
	UpdateItem(ctx context.Context, inst, galleryID, itemID string, p wix.ItemPatch) (wix.Item, error)
	DeleteItem(ctx context.Context, inst, galleryID, itemID string) error
	Items(ctx context.Context, inst, galleryID string) iter.Seq2[wix.Item, error]
	ImportFile(ctx context.Context, inst string, req wix.ImportRequest) (wix.FileDescriptor, error)
	WaitReady(ctx context.Context, inst, fileID string, wake <-chan struct{}) (wix.FileDescriptor, error)
	Forget(instanceID string)
}

// Deps are the writer's collaborators.
type Deps struct {
	// Bus is needed by Run only; Apply works without it.
	Bus     *bus.Bus
	Mapping gsv1.MappingServiceClient
	Wix     Wix
	Logger  *slog.Logger
	Meter   metric.MeterProvider
	Tracer  trace.TracerProvider
}

// Writer applies platform changes to Wix.
type Writer struct {
	cfg      Config
	bus      *bus.Bus
	mapping  gsv1.MappingServiceClient
	wix      Wix
	log      *slog.Logger
	tracer   trace.Tracer
	counters *counters
	wakers   *wakers
	hosts    map[string]bool
	// locker serializes work on one item across every writer replica.
	locker *lease.Locker
	now    func() time.Time
}

// New returns a writer.
func New(cfg Config, deps Deps) (*Writer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case deps.Mapping == nil:
		return nil, fmt.Errorf("%w: no mapping client", ErrConfig)
	case deps.Wix == nil:
		return nil, fmt.Errorf("%w: no wix client", ErrConfig)
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
	ctrs, err := newCounters(deps.Meter)
	if err != nil {
		return nil, err
	}
	locker, err := lease.New(deps.Mapping, cfg.Durable, cfg.LockTTL, deps.Logger)
	if err != nil {
		return nil, err
	}
	hosts := map[string]bool{}
	for _, h := range cfg.AllowedHosts() {
		hosts[h] = true
	}
	return &Writer{
		cfg:      cfg,
		bus:      deps.Bus,
		mapping:  deps.Mapping,
		wix:      deps.Wix,
		log:      deps.Logger,
		tracer:   deps.Tracer.Tracer(instrumentationName),
		counters: ctrs,
		wakers:   newWakers(),
		hosts:    hosts,
		locker:   locker,
		now:      time.Now,
	}, nil
}

// Run consumes platform changes and app lifecycle events until ctx is done,
// then stops the consumers: no new events are taken and those in flight
// finish (for at most cfg.ShutdownTimeout; then they are cancelled and
// redelivered later). While it runs it also listens to Media Manager file
// events, to wake writes waiting for an imported file.
func (w *Writer) Run(ctx context.Context) error {
	if w.bus == nil {
		return fmt.Errorf("%w: run needs a bus", ErrConfig)
	}
	// Handlers run under a context that outlives ctx, so that a shutdown
	// lets an event finish instead of cutting a Wix write in half.
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()

	sub, err := w.bus.Conn().Subscribe(change.MediaFilter(), w.onMediaMessage)
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", change.MediaFilter(), err)
	}
	// Unsubscribed last: writes still finishing may be waiting for a file.
	defer func() {
		if err := sub.Unsubscribe(); err != nil {
			w.log.Debug("unsubscribe media events", slog.Any("error", err))
		}
	}()

	items, err := w.bus.Consume(hctx, bus.ConsumerConfig{
		Durable:        w.cfg.Durable,
		FilterSubjects: []string{change.PlatformFilter()},
		MaxDeliver:     w.cfg.MaxDeliver,
		Concurrency:    w.cfg.Concurrency,
		// A write can wait for a busy item lease for a whole LockTTL; the
		// bus extends the ack deadline while the handler runs.
		AckWait: max(w.cfg.LockTTL, 30*time.Second),
	}, w.handle)
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	lifecycle, err := w.bus.Consume(hctx, bus.ConsumerConfig{
		Durable:        w.cfg.LifecycleDurable(),
		FilterSubjects: []string{change.AppFilter()},
		MaxDeliver:     w.cfg.MaxDeliver,
		// One at a time keeps a tenant's install and removal in order.
		Concurrency: 1,
	}, w.handle)
	if err != nil {
		items.Stop()
		return fmt.Errorf("consume lifecycle: %w", err)
	}
	w.log.Info("wix writer running", slog.String("consumer", w.cfg.Durable),
		slog.String("lifecycle_consumer", w.cfg.LifecycleDurable()))
	<-ctx.Done()

	if !bus.StopWithin(w.cfg.ShutdownTimeout, cancel, items, lifecycle) {
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
