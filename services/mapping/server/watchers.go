package server

import (
	"context"
	"errors"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// The calls of the platform watchers: finding every link to watch, and
// keeping each watcher's place in its platform's change feed.

// ScanLinks implements gsv1.MappingServiceServer. It is the one call that
// reads across tenants; the mapping service is internal, and nothing facing
// a tenant may pass it through.
func (s *Service) ScanLinks(ctx context.Context, req *gsv1.ScanLinksRequest) (*gsv1.ScanLinksResponse, error) {
	_, sizeErr := store.PageSize(int(req.GetPageSize()))
	_, tokenErr := store.ParseScanToken(req.GetPageToken())
	if err := errors.Join(sizeErr, tokenErr); err != nil {
		return nil, s.toStatus(ctx, "scan links", err)
	}
	links, next, err := s.store.ScanLinks(ctx, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, s.toStatus(ctx, "scan links", err)
	}
	return &gsv1.ScanLinksResponse{Links: links, NextPageToken: next}, nil
}

// PutCursor implements gsv1.MappingServiceServer.
func (s *Service) PutCursor(ctx context.Context, req *gsv1.PutCursorRequest) (*gsv1.PutCursorResponse, error) {
	if err := store.CheckCursor(req.GetTenantId(), req.GetKey(), req.GetValue()); err != nil {
		return nil, s.toStatus(ctx, "put cursor", err)
	}
	if err := s.store.PutCursor(ctx, req.GetTenantId(), req.GetKey(), req.GetValue()); err != nil {
		return nil, s.toStatus(ctx, "put cursor", err)
	}
	return &gsv1.PutCursorResponse{}, nil
}

// GetCursor implements gsv1.MappingServiceServer.
func (s *Service) GetCursor(ctx context.Context, req *gsv1.GetCursorRequest) (*gsv1.GetCursorResponse, error) {
	if err := errors.Join(store.CheckID("tenant_id", req.GetTenantId()), store.CheckKey("key", req.GetKey())); err != nil {
		return nil, s.toStatus(ctx, "get cursor", err)
	}
	v, err := s.store.GetCursor(ctx, req.GetTenantId(), req.GetKey())
	if err != nil {
		return nil, s.toStatus(ctx, "get cursor", err)
	}
	return &gsv1.GetCursorResponse{Value: v}, nil
}
