// Package fake holds in-memory stand-ins for the console's tests: a
// MappingService served over real gRPC with the semantics its proto
// documents (tenant-scoped records, NOT_FOUND, compare-and-set revisions,
// share job counts that settle to DONE), and a Wix site.
package fake

import (
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Mapping is an in-memory MappingService.
type Mapping struct {
	gsv1.UnimplementedMappingServiceServer

	mu      sync.Mutex
	conns   map[[2]string]*gsv1.Connection
	links   map[[2]string]*gsv1.Link
	items   map[[3]string]*gsv1.ItemMapping
	jobs    map[[2]string]*gsv1.ShareJob
	counts  map[[3]string]bool // job item -> failed
	logs    map[[2]string][]*gsv1.LogEntry
	tenants map[string]*gsv1.Tenant
}

// StartMapping serves a Mapping on loopback and returns it with a client.
func StartMapping(t *testing.T) (*Mapping, gsv1.MappingServiceClient) {
	t.Helper()
	m := &Mapping{
		conns: map[[2]string]*gsv1.Connection{}, links: map[[2]string]*gsv1.Link{},
		items: map[[3]string]*gsv1.ItemMapping{}, jobs: map[[2]string]*gsv1.ShareJob{},
		counts: map[[3]string]bool{}, logs: map[[2]string][]*gsv1.LogEntry{}, tenants: map[string]*gsv1.Tenant{},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := grpc.NewServer()
	gsv1.RegisterMappingServiceServer(srv, m)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
		<-done
	})
	return m, gsv1.NewMappingServiceClient(conn)
}

func notFound(what string) error { return status.Error(codes.NotFound, what+" not found") }

func clone[T proto.Message](v T) T { return proto.Clone(v).(T) }

// PutTenant implements the service.
func (m *Mapping) PutTenant(_ context.Context, r *gsv1.PutTenantRequest) (*gsv1.PutTenantResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := clone(r.GetTenant())
	m.tenants[t.GetTenantId()] = t
	return &gsv1.PutTenantResponse{Tenant: clone(t)}, nil
}

// GetTenant implements the service.
func (m *Mapping) GetTenant(_ context.Context, r *gsv1.GetTenantRequest) (*gsv1.GetTenantResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tenants[r.GetTenantId()]
	if !ok {
		return nil, notFound("tenant")
	}
	return &gsv1.GetTenantResponse{Tenant: clone(t)}, nil
}

// PutConnection implements the service.
func (m *Mapping) PutConnection(_ context.Context, r *gsv1.PutConnectionRequest) (*gsv1.PutConnectionResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := clone(r.GetConnection())
	if c.GetTenantId() == "" || c.GetConnectionId() == "" {
		return nil, status.Error(codes.InvalidArgument, "tenant and connection id required")
	}
	m.conns[[2]string{c.TenantId, c.ConnectionId}] = c
	return &gsv1.PutConnectionResponse{Connection: clone(c)}, nil
}

// GetConnection implements the service.
func (m *Mapping) GetConnection(_ context.Context, r *gsv1.GetConnectionRequest) (*gsv1.GetConnectionResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.conns[[2]string{r.GetTenantId(), r.GetConnectionId()}]
	if !ok {
		return nil, notFound("connection")
	}
	return &gsv1.GetConnectionResponse{Connection: clone(c)}, nil
}

// ListConnections implements the service (without credentials).
func (m *Mapping) ListConnections(_ context.Context, r *gsv1.ListConnectionsRequest) (*gsv1.ListConnectionsResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*gsv1.Connection
	for k, c := range m.conns {
		if k[0] == r.GetTenantId() {
			c = clone(c)
			c.Credentials = nil
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *gsv1.Connection) int { return strings.Compare(a.ConnectionId, b.ConnectionId) })
	return &gsv1.ListConnectionsResponse{Connections: out}, nil
}

// Credentials returns a stored connection's credentials, for assertions.
func (m *Mapping) Credentials(tenant, id string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.conns[[2]string{tenant, id}].GetCredentials())
}

// PutLink implements the service.
func (m *Mapping) PutLink(_ context.Context, r *gsv1.PutLinkRequest) (*gsv1.PutLinkResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := clone(r.GetLink())
	if l.GetTenantId() == "" || l.GetLinkId() == "" {
		return nil, status.Error(codes.InvalidArgument, "tenant and link id required")
	}
	if old, ok := m.links[[2]string{l.TenantId, l.LinkId}]; ok {
		l.CreatedAt = old.CreatedAt
	} else {
		l.CreatedAt = timestamppb.Now()
	}
	m.links[[2]string{l.TenantId, l.LinkId}] = l
	return &gsv1.PutLinkResponse{Link: clone(l)}, nil
}

// GetLink implements the service.
func (m *Mapping) GetLink(_ context.Context, r *gsv1.GetLinkRequest) (*gsv1.GetLinkResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.links[[2]string{r.GetTenantId(), r.GetLinkId()}]
	if !ok {
		return nil, notFound("link")
	}
	return &gsv1.GetLinkResponse{Link: clone(l)}, nil
}

// DeleteLink implements the service: the link, its items and its log go.
func (m *Mapping) DeleteLink(_ context.Context, r *gsv1.DeleteLinkRequest) (*gsv1.DeleteLinkResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{r.GetTenantId(), r.GetLinkId()}
	if _, ok := m.links[k]; !ok {
		return nil, notFound("link")
	}
	delete(m.links, k)
	delete(m.logs, k)
	for ik := range m.items {
		if ik[0] == k[0] && ik[1] == k[1] {
			delete(m.items, ik)
		}
	}
	return &gsv1.DeleteLinkResponse{}, nil
}

// ListLinks implements the service.
func (m *Mapping) ListLinks(_ context.Context, r *gsv1.ListLinksRequest) (*gsv1.ListLinksResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*gsv1.Link
	for k, l := range m.links {
		if k[0] != r.GetTenantId() ||
			(r.GetGalleryId() != "" && l.GalleryId != r.GetGalleryId()) ||
			(r.GetConnectionId() != "" && l.ConnectionId != r.GetConnectionId()) ||
			(r.GetAlbumId() != "" && l.AlbumId != r.GetAlbumId()) {
			continue
		}
		out = append(out, clone(l))
	}
	slices.SortFunc(out, func(a, b *gsv1.Link) int { return strings.Compare(a.LinkId, b.LinkId) })
	return &gsv1.ListLinksResponse{Links: out}, nil
}

// ScanLinks implements the service in one page.
func (m *Mapping) ScanLinks(_ context.Context, _ *gsv1.ScanLinksRequest) (*gsv1.ScanLinksResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*gsv1.Link
	for _, l := range m.links {
		out = append(out, clone(l))
	}
	return &gsv1.ScanLinksResponse{Links: out}, nil
}

// AppendLog adds an entry at the head of a link's log, for tests.
func (m *Mapping) AppendLog(_ context.Context, r *gsv1.AppendLogRequest) (*gsv1.AppendLogResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{r.GetTenantId(), r.GetLinkId()}
	if _, ok := m.links[k]; !ok {
		return nil, notFound("link")
	}
	e := clone(r.GetEntry())
	if e.At == nil {
		e.At = timestamppb.Now()
	}
	m.logs[k] = append([]*gsv1.LogEntry{e}, m.logs[k]...)
	return &gsv1.AppendLogResponse{}, nil
}

// ListLog implements the service.
func (m *Mapping) ListLog(_ context.Context, r *gsv1.ListLogRequest) (*gsv1.ListLogResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	limit := int(r.GetLimit())
	if limit <= 0 {
		limit = 50
	}
	var out []*gsv1.LogEntry
	for _, e := range m.logs[[2]string{r.GetTenantId(), r.GetLinkId()}] {
		if len(out) == limit {
			break
		}
		if r.GetWixItemId() == "" || e.WixItemId == r.GetWixItemId() {
			out = append(out, clone(e))
		}
	}
	return &gsv1.ListLogResponse{Entries: out}, nil
}

// now is the fake's clock for stored times.
func now() *timestamppb.Timestamp { return timestamppb.New(time.Now()) }
