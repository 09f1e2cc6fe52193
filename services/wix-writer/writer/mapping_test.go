package writer_test

import (
	"context"
	"net"
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
// the writer relies on: NOT_FOUND for missing records, compare-and-set
// revisions on items (ABORTED on a lost race), an external-id index, leases
// and markers with a TTL, intents, tenant removal that pauses links, and a
// throttle that always allows. Every key is tenant-scoped.
type fakeMapping struct {
	gsv1.UnimplementedMappingServiceServer

	mu       sync.Mutex
	tenants  map[string]*gsv1.Tenant
	conns    map[[2]string]*gsv1.Connection
	links    map[[2]string]*gsv1.Link
	items    map[[3]string]*gsv1.ItemMapping
	dedup    map[[2]string]time.Time
	echoes   map[[3]string]echoEntry
	marked   []*gsv1.MarkEchoRequest
	locks    map[[2]string]lockEntry
	intents  map[[2]string]intentEntry
	throttle int
	logs     map[[2]string][]*gsv1.LogEntry
	failPuts func(*gsv1.ItemMapping) error
	// journal, when set, records echo markers in order with the Wix writes.
	journal *journal
}

type lockEntry struct {
	owner   string
	expires time.Time
}

type echoEntry struct {
	hash    string
	expires time.Time
}

type intentEntry struct {
	intent  *gsv1.Intent
	expires time.Time
}

// startMapping serves a fakeMapping on a loopback gRPC listener and returns
// it with a client connected to it; jr (may be nil) journals echo markers.
func startMapping(t *testing.T, jr *journal) (*fakeMapping, gsv1.MappingServiceClient) {
	t.Helper()
	m := &fakeMapping{
		journal: jr,
		tenants: map[string]*gsv1.Tenant{},
		conns:   map[[2]string]*gsv1.Connection{},
		links:   map[[2]string]*gsv1.Link{},
		items:   map[[3]string]*gsv1.ItemMapping{},
		dedup:   map[[2]string]time.Time{},
		echoes:  map[[3]string]echoEntry{},
		locks:   map[[2]string]lockEntry{},
		intents: map[[2]string]intentEntry{},
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
		srv.Serve(ln)
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

// setFailPuts installs a hook that may fail a PutItem before it is stored.
func (m *fakeMapping) setFailPuts(f func(*gsv1.ItemMapping) error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failPuts = f
}

// itemByExternal returns a copy of the mapping holding an external id, or nil.
func (m *fakeMapping) itemByExternal(tenant, link, externalID string) *gsv1.ItemMapping {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, it := range m.items {
		if k[0] == tenant && k[1] == link && it.GetExternalId() == externalID {
			return proto.Clone(it).(*gsv1.ItemMapping)
		}
	}
	return nil
}

// echoMarks returns the MarkEcho requests received, in order.
func (m *fakeMapping) echoMarks() []*gsv1.MarkEchoRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*gsv1.MarkEchoRequest, len(m.marked))
	for i, r := range m.marked {
		out[i] = proto.Clone(r).(*gsv1.MarkEchoRequest)
	}
	return out
}

// intent returns a live intent, or nil.
func (m *fakeMapping) intent(tenant, key string) *gsv1.Intent {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.intents[[2]string{tenant, key}]; ok && time.Now().Before(e.expires) {
		return proto.Clone(e.intent).(*gsv1.Intent)
	}
	return nil
}

// tenant returns a copy of a tenant, or nil.
func (m *fakeMapping) tenant(id string) *gsv1.Tenant {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.tenants[id]; ok {
		return proto.Clone(t).(*gsv1.Tenant)
	}
	return nil
}

// throttled is how many Throttle calls were made.
func (m *fakeMapping) throttled() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.throttle
}

func (m *fakeMapping) PutTenant(_ context.Context, r *gsv1.PutTenantRequest) (*gsv1.PutTenantResponse, error) {
	t := r.GetTenant()
	if t.GetTenantId() == "" {
		return nil, status.Error(codes.InvalidArgument, "tenant needs an id")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	stored := proto.Clone(t).(*gsv1.Tenant)
	if old, ok := m.tenants[t.GetTenantId()]; ok && stored.GetCreatedAt() == nil {
		stored.CreatedAt = old.GetCreatedAt()
	}
	if stored.GetCreatedAt() == nil {
		stored.CreatedAt = timestamppb.Now()
	}
	m.tenants[t.GetTenantId()] = stored
	return &gsv1.PutTenantResponse{Tenant: proto.Clone(stored).(*gsv1.Tenant)}, nil
}

func (m *fakeMapping) GetTenant(_ context.Context, r *gsv1.GetTenantRequest) (*gsv1.GetTenantResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tenants[r.GetTenantId()]
	if !ok {
		return nil, status.Error(codes.NotFound, "tenant not found")
	}
	return &gsv1.GetTenantResponse{Tenant: proto.Clone(t).(*gsv1.Tenant)}, nil
}

func (m *fakeMapping) PutConnection(_ context.Context, r *gsv1.PutConnectionRequest) (*gsv1.PutConnectionResponse, error) {
	c := r.GetConnection()
	if c.GetTenantId() == "" || c.GetConnectionId() == "" {
		return nil, status.Error(codes.InvalidArgument, "connection needs a tenant and an id")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	stored := proto.Clone(c).(*gsv1.Connection)
	m.conns[[2]string{c.GetTenantId(), c.GetConnectionId()}] = stored
	return &gsv1.PutConnectionResponse{Connection: proto.Clone(stored).(*gsv1.Connection)}, nil
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

func (m *fakeMapping) RemoveTenant(_ context.Context, r *gsv1.RemoveTenantRequest) (*gsv1.RemoveTenantResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tenants[r.GetTenantId()]
	if !ok {
		return nil, status.Error(codes.NotFound, "tenant not found")
	}
	t.State = gsv1.TenantState_TENANT_STATE_REMOVED
	for k, l := range m.links {
		if k[0] == r.GetTenantId() {
			l.State = gsv1.LinkState_LINK_STATE_PAUSED
		}
	}
	return &gsv1.RemoveTenantResponse{Tenant: proto.Clone(t).(*gsv1.Tenant)}, nil
}

func (m *fakeMapping) PutLink(_ context.Context, r *gsv1.PutLinkRequest) (*gsv1.PutLinkResponse, error) {
	l := r.GetLink()
	if l.GetTenantId() == "" || l.GetLinkId() == "" {
		return nil, status.Error(codes.InvalidArgument, "link needs tenant and id")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.links[[2]string{l.GetTenantId(), l.GetLinkId()}] = proto.Clone(l).(*gsv1.Link)
	return &gsv1.PutLinkResponse{Link: l}, nil
}

func (m *fakeMapping) ListLinks(_ context.Context, r *gsv1.ListLinksRequest) (*gsv1.ListLinksResponse, error) {
	if r.GetTenantId() == "" {
		return nil, status.Error(codes.InvalidArgument, "no tenant")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := &gsv1.ListLinksResponse{}
	for k, l := range m.links {
		if k[0] != r.GetTenantId() ||
			(r.GetGalleryId() != "" && l.GetGalleryId() != r.GetGalleryId()) ||
			(r.GetConnectionId() != "" && l.GetConnectionId() != r.GetConnectionId()) ||
			(r.GetAlbumId() != "" && l.GetAlbumId() != r.GetAlbumId()) {
			continue
		}
		out.Links = append(out.Links, proto.Clone(l).(*gsv1.Link))
	}
	return out, nil
}

func (m *fakeMapping) GetItem(_ context.Context, r *gsv1.GetItemRequest) (*gsv1.GetItemResponse, error) {
	if r.GetWixItemId() == "" && r.GetExternalId() == "" {
		return nil, status.Error(codes.InvalidArgument, "no key")
	}
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

func (m *fakeMapping) PutItem(_ context.Context, r *gsv1.PutItemRequest) (*gsv1.PutItemResponse, error) {
	it := r.GetItem()
	if it.GetTenantId() == "" || it.GetLinkId() == "" || it.GetWixItemId() == "" {
		return nil, status.Error(codes.InvalidArgument, "item needs tenant, link and wix item id")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failPuts != nil {
		if err := m.failPuts(it); err != nil {
			return nil, err
		}
	}
	key := [3]string{it.GetTenantId(), it.GetLinkId(), it.GetWixItemId()}
	var rev int64
	if cur, ok := m.items[key]; ok {
		rev = cur.GetRevision()
	}
	if rev != r.GetExpectedRevision() {
		return nil, status.Errorf(codes.Aborted, "revision is %d, expected %d", rev, r.GetExpectedRevision())
	}
	if ext := it.GetExternalId(); ext != "" {
		for k, other := range m.items {
			if k != key && k[0] == key[0] && k[1] == key[1] && other.GetExternalId() == ext {
				return nil, status.Errorf(codes.Aborted, "external id %s belongs to item %s", ext, other.GetWixItemId())
			}
		}
	}
	stored := proto.Clone(it).(*gsv1.ItemMapping)
	stored.Revision = rev + 1
	stored.UpdatedAt = timestamppb.Now()
	m.items[key] = stored
	return &gsv1.PutItemResponse{Item: proto.Clone(stored).(*gsv1.ItemMapping)}, nil
}

func (m *fakeMapping) MarkEcho(_ context.Context, r *gsv1.MarkEchoRequest) (*gsv1.MarkEchoResponse, error) {
	if r.GetTenantId() == "" || r.GetSide() == gsv1.Side_SIDE_UNSPECIFIED || r.GetObjectId() == "" ||
		r.GetContentHash() == "" || r.GetTtl().AsDuration() <= 0 {
		return nil, status.Error(codes.InvalidArgument, "echo needs tenant, side, object, hash and ttl")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.echoes[[3]string{r.GetTenantId(), r.GetSide().String(), r.GetObjectId()}] = echoEntry{
		hash: r.GetContentHash(), expires: time.Now().Add(r.GetTtl().AsDuration()),
	}
	m.marked = append(m.marked, proto.Clone(r).(*gsv1.MarkEchoRequest))
	if m.journal != nil {
		m.journal.add("mark echo " + r.GetObjectId())
	}
	return &gsv1.MarkEchoResponse{}, nil
}

func (m *fakeMapping) CheckEcho(_ context.Context, r *gsv1.CheckEchoRequest) (*gsv1.CheckEchoResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.echoes[[3]string{r.GetTenantId(), r.GetSide().String(), r.GetObjectId()}]
	return &gsv1.CheckEchoResponse{Echo: ok && time.Now().Before(e.expires) && e.hash == r.GetContentHash()}, nil
}

func (m *fakeMapping) MarkDedup(_ context.Context, r *gsv1.MarkDedupRequest) (*gsv1.MarkDedupResponse, error) {
	if r.GetTenantId() == "" || r.GetKey() == "" || r.GetTtl().AsDuration() <= 0 {
		return nil, status.Error(codes.InvalidArgument, "dedup needs tenant, key and ttl")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{r.GetTenantId(), r.GetKey()}
	if exp, ok := m.dedup[k]; ok && time.Now().Before(exp) {
		return &gsv1.MarkDedupResponse{First: false}, nil
	}
	m.dedup[k] = time.Now().Add(r.GetTtl().AsDuration())
	return &gsv1.MarkDedupResponse{First: true}, nil
}

func (m *fakeMapping) CheckDedup(_ context.Context, r *gsv1.CheckDedupRequest) (*gsv1.CheckDedupResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	exp, ok := m.dedup[[2]string{r.GetTenantId(), r.GetKey()}]
	return &gsv1.CheckDedupResponse{Seen: ok && time.Now().Before(exp)}, nil
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
	m.locks[k] = lockEntry{owner: r.GetOwner(), expires: now.Add(r.GetTtl().AsDuration())}
	return &gsv1.AcquireLockResponse{Acquired: true}, nil
}

func (m *fakeMapping) ReleaseLock(_ context.Context, r *gsv1.ReleaseLockRequest) (*gsv1.ReleaseLockResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{r.GetTenantId(), r.GetKey()}
	if cur, ok := m.locks[k]; ok && cur.owner == r.GetOwner() {
		delete(m.locks, k)
		return &gsv1.ReleaseLockResponse{Released: true}, nil
	}
	return &gsv1.ReleaseLockResponse{Released: false}, nil
}

// holdLock takes a lease for another owner, as a second writer would.
func (m *fakeMapping) holdLock(tenant, key string, ttl time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.locks[[2]string{tenant, key}] = lockEntry{owner: "someone-else", expires: time.Now().Add(ttl)}
}

func (m *fakeMapping) PutIntent(_ context.Context, r *gsv1.PutIntentRequest) (*gsv1.PutIntentResponse, error) {
	in := r.GetIntent()
	if in.GetTenantId() == "" || in.GetKey() == "" || r.GetTtl().AsDuration() <= 0 {
		return nil, status.Error(codes.InvalidArgument, "intent needs tenant, key and ttl")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	stored := proto.Clone(in).(*gsv1.Intent)
	k := [2]string{in.GetTenantId(), in.GetKey()}
	if old, ok := m.intents[k]; ok && time.Now().Before(old.expires) && stored.GetCreatedAt() == nil {
		stored.CreatedAt = old.intent.GetCreatedAt()
	}
	if stored.GetCreatedAt() == nil {
		stored.CreatedAt = timestamppb.Now()
	}
	m.intents[k] = intentEntry{intent: stored, expires: time.Now().Add(r.GetTtl().AsDuration())}
	return &gsv1.PutIntentResponse{Intent: proto.Clone(stored).(*gsv1.Intent)}, nil
}

func (m *fakeMapping) GetIntent(_ context.Context, r *gsv1.GetIntentRequest) (*gsv1.GetIntentResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.intents[[2]string{r.GetTenantId(), r.GetKey()}]
	if !ok || !time.Now().Before(e.expires) {
		return nil, status.Error(codes.NotFound, "intent not found")
	}
	return &gsv1.GetIntentResponse{Intent: proto.Clone(e.intent).(*gsv1.Intent)}, nil
}

func (m *fakeMapping) DeleteIntent(_ context.Context, r *gsv1.DeleteIntentRequest) (*gsv1.DeleteIntentResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.intents, [2]string{r.GetTenantId(), r.GetKey()})
	return &gsv1.DeleteIntentResponse{}, nil
}

// Throttle always allows: rate limiting is the throttle package's concern,
// tested there; here it only has to be asked.
func (m *fakeMapping) Throttle(_ context.Context, r *gsv1.ThrottleRequest) (*gsv1.ThrottleResponse, error) {
	if r.GetTenantId() == "" || r.GetBucket() == "" || r.GetLimit() <= 0 || r.GetPeriod().AsDuration() <= 0 {
		return nil, status.Error(codes.InvalidArgument, "throttle needs tenant, bucket, limit and period")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.throttle++
	return &gsv1.ThrottleResponse{Allowed: true}, nil
}

func (m *fakeMapping) AppendLog(_ context.Context, r *gsv1.AppendLogRequest) (*gsv1.AppendLogResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.logs == nil {
		m.logs = map[[2]string][]*gsv1.LogEntry{}
	}
	key := [2]string{r.GetTenantId(), r.GetLinkId()}
	m.logs[key] = append([]*gsv1.LogEntry{proto.Clone(r.GetEntry()).(*gsv1.LogEntry)}, m.logs[key]...)
	return &gsv1.AppendLogResponse{}, nil
}

// actions returns "<action>@<wix item id>" of one link's sync log, oldest first.
func (m *fakeMapping) actions(tenant, link string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	entries := m.logs[[2]string{tenant, link}]
	for i := len(entries) - 1; i >= 0; i-- {
		out = append(out, entries[i].GetAction()+"@"+entries[i].GetWixItemId())
	}
	return out
}
