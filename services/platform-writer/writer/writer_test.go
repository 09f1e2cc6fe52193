package writer_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/change"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

const (
	created = gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED
	updated = gsv1.ChangeKind_CHANGE_KIND_ITEM_UPDATED
	deleted = gsv1.ChangeKind_CHANGE_KIND_ITEM_DELETED
	synced  = gsv1.ItemState_ITEM_STATE_SYNCED
	gone    = gsv1.ItemState_ITEM_STATE_DELETED
	pending = gsv1.ItemState_ITEM_STATE_PENDING_CREATE
)

// wantWrites fails the test unless the server saw exactly these writes.
func (h *harness) wantWrites(wantCreated, wantEdits, wantDeletes int) map[string]mastoStatus {
	h.t.Helper()
	c, e, d, statuses := h.masto.writes()
	if c != wantCreated || e != wantEdits || d != wantDeletes {
		h.t.Fatalf("platform writes: %d created, %d edited, %d deleted; want %d, %d, %d", c, e, d, wantCreated, wantEdits, wantDeletes)
	}
	return statuses
}

func TestCreateUpdateDeleteWriteOnceEach(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()

	h.publish(h.itemEvent("e1", created, "item-a", "Sunset", 1))
	m := h.waitState("item-a", synced)
	statuses := h.wantWrites(1, 0, 0)
	st, ok := statuses[m.GetExternalId()]
	if !ok || !strings.HasPrefix(st.Text, "Sunset\n\nabout Sunset") || !strings.HasSuffix(st.Text, "#"+album) {
		t.Fatalf("mapping names status %q; server has %+v", m.GetExternalId(), statuses)
	}
	if m.GetIntentKey() == "" || m.GetExternalAttrs()["media_id"] == "" || m.GetExternalHash() == "" {
		t.Fatalf("mapping lacks intent key, media id or external hash: %v", m)
	}

	ev := h.itemEvent("e2", updated, "item-a", "Sunrise", 2)
	h.publish(ev)
	h.waitCounter(1, "gallerysync.writer.applied", opAttr("update"))
	statuses = h.wantWrites(1, 1, 0)
	if st := statuses[m.GetExternalId()]; !strings.HasPrefix(st.Text, "Sunrise\n\n") || st.Alt[st.MediaIDs[0]] != "Sunrise" {
		t.Fatalf("status after update: %+v", st)
	}
	if got := h.mapping.Item(tenant, linkID, "item-a"); got.GetWixHash() != ev.GetItem().GetContentHash() || !got.GetWixVersion().AsTime().Equal(base().Add(2*time.Minute)) {
		t.Fatalf("mapping after update: %v", got)
	}

	h.publish(h.itemEvent("e3", deleted, "item-a", "", 3))
	tomb := h.waitState("item-a", gone)
	if statuses := h.wantWrites(1, 1, 1); len(statuses) != 0 {
		t.Fatalf("statuses left after delete: %v", statuses)
	}
	if tomb.GetExternalId() != m.GetExternalId() {
		t.Fatalf("tombstone lost the external id: %v", tomb)
	}
	if got := fmt.Sprint(actions(h.mapping, tenant, linkID, "item-a")); got != "[create update delete]" {
		t.Fatalf("sync log of item-a: %s, want [create update delete]", got)
	}
}

func TestDuplicateEventWritesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	ev := h.itemEvent("e1", created, "item-a", "Sunset", 1)
	h.publish(ev)
	h.waitState("item-a", synced)
	h.waitFor("dedup mark", func() bool {
		resp, err := h.client.CheckDedup(context.Background(), &gsv1.CheckDedupRequest{TenantId: tenant, Key: "platform-writer:mastodon:" + ev.GetEventId()})
		return err == nil && resp.GetSeen()
	})
	// Wix redelivers a webhook for ~47 hours, long after JetStream's
	// duplicate window, so the same event reaches the writer again.
	if err := h.writer.Apply(context.Background(), ev); err != nil {
		t.Fatalf("Apply of a duplicate: %v", err)
	}
	if n := h.counter("gallerysync.writer.deduplicated"); n != 1 {
		t.Fatalf("deduplicated = %d, want 1", n)
	}
	h.wantWrites(1, 0, 0)
}

func TestEchoIsDropped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	h.publish(h.itemEvent("e1", created, "item-a", "Sunset", 1))
	h.waitState("item-a", synced)
	// The same content under a new event id and a later version: what Wix
	// reports after our own write to Wix, or a repeated save.
	h.publish(h.itemEvent("e2", updated, "item-a", "Sunset", 2))
	h.waitCounter(1, "gallerysync.writer.echo_dropped")
	h.wantWrites(1, 0, 0)
}

func TestSortOrderChangeIsNoRemoteWrite(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	h.publish(h.itemEvent("e1", created, "item-a", "Sunset", 1))
	h.waitState("item-a", synced)
	ev := h.itemEvent("e2", updated, "item-a", "Sunset", 2)
	ev.Item.SortOrder = 7
	ev.Item.ContentHash = change.Hash(ev.Item)
	h.publish(ev)
	h.waitCounter(1, "gallerysync.writer.applied", opAttr("noop"))
	h.wantWrites(1, 0, 0)
	if m := h.mapping.Item(tenant, linkID, "item-a"); m.GetSortOrder() != 7 || m.GetWixHash() != ev.GetItem().GetContentHash() {
		t.Fatalf("mapping did not record the new Wix state: %v", m)
	}
}

func TestStaleEventAfterNewerWritesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	h.publish(h.itemEvent("e2", created, "item-a", "Newer", 2))
	m := h.waitState("item-a", synced)
	h.publish(h.itemEvent("e1", updated, "item-a", "Older", 1))
	h.waitCounter(1, "gallerysync.writer.stale", reasonAttr("older"))
	statuses := h.wantWrites(1, 0, 0)
	if st := statuses[m.GetExternalId()]; !strings.HasPrefix(st.Text, "Newer") {
		t.Fatalf("status text %q, want the newer title", st.Text)
	}
}

func TestDeleteThenLateCreateDoesNotRevive(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	h.publish(h.itemEvent("e-del", deleted, "item-b", "", 5))
	h.waitState("item-b", gone)
	h.publish(h.itemEvent("e-create", created, "item-b", "Late", 1))
	h.waitCounter(1, "gallerysync.writer.stale", reasonAttr("deleted"))
	h.wantWrites(0, 0, 0)
	if m := h.mapping.Item(tenant, linkID, "item-b"); m.GetState() != gone {
		t.Fatalf("item revived: %v", m)
	}
}

func TestCrashBetweenRemoteCreateAndMappingWrite(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var once sync.Once
	h.mapping.FailPutItem(func(m *gsv1.ItemMapping) error {
		var err error
		if m.GetState() == synced {
			once.Do(func() { err = status.Error(codes.Unavailable, "mapping went away") })
		}
		return err
	})
	h.run()
	h.publish(h.itemEvent("e1", created, "item-a", "Sunset", 1))
	m := h.waitState("item-a", synced)
	if posts := h.masto.posts(); len(posts) != 2 {
		t.Fatalf("%d status posts, want 2 (the first and its retry)", len(posts))
	}
	statuses := h.wantWrites(1, 1, 0)
	if _, ok := statuses[m.GetExternalId()]; !ok || len(statuses) != 1 {
		t.Fatalf("mapping names %q, server has %v", m.GetExternalId(), statuses)
	}
}

func TestRateLimitIsRetriedAfterReset(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var reset time.Time
	var throttled bool
	h.masto.setInject(func(w http.ResponseWriter, r *http.Request) bool {
		if throttled || r.URL.Path != "/api/v1/statuses" {
			return false
		}
		throttled = true
		reset = time.Now().Add(1500 * time.Millisecond)
		w.Header().Set("X-RateLimit-Reset", reset.UTC().Format(time.RFC3339Nano))
		mastoError(w, http.StatusTooManyRequests, "Too many requests")
		return true
	})
	h.run()
	h.publish(h.itemEvent("e1", created, "item-a", "Sunset", 1))
	h.waitState("item-a", synced)
	h.wantWrites(1, 0, 0)
	posts := h.masto.posts()
	if len(posts) != 2 || posts[1].Before(reset) {
		t.Fatalf("posts at %v, reset at %v: want one retry, not before the reset", posts, reset)
	}
	if n := h.counter("gallerysync.writer.remote_errors", kindAttr("rate_limited")); n != 1 {
		t.Fatalf("rate_limited remote errors = %d, want 1", n)
	}
}

func TestPermanentErrorIsDeadLettered(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.masto.setInject(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/v1/statuses" {
			return false
		}
		mastoError(w, http.StatusUnprocessableEntity, "Validation failed: Text can't be blank")
		return true
	})
	h.run()
	ev := h.itemEvent("e1", created, "item-a", "Sunset", 1)
	h.publish(ev)
	dl := h.deadLetter()
	got := &gsv1.ChangeEvent{}
	if err := proto.Unmarshal(dl.Data, got); err != nil || got.GetEventId() != ev.GetEventId() {
		t.Fatalf("dead letter holds %v (%v), want event %s", got, err, ev.GetEventId())
	}
	if e := dl.Header.Get(bus.HeaderError); !strings.Contains(e, "422") {
		t.Fatalf("dead letter error header %q does not name the 422", e)
	}
	if posts := h.masto.posts(); len(posts) != 1 {
		t.Fatalf("%d posts, want 1: a permanent error is not retried", len(posts))
	}
	h.wantWrites(0, 0, 0)
	// The intent stays, so a replay from the console reuses its key.
	if m := h.mapping.Item(tenant, linkID, "item-a"); m.GetState() != pending || m.GetIntentKey() == "" {
		t.Fatalf("mapping after a failed create: %v", m)
	}
}

func TestDeleteSettlesPendingCreate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// The create reaches Mastodon but its result can never be recorded, so
	// the create event is dead-lettered with the intent still pending.
	h.mapping.FailPutItem(func(m *gsv1.ItemMapping) error {
		if m.GetState() == synced {
			return status.Error(codes.InvalidArgument, "refused")
		}
		return nil
	})
	h.run()
	h.publish(h.itemEvent("e1", created, "item-a", "Sunset", 1))
	h.deadLetter()
	pend := h.mapping.Item(tenant, linkID, "item-a")
	if pend.GetState() != pending {
		t.Fatalf("mapping after the failed create: %v", pend)
	}
	h.mapping.FailPutItem(nil)

	h.publish(h.itemEvent("e2", deleted, "item-a", "", 2))
	tomb := h.waitState("item-a", gone)
	if statuses := h.wantWrites(1, 0, 1); len(statuses) != 0 {
		t.Fatalf("statuses left: %v", statuses)
	}
	if tomb.GetExternalId() == "" || tomb.GetIntentKey() != pend.GetIntentKey() {
		t.Fatalf("tombstone %v does not name the settled status", tomb)
	}
}

func TestUpdateRecreatesStatusDeletedOnPlatform(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	h.publish(h.itemEvent("e1", created, "item-a", "Sunset", 1))
	first := h.waitState("item-a", synced)
	h.masto.mu.Lock()
	delete(h.masto.statuses, first.GetExternalId())
	h.masto.mu.Unlock()

	h.publish(h.itemEvent("e2", updated, "item-a", "Sunrise", 2))
	h.waitCounter(2, "gallerysync.writer.applied", opAttr("create"))
	m := h.mapping.Item(tenant, linkID, "item-a")
	statuses := h.wantWrites(2, 0, 0)
	if st, ok := statuses[m.GetExternalId()]; !ok || m.GetExternalId() == first.GetExternalId() || !strings.HasPrefix(st.Text, "Sunrise") {
		t.Fatalf("mapping %v, statuses %v: want a new status with the new title", m, statuses)
	}
	if m.GetIntentKey() == first.GetIntentKey() {
		t.Fatal("the recreate reused the first create's idempotency key")
	}
}

func TestOnlyActiveLinksOnThisPlatform(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if _, err := h.client.PutConnection(context.Background(), &gsv1.PutConnectionRequest{Connection: &gsv1.Connection{
		TenantId: tenant, ConnectionId: "conn-pin", Platform: "pinterest", BaseUrl: h.masto.srv.URL, Credentials: []byte(mastoToken),
	}}); err != nil {
		t.Fatalf("put connection: %v", err)
	}
	h.putLink("link-paused", "conn-1", gsv1.LinkState_LINK_STATE_PAUSED)
	h.putLink("link-pinterest", "conn-pin", gsv1.LinkState_LINK_STATE_ACTIVE)
	h.putLink("link-orphan", "conn-missing", gsv1.LinkState_LINK_STATE_ACTIVE)
	h.run()
	h.publish(h.itemEvent("e1", created, "item-a", "Sunset", 1))
	h.waitState("item-a", synced)
	h.wantWrites(1, 0, 0)
	for _, l := range []string{"link-paused", "link-pinterest", "link-orphan"} {
		if m := h.mapping.Item(tenant, l, "item-a"); m != nil {
			t.Errorf("link %s got a mapping: %v", l, m)
		}
	}
}

func TestOtherEventsAreAcknowledged(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	galleryEv := h.itemEvent("g1", gsv1.ChangeKind_CHANGE_KIND_GALLERY_UPDATED, "", "", 1)
	galleryEv.Item = nil
	platformEv := h.itemEvent("p1", created, "item-a", "From Mastodon", 1)
	platformEv.Origin = gsv1.Origin_ORIGIN_PLATFORM
	platformEv.Platform = "mastodon"
	platformEv.EventId = change.EventID(gsv1.Origin_ORIGIN_PLATFORM, "mastodon", "p1")
	for _, ev := range []*gsv1.ChangeEvent{galleryEv, platformEv} {
		if err := h.writer.Apply(context.Background(), ev); err != nil {
			t.Fatalf("Apply(%s): %v", ev.GetEventId(), err)
		}
	}
	if n := h.counter("gallerysync.writer.ignored"); n != 2 {
		t.Fatalf("ignored = %d, want 2", n)
	}
	h.wantWrites(0, 0, 0)
}

func TestMediaFromUnlistedHostIsDeadLettered(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	ev := h.itemEvent("e1", created, "item-a", "Sunset", 1)
	ev.Item.MediaUrl = "http://169.254.169.254/latest/meta-data/"
	ev.Item.ContentHash = change.Hash(ev.Item)
	h.publish(ev)
	dl := h.deadLetter()
	if e := dl.Header.Get(bus.HeaderError); !strings.Contains(e, "host not allowed") {
		t.Fatalf("dead letter error header %q", e)
	}
	h.wantWrites(0, 0, 0)
}

// deadLetter waits for this writer's latest dead letter and returns it.
func (h *harness) deadLetter() *jetstream.RawStreamMsg {
	h.t.Helper()
	nc, err := nats.Connect(h.nats.URL())
	if err != nil {
		h.t.Fatalf("nats: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		h.t.Fatalf("jetstream: %v", err)
	}
	var msg *jetstream.RawStreamMsg
	h.waitFor("a dead letter", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s, err := js.Stream(ctx, change.DeadLetterStream)
		if err != nil {
			return false
		}
		msg, err = s.GetLastMsgForSubject(ctx, change.DeadLetterSubject(h.cfg.DurableName()))
		return err == nil
	})
	return msg
}

func opAttr(op string) attribute.KeyValue         { return attribute.String("op", op) }
func reasonAttr(reason string) attribute.KeyValue { return attribute.String("reason", reason) }
func kindAttr(kind string) attribute.KeyValue     { return attribute.String("kind", kind) }

func TestItemWithoutMediaIsNotPosted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ev := h.itemEvent("e1", created, "item-text", "Just words", 1)
	ev.Item.MediaUrl, ev.Item.MediaId = "", ""
	ev.Item.ContentHash = change.Hash(ev.Item)
	if err := h.writer.Apply(context.Background(), ev); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if n := h.counter("gallerysync.writer.ignored", kindAttr("no_media")); n != 1 {
		t.Fatalf("ignored no_media = %d, want 1", n)
	}
	h.wantWrites(0, 0, 0)
	if m := h.mapping.Item(tenant, linkID, "item-text"); m != nil {
		t.Fatalf("mapping written for an item without media: %v", m)
	}
}

// TestWixWriterMarkersSuppressEchoes covers the webhooks the wix-writer's own
// writes to Wix cause: it marks each write before making it, so the echo is
// recognised even when the webhook beats the mapping update.
func TestWixWriterMarkersSuppressEchoes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	ctx := context.Background()
	mark := func(object, hash string) {
		t.Helper()
		if _, err := h.client.MarkEcho(ctx, &gsv1.MarkEchoRequest{
			TenantId: tenant, Side: gsv1.Side_SIDE_WIX, ObjectId: object, ContentHash: hash, Ttl: durationpb.New(time.Minute),
		}); err != nil {
			t.Fatal(err)
		}
	}

	// An item the wix-writer is creating: no mapping exists yet.
	ev := h.itemEvent("e1", created, "item-new", "From Mastodon", 1)
	mark("new:"+linkID+":"+ev.GetItem().GetContentHash(), ev.GetItem().GetContentHash())
	h.publish(ev)
	h.waitCounter(1, "gallerysync.writer.echo_dropped")
	h.wantWrites(0, 0, 0)

	// An item we synced, then updated on Wix by the wix-writer.
	h.publish(h.itemEvent("e2", created, "item-a", "Sunset", 2))
	h.waitState("item-a", synced)
	upd := h.itemEvent("e3", updated, "item-a", "Sunset edited on Mastodon", 3)
	mark("item-a", upd.GetItem().GetContentHash())
	h.publish(upd)
	h.waitCounter(2, "gallerysync.writer.echo_dropped")

	// And deleted on Wix by the wix-writer because the post was deleted.
	mark("item-a", "deleted")
	h.publish(h.itemEvent("e4", deleted, "item-a", "", 4))
	h.waitCounter(3, "gallerysync.writer.echo_dropped")
	h.wantWrites(1, 0, 0)
}
