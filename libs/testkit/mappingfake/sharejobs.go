package mappingfake

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// settle applies the rule every write of a share job keeps: a RUNNING or
// PAUSED job whose done and failed items reach its total is DONE, because
// no count is left to finish it. finished_at is kept from a job that was
// DONE already, set when it becomes DONE and empty in any other state.
func settle(j, prev *gsv1.ShareJob, now time.Time) {
	active := j.GetState() == gsv1.ShareState_SHARE_STATE_RUNNING || j.GetState() == gsv1.ShareState_SHARE_STATE_PAUSED
	if active && j.GetDone()+j.GetFailed() >= j.GetTotal() {
		j.State = gsv1.ShareState_SHARE_STATE_DONE
	}
	switch {
	case j.GetState() != gsv1.ShareState_SHARE_STATE_DONE:
		j.FinishedAt = nil
	case prev.GetState() == gsv1.ShareState_SHARE_STATE_DONE && prev.GetFinishedAt() != nil:
		j.FinishedAt = prev.GetFinishedAt()
	default:
		j.FinishedAt = timestamppb.New(now)
	}
}

// PutShareJob implements gsv1.MappingServiceServer: compare-and-set on the
// revision; the counts and times are the fake's, not the caller's.
func (f *Fake) PutShareJob(_ context.Context, r *gsv1.PutShareJobRequest) (*gsv1.PutShareJobResponse, error) {
	j := clone(r.GetJob())
	if err := required("tenant_id", j.GetTenantId(), "job_id", j.GetJobId(), "link_id", j.GetLinkId()); err != nil {
		return nil, err
	}
	switch {
	case r.GetExpectedRevision() < 0:
		return nil, invalid("expected_revision: negative")
	case j.GetState() == gsv1.ShareState_SHARE_STATE_UNSPECIFIED || gsv1.ShareState_name[int32(j.GetState())] == "":
		return nil, invalid("state: not a share state")
	case j.GetTotal() < 0:
		return nil, invalid("total: negative")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k, now := pair{j.GetTenantId(), j.GetJobId()}, f.now()
	prev := f.jobs[k]
	if prev.GetRevision() != r.GetExpectedRevision() {
		return nil, status.Errorf(codes.Aborted, "revision is %d, expected %d", prev.GetRevision(), r.GetExpectedRevision())
	}
	j.Revision = r.GetExpectedRevision() + 1
	j.Done, j.Failed = prev.GetDone(), prev.GetFailed()
	j.CreatedAt, j.UpdatedAt = prev.GetCreatedAt(), timestamppb.New(now)
	if j.CreatedAt == nil {
		j.CreatedAt = j.UpdatedAt
	}
	settle(j, prev, now)
	f.jobs[k] = j
	return &gsv1.PutShareJobResponse{Job: clone(j)}, nil
}

// GetShareJob implements gsv1.MappingServiceServer.
func (f *Fake) GetShareJob(_ context.Context, r *gsv1.GetShareJobRequest) (*gsv1.GetShareJobResponse, error) {
	if err := required("tenant_id", r.GetTenantId(), "job_id", r.GetJobId()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	j, ok := f.jobs[pair{r.GetTenantId(), r.GetJobId()}]
	if !ok {
		return nil, notFound("share job")
	}
	return &gsv1.GetShareJobResponse{Job: clone(j)}, nil
}

// ListShareJobs implements gsv1.MappingServiceServer: newest first, and
// among jobs created at once the greater job id first.
func (f *Fake) ListShareJobs(_ context.Context, r *gsv1.ListShareJobsRequest) (*gsv1.ListShareJobsResponse, error) {
	if err := required("tenant_id", r.GetTenantId()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*gsv1.ShareJob
	for k, j := range f.jobs {
		if k.tenant == r.GetTenantId() && (r.GetLinkId() == "" || j.GetLinkId() == r.GetLinkId()) {
			out = append(out, clone(j))
		}
	}
	slices.SortFunc(out, func(a, b *gsv1.ShareJob) int {
		return cmp.Or(b.GetCreatedAt().AsTime().Compare(a.GetCreatedAt().AsTime()), strings.Compare(b.GetJobId(), a.GetJobId()))
	})
	return &gsv1.ListShareJobsResponse{Jobs: out}, nil
}

// CountShareItem implements gsv1.MappingServiceServer: each item counts
// once, except that a failed item that later succeeds moves from failed
// to done.
func (f *Fake) CountShareItem(_ context.Context, r *gsv1.CountShareItemRequest) (*gsv1.CountShareItemResponse, error) {
	if err := required("tenant_id", r.GetTenantId(), "job_id", r.GetJobId(), "item_id", r.GetItemId()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	prev, ok := f.jobs[pair{r.GetTenantId(), r.GetJobId()}]
	if !ok {
		return nil, notFound("share job")
	}
	ck := triple{r.GetTenantId(), r.GetJobId(), r.GetItemId()}
	wasFailed, seen := f.counted[ck]
	j := clone(prev)
	switch {
	case !seen && r.GetFailed():
		j.Failed++
	case !seen:
		j.Done++
	case wasFailed && !r.GetFailed():
		j.Failed--
		j.Done++
	default:
		return &gsv1.CountShareItemResponse{Job: j}, nil
	}
	f.counted[ck] = r.GetFailed()
	now := f.now()
	j.Revision++
	j.UpdatedAt = timestamppb.New(now)
	settle(j, prev, now)
	f.jobs[ck.pair()] = j
	return &gsv1.CountShareItemResponse{Job: clone(j)}, nil
}

// pair is the record key of a triple's first two parts.
func (t triple) pair() pair { return pair{t.tenant, t.a} }
