package mappingfake

import (
	"context"
	"slices"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// createdAt keeps a record's creation time across replacements: the one the
// caller sent, else the stored one, else now.
func (f *Fake) createdAt(sent, stored *timestamppb.Timestamp) *timestamppb.Timestamp {
	switch {
	case sent != nil:
		return sent
	case stored != nil:
		return stored
	}
	return timestamppb.New(f.now())
}

// PutTenant implements gsv1.MappingServiceServer.
func (f *Fake) PutTenant(_ context.Context, r *gsv1.PutTenantRequest) (*gsv1.PutTenantResponse, error) {
	if err := required("tenant_id", r.GetTenant().GetTenantId()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t := clone(r.GetTenant())
	t.CreatedAt = f.createdAt(t.GetCreatedAt(), f.tenants[t.GetTenantId()].GetCreatedAt())
	f.tenants[t.GetTenantId()] = t
	return &gsv1.PutTenantResponse{Tenant: clone(t)}, nil
}

// GetTenant implements gsv1.MappingServiceServer.
func (f *Fake) GetTenant(_ context.Context, r *gsv1.GetTenantRequest) (*gsv1.GetTenantResponse, error) {
	if err := required("tenant_id", r.GetTenantId()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tenants[r.GetTenantId()]
	if !ok {
		return nil, notFound("tenant")
	}
	return &gsv1.GetTenantResponse{Tenant: clone(t)}, nil
}

// RemoveTenant implements gsv1.MappingServiceServer. Like the service it
// records a tenant it never saw as removed, so a late uninstall still
// refuses that tenant's events.
func (f *Fake) RemoveTenant(_ context.Context, r *gsv1.RemoveTenantRequest) (*gsv1.RemoveTenantResponse, error) {
	id := r.GetTenantId()
	if err := required("tenant_id", id); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tenants[id]
	if !ok {
		t = &gsv1.Tenant{TenantId: id, CreatedAt: timestamppb.New(f.now())}
		f.tenants[id] = t
	}
	t.State = gsv1.TenantState_TENANT_STATE_REMOVED
	for k, l := range f.links {
		if k.tenant == id {
			l.State = gsv1.LinkState_LINK_STATE_PAUSED
		}
	}
	for k, c := range f.conns {
		if k.tenant == id {
			c.Credentials = nil
		}
	}
	return &gsv1.RemoveTenantResponse{Tenant: clone(t)}, nil
}

// PutConnection implements gsv1.MappingServiceServer. The answer leaves the
// credentials out: only GetConnection hands them back.
func (f *Fake) PutConnection(_ context.Context, r *gsv1.PutConnectionRequest) (*gsv1.PutConnectionResponse, error) {
	c := clone(r.GetConnection())
	if err := required("tenant_id", c.GetTenantId(), "connection_id", c.GetConnectionId()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := pair{c.GetTenantId(), c.GetConnectionId()}
	c.CreatedAt = f.createdAt(c.GetCreatedAt(), f.conns[k].GetCreatedAt())
	f.conns[k] = c
	out := clone(c)
	out.Credentials = nil
	return &gsv1.PutConnectionResponse{Connection: out}, nil
}

// GetConnection implements gsv1.MappingServiceServer.
func (f *Fake) GetConnection(_ context.Context, r *gsv1.GetConnectionRequest) (*gsv1.GetConnectionResponse, error) {
	if err := required("tenant_id", r.GetTenantId(), "connection_id", r.GetConnectionId()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.conns[pair{r.GetTenantId(), r.GetConnectionId()}]
	if !ok {
		return nil, notFound("connection")
	}
	return &gsv1.GetConnectionResponse{Connection: clone(c)}, nil
}

// ListConnections implements gsv1.MappingServiceServer: in connection id
// order and without credentials.
func (f *Fake) ListConnections(_ context.Context, r *gsv1.ListConnectionsRequest) (*gsv1.ListConnectionsResponse, error) {
	if err := required("tenant_id", r.GetTenantId()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*gsv1.Connection
	for k, c := range f.conns {
		if k.tenant == r.GetTenantId() {
			c = clone(c)
			c.Credentials = nil
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *gsv1.Connection) int { return strings.Compare(a.GetConnectionId(), b.GetConnectionId()) })
	return &gsv1.ListConnectionsResponse{Connections: out}, nil
}
