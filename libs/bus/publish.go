package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/protobuf/proto"

	"gallerysync.dev/libs/change"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// PublishResult is JetStream's answer to one publish.
type PublishResult struct {
	// Sequence is the stream sequence the event is stored at (for a
	// duplicate: where the first copy is stored).
	Sequence uint64
	// Duplicate is true when JetStream already had this event id within its
	// duplicate window and stored nothing.
	Duplicate bool
}

// Publish stores ev on its subject and waits for JetStream's ack. The event
// id is the dedup id, so publishing the same event twice stores it once. The
// trace context of ctx travels in the message headers. An invalid event is
// refused with change.ErrInvalid; a bus that cannot be reached gives
// ErrUnavailable within the publish timeout.
func (b *Bus) Publish(ctx context.Context, ev *gsv1.ChangeEvent) (PublishResult, error) {
	if err := change.Validate(ev); err != nil {
		return PublishResult{}, fmt.Errorf("publish: %w", err)
	}
	data, err := proto.Marshal(ev)
	if err != nil {
		return PublishResult{}, fmt.Errorf("publish %s: encode: %w", ev.GetEventId(), err)
	}
	subject := change.Subject(ev)
	ctx, span := startPublishSpan(ctx, b.tracer, subject, ev.GetEventId())
	defer span.End()

	msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
	b.propagator.Inject(ctx, headerCarrier(msg.Header))
	ack, err := b.publishMsg(ctx, msg, ev.GetEventId())
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "publish failed")
		return PublishResult{}, fmt.Errorf("publish %s: %w", ev.GetEventId(), err)
	}
	root := metric.WithAttributes(subjectKey.String(subjectRoot(subject)))
	b.counters.published.Add(ctx, 1, root)
	if ack.Duplicate {
		b.counters.duplicates.Add(ctx, 1, root)
	}
	return PublishResult{Sequence: ack.Sequence, Duplicate: ack.Duplicate}, nil
}

// publishMsg sends msg with its dedup id and waits for the ack, bounded by
// the publish timeout. Failures to reach JetStream wrap ErrUnavailable; a
// refusal by JetStream itself (an API error) does not, since retrying the
// same message cannot help.
func (b *Bus) publishMsg(ctx context.Context, msg *nats.Msg, msgID string) (*jetstream.PubAck, error) {
	if !b.nc.IsConnected() {
		b.jsOK.Store(false)
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, nats.ErrConnectionReconnecting)
	}
	pubCtx, cancel := context.WithTimeout(ctx, b.cfg.PublishTimeout)
	defer cancel()
	ack, err := b.js.PublishMsg(pubCtx, msg, jetstream.WithMsgID(msgID))
	if err == nil {
		b.jsOK.Store(true)
		return ack, nil
	}
	var apiErr *jetstream.APIError
	switch {
	case errors.As(err, &apiErr):
		b.jsOK.Store(true)
		return nil, err
	case ctx.Err() != nil:
		// The caller gave up; that says nothing about the bus.
		return nil, err
	default:
		b.jsOK.Store(false)
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
}
