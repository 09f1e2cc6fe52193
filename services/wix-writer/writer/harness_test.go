package writer_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/protobuf/types/known/timestamppb"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/testkit"
	"gallerysync.dev/libs/testkit/mappingfake"
	"gallerysync.dev/libs/throttle"
	"gallerysync.dev/libs/wix"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/wix-writer/writer"
)

// waitDeadline is how long a test waits for something that should happen.
const waitDeadline = 20 * time.Second

// Test fixtures: one tenant whose gallery is linked both ways to a
// Mastodon hashtag on one connection.
const (
	tenant     = "tenant-1"
	gallery    = "gallery-1"
	linkID     = "link-1"
	connection = "conn-1"
	album      = "holiday"
	platform   = "mastodon"
	mediaHost  = "media.example"
)

// Item event kinds and mapping states the tests use.
const (
	created = gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED
	updated = gsv1.ChangeKind_CHANGE_KIND_ITEM_UPDATED
	deleted = gsv1.ChangeKind_CHANGE_KIND_ITEM_DELETED
	synced  = gsv1.ItemState_ITEM_STATE_SYNCED
	gone    = gsv1.ItemState_ITEM_STATE_DELETED
)

// harness runs a writer against an embedded NATS server, the real bus, a
// fake mapping service over gRPC and a fake Wix API over HTTP, through the
// real Wix client and the real shared throttle.
type harness struct {
	t       *testing.T
	nats    *testkit.NATS
	bus     *bus.Bus
	mapping *mappingfake.Fake
	client  gsv1.MappingServiceClient
	wix     *wixFake
	wixAPI  *wix.Client
	journal *journal
	reader  *sdkmetric.ManualReader
	writer  *writer.Writer
	cfg     writer.Config
}

// harnessOption changes the harness before its writer is built.
type harnessOption func(*harnessSettings)

type harnessSettings struct {
	pollFirst, pollMax, pollBound time.Duration
}

// withMediaPolling sets how the Wix client polls an imported file.
func withMediaPolling(first, maxWait, bound time.Duration) harnessOption {
	return func(s *harnessSettings) { s.pollFirst, s.pollMax, s.pollBound = first, maxWait, bound }
}

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	set := harnessSettings{pollFirst: 5 * time.Millisecond, pollMax: 20 * time.Millisecond, pollBound: 10 * time.Second}
	for _, o := range opts {
		o(&set)
	}
	h := &harness{t: t, nats: testkit.StartNATS(t), journal: &journal{}, reader: sdkmetric.NewManualReader()}
	h.wix = startWix(t, h.journal)
	h.wix.addGallery(tenant, gallery)
	h.mapping, h.client = mappingfake.Start(t, mappingfake.WithUnlimitedThrottle(), mappingfake.WithMarkEchoHook(func(r *gsv1.MarkEchoRequest) {
		h.journal.add("mark echo " + r.GetObjectId())
	}))
	h.seed()

	ctx, cancel := context.WithTimeout(context.Background(), waitDeadline)
	defer cancel()
	b, err := bus.Connect(ctx, bus.Config{URL: h.nats.URL(), PublishTimeout: 2 * time.Second, Replicas: 1, DuplicateWindow: 2 * time.Minute})
	if err != nil {
		t.Fatalf("bus: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.EnsureStreams(ctx); err != nil {
		t.Fatalf("streams: %v", err)
	}
	h.bus = b

	h.cfg = writer.Config{
		Durable:           "wix-writer",
		MaxDeliver:        4,
		Concurrency:       4,
		LockTTL:           2 * time.Second,
		DedupTTL:          time.Hour,
		IntentTTL:         time.Hour,
		MediaAllowedHosts: mediaHost,
		MappingAddr:       "unused-in-tests:1",
		ShutdownTimeout:   5 * time.Second,
		Wix: wix.ClientConfig{
			BaseURL: h.wix.srv.URL, GalleryPrefix: wix.DefaultGalleryPrefix,
			AppID: testAppID, AppSecret: testAppSecret, Timeout: 5 * time.Second, MaxAttempts: 2,
		},
	}
	limit, period := throttle.Wix()
	h.wixAPI, err = wix.NewClient(h.cfg.Wix,
		wix.WithLimiter(throttle.NewShared(h.client, throttle.BucketWix, limit, period)),
		wix.WithMediaPolling(set.pollFirst, set.pollMax, set.pollBound),
		wix.WithBackoff(func(int) time.Duration { return 10 * time.Millisecond }))
	if err != nil {
		t.Fatalf("wix client: %v", err)
	}
	w, err := writer.New(h.cfg, writer.Deps{
		Bus:     b,
		Mapping: h.client,
		Wix:     h.wixAPI,
		Meter:   sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader)),
	})
	if err != nil {
		t.Fatalf("writer: %v", err)
	}
	h.writer = w
	return h
}

// run starts the writer's consumers; they are stopped before the bus closes.
func (h *harness) run() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.writer.Run(ctx) }()
	h.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			h.t.Errorf("Run: %v", err)
		}
	})
}

// seed stores the active tenant and its two-way link.
func (h *harness) seed() {
	h.t.Helper()
	if _, err := h.client.PutTenant(context.Background(), &gsv1.PutTenantRequest{Tenant: &gsv1.Tenant{
		TenantId: tenant, State: gsv1.TenantState_TENANT_STATE_ACTIVE, DisplayName: "Demo site",
	}}); err != nil {
		h.t.Fatalf("put tenant: %v", err)
	}
	h.putLink(linkID, gallery, connection, album, gsv1.LinkState_LINK_STATE_ACTIVE, gsv1.Direction_DIRECTION_TWO_WAY)
}

func (h *harness) putLink(id, gal, conn, alb string, state gsv1.LinkState, dir gsv1.Direction) {
	h.t.Helper()
	if _, err := h.client.PutLink(context.Background(), &gsv1.PutLinkRequest{Link: &gsv1.Link{
		TenantId: tenant, LinkId: id, GalleryId: gal, ConnectionId: conn, AlbumId: alb, State: state, Direction: dir,
	}}); err != nil {
		h.t.Fatalf("put link: %v", err)
	}
}

// base is the time of the first version of every item in these tests.
func base() time.Time { return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) }

// at is version minutes after base().
func at(version int) time.Time { return base().Add(time.Duration(version) * time.Minute) }

// itemEvent is a platform item event; version is minutes after base().
func itemEvent(sourceID string, kind gsv1.ChangeKind, extID, title string, version int) *gsv1.ChangeEvent {
	ev := &gsv1.ChangeEvent{
		EventId:       change.EventID(gsv1.Origin_ORIGIN_PLATFORM, platform, sourceID),
		TenantId:      tenant,
		Origin:        gsv1.Origin_ORIGIN_PLATFORM,
		Platform:      platform,
		SourceEventId: sourceID,
		OccurredAt:    timestamppb.New(at(version)),
		Kind:          kind,
		AlbumId:       album,
		ConnectionId:  connection,
		Item:          &gsv1.ItemSnapshot{ItemId: extID},
	}
	if kind != gsv1.ChangeKind_CHANGE_KIND_ITEM_DELETED {
		ev.Item = &gsv1.ItemSnapshot{
			ItemId: extID, Title: title, Description: "about " + title,
			MediaUrl: "https://" + mediaHost + "/media/" + extID + ".png", MediaId: "m-" + extID,
			MimeType: "image/png", AltText: "a photo of " + title,
			Permalink: "https://social.example/@me/" + extID, UpdatedAt: timestamppb.New(at(version)),
		}
		ev.Item.ContentHash = change.Hash(ev.Item)
	}
	return ev
}

// rehash recomputes an event's content hash after a test changed its item.
func rehash(ev *gsv1.ChangeEvent) *gsv1.ChangeEvent {
	ev.Item.ContentHash = change.Hash(ev.Item)
	return ev
}

func (h *harness) publish(ev *gsv1.ChangeEvent) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitDeadline)
	defer cancel()
	if _, err := h.bus.Publish(ctx, ev); err != nil {
		h.t.Fatalf("publish %s: %v", ev.GetEventId(), err)
	}
}

// counter sums a writer counter's points that carry all of attrs.
func (h *harness) counter(name string, attrs ...attribute.KeyValue) int64 {
	h.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		h.t.Fatalf("collect metrics: %v", err)
	}
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			sum, ok := m.Data.(metricdata.Sum[int64])
			if m.Name != name || !ok {
				continue
			}
			for _, dp := range sum.DataPoints {
				if hasAll(dp.Attributes, attrs) {
					n += dp.Value
				}
			}
		}
	}
	return n
}

func hasAll(set attribute.Set, attrs []attribute.KeyValue) bool {
	for _, a := range attrs {
		if v, ok := set.Value(a.Key); !ok || v != a.Value {
			return false
		}
	}
	return true
}

// waitFor polls cond until it holds or the deadline passes.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(waitDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitCounter waits until a counter reaches want.
func (h *harness) waitCounter(want int64, name string, attrs ...attribute.KeyValue) {
	h.t.Helper()
	h.waitFor(name+" to reach "+strconv.FormatInt(want, 10), func() bool { return h.counter(name, attrs...) >= want })
}

// waitState waits until the mapping of an external item is in state.
func (h *harness) waitState(extID string, state gsv1.ItemState) *gsv1.ItemMapping {
	h.t.Helper()
	var m *gsv1.ItemMapping
	h.waitFor(extID+" to be "+state.String(), func() bool {
		m = h.mapping.ItemByExternal(tenant, linkID, extID)
		return m.GetState() == state
	})
	return m
}

// wantWrites fails the test unless the fake Wix saw exactly these writes.
func (h *harness) wantWrites(creates, updates, deletes, imports int) {
	h.t.Helper()
	c, u, d, i := h.wix.counts()
	if c != creates || u != updates || d != deletes || i != imports {
		h.t.Fatalf("wix writes: %d created, %d updated, %d deleted, %d imported; want %d, %d, %d, %d",
			c, u, d, i, creates, updates, deletes, imports)
	}
}

func opAttr(op string) attribute.KeyValue         { return attribute.String("op", op) }
func reasonAttr(reason string) attribute.KeyValue { return attribute.String("reason", reason) }
func kindAttr(kind string) attribute.KeyValue     { return attribute.String("kind", kind) }

// actions returns "<action>@<wix item id>" of one link's sync log, oldest first.
func actions(m *mappingfake.Fake, tenant, link string) []string {
	var out []string
	for _, e := range m.Log(tenant, link) {
		out = append(out, e.GetAction()+"@"+e.GetWixItemId())
	}
	return out
}
