package fake

import (
	"context"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// PutShareJob implements the service: compare-and-set, the counts and
// times kept by the store, and a job whose items are all counted DONE.
func (m *Mapping) PutShareJob(_ context.Context, r *gsv1.PutShareJobRequest) (*gsv1.PutShareJobResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j := clone(r.GetJob())
	k := [2]string{j.GetTenantId(), j.GetJobId()}
	prev := m.jobs[k]
	if prev.GetRevision() != r.GetExpectedRevision() {
		return nil, status.Error(codes.Aborted, "revision mismatch")
	}
	j.Revision = r.GetExpectedRevision() + 1
	j.Done, j.Failed, j.CreatedAt, j.UpdatedAt = prev.GetDone(), prev.GetFailed(), prev.GetCreatedAt(), now()
	if j.CreatedAt == nil {
		j.CreatedAt = j.UpdatedAt
	}
	settle(j)
	m.jobs[k] = j
	return &gsv1.PutShareJobResponse{Job: clone(j)}, nil
}

// settle makes a running or paused job whose items are all counted DONE.
func settle(j *gsv1.ShareJob) {
	active := j.State == gsv1.ShareState_SHARE_STATE_RUNNING || j.State == gsv1.ShareState_SHARE_STATE_PAUSED
	if active && j.Done+j.Failed >= j.Total {
		j.State, j.FinishedAt = gsv1.ShareState_SHARE_STATE_DONE, now()
	}
}

// GetShareJob implements the service.
func (m *Mapping) GetShareJob(_ context.Context, r *gsv1.GetShareJobRequest) (*gsv1.GetShareJobResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[[2]string{r.GetTenantId(), r.GetJobId()}]
	if !ok {
		return nil, notFound("share job")
	}
	return &gsv1.GetShareJobResponse{Job: clone(j)}, nil
}

// ListShareJobs implements the service, newest first.
func (m *Mapping) ListShareJobs(_ context.Context, r *gsv1.ListShareJobsRequest) (*gsv1.ListShareJobsResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*gsv1.ShareJob
	for k, j := range m.jobs {
		if k[0] == r.GetTenantId() && (r.GetLinkId() == "" || j.LinkId == r.GetLinkId()) {
			out = append(out, clone(j))
		}
	}
	slices.SortFunc(out, func(a, b *gsv1.ShareJob) int { return b.CreatedAt.AsTime().Compare(a.CreatedAt.AsTime()) })
	return &gsv1.ListShareJobsResponse{Jobs: out}, nil
}

// CountShareItem implements the service: once per item, a success after a
// failure moves it from failed to done.
func (m *Mapping) CountShareItem(_ context.Context, r *gsv1.CountShareItemRequest) (*gsv1.CountShareItemResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[[2]string{r.GetTenantId(), r.GetJobId()}]
	if !ok {
		return nil, notFound("share job")
	}
	ck := [3]string{r.GetTenantId(), r.GetJobId(), r.GetItemId()}
	failed, seen := m.counts[ck]
	switch {
	case !seen && r.GetFailed():
		j.Failed++
	case !seen:
		j.Done++
	case failed && !r.GetFailed():
		j.Failed--
		j.Done++
	default:
		return &gsv1.CountShareItemResponse{Job: clone(j)}, nil
	}
	m.counts[ck] = r.GetFailed() && (!seen || failed)
	j.Revision++
	j.UpdatedAt = now()
	settle(j)
	return &gsv1.CountShareItemResponse{Job: clone(j)}, nil
}
