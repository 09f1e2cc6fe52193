package server

import (
	"context"
	"errors"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// ttlOf converts a request's TTL, refusing a missing, malformed or too short one.
func ttlOf(d *durationpb.Duration) (time.Duration, error) {
	if d == nil {
		return 0, invalid("ttl: missing")
	}
	if err := d.CheckValid(); err != nil {
		return 0, invalid("ttl: %v", err)
	}
	ttl := d.AsDuration()
	return ttl, store.CheckTTL(ttl)
}

// MarkEcho implements gsv1.MappingServiceServer.
func (s *Service) MarkEcho(ctx context.Context, req *gsv1.MarkEchoRequest) (*gsv1.MarkEchoResponse, error) {
	ttl, ttlErr := ttlOf(req.GetTtl())
	if err := errors.Join(store.CheckID("tenant_id", req.GetTenantId()), store.CheckSide(req.GetSide()),
		store.CheckID("object_id", req.GetObjectId()), store.CheckKey("content_hash", req.GetContentHash()), ttlErr); err != nil {
		return nil, s.toStatus(ctx, "mark echo", err)
	}
	if err := s.store.MarkEcho(ctx, req.GetTenantId(), req.GetSide(), req.GetObjectId(), req.GetContentHash(), ttl); err != nil {
		return nil, s.toStatus(ctx, "mark echo", err)
	}
	return &gsv1.MarkEchoResponse{}, nil
}

// CheckEcho implements gsv1.MappingServiceServer.
func (s *Service) CheckEcho(ctx context.Context, req *gsv1.CheckEchoRequest) (*gsv1.CheckEchoResponse, error) {
	if err := errors.Join(store.CheckID("tenant_id", req.GetTenantId()), store.CheckSide(req.GetSide()),
		store.CheckID("object_id", req.GetObjectId()), store.CheckKey("content_hash", req.GetContentHash())); err != nil {
		return nil, s.toStatus(ctx, "check echo", err)
	}
	echo, err := s.store.CheckEcho(ctx, req.GetTenantId(), req.GetSide(), req.GetObjectId(), req.GetContentHash())
	if err != nil {
		return nil, s.toStatus(ctx, "check echo", err)
	}
	return &gsv1.CheckEchoResponse{Echo: echo}, nil
}

// MarkDedup implements gsv1.MappingServiceServer.
func (s *Service) MarkDedup(ctx context.Context, req *gsv1.MarkDedupRequest) (*gsv1.MarkDedupResponse, error) {
	ttl, ttlErr := ttlOf(req.GetTtl())
	if err := errors.Join(store.CheckID("tenant_id", req.GetTenantId()), store.CheckKey("key", req.GetKey()), ttlErr); err != nil {
		return nil, s.toStatus(ctx, "mark dedup", err)
	}
	first, err := s.store.MarkDedup(ctx, req.GetTenantId(), req.GetKey(), ttl)
	if err != nil {
		return nil, s.toStatus(ctx, "mark dedup", err)
	}
	return &gsv1.MarkDedupResponse{First: first}, nil
}

// CheckDedup implements gsv1.MappingServiceServer.
func (s *Service) CheckDedup(ctx context.Context, req *gsv1.CheckDedupRequest) (*gsv1.CheckDedupResponse, error) {
	if err := errors.Join(store.CheckID("tenant_id", req.GetTenantId()), store.CheckKey("key", req.GetKey())); err != nil {
		return nil, s.toStatus(ctx, "check dedup", err)
	}
	seen, err := s.store.CheckDedup(ctx, req.GetTenantId(), req.GetKey())
	if err != nil {
		return nil, s.toStatus(ctx, "check dedup", err)
	}
	return &gsv1.CheckDedupResponse{Seen: seen}, nil
}

// AcquireLock implements gsv1.MappingServiceServer.
func (s *Service) AcquireLock(ctx context.Context, req *gsv1.AcquireLockRequest) (*gsv1.AcquireLockResponse, error) {
	ttl, ttlErr := ttlOf(req.GetTtl())
	if err := errors.Join(store.CheckID("tenant_id", req.GetTenantId()), store.CheckKey("key", req.GetKey()),
		store.CheckKey("owner", req.GetOwner()), ttlErr); err != nil {
		return nil, s.toStatus(ctx, "acquire lock", err)
	}
	ok, err := s.store.AcquireLock(ctx, req.GetTenantId(), req.GetKey(), req.GetOwner(), ttl)
	if err != nil {
		return nil, s.toStatus(ctx, "acquire lock", err)
	}
	return &gsv1.AcquireLockResponse{Acquired: ok}, nil
}

// ReleaseLock implements gsv1.MappingServiceServer.
func (s *Service) ReleaseLock(ctx context.Context, req *gsv1.ReleaseLockRequest) (*gsv1.ReleaseLockResponse, error) {
	if err := errors.Join(store.CheckID("tenant_id", req.GetTenantId()), store.CheckKey("key", req.GetKey()),
		store.CheckKey("owner", req.GetOwner())); err != nil {
		return nil, s.toStatus(ctx, "release lock", err)
	}
	ok, err := s.store.ReleaseLock(ctx, req.GetTenantId(), req.GetKey(), req.GetOwner())
	if err != nil {
		return nil, s.toStatus(ctx, "release lock", err)
	}
	return &gsv1.ReleaseLockResponse{Released: ok}, nil
}
