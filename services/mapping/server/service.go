// Package server is the mapping service: the gRPC MappingService on top of a
// store.Store, and the lifecycle (store, listener, health, shutdown) that the
// service binary and the single-process runner start it with.
package server

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/seal"
	"gallerysync.dev/services/mapping/store"
)

// Service implements gsv1.MappingServiceServer. It checks every request
// before the store sees it and seals connection credentials on the way in.
type Service struct {
	gsv1.UnimplementedMappingServiceServer
	store  store.Store
	sealer *seal.Sealer
	logger *slog.Logger
}

// NewService returns the service over st; sealer protects credentials.
func NewService(st store.Store, sealer *seal.Sealer, logger *slog.Logger) *Service {
	return &Service{store: st, sealer: sealer, logger: logger}
}

// toStatus maps an error to the gRPC status the API documents. Store and
// validation messages name only the caller's own ids, so they are returned;
// anything unexpected is logged and answered with a bare Internal.
func (s *Service) toStatus(ctx context.Context, op string, err error) error {
	switch {
	case errors.Is(err, store.ErrInvalid):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, store.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, store.ErrConflict):
		return status.Error(codes.Aborted, err.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return status.FromContextError(err).Err()
	}
	s.logger.ErrorContext(ctx, "mapping call failed", "op", op, "err", err)
	return status.Errorf(codes.Internal, "%s: internal error", op)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w "+format, append([]any{store.ErrInvalid}, args...)...)
}

// createdAt keeps a record's creation time across replacements: the one the
// caller sent, else the stored one, else now.
func createdAt(sent, stored *timestamppb.Timestamp) *timestamppb.Timestamp {
	switch {
	case sent != nil:
		return sent
	case stored != nil:
		return stored
	}
	return timestamppb.New(time.Now())
}

// PutTenant implements gsv1.MappingServiceServer.
func (s *Service) PutTenant(ctx context.Context, req *gsv1.PutTenantRequest) (*gsv1.PutTenantResponse, error) {
	if err := store.CheckTenant(req.GetTenant()); err != nil {
		return nil, s.toStatus(ctx, "put tenant", err)
	}
	t := proto.Clone(req.GetTenant()).(*gsv1.Tenant)
	old, err := s.store.GetTenant(ctx, t.TenantId)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, s.toStatus(ctx, "put tenant", err)
	}
	t.CreatedAt = createdAt(t.CreatedAt, old.GetCreatedAt())
	if err := s.store.PutTenant(ctx, t); err != nil {
		return nil, s.toStatus(ctx, "put tenant", err)
	}
	return &gsv1.PutTenantResponse{Tenant: t}, nil
}

// GetTenant implements gsv1.MappingServiceServer.
func (s *Service) GetTenant(ctx context.Context, req *gsv1.GetTenantRequest) (*gsv1.GetTenantResponse, error) {
	if err := store.CheckID("tenant_id", req.GetTenantId()); err != nil {
		return nil, s.toStatus(ctx, "get tenant", err)
	}
	t, err := s.store.GetTenant(ctx, req.GetTenantId())
	if err != nil {
		return nil, s.toStatus(ctx, "get tenant", err)
	}
	return &gsv1.GetTenantResponse{Tenant: t}, nil
}

// RemoveTenant implements gsv1.MappingServiceServer.
func (s *Service) RemoveTenant(ctx context.Context, req *gsv1.RemoveTenantRequest) (*gsv1.RemoveTenantResponse, error) {
	if err := store.CheckID("tenant_id", req.GetTenantId()); err != nil {
		return nil, s.toStatus(ctx, "remove tenant", err)
	}
	t, err := s.store.RemoveTenant(ctx, req.GetTenantId())
	if err != nil {
		return nil, s.toStatus(ctx, "remove tenant", err)
	}
	s.logger.InfoContext(ctx, "tenant removed: links paused, credentials deleted", "tenant", t.TenantId)
	return &gsv1.RemoveTenantResponse{Tenant: t}, nil
}

// credentialsAD binds sealed credentials to their tenant and connection;
// lengths make the encoding unambiguous.
func credentialsAD(tenantID, connectionID string) []byte {
	ad := []byte("gallerysync/connection-credentials/v1")
	for _, part := range []string{tenantID, connectionID} {
		ad = binary.AppendUvarint(ad, uint64(len(part)))
		ad = append(ad, part...)
	}
	return ad
}

// PutConnection implements gsv1.MappingServiceServer. The response leaves
// the credentials out: only GetConnection hands them back.
func (s *Service) PutConnection(ctx context.Context, req *gsv1.PutConnectionRequest) (*gsv1.PutConnectionResponse, error) {
	if err := store.CheckConnection(req.GetConnection()); err != nil {
		return nil, s.toStatus(ctx, "put connection", err)
	}
	c := proto.Clone(req.GetConnection()).(*gsv1.Connection)
	old, err := s.store.GetConnection(ctx, c.TenantId, c.ConnectionId)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, s.toStatus(ctx, "put connection", err)
	}
	c.CreatedAt = createdAt(c.CreatedAt, old.GetCreatedAt())
	if len(c.Credentials) > 0 {
		sealed, err := s.sealer.Seal(c.Credentials, credentialsAD(c.TenantId, c.ConnectionId))
		if err != nil {
			return nil, s.toStatus(ctx, "put connection", err)
		}
		c.Credentials = sealed
	}
	if err := s.store.PutConnection(ctx, c); err != nil {
		return nil, s.toStatus(ctx, "put connection", err)
	}
	c.Credentials = nil
	return &gsv1.PutConnectionResponse{Connection: c}, nil
}

// GetConnection implements gsv1.MappingServiceServer.
func (s *Service) GetConnection(ctx context.Context, req *gsv1.GetConnectionRequest) (*gsv1.GetConnectionResponse, error) {
	if err := errors.Join(store.CheckID("tenant_id", req.GetTenantId()), store.CheckID("connection_id", req.GetConnectionId())); err != nil {
		return nil, s.toStatus(ctx, "get connection", err)
	}
	c, err := s.store.GetConnection(ctx, req.GetTenantId(), req.GetConnectionId())
	if err != nil {
		return nil, s.toStatus(ctx, "get connection", err)
	}
	if len(c.Credentials) > 0 {
		plain, err := s.sealer.Open(c.Credentials, credentialsAD(c.TenantId, c.ConnectionId))
		if err != nil {
			// A wrong -secret-key or a record copied between tenants; the
			// caller cannot fix either, so this is Internal.
			return nil, s.toStatus(ctx, "get connection", fmt.Errorf("credentials of connection %s: %w", c.ConnectionId, err))
		}
		c.Credentials = plain
	}
	return &gsv1.GetConnectionResponse{Connection: c}, nil
}

// ListConnections implements gsv1.MappingServiceServer. Credentials never
// leave through a list: only GetConnection of one connection opens them.
func (s *Service) ListConnections(ctx context.Context, req *gsv1.ListConnectionsRequest) (*gsv1.ListConnectionsResponse, error) {
	if err := store.CheckID("tenant_id", req.GetTenantId()); err != nil {
		return nil, s.toStatus(ctx, "list connections", err)
	}
	conns, err := s.store.ListConnections(ctx, req.GetTenantId())
	if err != nil {
		return nil, s.toStatus(ctx, "list connections", err)
	}
	for _, c := range conns {
		c.Credentials = nil
	}
	return &gsv1.ListConnectionsResponse{Connections: conns}, nil
}

// PutLink implements gsv1.MappingServiceServer.
func (s *Service) PutLink(ctx context.Context, req *gsv1.PutLinkRequest) (*gsv1.PutLinkResponse, error) {
	if err := store.CheckLink(req.GetLink()); err != nil {
		return nil, s.toStatus(ctx, "put link", err)
	}
	l := proto.Clone(req.GetLink()).(*gsv1.Link)
	old, err := s.store.GetLink(ctx, l.TenantId, l.LinkId)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, s.toStatus(ctx, "put link", err)
	}
	l.CreatedAt = createdAt(l.CreatedAt, old.GetCreatedAt())
	if err := s.store.PutLink(ctx, l); err != nil {
		return nil, s.toStatus(ctx, "put link", err)
	}
	return &gsv1.PutLinkResponse{Link: l}, nil
}

// GetLink implements gsv1.MappingServiceServer.
func (s *Service) GetLink(ctx context.Context, req *gsv1.GetLinkRequest) (*gsv1.GetLinkResponse, error) {
	if err := errors.Join(store.CheckID("tenant_id", req.GetTenantId()), store.CheckID("link_id", req.GetLinkId())); err != nil {
		return nil, s.toStatus(ctx, "get link", err)
	}
	l, err := s.store.GetLink(ctx, req.GetTenantId(), req.GetLinkId())
	if err != nil {
		return nil, s.toStatus(ctx, "get link", err)
	}
	return &gsv1.GetLinkResponse{Link: l}, nil
}

// ListLinks implements gsv1.MappingServiceServer.
func (s *Service) ListLinks(ctx context.Context, req *gsv1.ListLinksRequest) (*gsv1.ListLinksResponse, error) {
	filter := store.LinkFilter{GalleryID: req.GetGalleryId(), ConnectionID: req.GetConnectionId(), AlbumID: req.GetAlbumId()}
	if err := errors.Join(store.CheckID("tenant_id", req.GetTenantId()), filter.Check()); err != nil {
		return nil, s.toStatus(ctx, "list links", err)
	}
	links, err := s.store.ListLinks(ctx, req.GetTenantId(), filter)
	if err != nil {
		return nil, s.toStatus(ctx, "list links", err)
	}
	return &gsv1.ListLinksResponse{Links: links}, nil
}

// DeleteLink implements gsv1.MappingServiceServer.
func (s *Service) DeleteLink(ctx context.Context, req *gsv1.DeleteLinkRequest) (*gsv1.DeleteLinkResponse, error) {
	if err := errors.Join(store.CheckID("tenant_id", req.GetTenantId()), store.CheckID("link_id", req.GetLinkId())); err != nil {
		return nil, s.toStatus(ctx, "delete link", err)
	}
	if err := s.store.DeleteLink(ctx, req.GetTenantId(), req.GetLinkId()); err != nil {
		return nil, s.toStatus(ctx, "delete link", err)
	}
	s.logger.InfoContext(ctx, "link deleted with its item mappings and sync log", "tenant", req.GetTenantId(), "link", req.GetLinkId())
	return &gsv1.DeleteLinkResponse{}, nil
}
