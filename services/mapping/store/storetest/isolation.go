package storetest

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// tenantData is one of everything a tenant can own.
type tenantData struct {
	tenant *gsv1.Tenant
	conn   *gsv1.Connection
	link   *gsv1.Link
	item   *gsv1.ItemMapping
	intent *gsv1.Intent
}

// onePerHour allows one call: a second call in a test is refused.
func onePerHour() store.Rate { return store.Rate{Limit: 1, Period: time.Hour, Burst: 1} }

func seed(t *testing.T, s store.Store, tenant, connID, label string) tenantData {
	t.Helper()
	ctx := t.Context()
	d := tenantData{
		tenant: &gsv1.Tenant{TenantId: tenant, DisplayName: label, State: gsv1.TenantState_TENANT_STATE_ACTIVE},
		conn:   &gsv1.Connection{TenantId: tenant, ConnectionId: connID, Platform: "mastodon", Credentials: []byte("secret of " + label)},
		link:   &gsv1.Link{TenantId: tenant, LinkId: "l1", GalleryId: "g1", ConnectionId: connID, AlbumId: label},
	}
	must(t, "put tenant", s.PutTenant(ctx, d.tenant))
	must(t, "put connection", s.PutConnection(ctx, d.conn))
	must(t, "put link", s.PutLink(ctx, d.link))
	item, err := s.PutItem(ctx, newItem(tenant, "l1", "w1", "e1", label), 0)
	must(t, "put item", err)
	d.item = item
	must(t, "mark echo", s.MarkEcho(ctx, tenant, gsv1.Side_SIDE_WIX, "o1", "hash-"+label, time.Hour))
	first, err := s.MarkDedup(ctx, tenant, "k1", time.Hour)
	must(t, "mark dedup", err)
	got, err := s.AcquireLock(ctx, tenant, "k1", "owner-"+label, time.Hour)
	must(t, "acquire lock", err)
	in, err := s.PutIntent(ctx, &gsv1.Intent{TenantId: tenant, Key: "k1", ContentHash: "hash-" + label}, time.Hour)
	must(t, "put intent", err)
	d.intent = in
	must(t, "put cursor", s.PutCursor(ctx, tenant, "k1", "cursor of "+label))
	res, err := s.Throttle(ctx, tenant, "k1", onePerHour(), 1)
	must(t, "throttle", err)
	if !first || !got || !res.Allowed {
		t.Fatalf("tenant %q: first dedup mark %v, first lock %v, first throttle %v; want all true (another tenant's marks leak in)",
			tenant, first, got, res.Allowed)
	}
	return d
}

// checkIntact fails unless the tenant still sees exactly its own data.
func checkIntact(t *testing.T, s store.Store, d tenantData, label string) {
	t.Helper()
	ctx := t.Context()
	tenant := d.tenant.TenantId
	gotTenant, err := s.GetTenant(ctx, tenant)
	must(t, "get tenant", err)
	mustEqual(t, "tenant", gotTenant, d.tenant)
	gotConn, err := s.GetConnection(ctx, tenant, d.conn.ConnectionId)
	must(t, "get connection", err)
	mustEqual(t, "connection", gotConn, d.conn)
	links, err := s.ListLinks(ctx, tenant, store.LinkFilter{})
	must(t, "list links", err)
	if len(links) != 1 || !proto.Equal(links[0], d.link) {
		t.Fatalf("tenant %q lists links %v, want only its own", tenant, links)
	}
	byExt, err := s.GetItemByExternal(ctx, tenant, "l1", "e1")
	must(t, "get item by external id", err)
	mustEqual(t, "item", byExt, d.item)
	items, _, err := s.ListItems(ctx, tenant, "l1", 0, "")
	must(t, "list items", err)
	if len(items) != 1 || !proto.Equal(items[0], d.item) {
		t.Fatalf("tenant %q lists items %v, want only its own", tenant, items)
	}
	echo, err := s.CheckEcho(ctx, tenant, gsv1.Side_SIDE_WIX, "o1", "hash-"+label)
	must(t, "check echo", err)
	seen, err := s.CheckDedup(ctx, tenant, "k1")
	must(t, "check dedup", err)
	held, err := s.AcquireLock(ctx, tenant, "k1", "owner-"+label, time.Hour)
	must(t, "re-acquire lock", err)
	in, err := s.GetIntent(ctx, tenant, "k1")
	must(t, "get intent", err)
	mustEqual(t, "intent", in, d.intent)
	cursor, err := s.GetCursor(ctx, tenant, "k1")
	must(t, "get cursor", err)
	if cursor != "cursor of "+label {
		t.Fatalf("tenant %q has cursor %q, want its own %q", tenant, cursor, "cursor of "+label)
	}
	res, err := s.Throttle(ctx, tenant, "k1", onePerHour(), 1)
	must(t, "throttle", err)
	if !echo || !seen || !held || res.Allowed {
		t.Fatalf("tenant %q: echo marker %v, dedup mark %v, lock still its own %v, bucket still empty %v; want all true",
			tenant, echo, seen, held, !res.Allowed)
	}
}

func testTenantIsolation(t *testing.T, s store.Store) {
	base := newTenant(t)
	pairs := []struct {
		name   string
		a, b   string
		connID string
	}{
		{"unrelated", base + "-a", base + "-b", "c1"},
		{"one id prefixes the other", base, base + "0", "c1"},
		{"separator in tenant id", base + "-s", base + "-s:link", "c1"},
		// In a key layout that did not escape ids, B's tenant record and A's
		// connection "x}:tenant" would be one key.
		{"hash tag injection", base + "-h", base + "-h}:conn:x", "x}:tenant"},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			ctx := t.Context()
			a := seed(t, s, p.a, p.connID, "A")

			reads := []struct {
				name string
				call func() error
			}{
				{"GetTenant", func() error { _, err := s.GetTenant(ctx, p.b); return err }},
				{"GetConnection", func() error { _, err := s.GetConnection(ctx, p.b, p.connID); return err }},
				{"GetLink", func() error { _, err := s.GetLink(ctx, p.b, "l1"); return err }},
				{"GetItemByWix", func() error { _, err := s.GetItemByWix(ctx, p.b, "l1", "w1"); return err }},
				{"GetItemByExternal", func() error { _, err := s.GetItemByExternal(ctx, p.b, "l1", "e1"); return err }},
				{"DeleteItem", func() error { return s.DeleteItem(ctx, p.b, "l1", "w1") }},
				{"GetIntent", func() error { _, err := s.GetIntent(ctx, p.b, "k1"); return err }},
				{"GetCursor", func() error { _, err := s.GetCursor(ctx, p.b, "k1"); return err }},
			}
			for _, r := range reads {
				mustErr(t, "tenant B "+r.name, r.call(), store.ErrNotFound)
			}
			links, err := s.ListLinks(ctx, p.b, store.LinkFilter{})
			must(t, "B list links", err)
			items, _, err := s.ListItems(ctx, p.b, "l1", 0, "")
			must(t, "B list items", err)
			echo, err := s.CheckEcho(ctx, p.b, gsv1.Side_SIDE_WIX, "o1", "hash-A")
			must(t, "B check echo", err)
			seen, err := s.CheckDedup(ctx, p.b, "k1")
			must(t, "B check dedup", err)
			released, err := s.ReleaseLock(ctx, p.b, "k1", "owner-A")
			must(t, "B release lock", err)
			if len(links) != 0 || len(items) != 0 || echo || seen || released {
				t.Fatalf("tenant B sees A's data: %d links, %d items, echo %v, dedup %v, released A's lock %v",
					len(links), len(items), echo, seen, released)
			}

			// B writes records with the same ids; A must not notice.
			b := seed(t, s, p.b, p.connID, "B")
			checkIntact(t, s, a, "A")
			checkIntact(t, s, b, "B")
		})
	}
}
