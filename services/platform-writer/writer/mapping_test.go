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
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// fakeMapping is an in-memory MappingService with the documented semantics
// the writer relies on: NOT_FOUND for missing records, compare-and-set
// revisions on items (ABORTED on a lost race), re-entrant leases with a TTL,
// dedup marks with a TTL, and tenant-scoped keys.
type fakeMapping struct {
	gsv1.UnimplementedMappingServiceServer

	mu     sync.Mutex
	conns  map[[2]string]*gsv1.Connection
	links  map[[2]string]*gsv1.Link
	items  map[[3]string]*gsv1.ItemMapping
	dedup  map[[2]string]time.Time
	locks  map[[2]string]lockEntry
	echoes map[[3]string]string
	// tat is each throttle bucket's theoretical arrival time (GCRA).
	tat map[[2]string]time.Time
	// jobs and counted hold share jobs and each counted item's outcome.
	jobs     map[[2]string]*gsv1.ShareJob
	counted  map[[3]string]bool
	logs     map[[2]string][]*gsv1.LogEntry
	puts     []*gsv1.ItemMapping
	failPuts func(*gsv1.ItemMapping) error
}

type lockEntry struct {
	owner   string
	expires time.Time
}

// startMapping serves a fakeMapping on a loopback gRPC listener and returns
// it with a client connected to it.
func startMapping(t *testing.T) (*fakeMapping, gsv1.MappingServiceClient, string) {
	t.Helper()
	m := &fakeMapping{
		conns:   map[[2]string]*gsv1.Connection{},
		links:   map[[2]string]*gsv1.Link{},
		items:   map[[3]string]*gsv1.ItemMapping{},
		dedup:   map[[2]string]time.Time{},
		locks:   map[[2]string]lockEntry{},
		echoes:  map[[3]string]string{},
		tat:     map[[2]string]time.Time{},
		jobs:    map[[2]string]*gsv1.ShareJob{},
		counted: map[[3]string]bool{},
		logs:    map[[2]string][]*gsv1.LogEntry{},
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
	return m, gsv1.NewMappingServiceClient(conn), ln.Addr().String()
}

// setFailPuts installs a hook that may fail a PutItem before it is stored.
func (m *fakeMapping) setFailPuts(f func(*gsv1.ItemMapping) error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failPuts = f
}

// item returns a copy of a stored mapping, or nil.
func (m *fakeMapping) item(tenant, link, wixID string) *gsv1.ItemMapping {
	m.mu.Lock()
	defer m.mu.Unlock()
	if it, ok := m.items[[3]string{tenant, link, wixID}]; ok {
		return proto.Clone(it).(*gsv1.ItemMapping)
	}
	return nil
}

func (m *fakeMapping) PutConnection(_ context.Context, r *gsv1.PutConnectionRequest) (*gsv1.PutConnectionResponse, error) {
	c := r.GetConnection()
	if c.GetTenantId() == "" || c.GetConnectionId() == "" {
		return nil, status.Error(codes.InvalidArgument, "connection needs tenant and id")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.conns[[2]string{c.GetTenantId(), c.GetConnectionId()}] = proto.Clone(c).(*gsv1.Connection)
	return &gsv1.PutConnectionResponse{Connection: c}, nil
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
		if k[0] == r.GetTenantId() && (r.GetGalleryId() == "" || l.GetGalleryId() == r.GetGalleryId()) {
			out.Links = append(out.Links, proto.Clone(l).(*gsv1.Link))
		}
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
	m.puts = append(m.puts, proto.Clone(stored).(*gsv1.ItemMapping))
	return &gsv1.PutItemResponse{Item: proto.Clone(stored).(*gsv1.ItemMapping)}, nil
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

// MarkEcho keeps markers without expiry: the tests are shorter than any TTL.
func (m *fakeMapping) MarkEcho(_ context.Context, r *gsv1.MarkEchoRequest) (*gsv1.MarkEchoResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.echoes[[3]string{r.GetTenantId(), r.GetSide().String(), r.GetObjectId()}] = r.GetContentHash()
	return &gsv1.MarkEchoResponse{}, nil
}

func (m *fakeMapping) CheckEcho(_ context.Context, r *gsv1.CheckEchoRequest) (*gsv1.CheckEchoResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.echoes[[3]string{r.GetTenantId(), r.GetSide().String(), r.GetObjectId()}]
	return &gsv1.CheckEchoResponse{Echo: ok && h == r.GetContentHash()}, nil
}

// echo returns the content hash of an echo marker, if one is set.
func (m *fakeMapping) echo(tenant string, side gsv1.Side, object string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.echoes[[3]string{tenant, side.String(), object}]
	return h, ok
}

// Throttle is the generic cell rate algorithm the real service runs: a full
// bucket allows burst at once, then one per period/limit.
func (m *fakeMapping) Throttle(_ context.Context, r *gsv1.ThrottleRequest) (*gsv1.ThrottleResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	interval := r.GetPeriod().AsDuration() / time.Duration(r.GetLimit())
	burst := max(r.GetBurst(), 1)
	cost := max(r.GetCost(), 1)
	key := [2]string{r.GetTenantId(), r.GetBucket()}
	tat := m.tat[key]
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(time.Duration(cost) * interval)
	if over := next.Sub(now) - time.Duration(burst)*interval; over > 0 {
		return &gsv1.ThrottleResponse{RetryAfter: durationpb.New(over)}, nil
	}
	m.tat[key] = next
	return &gsv1.ThrottleResponse{Allowed: true}, nil
}

func (m *fakeMapping) GetLink(_ context.Context, r *gsv1.GetLinkRequest) (*gsv1.GetLinkResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.links[[2]string{r.GetTenantId(), r.GetLinkId()}]
	if !ok {
		return nil, status.Error(codes.NotFound, "link not found")
	}
	return &gsv1.GetLinkResponse{Link: proto.Clone(l).(*gsv1.Link)}, nil
}

// putJob stores a share job as the console would.
func (m *fakeMapping) putJob(j *gsv1.ShareJob) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.jobs[[2]string{j.GetTenantId(), j.GetJobId()}] = proto.Clone(j).(*gsv1.ShareJob)
}

// job returns a copy of a share job.
func (m *fakeMapping) job(tenant, id string) *gsv1.ShareJob {
	m.mu.Lock()
	defer m.mu.Unlock()
	return proto.Clone(m.jobs[[2]string{tenant, id}]).(*gsv1.ShareJob)
}

func (m *fakeMapping) GetShareJob(_ context.Context, r *gsv1.GetShareJobRequest) (*gsv1.GetShareJobResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[[2]string{r.GetTenantId(), r.GetJobId()}]
	if !ok {
		return nil, status.Error(codes.NotFound, "share job not found")
	}
	return &gsv1.GetShareJobResponse{Job: proto.Clone(j).(*gsv1.ShareJob)}, nil
}

// CountShareItem counts each item once; failed -> done moves it.
func (m *fakeMapping) CountShareItem(_ context.Context, r *gsv1.CountShareItemRequest) (*gsv1.CountShareItemResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[[2]string{r.GetTenantId(), r.GetJobId()}]
	if !ok {
		return nil, status.Error(codes.NotFound, "share job not found")
	}
	key := [3]string{r.GetTenantId(), r.GetJobId(), r.GetItemId()}
	wasFailed, seen := m.counted[key]
	switch {
	case !seen && r.GetFailed():
		j.Failed++
	case !seen:
		j.Done++
	case wasFailed && !r.GetFailed():
		j.Failed--
		j.Done++
	default:
		return &gsv1.CountShareItemResponse{Job: proto.Clone(j).(*gsv1.ShareJob)}, nil
	}
	m.counted[key] = r.GetFailed() && !(seen && !wasFailed)
	if j.GetDone()+j.GetFailed() >= j.GetTotal() && j.GetState() == gsv1.ShareState_SHARE_STATE_RUNNING {
		j.State = gsv1.ShareState_SHARE_STATE_DONE
	}
	return &gsv1.CountShareItemResponse{Job: proto.Clone(j).(*gsv1.ShareJob)}, nil
}

func (m *fakeMapping) AppendLog(_ context.Context, r *gsv1.AppendLogRequest) (*gsv1.AppendLogResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := [2]string{r.GetTenantId(), r.GetLinkId()}
	m.logs[key] = append([]*gsv1.LogEntry{proto.Clone(r.GetEntry()).(*gsv1.LogEntry)}, m.logs[key]...)
	return &gsv1.AppendLogResponse{}, nil
}

// actions returns the sync log actions of one item, oldest first.
func (m *fakeMapping) actions(tenant, link, item string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	entries := m.logs[[2]string{tenant, link}]
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].GetWixItemId() == item {
			out = append(out, entries[i].GetAction())
		}
	}
	return out
}

// markCounted records an item's outcome as CountShareItem would have.
func (m *fakeMapping) markCounted(tenant, job, item string, failed bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counted[[3]string{tenant, job, item}] = failed
}
