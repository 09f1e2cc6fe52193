package writer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"gallerysync.dev/libs/bus"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// ShareDurable is the consumer of this writer's share work, apart from the
// live changes so that a share of thousands of items never delays them.
func (c Config) ShareDurable() string { return c.DurableName() + "-share" }

// pausedRetry is how often paused share work looks again.
const pausedRetry = 2 * time.Second

// handleShare applies one item of a share job: create (or find) the item on
// the job's link, then count it. The per-item work is the same level-
// triggered create as a live change, so a redelivery, a replayed dead letter
// or a second planning pass never makes a second external item.
func (w *Writer) handleShare(ctx context.Context, ev *gsv1.ChangeEvent, d bus.Delivery) error {
	tenant, jobID := ev.GetTenantId(), ev.GetShareJobId()
	got, err := w.mapping.GetShareJob(ctx, &gsv1.GetShareJobRequest{TenantId: tenant, JobId: jobID})
	switch {
	case status.Code(err) == codes.NotFound:
		w.log.WarnContext(ctx, "share work of an unknown job", slog.String("tenant", tenant), slog.String("job", jobID))
		return nil
	case err != nil:
		return fmt.Errorf("get share job %s: %w", jobID, err)
	}
	switch got.GetJob().GetState() {
	case gsv1.ShareState_SHARE_STATE_CANCELLED:
		return nil
	// DONE is applied like RUNNING: a job whose last items failed is done,
	// and retrying one of them from the dead letters must still upload it
	// (and move it from failed to done).
	case gsv1.ShareState_SHARE_STATE_PAUSED:
		// Back-pressure, not failure: it waits as long as the owner wants.
		return bus.RetryAfter(errors.New("share job paused"), jitter(pausedRetry))
	}
	t, err := w.shareTarget(ctx, ev)
	if err != nil {
		return outcome(err, w.now())
	}
	err = outcome(w.applyLink(ctx, ev, t), w.now())
	lastTry := d.NumDelivered >= uint64(w.cfg.MaxDeliver) && !bus.IsRetryAfter(err)
	switch {
	case err == nil:
		return w.countShare(ctx, ev, false)
	case isPermanent(err) || lastTry:
		// It goes to the dead letters, where the owner can retry it; a
		// later success moves it from failed to done.
		if cerr := w.countShare(ctx, ev, true); cerr != nil {
			return cerr
		}
	}
	return err
}

// shareTarget is the one link a share job fills.
func (w *Writer) shareTarget(ctx context.Context, ev *gsv1.ChangeEvent) (target, error) {
	tenant := ev.GetTenantId()
	l, err := w.mapping.GetLink(ctx, &gsv1.GetLinkRequest{TenantId: tenant, LinkId: ev.GetLinkId()})
	if err != nil {
		return target{}, fmt.Errorf("%w: link %s: %w", errInvalidEvent, ev.GetLinkId(), err)
	}
	c, err := w.mapping.GetConnection(ctx, &gsv1.GetConnectionRequest{TenantId: tenant, ConnectionId: l.GetLink().GetConnectionId()})
	if err != nil {
		return target{}, fmt.Errorf("get connection %s: %w", l.GetLink().GetConnectionId(), err)
	}
	if c.GetConnection().GetPlatform() != w.cfg.Platform {
		return target{}, fmt.Errorf("%w: link %s is on %s, not %s", errInvalidEvent, ev.GetLinkId(),
			c.GetConnection().GetPlatform(), w.cfg.Platform)
	}
	return target{link: l.GetLink(), conn: platformConn(c.GetConnection())}, nil
}

func (w *Writer) countShare(ctx context.Context, ev *gsv1.ChangeEvent, failed bool) error {
	_, err := w.mapping.CountShareItem(ctx, &gsv1.CountShareItemRequest{
		TenantId: ev.GetTenantId(), JobId: ev.GetShareJobId(), ItemId: ev.GetItem().GetItemId(), Failed: failed,
	})
	if err != nil {
		return fmt.Errorf("count share item: %w", err)
	}
	return nil
}
