package watchtest

import (
	"context"
	"net"
	"slices"
	"strconv"
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

// fakeMapping is an in-memory MappingService with the documented semantics
// the watchers use: ScanLinks paging over every tenant, connections,
// item mappings looked up by external id and listed in Wix item id order,
// re-entrant leases with a TTL, cursors (NOT_FOUND when none), all scoped
// by tenant.
type fakeMapping struct {
	gsv1.UnimplementedMappingServiceServer

	mu      sync.Mutex
	conns   map[[2]string]*gsv1.Connection
	links   map[[2]string]*gsv1.Link
	items   map[[3]string]*gsv1.ItemMapping
	locks   map[[2]string]lease
	cursors map[[2]string]string
	// keepLeases makes ReleaseLock a no-op, as when a replica dies
	// without giving its leases back.
	keepLeases bool
}

type lease struct {
	owner   string
	expires time.Time
}

// startMapping serves a fakeMapping over gRPC on a loopback port.
func startMapping(t *testing.T) (*fakeMapping, gsv1.MappingServiceClient) {
	t.Helper()
	m := &fakeMapping{
		conns:   map[[2]string]*gsv1.Connection{},
		links:   map[[2]string]*gsv1.Link{},
		items:   map[[3]string]*gsv1.ItemMapping{},
		locks:   map[[2]string]lease{},
		cursors: map[[2]string]string{},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := grpc.NewServer()
	gsv1.RegisterMappingServiceServer(srv, m)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc client: %v", err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.Stop()
		<-served
	})
	return m, gsv1.NewMappingServiceClient(conn)
}

func (m *fakeMapping) putConnection(c *gsv1.Connection) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.conns[[2]string{c.GetTenantId(), c.GetConnectionId()}] = proto.Clone(c).(*gsv1.Connection)
}

func (m *fakeMapping) putLink(l *gsv1.Link) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.links[[2]string{l.GetTenantId(), l.GetLinkId()}] = proto.Clone(l).(*gsv1.Link)
}

// seedItem stores an item mapping as last written at the given time.
func (m *fakeMapping) seedItem(it *gsv1.ItemMapping, written time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := proto.Clone(it).(*gsv1.ItemMapping)
	c.Revision++
	c.UpdatedAt = timestamppb.New(written)
	m.items[[3]string{c.GetTenantId(), c.GetLinkId(), c.GetWixItemId()}] = c
}

// holder returns the owner of a live lease ("" when free).
func (m *fakeMapping) holder(tenant, key string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.locks[[2]string{tenant, key}]
	if !ok || !time.Now().Before(l.expires) {
		return ""
	}
	return l.owner
}

func (m *fakeMapping) cursor(tenant, key string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cursors[[2]string{tenant, key}]
}

func (m *fakeMapping) setKeepLeases(keep bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keepLeases = keep
}

func (m *fakeMapping) GetConnection(_ context.Context, r *gsv1.GetConnectionRequest) (*gsv1.GetConnectionResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.conns[[2]string{r.GetTenantId(), r.GetConnectionId()}]
	if !ok {
		return nil, status.Error(codes.NotFound, "connection not found")
	}
	return &gsv1.GetConnectionResponse{Connection: proto.Clone(c).(*gsv1.Connection)}, nil
}

// ScanLinks pages in (tenant, link id) order; the token is the offset.
func (m *fakeMapping) ScanLinks(_ context.Context, r *gsv1.ScanLinksRequest) (*gsv1.ScanLinksResponse, error) {
	size := int(r.GetPageSize())
	switch {
	case size == 0:
		size = 100
	case size < 0 || size > 1000:
		return nil, status.Error(codes.InvalidArgument, "page size out of range")
	}
	offset := 0
	if r.GetPageToken() != "" {
		n, err := strconv.Atoi(r.GetPageToken())
		if err != nil || n < 0 {
			return nil, status.Error(codes.InvalidArgument, "bad page token")
		}
		offset = n
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([][2]string, 0, len(m.links))
	for k := range m.links {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int { return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1]) })
	out := &gsv1.ScanLinksResponse{}
	for i := offset; i < len(keys) && i < offset+size; i++ {
		out.Links = append(out.Links, proto.Clone(m.links[keys[i]]).(*gsv1.Link))
	}
	if offset+size < len(keys) {
		out.NextPageToken = strconv.Itoa(offset + size)
	}
	return out, nil
}

func (m *fakeMapping) GetItem(_ context.Context, r *gsv1.GetItemRequest) (*gsv1.GetItemResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, it := range m.items {
		if k[0] != r.GetTenantId() || k[1] != r.GetLinkId() {
			continue
		}
		if (r.GetWixItemId() != "" && it.GetWixItemId() == r.GetWixItemId()) ||
			(r.GetExternalId() != "" && it.GetExternalId() == r.GetExternalId()) {
			return &gsv1.GetItemResponse{Item: proto.Clone(it).(*gsv1.ItemMapping)}, nil
		}
	}
	return nil, status.Error(codes.NotFound, "item not found")
}

// ListItems pages in Wix item id order; the token is the last id served.
func (m *fakeMapping) ListItems(_ context.Context, r *gsv1.ListItemsRequest) (*gsv1.ListItemsResponse, error) {
	size := int(r.GetPageSize())
	if size <= 0 {
		size = 100
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for k := range m.items {
		if k[0] == r.GetTenantId() && k[1] == r.GetLinkId() && k[2] > r.GetPageToken() {
			ids = append(ids, k[2])
		}
	}
	slices.Sort(ids)
	out := &gsv1.ListItemsResponse{}
	for i, id := range ids {
		if i == size {
			out.NextPageToken = ids[i-1]
			break
		}
		out.Items = append(out.Items, proto.Clone(m.items[[3]string{r.GetTenantId(), r.GetLinkId(), id}]).(*gsv1.ItemMapping))
	}
	return out, nil
}

func (m *fakeMapping) AcquireLock(_ context.Context, r *gsv1.AcquireLockRequest) (*gsv1.AcquireLockResponse, error) {
	if r.GetTenantId() == "" || r.GetKey() == "" || r.GetOwner() == "" || r.GetTtl().AsDuration() <= 0 {
		return nil, status.Error(codes.InvalidArgument, "lock needs tenant, key, owner and ttl")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{r.GetTenantId(), r.GetKey()}
	now := time.Now()
	if cur, ok := m.locks[k]; ok && cur.owner != r.GetOwner() && now.Before(cur.expires) {
		return &gsv1.AcquireLockResponse{Acquired: false}, nil
	}
	m.locks[k] = lease{owner: r.GetOwner(), expires: now.Add(r.GetTtl().AsDuration())}
	return &gsv1.AcquireLockResponse{Acquired: true}, nil
}

func (m *fakeMapping) ReleaseLock(_ context.Context, r *gsv1.ReleaseLockRequest) (*gsv1.ReleaseLockResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{r.GetTenantId(), r.GetKey()}
	if cur, ok := m.locks[k]; ok && cur.owner == r.GetOwner() && !m.keepLeases {
		delete(m.locks, k)
		return &gsv1.ReleaseLockResponse{Released: true}, nil
	}
	return &gsv1.ReleaseLockResponse{Released: false}, nil
}

func (m *fakeMapping) PutCursor(_ context.Context, r *gsv1.PutCursorRequest) (*gsv1.PutCursorResponse, error) {
	if r.GetTenantId() == "" || r.GetKey() == "" {
		return nil, status.Error(codes.InvalidArgument, "cursor needs tenant and key")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cursors[[2]string{r.GetTenantId(), r.GetKey()}] = r.GetValue()
	return &gsv1.PutCursorResponse{}, nil
}

func (m *fakeMapping) GetCursor(_ context.Context, r *gsv1.GetCursorRequest) (*gsv1.GetCursorResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.cursors[[2]string{r.GetTenantId(), r.GetKey()}]
	if !ok {
		return nil, status.Error(codes.NotFound, "no cursor")
	}
	return &gsv1.GetCursorResponse{Value: v}, nil
}
