package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"gallerysync.dev/libs/change"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// ErrNoDeadLetter means the dead-letter stream holds no message at that
// sequence: it never existed, was replayed or aged out.
var ErrNoDeadLetter = errors.New("no such dead letter")

// replayIDPrefix starts the dedup id of a replayed dead letter, so a replay
// retried after a lost ack is stored once.
const replayIDPrefix = "replay:"

// deadLetterBatch is how many dead letters one fetch reads.
const deadLetterBatch = 256

// deadLetterReaderIdle is how long the server keeps a listing's consumer
// after its last fetch.
const deadLetterReaderIdle = 30 * time.Second

// DeadLetter is one message a consumer gave up on, as the dead-letter
// stream keeps it.
type DeadLetter struct {
	// Sequence is its position in the dead-letter stream (the Replay key).
	Sequence uint64
	// Subject is the change subject it was first published on.
	Subject string
	// Consumer is the durable consumer that gave up.
	Consumer string
	// Error is the last failure, as the consumer reported it.
	Error string
	// Deliveries is how often it was delivered before it was given up.
	Deliveries uint64
	// Time is when it was dead-lettered.
	Time time.Time
	// Event is the decoded payload; nil when the payload is not a ChangeEvent.
	Event *gsv1.ChangeEvent
}

// DeadLetters returns the newest limit dead letters for which filter
// reports true, newest first. filter gets nil for a payload that does not
// decode; a nil filter takes every dead letter.
func (b *Bus) DeadLetters(ctx context.Context, filter func(*gsv1.ChangeEvent) bool, limit int) ([]DeadLetter, error) {
	if limit < 1 {
		return nil, fmt.Errorf("%w: dead letter limit %d must be at least 1", ErrConfig, limit)
	}
	stream, err := b.js.Stream(ctx, change.DeadLetterStream)
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	if info.State.Msgs == 0 {
		return nil, nil
	}
	// A throwaway reader: the server drops it soon after the last fetch.
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy:     jetstream.DeliverAllPolicy,
		InactiveThreshold: deadLetterReaderIdle,
	})
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	// A ring of the newest matches: the stream is read oldest first.
	kept := make([]DeadLetter, 0, min(limit, int(info.State.Msgs)))
	next := 0
	for done := false; !done; {
		batch, err := cons.FetchNoWait(deadLetterBatch)
		if err != nil {
			return nil, fmt.Errorf("dead letters: %w", err)
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			meta, err := msg.Metadata()
			if err != nil {
				return nil, fmt.Errorf("dead letters: %w", err)
			}
			dl := deadLetter(meta.Sequence.Stream, meta.Timestamp, msg.Headers(), msg.Data())
			if filter == nil || filter(dl.Event) {
				if len(kept) < limit {
					kept = append(kept, dl)
				} else {
					kept[next] = dl
					next = (next + 1) % limit
				}
			}
			done = meta.NumPending == 0 || meta.Sequence.Stream >= info.State.LastSeq
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, fmt.Errorf("dead letters: %w", err)
		}
		if n == 0 {
			break
		}
	}
	out := make([]DeadLetter, 0, len(kept))
	for i := len(kept) - 1; i >= 0; i-- {
		out = append(out, kept[(next+i)%len(kept)])
	}
	return out, nil
}

// DeadLetter returns the dead letter at seq, or ErrNoDeadLetter.
func (b *Bus) DeadLetter(ctx context.Context, seq uint64) (DeadLetter, error) {
	raw, err := b.deadLetterMsg(ctx, seq)
	if err != nil {
		return DeadLetter{}, err
	}
	return deadLetter(raw.Sequence, raw.Time, raw.Header, raw.Data), nil
}

// Replay publishes the dead letter at seq again on its original subject,
// with its original trace context, waits for JetStream's ack and then
// deletes it from the dead-letter stream. Its dedup id is "replay:<seq>", so
// a replay repeated after a lost ack is stored once; if the replayed event
// fails again it comes back as a new dead letter.
func (b *Bus) Replay(ctx context.Context, seq uint64) error {
	raw, err := b.deadLetterMsg(ctx, seq)
	if err != nil {
		return err
	}
	subject := raw.Header.Get(HeaderSubject)
	if subject == "" {
		return fmt.Errorf("replay dead letter %d: no original subject", seq)
	}
	msg := &nats.Msg{Subject: subject, Data: raw.Data, Header: nats.Header{}}
	orig := headerCarrier(raw.Header)
	for _, k := range []string{"traceparent", "tracestate"} {
		if v := orig.Get(k); v != "" {
			msg.Header[k] = []string{v}
		}
	}
	if _, err := b.publishMsg(ctx, msg, replayIDPrefix+strconv.FormatUint(seq, 10)); err != nil {
		return fmt.Errorf("replay dead letter %d: %w", seq, err)
	}
	stream, err := b.js.Stream(ctx, change.DeadLetterStream)
	if err != nil {
		return fmt.Errorf("replay dead letter %d: %w", seq, err)
	}
	if err := stream.DeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		// Replayed but still listed: a second replay is deduplicated.
		return fmt.Errorf("replay dead letter %d: delete: %w", seq, err)
	}
	return nil
}

// deadLetterMsg reads one message of the dead-letter stream.
func (b *Bus) deadLetterMsg(ctx context.Context, seq uint64) (*jetstream.RawStreamMsg, error) {
	stream, err := b.js.Stream(ctx, change.DeadLetterStream)
	if err != nil {
		return nil, fmt.Errorf("dead letter %d: %w", seq, err)
	}
	raw, err := stream.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("dead letter %d: %w", seq, ErrNoDeadLetter)
	}
	if err != nil {
		return nil, fmt.Errorf("dead letter %d: %w", seq, err)
	}
	return raw, nil
}

// deadLetter reads a stored dead letter's headers and payload.
func deadLetter(seq uint64, at time.Time, h nats.Header, data []byte) DeadLetter {
	dl := DeadLetter{
		Sequence: seq,
		Subject:  h.Get(HeaderSubject),
		Consumer: h.Get(HeaderConsumer),
		Error:    h.Get(HeaderError),
		Time:     at,
	}
	dl.Deliveries, _ = strconv.ParseUint(h.Get(HeaderDeliveries), 10, 64)
	ev := &gsv1.ChangeEvent{}
	if proto.Unmarshal(data, ev) == nil {
		dl.Event = ev
	}
	return dl
}
