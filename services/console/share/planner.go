// Package share runs the one-time upload of a gallery to a linked album:
// Start records the link and a PLANNING job, the Planner stores a mapping
// for every item and publishes one share event per item, and the Runner
// plans jobs in the background and again after a restart.
package share

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/wix"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Wix is the part of the Wix client sharing needs.
type Wix interface {
	// GetGallery returns a gallery with one page of its items.
	GetGallery(ctx context.Context, instanceID, galleryID string, itemOffset, itemLimit int) (wix.Gallery, error)
	// Items yields every item of a gallery.
	Items(ctx context.Context, instanceID, galleryID string) iter.Seq2[wix.Item, error]
}

// Publisher stores change events on the bus and waits for the ack.
type Publisher interface {
	Publish(ctx context.Context, ev *gsv1.ChangeEvent) (bus.PublishResult, error)
}

// checkEvery is how many items are planned between two looks at the job,
// so a cancel stops a long planning soon.
const checkEvery = 100

// maxCASAttempts bounds the compare-and-set retries of one job write; the
// writers count items concurrently, so a few conflicts are normal.
const maxCASAttempts = 20

// Planner plans share jobs. It is safe for concurrent use.
type Planner struct {
	mapping gsv1.MappingServiceClient
	wix     Wix
	bus     Publisher
	log     *slog.Logger
	now     func() time.Time
}

// NewPlanner returns a Planner.
func NewPlanner(mapping gsv1.MappingServiceClient, w Wix, b Publisher, log *slog.Logger) *Planner {
	return &Planner{mapping: mapping, wix: w, bus: b, log: log, now: time.Now}
}

// Plan stores a PENDING_CREATE mapping (with a fresh intent key) for every
// item of the job's gallery that the link has no mapping for, publishes a
// share event for every item, and then records the total and sets the job
// RUNNING. It is idempotent: mappings that exist are kept, the bus drops
// republished events within its duplicate window, and the writer's create
// of an item is idempotent. A job whose link, connection or gallery is gone
// is cancelled with the reason; other failures are returned for a retry.
func (p *Planner) Plan(ctx context.Context, job *gsv1.ShareJob) error {
	tenant := job.GetTenantId()
	link, platform, err := p.target(ctx, job)
	if errors.Is(err, errGone) {
		return p.cancel(ctx, job, err.Error())
	}
	if err != nil {
		return err
	}
	total := 0
	for it, err := range p.wix.Items(ctx, tenant, link.GetGalleryId()) {
		if errors.Is(err, wix.ErrNotFound) {
			return p.cancel(ctx, job, "the gallery was deleted")
		}
		if err != nil {
			return fmt.Errorf("plan %s: %w", job.GetJobId(), err)
		}
		snap := wix.Snapshot(it)
		if snap.GetMediaUrl() == "" {
			// A text item has nothing to post on a media platform.
			continue
		}
		if err := p.ensureMapping(ctx, link, snap); err != nil {
			return fmt.Errorf("plan %s: %w", job.GetJobId(), err)
		}
		if _, err := p.bus.Publish(ctx, p.event(job, link, platform, snap)); err != nil {
			return fmt.Errorf("plan %s: %w", job.GetJobId(), err)
		}
		total++
		if total%checkEvery == 0 {
			cur, err := p.mapping.GetShareJob(ctx, &gsv1.GetShareJobRequest{TenantId: tenant, JobId: job.GetJobId()})
			if err != nil {
				return fmt.Errorf("plan %s: %w", job.GetJobId(), err)
			}
			if cur.GetJob().GetState() == gsv1.ShareState_SHARE_STATE_CANCELLED {
				return nil
			}
		}
	}
	return p.finish(ctx, job, int32(total))
}

// errGone wraps the reasons a job cannot go on at all.
var errGone = errors.New("gone")

// target returns the job's link and its connection's platform.
func (p *Planner) target(ctx context.Context, job *gsv1.ShareJob) (*gsv1.Link, string, error) {
	tenant := job.GetTenantId()
	lr, err := p.mapping.GetLink(ctx, &gsv1.GetLinkRequest{TenantId: tenant, LinkId: job.GetLinkId()})
	if status.Code(err) == codes.NotFound {
		return nil, "", fmt.Errorf("the link was removed: %w", errGone)
	}
	if err != nil {
		return nil, "", fmt.Errorf("get link %s: %w", job.GetLinkId(), err)
	}
	cr, err := p.mapping.ListConnections(ctx, &gsv1.ListConnectionsRequest{TenantId: tenant})
	if err != nil {
		return nil, "", fmt.Errorf("list connections: %w", err)
	}
	for _, c := range cr.GetConnections() {
		if c.GetConnectionId() == lr.GetLink().GetConnectionId() {
			return lr.GetLink(), c.GetPlatform(), nil
		}
	}
	return nil, "", fmt.Errorf("the connection was removed: %w", errGone)
}

// ensureMapping records the intent to create the item before anything is
// uploaded, unless the link already maps it.
func (p *Planner) ensureMapping(ctx context.Context, link *gsv1.Link, snap *gsv1.ItemSnapshot) error {
	_, err := p.mapping.GetItem(ctx, &gsv1.GetItemRequest{
		TenantId: link.GetTenantId(), LinkId: link.GetLinkId(), Key: &gsv1.GetItemRequest_WixItemId{WixItemId: snap.GetItemId()},
	})
	if err == nil {
		return nil
	}
	if status.Code(err) != codes.NotFound {
		return fmt.Errorf("get item %s: %w", snap.GetItemId(), err)
	}
	key, err := newID("")
	if err != nil {
		return err
	}
	_, err = p.mapping.PutItem(ctx, &gsv1.PutItemRequest{Item: &gsv1.ItemMapping{
		TenantId:  link.GetTenantId(),
		LinkId:    link.GetLinkId(),
		WixItemId: snap.GetItemId(),
		State:     gsv1.ItemState_ITEM_STATE_PENDING_CREATE,
		IntentKey: key,
		SortOrder: snap.GetSortOrder(),
	}})
	if status.Code(err) == codes.Aborted {
		// Written meanwhile (a live change or another planner): keep that.
		return nil
	}
	if err != nil {
		return fmt.Errorf("put item %s: %w", snap.GetItemId(), err)
	}
	return nil
}

// event is the share work of one item.
func (p *Planner) event(job *gsv1.ShareJob, link *gsv1.Link, platform string, snap *gsv1.ItemSnapshot) *gsv1.ChangeEvent {
	source := job.GetJobId() + ":" + snap.GetItemId()
	return &gsv1.ChangeEvent{
		EventId:       "share:" + source,
		TenantId:      job.GetTenantId(),
		Origin:        gsv1.Origin_ORIGIN_WIX,
		Platform:      platform,
		SourceEventId: source,
		OccurredAt:    timestamppb.New(p.now()),
		Kind:          gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED,
		GalleryId:     link.GetGalleryId(),
		Item:          snap,
		ShareJobId:    job.GetJobId(),
		LinkId:        link.GetLinkId(),
	}
}

// finish records the total and starts the job (a paused job stays paused).
func (p *Planner) finish(ctx context.Context, job *gsv1.ShareJob, total int32) error {
	return p.update(ctx, job, func(j *gsv1.ShareJob) bool {
		switch j.GetState() {
		case gsv1.ShareState_SHARE_STATE_PLANNING:
			j.State = gsv1.ShareState_SHARE_STATE_RUNNING
		case gsv1.ShareState_SHARE_STATE_RUNNING, gsv1.ShareState_SHARE_STATE_PAUSED:
		default:
			return false
		}
		j.Total = total
		return true
	})
}

// cancel stops a job that cannot go on, saying why.
func (p *Planner) cancel(ctx context.Context, job *gsv1.ShareJob, reason string) error {
	p.log.InfoContext(ctx, "share job cancelled", slog.String("tenant", job.GetTenantId()),
		slog.String("job", job.GetJobId()), slog.String("reason", reason))
	return p.update(ctx, job, func(j *gsv1.ShareJob) bool {
		if j.GetState() == gsv1.ShareState_SHARE_STATE_DONE || j.GetState() == gsv1.ShareState_SHARE_STATE_CANCELLED {
			return false
		}
		j.State, j.Error = gsv1.ShareState_SHARE_STATE_CANCELLED, reason
		return true
	})
}

// update applies change to the stored job with compare-and-set, reading it
// again after each conflict; change returns false to leave the job alone.
func (p *Planner) update(ctx context.Context, job *gsv1.ShareJob, change func(*gsv1.ShareJob) bool) error {
	_, err := updateJob(ctx, p.mapping, job.GetTenantId(), job.GetJobId(), func(j *gsv1.ShareJob) error {
		if !change(j) {
			return errUnchanged
		}
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}
