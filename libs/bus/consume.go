package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	"gallerysync.dev/libs/change"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Consumer defaults.
const (
	defaultMaxDeliver    = 8
	defaultAckWait       = 30 * time.Second
	defaultMaxAckPending = 256
	defaultConcurrency   = 4
	// nextWait bounds one wait for a message, so a stopping worker notices
	// even when the server cannot be told to stop sending.
	nextWait = time.Second
)

// ConsumerConfig describes one durable consumer of the change stream.
type ConsumerConfig struct {
	// Durable names the consumer; instances with the same name share its
	// work and its position. It is also the dead-letter subject's last token.
	Durable string
	// FilterSubjects select the subjects consumed; empty means all.
	FilterSubjects []string
	// MaxDeliver is how many deliveries a message gets before a failure
	// dead-letters it (default 8).
	MaxDeliver int
	// AckWait is how long the server waits for a settle before redelivering
	// (default 30s). A running handler keeps extending it.
	AckWait time.Duration
	// MaxAckPending caps messages out for handling at once across all
	// instances (default 256).
	MaxAckPending int
	// Concurrency is the number of handler goroutines (default 4).
	Concurrency int
	// Backoff is the pause before redelivery after a failed delivery
	// (default DefaultBackoff).
	Backoff func(delivery int) time.Duration
}

// withDefaults fills zero fields.
func (c ConsumerConfig) withDefaults() ConsumerConfig {
	if c.MaxDeliver == 0 {
		c.MaxDeliver = defaultMaxDeliver
	}
	if c.AckWait == 0 {
		c.AckWait = defaultAckWait
	}
	if c.MaxAckPending == 0 {
		c.MaxAckPending = defaultMaxAckPending
	}
	if c.Concurrency == 0 {
		c.Concurrency = defaultConcurrency
	}
	if c.Backoff == nil {
		c.Backoff = DefaultBackoff
	}
	return c
}

// validate checks a config after defaults.
func (c ConsumerConfig) validate() error {
	switch {
	case c.Durable == "":
		return fmt.Errorf("%w: consumer has no durable name", ErrConfig)
	case strings.ContainsAny(c.Durable, ".*> \t\r\n") || len(c.Durable) > 64:
		return fmt.Errorf("%w: durable %q must be one subject token of at most 64 bytes", ErrConfig, c.Durable)
	case c.MaxDeliver < 1:
		return fmt.Errorf("%w: max deliver %d must be at least 1", ErrConfig, c.MaxDeliver)
	case c.AckWait < time.Second:
		return fmt.Errorf("%w: ack wait %s must be at least 1s", ErrConfig, c.AckWait)
	case c.MaxAckPending < 1:
		return fmt.Errorf("%w: max ack pending %d must be at least 1", ErrConfig, c.MaxAckPending)
	case c.Concurrency < 1:
		return fmt.Errorf("%w: concurrency %d must be at least 1", ErrConfig, c.Concurrency)
	}
	for _, s := range c.FilterSubjects {
		if s == "" {
			return fmt.Errorf("%w: empty filter subject", ErrConfig)
		}
	}
	return nil
}

// Delivery describes one delivery of a message to a handler.
type Delivery struct {
	Subject string
	// NumDelivered counts deliveries of this message, 1 for the first.
	NumDelivered uint64
	// StreamSequence is the message's position in the change stream.
	StreamSequence uint64
}

// Handler applies one event. It returns nil when done (the message is
// acked), RetryAfter or another error to get it again later, or Permanent to
// dead-letter it. It may be called more than once for one event.
type Handler func(ctx context.Context, ev *gsv1.ChangeEvent, d Delivery) error

// Consumer runs handlers for the messages of one durable consumer.
type Consumer struct {
	bus     *Bus
	cfg     ConsumerConfig
	handler Handler
	// ctx is the context Consume was given; handlers run under it so that a
	// Stop lets them finish while a cancelled parent still reaches them.
	ctx  context.Context
	iter jetstream.MessagesContext

	stopping atomic.Bool
	stopCh   chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// Consume creates the durable consumer, or updates it to cfg, and starts
// cfg.Concurrency handler goroutines. The streams must exist (EnsureStreams).
// Consuming ends when ctx is done or Stop is called; call Stop in either
// case to wait for the handlers.
func (b *Bus) Consume(ctx context.Context, cfg ConsumerConfig, h Handler) (*Consumer, error) {
	if h == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrConfig)
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cons, err := b.js.CreateOrUpdateConsumer(ctx, change.Stream, jetstream.ConsumerConfig{
		Durable:        cfg.Durable,
		FilterSubjects: cfg.FilterSubjects,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        cfg.AckWait,
		// Deliveries are counted here and the last one dead-letters. The
		// server must keep redelivering, so a message whose dead-letter
		// publish failed is retried rather than stranded.
		MaxDeliver:    -1,
		MaxAckPending: cfg.MaxAckPending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", cfg.Durable, err)
	}
	iter, err := cons.Messages(jetstream.PullMaxMessages(cfg.Concurrency))
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", cfg.Durable, err)
	}
	c := &Consumer{
		bus:     b,
		cfg:     cfg,
		handler: h,
		ctx:     ctx,
		iter:    iter,
		stopCh:  make(chan struct{}),
	}
	c.wg.Add(1 + cfg.Concurrency)
	go c.watch()
	for range cfg.Concurrency {
		go c.work()
	}
	return c, nil
}

// Stop stops fetching, hands back messages fetched but not started, and
// waits for running handlers to finish and settle their messages. It is
// safe to call more than once.
func (c *Consumer) Stop() {
	c.stopOnce.Do(func() { close(c.stopCh) })
	c.wg.Wait()
}

// watch ends fetching when the consumer is stopped or its context is done.
func (c *Consumer) watch() {
	defer c.wg.Done()
	select {
	case <-c.stopCh:
	case <-c.ctx.Done():
	}
	c.stopping.Store(true)
	c.iter.Drain()
}

// work takes messages one at a time until the consumer stops.
func (c *Consumer) work() {
	defer c.wg.Done()
	for {
		msg, err := c.iter.Next(jetstream.NextMaxWait(nextWait))
		switch {
		case err == nil:
		case errors.Is(err, jetstream.ErrMsgIteratorClosed):
			if !c.stopping.Load() && !errors.Is(err, jetstream.ErrConnectionClosed) {
				c.bus.log.Error("consumer ended", slog.String("consumer", c.cfg.Durable), slog.Any("error", err))
			}
			return
		case errors.Is(err, nats.ErrTimeout):
			if c.stopping.Load() {
				return
			}
			continue
		default:
			c.bus.log.Warn("consumer fetch", slog.String("consumer", c.cfg.Durable), slog.Any("error", err))
			continue
		}
		if c.stopping.Load() {
			// Fetched but not started: give it back now, so another
			// instance need not wait AckWait for it.
			if err := msg.Nak(); err != nil {
				c.bus.log.Warn("hand back message", slog.String("consumer", c.cfg.Durable), slog.Any("error", err))
			}
			continue
		}
		c.process(msg)
	}
}

// process handles one message and settles it.
func (c *Consumer) process(msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		c.bus.log.Error("message without metadata", slog.String("consumer", c.cfg.Durable), slog.Any("error", err))
		return
	}
	d := Delivery{Subject: msg.Subject(), NumDelivered: meta.NumDelivered, StreamSequence: meta.Sequence.Stream}
	ctx := c.bus.propagator.Extract(c.ctx, headerCarrier(msg.Headers()))
	ctx, span := c.bus.tracer.Start(ctx, "process "+subjectRoot(d.Subject),
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			messagingSystem(),
			semconv.MessagingOperationTypeProcess,
			semconv.MessagingOperationName("process"),
			semconv.MessagingDestinationName(d.Subject),
			semconv.MessagingConsumerGroupName(c.cfg.Durable),
			semconv.MessagingMessageID(msg.Headers().Get(jetstream.MsgIDHeader)),
		))
	defer span.End()

	ev := &gsv1.ChangeEvent{}
	if err := proto.Unmarshal(msg.Data(), ev); err != nil {
		c.fail(ctx, msg, d, Permanent(fmt.Errorf("decode change event: %w", err)))
		return
	}
	if err := change.Validate(ev); err != nil {
		c.fail(ctx, msg, d, Permanent(err))
		return
	}
	if err := c.run(ctx, msg, ev, d); err != nil {
		c.fail(ctx, msg, d, err)
		return
	}
	c.ack(ctx, msg, d)
}

// run calls the handler, keeping the message's ack deadline alive while it
// works and turning a panic into a failure of this message.
func (c *Consumer) run(ctx context.Context, msg jetstream.Msg, ev *gsv1.ChangeEvent, d Delivery) (err error) {
	done := make(chan struct{})
	var keeper sync.WaitGroup
	keeper.Add(1)
	go func() {
		defer keeper.Done()
		t := time.NewTicker(c.cfg.AckWait / 2)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := msg.InProgress(); err != nil {
					c.bus.log.Warn("extend ack wait", slog.String("consumer", c.cfg.Durable), slog.Any("error", err))
				}
			}
		}
	}()
	defer func() {
		close(done)
		keeper.Wait()
	}()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v", r)
		}
	}()
	return c.handler(ctx, ev, d)
}
