package server

import (
	"context"
	"errors"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// PutShareJob implements gsv1.MappingServiceServer.
func (s *Service) PutShareJob(ctx context.Context, req *gsv1.PutShareJobRequest) (*gsv1.PutShareJobResponse, error) {
	if err := store.CheckShareJob(req.GetJob(), req.GetExpectedRevision()); err != nil {
		return nil, s.toStatus(ctx, "put share job", err)
	}
	job, err := s.store.PutShareJob(ctx, req.GetJob(), req.GetExpectedRevision())
	if err != nil {
		return nil, s.toStatus(ctx, "put share job", err)
	}
	return &gsv1.PutShareJobResponse{Job: job}, nil
}

// GetShareJob implements gsv1.MappingServiceServer.
func (s *Service) GetShareJob(ctx context.Context, req *gsv1.GetShareJobRequest) (*gsv1.GetShareJobResponse, error) {
	if err := errors.Join(store.CheckID("tenant_id", req.GetTenantId()), store.CheckID("job_id", req.GetJobId())); err != nil {
		return nil, s.toStatus(ctx, "get share job", err)
	}
	job, err := s.store.GetShareJob(ctx, req.GetTenantId(), req.GetJobId())
	if err != nil {
		return nil, s.toStatus(ctx, "get share job", err)
	}
	return &gsv1.GetShareJobResponse{Job: job}, nil
}

// ListShareJobs implements gsv1.MappingServiceServer.
func (s *Service) ListShareJobs(ctx context.Context, req *gsv1.ListShareJobsRequest) (*gsv1.ListShareJobsResponse, error) {
	if err := errors.Join(store.CheckID("tenant_id", req.GetTenantId()), store.CheckOptionalID("link_id", req.GetLinkId())); err != nil {
		return nil, s.toStatus(ctx, "list share jobs", err)
	}
	jobs, err := s.store.ListShareJobs(ctx, req.GetTenantId(), req.GetLinkId())
	if err != nil {
		return nil, s.toStatus(ctx, "list share jobs", err)
	}
	return &gsv1.ListShareJobsResponse{Jobs: jobs}, nil
}

// CountShareItem implements gsv1.MappingServiceServer.
func (s *Service) CountShareItem(ctx context.Context, req *gsv1.CountShareItemRequest) (*gsv1.CountShareItemResponse, error) {
	tenant, job, item := req.GetTenantId(), req.GetJobId(), req.GetItemId()
	if err := errors.Join(store.CheckID("tenant_id", tenant), store.CheckID("job_id", job), store.CheckID("item_id", item)); err != nil {
		return nil, s.toStatus(ctx, "count share item", err)
	}
	j, err := s.store.CountShareItem(ctx, tenant, job, item, req.GetFailed())
	if err != nil {
		return nil, s.toStatus(ctx, "count share item", err)
	}
	return &gsv1.CountShareItemResponse{Job: j}, nil
}
