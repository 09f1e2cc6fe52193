package server

import (
	"context"
	"errors"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// PutIntent implements gsv1.MappingServiceServer.
func (s *Service) PutIntent(ctx context.Context, req *gsv1.PutIntentRequest) (*gsv1.PutIntentResponse, error) {
	ttl, ttlErr := ttlOf(req.GetTtl())
	if err := errors.Join(store.CheckIntent(req.GetIntent()), ttlErr); err != nil {
		return nil, s.toStatus(ctx, "put intent", err)
	}
	in, err := s.store.PutIntent(ctx, req.GetIntent(), ttl)
	if err != nil {
		return nil, s.toStatus(ctx, "put intent", err)
	}
	return &gsv1.PutIntentResponse{Intent: in}, nil
}

// GetIntent implements gsv1.MappingServiceServer.
func (s *Service) GetIntent(ctx context.Context, req *gsv1.GetIntentRequest) (*gsv1.GetIntentResponse, error) {
	if err := errors.Join(store.CheckID("tenant_id", req.GetTenantId()), store.CheckKey("key", req.GetKey())); err != nil {
		return nil, s.toStatus(ctx, "get intent", err)
	}
	in, err := s.store.GetIntent(ctx, req.GetTenantId(), req.GetKey())
	if err != nil {
		return nil, s.toStatus(ctx, "get intent", err)
	}
	return &gsv1.GetIntentResponse{Intent: in}, nil
}

// DeleteIntent implements gsv1.MappingServiceServer.
func (s *Service) DeleteIntent(ctx context.Context, req *gsv1.DeleteIntentRequest) (*gsv1.DeleteIntentResponse, error) {
	if err := errors.Join(store.CheckID("tenant_id", req.GetTenantId()), store.CheckKey("key", req.GetKey())); err != nil {
		return nil, s.toStatus(ctx, "delete intent", err)
	}
	if err := s.store.DeleteIntent(ctx, req.GetTenantId(), req.GetKey()); err != nil {
		return nil, s.toStatus(ctx, "delete intent", err)
	}
	return &gsv1.DeleteIntentResponse{}, nil
}
