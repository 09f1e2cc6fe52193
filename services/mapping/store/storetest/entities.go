package storetest

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

func testTenant(t *testing.T, s store.Store) {
	ctx := t.Context()
	id := newTenant(t)
	created := timestamppb.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	versions := []struct {
		name   string
		tenant *gsv1.Tenant
	}{
		{"create", &gsv1.Tenant{TenantId: id, State: gsv1.TenantState_TENANT_STATE_ACTIVE, DisplayName: "Ann's photos", CreatedAt: created}},
		{"replace", &gsv1.Tenant{TenantId: id, State: gsv1.TenantState_TENANT_STATE_REMOVED, DisplayName: "", CreatedAt: created}},
	}
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			must(t, "put tenant", s.PutTenant(ctx, v.tenant))
			got, err := s.GetTenant(ctx, id)
			must(t, "get tenant", err)
			mustEqual(t, "stored tenant", got, v.tenant)
		})
	}
}

func testConnection(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	conns := []struct {
		name string
		conn *gsv1.Connection
	}{
		{"with credentials", &gsv1.Connection{
			TenantId: tenant, ConnectionId: "c1", Platform: "mastodon", BaseUrl: "https://social.example",
			AccountId: "109", DisplayName: "@ann", Credentials: []byte{0, 1, 2, 0xff, 'x'},
			CreatedAt: timestamppb.New(time.Unix(1700000000, 5)),
		}},
		{"without credentials", &gsv1.Connection{TenantId: tenant, ConnectionId: "c2", Platform: "flickr"}},
		{"replaced", &gsv1.Connection{TenantId: tenant, ConnectionId: "c1", Platform: "mastodon", Credentials: []byte("new")}},
	}
	for _, c := range conns {
		t.Run(c.name, func(t *testing.T) {
			must(t, "put connection", s.PutConnection(ctx, c.conn))
			got, err := s.GetConnection(ctx, tenant, c.conn.ConnectionId)
			must(t, "get connection", err)
			mustEqual(t, "stored connection", got, c.conn)
		})
	}
}

func testLink(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	link := func(id, gallery string) *gsv1.Link {
		return &gsv1.Link{
			TenantId: tenant, LinkId: id, GalleryId: gallery, ConnectionId: "c1", AlbumId: "cats",
			State: gsv1.LinkState_LINK_STATE_ACTIVE, Direction: gsv1.Direction_DIRECTION_TWO_WAY,
			CreatedAt: timestamppb.New(time.Unix(1700000000, 0)),
		}
	}
	for _, l := range []*gsv1.Link{link("l3", "g1"), link("l1", "g1"), link("l2", "g2")} {
		must(t, "put link", s.PutLink(ctx, l))
	}
	got, err := s.GetLink(ctx, tenant, "l2")
	must(t, "get link", err)
	mustEqual(t, "stored link", got, link("l2", "g2"))

	lists := []struct {
		name    string
		gallery string
		want    []string
	}{
		{"all", "", []string{"l1", "l2", "l3"}},
		{"one gallery", "g1", []string{"l1", "l3"}},
		{"other gallery", "g2", []string{"l2"}},
		{"unknown gallery", "g9", nil},
	}
	for _, c := range lists {
		t.Run(c.name, func(t *testing.T) {
			links, err := s.ListLinks(ctx, tenant, c.gallery)
			must(t, "list links", err)
			if ids := linkIDs(links); strings.Join(ids, ",") != strings.Join(c.want, ",") {
				t.Fatalf("ListLinks(%q) = %v, want %v", c.gallery, ids, c.want)
			}
			for _, l := range links {
				mustEqual(t, "listed link", l, link(l.LinkId, l.GalleryId))
			}
		})
	}

	t.Run("moved to another gallery", func(t *testing.T) {
		must(t, "replace link", s.PutLink(ctx, link("l3", "g2")))
		links, err := s.ListLinks(ctx, tenant, "g2")
		must(t, "list links", err)
		if ids := linkIDs(links); strings.Join(ids, ",") != "l2,l3" {
			t.Fatalf("after moving l3 gallery g2 has %v, want [l2 l3]", ids)
		}
	})
}

func linkIDs(links []*gsv1.Link) []string {
	var ids []string
	for _, l := range links {
		ids = append(ids, l.LinkId)
	}
	return ids
}

func testNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	cases := []struct {
		name string
		call func() error
	}{
		{"GetTenant", func() error { _, err := s.GetTenant(ctx, tenant); return err }},
		{"GetConnection", func() error { _, err := s.GetConnection(ctx, tenant, "c1"); return err }},
		{"GetLink", func() error { _, err := s.GetLink(ctx, tenant, "l1"); return err }},
		{"GetItemByWix", func() error { _, err := s.GetItemByWix(ctx, tenant, "l1", "w1"); return err }},
		{"GetItemByExternal", func() error { _, err := s.GetItemByExternal(ctx, tenant, "l1", "e1"); return err }},
		{"DeleteItem", func() error { return s.DeleteItem(ctx, tenant, "l1", "w1") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mustErr(t, c.name, c.call(), store.ErrNotFound)
		})
	}
	t.Run("empty lists", func(t *testing.T) {
		links, err := s.ListLinks(ctx, tenant, "")
		must(t, "list links", err)
		items, next, err := s.ListItems(ctx, tenant, "l1", 0, "")
		must(t, "list items", err)
		if len(links) != 0 || len(items) != 0 || next != "" {
			t.Fatalf("unknown tenant lists %d links, %d items, next %q; want nothing", len(links), len(items), next)
		}
	})
}

func testInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	item := func(mod func(*gsv1.ItemMapping)) *gsv1.ItemMapping {
		it := &gsv1.ItemMapping{TenantId: tenant, LinkId: "l1", WixItemId: "w1"}
		mod(it)
		return it
	}
	long := strings.Repeat("x", store.MaxIDLen+1)
	cases := []struct {
		name string
		call func() error
	}{
		{"nil tenant", func() error { return s.PutTenant(ctx, nil) }},
		{"empty tenant id", func() error { return s.PutTenant(ctx, &gsv1.Tenant{}) }},
		{"control character", func() error { return s.PutTenant(ctx, &gsv1.Tenant{TenantId: "a\x00b"}) }},
		{"id too long", func() error { _, err := s.GetTenant(ctx, long); return err }},
		{"connection without id", func() error {
			return s.PutConnection(ctx, &gsv1.Connection{TenantId: tenant, Platform: "mastodon"})
		}},
		{"link without gallery", func() error {
			return s.PutLink(ctx, &gsv1.Link{TenantId: tenant, LinkId: "l1", ConnectionId: "c1"})
		}},
		{"item without wix id", func() error {
			_, err := s.PutItem(ctx, item(func(it *gsv1.ItemMapping) { it.WixItemId = "" }), 0)
			return err
		}},
		{"negative revision", func() error { _, err := s.PutItem(ctx, item(func(*gsv1.ItemMapping) {}), -1); return err }},
		{"item external id with newline", func() error {
			_, err := s.PutItem(ctx, item(func(it *gsv1.ItemMapping) { it.ExternalId = "e\n" }), 0)
			return err
		}},
		{"get item without link", func() error { _, err := s.GetItemByWix(ctx, tenant, "", "w1"); return err }},
		{"negative page size", func() error { _, _, err := s.ListItems(ctx, tenant, "l1", -1, ""); return err }},
		{"foreign page token", func() error { _, _, err := s.ListItems(ctx, tenant, "l1", 10, "not a token"); return err }},
		{"echo without ttl", func() error { return s.MarkEcho(ctx, tenant, gsv1.Side_SIDE_WIX, "o", "h", 0) }},
		{"echo without side", func() error {
			return s.MarkEcho(ctx, tenant, gsv1.Side_SIDE_UNSPECIFIED, "o", "h", time.Minute)
		}},
		{"echo without hash", func() error { _, err := s.CheckEcho(ctx, tenant, gsv1.Side_SIDE_WIX, "o", ""); return err }},
		{"dedup negative ttl", func() error { _, err := s.MarkDedup(ctx, tenant, "k", -time.Second); return err }},
		{"lock without owner", func() error { _, err := s.AcquireLock(ctx, tenant, "k", "", time.Minute); return err }},
		{"release without key", func() error { _, err := s.ReleaseLock(ctx, tenant, "", "o"); return err }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mustErr(t, c.name, c.call(), store.ErrInvalid)
		})
	}
	t.Run("nothing written", func(t *testing.T) {
		_, err := s.GetItemByWix(ctx, tenant, "l1", "w1")
		mustErr(t, "item after rejected writes", err, store.ErrNotFound)
	})
}
