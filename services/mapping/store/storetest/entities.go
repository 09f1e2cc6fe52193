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
	link := func(id, gallery, conn, album string) *gsv1.Link {
		return &gsv1.Link{
			TenantId: tenant, LinkId: id, GalleryId: gallery, ConnectionId: conn, AlbumId: album,
			State: gsv1.LinkState_LINK_STATE_ACTIVE, Direction: gsv1.Direction_DIRECTION_TWO_WAY,
			CreatedAt: timestamppb.New(time.Unix(1700000000, 0)),
		}
	}
	stored := map[string]*gsv1.Link{}
	for _, l := range []*gsv1.Link{
		link("l3", "g1", "c2", "cats"), link("l1", "g1", "c1", "cats"),
		link("l2", "g2", "c1", "dogs"), link("l4", "g2", "c2", ""),
	} {
		must(t, "put link", s.PutLink(ctx, l))
		stored[l.LinkId] = l
	}
	got, err := s.GetLink(ctx, tenant, "l2")
	must(t, "get link", err)
	mustEqual(t, "stored link", got, stored["l2"])

	lists := []struct {
		name   string
		filter store.LinkFilter
		want   []string
	}{
		{"all", store.LinkFilter{}, []string{"l1", "l2", "l3", "l4"}},
		{"one gallery", store.LinkFilter{GalleryID: "g1"}, []string{"l1", "l3"}},
		{"other gallery", store.LinkFilter{GalleryID: "g2"}, []string{"l2", "l4"}},
		{"one connection", store.LinkFilter{ConnectionID: "c1"}, []string{"l1", "l2"}},
		{"one album", store.LinkFilter{AlbumID: "cats"}, []string{"l1", "l3"}},
		{"gallery and connection", store.LinkFilter{GalleryID: "g1", ConnectionID: "c2"}, []string{"l3"}},
		{"connection and album", store.LinkFilter{ConnectionID: "c1", AlbumID: "dogs"}, []string{"l2"}},
		{"all three", store.LinkFilter{GalleryID: "g2", ConnectionID: "c2", AlbumID: "cats"}, nil},
		{"filters that each match but not together", store.LinkFilter{GalleryID: "g2", AlbumID: "cats"}, nil},
		{"unknown gallery", store.LinkFilter{GalleryID: "g9"}, nil},
		{"unknown connection", store.LinkFilter{ConnectionID: "c9"}, nil},
	}
	for _, c := range lists {
		t.Run(c.name, func(t *testing.T) {
			links, err := s.ListLinks(ctx, tenant, c.filter)
			must(t, "list links", err)
			if ids := linkIDs(links); strings.Join(ids, ",") != strings.Join(c.want, ",") {
				t.Fatalf("ListLinks(%+v) = %v, want %v", c.filter, ids, c.want)
			}
			for _, l := range links {
				mustEqual(t, "listed link", l, stored[l.LinkId])
			}
		})
	}

	t.Run("moved to another gallery", func(t *testing.T) {
		must(t, "replace link", s.PutLink(ctx, link("l3", "g2", "c2", "cats")))
		links, err := s.ListLinks(ctx, tenant, store.LinkFilter{GalleryID: "g2"})
		must(t, "list links", err)
		if ids := linkIDs(links); strings.Join(ids, ",") != "l2,l3,l4" {
			t.Fatalf("after moving l3 gallery g2 has %v, want [l2 l3 l4]", ids)
		}
		links, err = s.ListLinks(ctx, tenant, store.LinkFilter{GalleryID: "g1"})
		must(t, "list links", err)
		if ids := linkIDs(links); strings.Join(ids, ",") != "l1" {
			t.Fatalf("after moving l3 gallery g1 has %v, want [l1]", ids)
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
		{"GetCursor", func() error { _, err := s.GetCursor(ctx, tenant, "watch:c1"); return err }},
		{"DeleteLink", func() error { return s.DeleteLink(ctx, tenant, "l1") }},
		{"GetShareJob", func() error { _, err := s.GetShareJob(ctx, tenant, "j1"); return err }},
		{"CountShareItem", func() error { _, err := s.CountShareItem(ctx, tenant, "j1", "w1", false); return err }},
		{"AppendLog", func() error { return s.AppendLog(ctx, tenant, "l1", &gsv1.LogEntry{Action: "create"}) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mustErr(t, c.name, c.call(), store.ErrNotFound)
		})
	}
	t.Run("empty lists", func(t *testing.T) {
		links, err := s.ListLinks(ctx, tenant, store.LinkFilter{})
		must(t, "list links", err)
		items, next, err := s.ListItems(ctx, tenant, "l1", 0, "")
		must(t, "list items", err)
		conns, err := s.ListConnections(ctx, tenant)
		must(t, "list connections", err)
		jobs, err := s.ListShareJobs(ctx, tenant, "")
		must(t, "list share jobs", err)
		log, err := s.ListLog(ctx, tenant, "l1", "", 0)
		must(t, "list log", err)
		if len(links) != 0 || len(items) != 0 || next != "" || len(conns) != 0 || len(jobs) != 0 || len(log) != 0 {
			t.Fatalf("unknown tenant lists %d links, %d items, next %q, %d connections, %d share jobs, %d log entries; want nothing",
				len(links), len(items), next, len(conns), len(jobs), len(log))
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
	intent := func(mod func(*gsv1.Intent)) *gsv1.Intent {
		in := &gsv1.Intent{TenantId: tenant, Key: "k1", ContentHash: "h"}
		mod(in)
		return in
	}
	job := func(mod func(*gsv1.ShareJob)) *gsv1.ShareJob {
		j := newShareJob(tenant, "j1", "l1", gsv1.ShareState_SHARE_STATE_RUNNING, 3)
		mod(j)
		return j
	}
	must(t, "put link", s.PutLink(ctx, newLink(tenant, "l1")))
	entry := func(mod func(*gsv1.LogEntry)) *gsv1.LogEntry {
		e := &gsv1.LogEntry{WixItemId: "w1", Action: "create"}
		mod(e)
		return e
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
		{"remove tenant without id", func() error { _, err := s.RemoveTenant(ctx, ""); return err }},
		{"link filter with control character", func() error {
			_, err := s.ListLinks(ctx, tenant, store.LinkFilter{ConnectionID: "c\x00"})
			return err
		}},
		{"nil intent", func() error { _, err := s.PutIntent(ctx, nil, time.Hour); return err }},
		{"intent without ttl", func() error { _, err := s.PutIntent(ctx, intent(func(*gsv1.Intent) {}), 0); return err }},
		{"intent key too long", func() error {
			_, err := s.PutIntent(ctx, intent(func(in *gsv1.Intent) { in.Key = strings.Repeat("k", store.MaxKeyLen+1) }), time.Hour)
			return err
		}},
		{"intent attr not UTF-8", func() error {
			_, err := s.PutIntent(ctx, intent(func(in *gsv1.Intent) { in.Attrs = map[string]string{"a": "\xff"} }), time.Hour)
			return err
		}},
		{"intent without tenant", func() error {
			_, err := s.PutIntent(ctx, intent(func(in *gsv1.Intent) { in.TenantId = "" }), time.Hour)
			return err
		}},
		{"get intent without key", func() error { _, err := s.GetIntent(ctx, tenant, ""); return err }},
		{"delete intent without tenant", func() error { return s.DeleteIntent(ctx, "", "k1") }},
		{"throttle limit 0", func() error {
			_, err := s.Throttle(ctx, tenant, "b", store.Rate{Period: time.Second, Burst: 1}, 1)
			return err
		}},
		{"throttle without period", func() error {
			_, err := s.Throttle(ctx, tenant, "b", store.Rate{Limit: 1, Burst: 1}, 1)
			return err
		}},
		{"throttle negative burst", func() error {
			_, err := s.Throttle(ctx, tenant, "b", store.Rate{Limit: 1, Period: time.Second, Burst: -1}, 1)
			return err
		}},
		{"throttle cost above burst", func() error {
			_, err := s.Throttle(ctx, tenant, "b", store.Rate{Limit: 5, Period: time.Second, Burst: 2}, 3)
			return err
		}},
		{"throttle negative cost", func() error {
			_, err := s.Throttle(ctx, tenant, "b", store.Rate{Limit: 5, Period: time.Second, Burst: 2}, -1)
			return err
		}},
		{"cursor without key", func() error { return s.PutCursor(ctx, tenant, "", "v") }},
		{"cursor key too long", func() error { return s.PutCursor(ctx, tenant, strings.Repeat("k", store.MaxKeyLen+1), "v") }},
		{"cursor without tenant", func() error { return s.PutCursor(ctx, "", "k1", "v") }},
		{"get cursor without tenant", func() error { _, err := s.GetCursor(ctx, "", "k1"); return err }},
		{"get cursor key with control character", func() error { _, err := s.GetCursor(ctx, tenant, "k\x01"); return err }},
		{"scan negative page size", func() error { _, _, err := s.ScanLinks(ctx, -1, ""); return err }},
		{"scan foreign page token", func() error { _, _, err := s.ScanLinks(ctx, 10, "not a token"); return err }},
		{"scan with a ListItems token", func() error { _, _, err := s.ScanLinks(ctx, 10, store.PageToken("w1")); return err }},
		{"ListItems with a scan token", func() error {
			_, _, err := s.ListItems(ctx, tenant, "l1", 10, store.ScanToken(tenant, "l1"))
			return err
		}},
		{"throttle without bucket", func() error {
			_, err := s.Throttle(ctx, tenant, "", store.Rate{Limit: 5, Period: time.Second, Burst: 2}, 1)
			return err
		}},
		{"list connections without tenant", func() error { _, err := s.ListConnections(ctx, ""); return err }},
		{"delete link without link", func() error { return s.DeleteLink(ctx, tenant, "") }},
		{"delete link with control character", func() error { return s.DeleteLink(ctx, tenant, "l\n") }},
		{"nil share job", func() error { _, err := s.PutShareJob(ctx, nil, 0); return err }},
		{"share job without link", func() error {
			_, err := s.PutShareJob(ctx, job(func(j *gsv1.ShareJob) { j.LinkId = "" }), 0)
			return err
		}},
		{"share job without id", func() error {
			_, err := s.PutShareJob(ctx, job(func(j *gsv1.ShareJob) { j.JobId = "" }), 0)
			return err
		}},
		{"share job without state", func() error {
			_, err := s.PutShareJob(ctx, job(func(j *gsv1.ShareJob) { j.State = gsv1.ShareState_SHARE_STATE_UNSPECIFIED }), 0)
			return err
		}},
		{"share job of an unknown state", func() error {
			_, err := s.PutShareJob(ctx, job(func(j *gsv1.ShareJob) { j.State = 99 }), 0)
			return err
		}},
		{"share job negative total", func() error {
			_, err := s.PutShareJob(ctx, job(func(j *gsv1.ShareJob) { j.Total = -1 }), 0)
			return err
		}},
		{"share job error too long", func() error {
			_, err := s.PutShareJob(ctx, job(func(j *gsv1.ShareJob) { j.Error = strings.Repeat("e", store.MaxTextLen+1) }), 0)
			return err
		}},
		{"share job negative revision", func() error { _, err := s.PutShareJob(ctx, job(func(*gsv1.ShareJob) {}), -1); return err }},
		{"get share job without id", func() error { _, err := s.GetShareJob(ctx, tenant, ""); return err }},
		{"list share jobs with a bad link", func() error { _, err := s.ListShareJobs(ctx, tenant, "l\x00"); return err }},
		{"count share item without item", func() error { _, err := s.CountShareItem(ctx, tenant, "j1", "", false); return err }},
		{"count share item without tenant", func() error { _, err := s.CountShareItem(ctx, "", "j1", "w1", false); return err }},
		{"nil log entry", func() error { return s.AppendLog(ctx, tenant, "l1", nil) }},
		{"log entry without action", func() error {
			return s.AppendLog(ctx, tenant, "l1", entry(func(e *gsv1.LogEntry) { e.Action = "" }))
		}},
		{"log entry of an unknown side", func() error {
			return s.AppendLog(ctx, tenant, "l1", entry(func(e *gsv1.LogEntry) { e.Target = 7 }))
		}},
		{"log entry detail too long", func() error {
			return s.AppendLog(ctx, tenant, "l1", entry(func(e *gsv1.LogEntry) { e.Detail = strings.Repeat("d", store.MaxTextLen+1) }))
		}},
		{"log entry detail not UTF-8", func() error {
			return s.AppendLog(ctx, tenant, "l1", entry(func(e *gsv1.LogEntry) { e.Detail = "\xff" }))
		}},
		{"log entry at out of range", func() error {
			return s.AppendLog(ctx, tenant, "l1", entry(func(e *gsv1.LogEntry) { e.At = &timestamppb.Timestamp{Nanos: -1} }))
		}},
		{"log entry item with control character", func() error {
			return s.AppendLog(ctx, tenant, "l1", entry(func(e *gsv1.LogEntry) { e.WixItemId = "w\t" }))
		}},
		{"append log without link", func() error { return s.AppendLog(ctx, tenant, "", entry(func(*gsv1.LogEntry) {})) }},
		{"list log negative limit", func() error { _, err := s.ListLog(ctx, tenant, "l1", "", -1); return err }},
		{"list log without link", func() error { _, err := s.ListLog(ctx, tenant, "", "", 0); return err }},
		{"list log item too long", func() error { _, err := s.ListLog(ctx, tenant, "l1", long, 0); return err }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mustErr(t, c.name, c.call(), store.ErrInvalid)
		})
	}
	t.Run("nothing written", func(t *testing.T) {
		_, err := s.GetItemByWix(ctx, tenant, "l1", "w1")
		mustErr(t, "item after rejected writes", err, store.ErrNotFound)
		_, err = s.GetIntent(ctx, tenant, "k1")
		mustErr(t, "intent after rejected writes", err, store.ErrNotFound)
		_, err = s.GetCursor(ctx, tenant, "k1")
		mustErr(t, "cursor after rejected writes", err, store.ErrNotFound)
		_, err = s.GetShareJob(ctx, tenant, "j1")
		mustErr(t, "share job after rejected writes", err, store.ErrNotFound)
		log, err := s.ListLog(ctx, tenant, "l1", "", 0)
		must(t, "list log after rejected writes", err)
		if len(log) != 0 {
			t.Fatalf("rejected appends wrote %d log entries", len(log))
		}
		_, err = s.GetLink(ctx, tenant, "l1")
		must(t, "link after rejected deletes", err)
		// A refused call took no token: the full burst is still there.
		rate := store.Rate{Limit: 5, Period: time.Hour, Burst: 2}
		res, err := s.Throttle(ctx, tenant, "b", rate, 2)
		must(t, "throttle after rejected calls", err)
		if !res.Allowed {
			t.Fatalf("bucket after refused calls: %+v, want the full burst allowed", res)
		}
	})
}
