package server

import (
	"context"
	"errors"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// AppendLog implements gsv1.MappingServiceServer.
func (s *Service) AppendLog(ctx context.Context, req *gsv1.AppendLogRequest) (*gsv1.AppendLogResponse, error) {
	tenant, link := req.GetTenantId(), req.GetLinkId()
	if err := errors.Join(store.CheckID("tenant_id", tenant), store.CheckID("link_id", link), store.CheckLogEntry(req.GetEntry())); err != nil {
		return nil, s.toStatus(ctx, "append log", err)
	}
	if err := s.store.AppendLog(ctx, tenant, link, req.GetEntry()); err != nil {
		return nil, s.toStatus(ctx, "append log", err)
	}
	return &gsv1.AppendLogResponse{}, nil
}

// ListLog implements gsv1.MappingServiceServer.
func (s *Service) ListLog(ctx context.Context, req *gsv1.ListLogRequest) (*gsv1.ListLogResponse, error) {
	tenant, link, item, limit := req.GetTenantId(), req.GetLinkId(), req.GetWixItemId(), int(req.GetLimit())
	if _, err := store.CheckLogRead(tenant, link, item, limit); err != nil {
		return nil, s.toStatus(ctx, "list log", err)
	}
	entries, err := s.store.ListLog(ctx, tenant, link, item, limit)
	if err != nil {
		return nil, s.toStatus(ctx, "list log", err)
	}
	return &gsv1.ListLogResponse{Entries: entries}, nil
}
