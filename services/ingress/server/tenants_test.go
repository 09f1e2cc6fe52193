package server_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/ingress/server"
)

const removedTenant = "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"

// fakeTenants is a TenantState with fixed answers.
type fakeTenants struct {
	removed map[string]bool
	err     error
}

func (f fakeTenants) Removed(_ context.Context, tenant string) (bool, error) {
	return f.removed[tenant], f.err
}

func TestRemovedTenantIsRefused(t *testing.T) {
	t.Parallel()
	h := startIngress(t, withTenants(fakeTenants{removed: map[string]bool{removedTenant: true}}))
	iat := time.Now().UTC().Truncate(time.Second)
	itemOfRemoved := hook("ev-removed-item", "item-1")
	itemOfRemoved.InstanceID = removedTenant
	deliveries := []struct {
		name string
		hook func() []byte
		want string
	}{
		{"item event of a removed tenant", func() []byte { return itemOfRemoved.Sign(t, h.key) }, "ignored"},
		{"file ready of a removed tenant", func() []byte { return fileReadyHook("ev-removed-file", removedTenant).Sign(t, h.key) }, "ignored"},
		{"removal of a removed tenant", func() []byte { return appHook("AppRemoved", removedTenant, testAppID, iat).Sign(t, h.key) }, "ignored"},
		{"reinstall of a removed tenant", func() []byte {
			return appHook("AppInstalled", removedTenant, testAppID, iat.Add(time.Minute)).Sign(t, h.key)
		}, "ok"},
		{"item event of an active tenant", func() []byte { return hook("ev-active-item", "item-2").Sign(t, h.key) }, "ok"},
	}
	for _, d := range deliveries {
		if status, text := h.post(d.hook()); status != http.StatusOK || text != d.want {
			t.Fatalf("%s: %d %q, want 200 %q", d.name, status, text, d.want)
		}
	}
	got := h.storedMessages()
	if len(got) != 2 ||
		got[0].event.GetTenantId() != removedTenant || got[0].event.GetKind() != gsv1.ChangeKind_CHANGE_KIND_APP_INSTALLED ||
		got[1].event.GetTenantId() != testTenant || got[1].event.GetSourceEventId() != "ev-active-item" {
		t.Fatalf("stream holds %v, want the reinstall and the active tenant's item", got)
	}
	if n := h.counter("gallerysync.ingress.refused_tenant"); n != 3 {
		t.Errorf("refused_tenant = %d, want 3", n)
	}
	if n := h.counter("gallerysync.ingress.published"); n != 2 {
		t.Errorf("published = %d, want 2", n)
	}
}

func TestFailedTenantCheckAcceptsTheEvent(t *testing.T) {
	t.Parallel()
	h := startIngress(t, withTenants(fakeTenants{err: errors.New("mapping unavailable")}))
	if status, text := h.post(hook("ev-check-failed", "item-1").Sign(t, h.key)); status != http.StatusOK || text != "ok" {
		t.Fatalf("status %d %q, want 200 ok", status, text)
	}
	if n := len(h.stored()); n != 1 {
		t.Fatalf("stream holds %d events, want 1", n)
	}
	if n := h.counter("gallerysync.ingress.tenant_check_errors"); n != 1 {
		t.Errorf("tenant_check_errors = %d, want 1", n)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, `"level":"WARN","msg":"tenant check failed, event accepted"`) || !strings.Contains(logs, "mapping unavailable") {
		t.Errorf("no warning about the failed check in the logs:\n%s", logs)
	}
}

// mappingFake is the part of the mapping service MappingTenants uses, in memory.
type mappingFake struct {
	gsv1.UnimplementedMappingServiceServer
	mu      sync.Mutex
	tenants map[string]gsv1.TenantState
	failing map[string]bool
	calls   map[string]int
}

func (f *mappingFake) GetTenant(_ context.Context, req *gsv1.GetTenantRequest) (*gsv1.GetTenantResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[req.GetTenantId()]++
	if f.failing[req.GetTenantId()] {
		return nil, status.Error(codes.Unavailable, "store unavailable")
	}
	state, ok := f.tenants[req.GetTenantId()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "tenant %s", req.GetTenantId())
	}
	return &gsv1.GetTenantResponse{Tenant: &gsv1.Tenant{TenantId: req.GetTenantId(), State: state}}, nil
}

func (f *mappingFake) set(tenant string, state gsv1.TenantState, failing bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tenants[tenant], f.failing[tenant] = state, failing
}

func (f *mappingFake) callsFor(tenant string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[tenant]
}

// startMappingFake serves fake over gRPC on a loopback port and returns a
// client connected to it.
func startMappingFake(t *testing.T, fake *mappingFake) gsv1.MappingServiceClient {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	gsv1.RegisterMappingServiceServer(srv, fake)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return gsv1.NewMappingServiceClient(conn)
}

func TestMappingTenants(t *testing.T) {
	t.Parallel()
	fake := &mappingFake{
		tenants: map[string]gsv1.TenantState{
			"active":      gsv1.TenantState_TENANT_STATE_ACTIVE,
			"removed":     gsv1.TenantState_TENANT_STATE_REMOVED,
			"unspecified": gsv1.TenantState_TENANT_STATE_UNSPECIFIED,
			"flaky":       gsv1.TenantState_TENANT_STATE_REMOVED,
		},
		failing: map[string]bool{"flaky": true},
		calls:   map[string]int{},
	}
	client := startMappingFake(t, fake)
	ctx := context.Background()

	cached := server.NewMappingTenants(client, time.Hour)
	for _, tc := range []struct {
		tenant  string
		removed bool
	}{
		{"active", false},
		{"removed", true},
		{"unspecified", false},
		{"unknown", false},
	} {
		for range 3 {
			removed, err := cached.Removed(ctx, tc.tenant)
			if err != nil || removed != tc.removed {
				t.Fatalf("Removed(%s) = %v, %v; want %v", tc.tenant, removed, err, tc.removed)
			}
		}
		if n := fake.callsFor(tc.tenant); n != 1 {
			t.Errorf("%s: %d lookups for 3 questions, want 1 (answers are cached)", tc.tenant, n)
		}
	}

	// Errors are returned, and not cached: the next question asks again.
	for range 2 {
		if _, err := cached.Removed(ctx, "flaky"); status.Code(err) != codes.Unavailable {
			t.Fatalf("Removed(flaky) error = %v, want the Unavailable status", err)
		}
	}
	if n := fake.callsFor("flaky"); n != 2 {
		t.Errorf("flaky: %d lookups for 2 failed questions, want 2", n)
	}
	fake.set("flaky", gsv1.TenantState_TENANT_STATE_REMOVED, false)
	if removed, err := cached.Removed(ctx, "flaky"); err != nil || !removed {
		t.Fatalf("Removed(flaky) after recovery = %v, %v; want true", removed, err)
	}

	// Within the TTL a change goes unseen; once it passes, it is seen.
	fake.set("active", gsv1.TenantState_TENANT_STATE_REMOVED, false)
	if removed, _ := cached.Removed(ctx, "active"); removed {
		t.Error("a cached answer changed within the TTL")
	}
	short := server.NewMappingTenants(client, 50*time.Millisecond)
	fake.set("reinstalled", gsv1.TenantState_TENANT_STATE_REMOVED, false)
	if removed, err := short.Removed(ctx, "reinstalled"); err != nil || !removed {
		t.Fatalf("Removed(reinstalled) = %v, %v; want true", removed, err)
	}
	fake.set("reinstalled", gsv1.TenantState_TENANT_STATE_ACTIVE, false)
	waitFor(t, "the reinstall to be seen after the TTL", func() bool {
		removed, err := short.Removed(ctx, "reinstalled")
		return err == nil && !removed
	})
}

func TestMappingTenantsConcurrentUse(t *testing.T) {
	t.Parallel()
	fake := &mappingFake{
		tenants: map[string]gsv1.TenantState{"removed": gsv1.TenantState_TENANT_STATE_REMOVED},
		failing: map[string]bool{},
		calls:   map[string]int{},
	}
	mt := server.NewMappingTenants(startMappingFake(t, fake), 0)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			tenant, want := "removed", true
			if i%2 == 1 {
				tenant, want = "unknown", false
			}
			removed, err := mt.Removed(context.Background(), tenant)
			if err != nil || removed != want {
				errs <- errors.Join(err, errors.New(tenant+": wrong answer"))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
