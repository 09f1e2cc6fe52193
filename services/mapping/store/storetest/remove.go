package storetest

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// removable is a tenant with everything RemoveTenant changes or must leave alone.
type removable struct {
	tenant *gsv1.Tenant
	conns  []*gsv1.Connection
	links  []*gsv1.Link
	item   *gsv1.ItemMapping
}

func seedRemovable(t *testing.T, s store.Store, tenantID string, withRecord bool) removable {
	t.Helper()
	ctx := t.Context()
	created := timestamppb.New(time.Date(2025, 5, 1, 8, 0, 0, 0, time.UTC))
	r := removable{
		conns: []*gsv1.Connection{
			{TenantId: tenantID, ConnectionId: "c1", Platform: "mastodon", BaseUrl: "https://social.example",
				AccountId: "109", DisplayName: "@ann", Credentials: []byte("sealed token"), CreatedAt: created},
			{TenantId: tenantID, ConnectionId: "c2", Platform: "flickr", CreatedAt: created},
		},
		links: []*gsv1.Link{
			{TenantId: tenantID, LinkId: "l1", GalleryId: "g1", ConnectionId: "c1", AlbumId: "cats",
				State: gsv1.LinkState_LINK_STATE_ACTIVE, Direction: gsv1.Direction_DIRECTION_TWO_WAY, CreatedAt: created},
			{TenantId: tenantID, LinkId: "l2", GalleryId: "g2", ConnectionId: "c2",
				State: gsv1.LinkState_LINK_STATE_ERROR, Direction: gsv1.Direction_DIRECTION_ONE_WAY},
			{TenantId: tenantID, LinkId: "l3", GalleryId: "g1", ConnectionId: "c2", State: gsv1.LinkState_LINK_STATE_PAUSED},
			{TenantId: tenantID, LinkId: "l4", GalleryId: "g3", ConnectionId: "c1"},
		},
	}
	if withRecord {
		r.tenant = &gsv1.Tenant{TenantId: tenantID, State: gsv1.TenantState_TENANT_STATE_ACTIVE,
			DisplayName: "Ann's photos", CreatedAt: created}
		must(t, "put tenant", s.PutTenant(ctx, r.tenant))
	}
	for _, c := range r.conns {
		must(t, "put connection", s.PutConnection(ctx, c))
	}
	for _, l := range r.links {
		must(t, "put link", s.PutLink(ctx, l))
	}
	item, err := s.PutItem(ctx, newItem(tenantID, "l1", "w1", "e1", "h"), 0)
	must(t, "put item", err)
	r.item = item
	return r
}

// removed is what r looks like after RemoveTenant.
func (r removable) removed(tenant *gsv1.Tenant) removable {
	out := removable{tenant: tenant, item: r.item}
	for _, c := range r.conns {
		c = proto.Clone(c).(*gsv1.Connection)
		c.Credentials = nil
		out.conns = append(out.conns, c)
	}
	for _, l := range r.links {
		l = proto.Clone(l).(*gsv1.Link)
		l.State = gsv1.LinkState_LINK_STATE_PAUSED
		out.links = append(out.links, l)
	}
	return out
}

// checkStored fails unless the store holds exactly want's records.
func checkStored(t *testing.T, s store.Store, want removable) {
	t.Helper()
	ctx := t.Context()
	tenantID := want.item.TenantId
	got, err := s.GetTenant(ctx, tenantID)
	must(t, "get tenant", err)
	mustEqual(t, "tenant", got, want.tenant)
	for _, c := range want.conns {
		got, err := s.GetConnection(ctx, tenantID, c.ConnectionId)
		must(t, "get connection", err)
		mustEqual(t, "connection", got, c)
	}
	links, err := s.ListLinks(ctx, tenantID, store.LinkFilter{})
	must(t, "list links", err)
	if len(links) != len(want.links) {
		t.Fatalf("%d links, want %d", len(links), len(want.links))
	}
	for i, l := range want.links {
		mustEqual(t, "link", links[i], l)
	}
	item, err := s.GetItemByWix(ctx, tenantID, "l1", "w1")
	must(t, "get item", err)
	mustEqual(t, "item", item, want.item)
}

func testRemoveTenant(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenantID := newTenant(t)
	before := seedRemovable(t, s, tenantID, true)
	// Same ids under a tenant whose id extends the first one's.
	bystander := seedRemovable(t, s, tenantID+"0", true)

	wantTenant := proto.Clone(before.tenant).(*gsv1.Tenant)
	wantTenant.State = gsv1.TenantState_TENANT_STATE_REMOVED
	want := before.removed(wantTenant)

	t.Run("remove", func(t *testing.T) {
		got, err := s.RemoveTenant(ctx, tenantID)
		must(t, "remove tenant", err)
		mustEqual(t, "returned tenant", got, wantTenant)
		checkStored(t, s, want)
		checkStored(t, s, bystander)
	})
	t.Run("again changes nothing", func(t *testing.T) {
		got, err := s.RemoveTenant(ctx, tenantID)
		must(t, "remove tenant again", err)
		mustEqual(t, "returned tenant", got, wantTenant)
		checkStored(t, s, want)
	})
	t.Run("put tenant re-activates, links stay paused", func(t *testing.T) {
		must(t, "put tenant", s.PutTenant(ctx, before.tenant))
		checkStored(t, s, removable{tenant: before.tenant, conns: want.conns, links: want.links, item: want.item})
	})
	t.Run("tenant without a record", func(t *testing.T) {
		orphan := newTenant(t)
		r := seedRemovable(t, s, orphan, false)
		got, err := s.RemoveTenant(ctx, orphan)
		must(t, "remove tenant", err)
		if got.GetState() != gsv1.TenantState_TENANT_STATE_REMOVED || got.GetTenantId() != orphan ||
			got.GetCreatedAt() == nil || time.Since(got.GetCreatedAt().AsTime()).Abs() > time.Hour {
			t.Fatalf("RemoveTenant of a tenant without a record returned %v; want it REMOVED, created about now", got)
		}
		checkStored(t, s, r.removed(got))
	})
	t.Run("unknown tenant", func(t *testing.T) {
		unknown := newTenant(t)
		got, err := s.RemoveTenant(ctx, unknown)
		must(t, "remove tenant", err)
		stored, err := s.GetTenant(ctx, unknown)
		must(t, "get tenant", err)
		mustEqual(t, "stored tenant", stored, got)
		if got.State != gsv1.TenantState_TENANT_STATE_REMOVED {
			t.Fatalf("state %v, want REMOVED", got.State)
		}
	})
}
