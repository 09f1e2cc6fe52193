// Package mappingfake is an in-memory MappingService for the tests of the
// services that call it. Services may not import the mapping service
// itself, so this fake keeps the contract that mapping.proto documents
// (tenant-scoped records, NOT_FOUND for a missing record, INVALID_ARGUMENT
// for a malformed request, ABORTED for a failed compare-and-set, TTLs on
// markers, leases and intents, GCRA throttling, exactly-once share counts)
// and adds hooks for what a test must see or arrange: stored records, the
// order of echo markers, failing writes, leases held by someone else.
package mappingfake

import (
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Fake is an in-memory gsv1.MappingServiceServer. Its zero value is not
// usable; build one with New or Start. All methods are safe for concurrent use.
type Fake struct {
	gsv1.UnimplementedMappingServiceServer

	now          func() time.Time
	onMarkEcho   func(*gsv1.MarkEchoRequest)
	allowAllRate bool

	mu       sync.Mutex
	tenants  map[string]*gsv1.Tenant
	conns    map[pair]*gsv1.Connection
	links    map[pair]*gsv1.Link
	items    map[triple]*gsv1.ItemMapping
	echoes   map[quad]time.Time
	marks    []*gsv1.MarkEchoRequest
	dedup    map[pair]time.Time
	locks    map[pair]expiring[string]
	intents  map[pair]expiring[*gsv1.Intent]
	cursors  map[pair]string
	tats     map[pair]time.Time
	throttle int
	jobs     map[pair]*gsv1.ShareJob
	counted  map[triple]bool
	logs     map[pair][]*gsv1.LogEntry

	failPut    func(*gsv1.ItemMapping) error
	keepLeases bool
}

// pair keys a record by tenant and one id; triple by tenant and two.
type (
	pair   struct{ tenant, id string }
	triple struct{ tenant, a, b string }
	// quad keys an echo marker: tenant, side, object and content hash.
	quad struct{ tenant, side, object, hash string }
)

// expiring is a value with the time it stops counting.
type expiring[V any] struct {
	value   V
	expires time.Time
}

func (e expiring[V]) live(now time.Time) bool { return now.Before(e.expires) }

// Option changes how a Fake behaves.
type Option func(*Fake)

// WithClock makes the fake read time from now instead of time.Now, so a
// test can move past a TTL without waiting for it.
func WithClock(now func() time.Time) Option {
	return func(f *Fake) { f.now = now }
}

// WithMarkEchoHook calls fn with every accepted MarkEcho request before the
// call returns, so a test can order the markers against other writes.
func WithMarkEchoHook(fn func(*gsv1.MarkEchoRequest)) Option {
	return func(f *Fake) { f.onMarkEcho = fn }
}

// WithUnlimitedThrottle makes Throttle allow every valid request (still
// counting it): for suites whose clients poll faster than any real rate
// and that test other things than rate limits.
func WithUnlimitedThrottle() Option {
	return func(f *Fake) { f.allowAllRate = true }
}

// New returns an empty fake.
func New(opts ...Option) *Fake {
	f := &Fake{
		now:     time.Now,
		tenants: map[string]*gsv1.Tenant{},
		conns:   map[pair]*gsv1.Connection{},
		links:   map[pair]*gsv1.Link{},
		items:   map[triple]*gsv1.ItemMapping{},
		echoes:  map[quad]time.Time{},
		dedup:   map[pair]time.Time{},
		locks:   map[pair]expiring[string]{},
		intents: map[pair]expiring[*gsv1.Intent]{},
		cursors: map[pair]string{},
		tats:    map[pair]time.Time{},
		jobs:    map[pair]*gsv1.ShareJob{},
		counted: map[triple]bool{},
		logs:    map[pair][]*gsv1.LogEntry{},
	}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Start serves a new fake on a loopback gRPC listener for the length of
// the test and returns it with a client connected to it.
func Start(t testing.TB, opts ...Option) (*Fake, gsv1.MappingServiceClient) {
	t.Helper()
	f := New(opts...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := grpc.NewServer()
	gsv1.RegisterMappingServiceServer(srv, f)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		srv.Stop()
		<-served
		t.Fatalf("grpc client: %v", err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
		<-served
	})
	return f, gsv1.NewMappingServiceClient(conn)
}

func clone[M proto.Message](m M) M { return proto.Clone(m).(M) }

func notFound(what string) error { return status.Error(codes.NotFound, what+" not found") }

func invalid(msg string) error { return status.Error(codes.InvalidArgument, msg) }

// required is INVALID_ARGUMENT naming the first empty field, or nil.
func required(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i+1] == "" {
			return invalid(fields[i] + ": must not be empty")
		}
	}
	return nil
}
