package writer_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/protobuf/types/known/timestamppb"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/media"
	"gallerysync.dev/libs/platforms/mastodon"
	"gallerysync.dev/libs/testkit"
	"gallerysync.dev/libs/testkit/mappingfake"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/platform-writer/writer"
)

// waitDeadline is how long a test waits for something that should happen.
const waitDeadline = 20 * time.Second

// Test fixtures: one tenant with one gallery linked to a Mastodon hashtag.
const (
	tenant  = "tenant-1"
	gallery = "gallery-1"
	linkID  = "link-1"
	album   = "holiday"
)

const pngBytes = "\x89PNG\r\n\x1a\n" + "\x00\x00\x00\x0dIHDR"

// harness runs a writer against an embedded NATS server, the real bus, a
// fake mapping service over gRPC and a test Mastodon server.
type harness struct {
	t       *testing.T
	nats    *testkit.NATS
	bus     *bus.Bus
	mapping *mappingfake.Fake
	client  gsv1.MappingServiceClient
	masto   *mastoServer
	origin  *httptest.Server
	reader  *sdkmetric.ManualReader
	writer  *writer.Writer
	cfg     writer.Config
}

func newHarness(t *testing.T, opts ...func(*writer.Config)) *harness {
	t.Helper()
	h := &harness{t: t, nats: testkit.StartNATS(t), masto: startMasto(t), reader: sdkmetric.NewManualReader()}
	h.origin = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		io.WriteString(w, pngBytes)
	}))
	t.Cleanup(h.origin.Close)
	h.mapping, h.client = mappingfake.Start(t)
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
		Platform:          mastodon.Name,
		MaxDeliver:        4,
		Concurrency:       4,
		ShareConcurrency:  4,
		LockTTL:           5 * time.Second,
		DedupTTL:          time.Hour,
		MediaAllowedHosts: strings.TrimPrefix(h.origin.URL, "http://"),
		MappingAddr:       "unused-in-tests:1",
		ShutdownTimeout:   5 * time.Second,
	}
	for _, o := range opts {
		o(&h.cfg)
	}
	adapter := mastodon.New(media.NewFetcher(h.cfg.AllowedHosts()), mastodon.WithMediaPolling(5*time.Millisecond, 20))
	w, err := writer.New(h.cfg, writer.Deps{
		Bus:     b,
		Mapping: h.client,
		Adapter: adapter,
		Meter:   sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader)),
	})
	if err != nil {
		t.Fatalf("writer: %v", err)
	}
	h.writer = w
	return h
}

// run starts the writer's consumer; it is stopped before the bus closes.
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

// seed stores the tenant's Mastodon connection and its gallery link.
func (h *harness) seed() {
	h.t.Helper()
	ctx := context.Background()
	if _, err := h.client.PutConnection(ctx, &gsv1.PutConnectionRequest{Connection: &gsv1.Connection{
		TenantId: tenant, ConnectionId: "conn-1", Platform: mastodon.Name, BaseUrl: h.masto.srv.URL,
		AccountId: "1", Credentials: []byte(mastoToken),
	}}); err != nil {
		h.t.Fatalf("put connection: %v", err)
	}
	h.putLink(linkID, "conn-1", gsv1.LinkState_LINK_STATE_ACTIVE)
}

func (h *harness) putLink(id, conn string, state gsv1.LinkState) {
	h.t.Helper()
	if _, err := h.client.PutLink(context.Background(), &gsv1.PutLinkRequest{Link: &gsv1.Link{
		TenantId: tenant, LinkId: id, GalleryId: gallery, ConnectionId: conn, AlbumId: album,
		State: state, Direction: gsv1.Direction_DIRECTION_ONE_WAY,
	}}); err != nil {
		h.t.Fatalf("put link: %v", err)
	}
}

// base is the time of the first version of every item in these tests.
func base() time.Time { return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) }

// itemEvent is a Wix item event; version is minutes after base().
func (h *harness) itemEvent(sourceID string, kind gsv1.ChangeKind, itemID, title string, version int) *gsv1.ChangeEvent {
	at := base().Add(time.Duration(version) * time.Minute)
	ev := &gsv1.ChangeEvent{
		EventId:       change.EventID(gsv1.Origin_ORIGIN_WIX, "", sourceID),
		TenantId:      tenant,
		Origin:        gsv1.Origin_ORIGIN_WIX,
		SourceEventId: sourceID,
		OccurredAt:    timestamppb.New(at),
		Kind:          kind,
		GalleryId:     gallery,
		Item:          &gsv1.ItemSnapshot{ItemId: itemID},
	}
	if kind != gsv1.ChangeKind_CHANGE_KIND_ITEM_DELETED {
		ev.Item = &gsv1.ItemSnapshot{
			ItemId: itemID, Title: title, Description: "about " + title,
			MediaUrl: h.origin.URL + "/media/" + itemID + ".png", MediaId: "wixmedia-" + itemID,
			MimeType: "image/png", SortOrder: 1, UpdatedAt: timestamppb.New(at),
		}
		ev.Item.ContentHash = change.Hash(ev.Item)
	}
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
		time.Sleep(20 * time.Millisecond)
	}
}

// waitCounter waits until a counter reaches want.
func (h *harness) waitCounter(want int64, name string, attrs ...attribute.KeyValue) {
	h.t.Helper()
	h.waitFor(name+" to reach "+strconv.FormatInt(want, 10), func() bool { return h.counter(name, attrs...) >= want })
}

// waitState waits until an item's mapping is in state.
func (h *harness) waitState(itemID string, state gsv1.ItemState) *gsv1.ItemMapping {
	h.t.Helper()
	var m *gsv1.ItemMapping
	h.waitFor(itemID+" to be "+state.String(), func() bool {
		m = h.mapping.Item(tenant, linkID, itemID)
		return m.GetState() == state
	})
	return m
}

// actions returns the sync log actions of one item, oldest first.
func actions(m *mappingfake.Fake, tenant, link, item string) []string {
	var out []string
	for _, e := range m.Log(tenant, link) {
		if e.GetWixItemId() == item {
			out = append(out, e.GetAction())
		}
	}
	return out
}
