package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// linkData is a link with everything DeleteLink removes or must leave alone.
type linkData struct {
	link  *gsv1.Link
	items []*gsv1.ItemMapping
	job   *gsv1.ShareJob
}

func seedLink(t *testing.T, s store.Store, tenant, linkID string, items int) linkData {
	t.Helper()
	ctx := t.Context()
	d := linkData{link: newLink(tenant, linkID)}
	must(t, "put link", s.PutLink(ctx, d.link))
	var ids []string
	for i := range items {
		ids = append(ids, fmt.Sprintf("w%03d", i))
	}
	putItems(t, s, tenant, linkID, ids)
	for _, id := range ids {
		item, err := s.GetItemByWix(ctx, tenant, linkID, id)
		must(t, "get item", err)
		d.items = append(d.items, item)
	}
	for n := range 3 {
		must(t, "append log", s.AppendLog(ctx, tenant, linkID, logEntry(n)))
	}
	job, err := s.PutShareJob(ctx, newShareJob(tenant, "share-"+linkID, linkID, running, int32(items)), 0)
	must(t, "put share job", err)
	d.job, err = s.CountShareItem(ctx, tenant, job.JobId, "w000", false)
	must(t, "count share item", err)
	return d
}

// checkLinkIntact fails unless everything of d is still stored.
func checkLinkIntact(t *testing.T, s store.Store, d linkData) {
	t.Helper()
	ctx := t.Context()
	tenant, linkID := d.link.TenantId, d.link.LinkId
	got, err := s.GetLink(ctx, tenant, linkID)
	must(t, "get link", err)
	mustEqual(t, "link", got, d.link)
	items, _, err := s.ListItems(ctx, tenant, linkID, store.MaxPageSize, "")
	must(t, "list items", err)
	if len(items) != len(d.items) {
		t.Fatalf("link %s of %s lists %d items, want %d", linkID, tenant, len(items), len(d.items))
	}
	for i, item := range d.items {
		mustEqual(t, "item", items[i], item)
		byExt, err := s.GetItemByExternal(ctx, tenant, linkID, item.ExternalId)
		must(t, "get item by external id", err)
		mustEqual(t, "item by external id", byExt, item)
	}
	log, err := s.ListLog(ctx, tenant, linkID, "", 0)
	must(t, "list log", err)
	sameDetails(t, "log of link "+linkID, log, []string{"2", "1", "0"})
	job, err := s.GetShareJob(ctx, tenant, d.job.JobId)
	must(t, "get share job", err)
	mustEqual(t, "share job", job, d.job)
}

// checkLinkGone fails unless the link, its items, their index entries and
// its log are gone, and its share job stays.
func checkLinkGone(t *testing.T, s store.Store, d linkData) {
	t.Helper()
	ctx := t.Context()
	tenant, linkID := d.link.TenantId, d.link.LinkId
	_, err := s.GetLink(ctx, tenant, linkID)
	mustErr(t, "get deleted link", err, store.ErrNotFound)
	for _, item := range d.items {
		_, err := s.GetItemByWix(ctx, tenant, linkID, item.WixItemId)
		mustErr(t, "get item of a deleted link", err, store.ErrNotFound)
		_, err = s.GetItemByExternal(ctx, tenant, linkID, item.ExternalId)
		mustErr(t, "get item of a deleted link by external id", err, store.ErrNotFound)
	}
	items, next, err := s.ListItems(ctx, tenant, linkID, 0, "")
	must(t, "list items", err)
	log, err := s.ListLog(ctx, tenant, linkID, "", store.MaxLogEntries)
	must(t, "list log", err)
	if len(items) != 0 || next != "" || len(log) != 0 {
		t.Fatalf("deleted link %s lists %d items (next %q) and %d log entries, want none", linkID, len(items), next, len(log))
	}
	job, err := s.GetShareJob(ctx, tenant, d.job.JobId)
	must(t, "get share job of a deleted link", err)
	mustEqual(t, "share job of a deleted link", job, d.job)
	jobs, err := s.ListShareJobs(ctx, tenant, linkID)
	must(t, "list share jobs of a deleted link", err)
	if len(jobs) != 1 {
		t.Fatalf("deleted link %s lists %d share jobs, want its one job kept as history", linkID, len(jobs))
	}
}

// scannedLinks returns the ids of the tenant's links that a full scan finds.
func scannedLinks(t *testing.T, s store.Store, tenant string) []string {
	t.Helper()
	all, _ := scanAll(t, s, store.MaxPageSize, nil)
	return linkIDs(ofTenants(all, tenant))
}

func testDeleteLink(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	big := seedLink(t, s, tenant, "l1", 300)
	small := seedLink(t, s, tenant, "l2", 2)
	// The same ids under a tenant whose id extends this one's.
	bystander := seedLink(t, s, tenant+"0", "l1", 2)

	t.Run("delete", func(t *testing.T) {
		must(t, "delete link", s.DeleteLink(ctx, tenant, "l1"))
		checkLinkGone(t, s, big)
		checkLinkIntact(t, s, small)
		checkLinkIntact(t, s, bystander)
		if got := scannedLinks(t, s, tenant); !slices.Equal(got, []string{"l2"}) {
			t.Fatalf("scan finds links %v of the tenant, want [l2]", got)
		}
	})
	t.Run("again", func(t *testing.T) {
		mustErr(t, "delete a deleted link", s.DeleteLink(ctx, tenant, "l1"), store.ErrNotFound)
		mustErr(t, "append to the log of a deleted link", s.AppendLog(ctx, tenant, "l1", logEntry(9)), store.ErrNotFound)
		checkLinkIntact(t, s, small)
	})
	t.Run("link of the same id starts empty", func(t *testing.T) {
		must(t, "put link", s.PutLink(ctx, big.link))
		item, err := s.PutItem(ctx, big.items[5], 0)
		must(t, "put item over a deleted mapping with revision 0", err)
		if item.Revision != 1 {
			t.Fatalf("item of the new link has revision %d, want 1", item.Revision)
		}
		log, err := s.ListLog(ctx, tenant, "l1", "", 0)
		must(t, "list log", err)
		if len(log) != 0 {
			t.Fatalf("new link l1 inherits %d log entries", len(log))
		}
	})
	t.Run("last link", func(t *testing.T) {
		must(t, "delete link", s.DeleteLink(ctx, tenant, "l1"))
		must(t, "delete link", s.DeleteLink(ctx, tenant, "l2"))
		checkLinkGone(t, s, small)
		if got := scannedLinks(t, s, tenant); len(got) != 0 {
			t.Fatalf("scan finds links %v of a tenant without links", got)
		}
		checkLinkIntact(t, s, bystander)
		must(t, "put link", s.PutLink(ctx, small.link))
		if got := scannedLinks(t, s, tenant); !slices.Equal(got, []string{"l2"}) {
			t.Fatalf("scan finds links %v of the tenant after a new link, want [l2]", got)
		}
	})
	t.Run("absent", func(t *testing.T) {
		mustErr(t, "delete a link of an unknown tenant", s.DeleteLink(ctx, newTenant(t), "l1"), store.ErrNotFound)
	})
}

// testDeleteLastLinkWhilePutting deletes a tenant's only link while another
// of its links is being put, again and again: the scan must find the new
// link every time, however the two writes interleave.
func testDeleteLastLinkWhilePutting(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	must(t, "put link", s.PutLink(ctx, newLink(tenant, "r00")))
	for round := 1; round <= 20; round++ {
		prev, next := fmt.Sprintf("r%02d", round-1), fmt.Sprintf("r%02d", round)
		var wg sync.WaitGroup
		var putErr, deleteErr error
		wg.Go(func() { putErr = s.PutLink(ctx, newLink(tenant, next)) })
		wg.Go(func() { deleteErr = s.DeleteLink(ctx, tenant, prev) })
		wg.Wait()
		must(t, "put link", putErr)
		must(t, "delete link", deleteErr)
		if got := scannedLinks(t, s, tenant); !slices.Equal(got, []string{next}) {
			t.Fatalf("round %d: scan finds links %v of the tenant, want [%s]", round, got, next)
		}
	}
}

func testListConnections(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	conns := map[string]*gsv1.Connection{}
	for _, c := range []*gsv1.Connection{
		{TenantId: tenant, ConnectionId: "c3", Platform: "flickr"},
		{TenantId: tenant, ConnectionId: "c1", Platform: "mastodon", BaseUrl: "https://social.example", Credentials: []byte("sealed")},
		{TenantId: tenant, ConnectionId: "c2", Platform: "mastodon"},
		{TenantId: tenant, ConnectionId: "c1", Platform: "mastodon", Credentials: []byte("sealed again")},
		{TenantId: tenant, ConnectionId: "a:{b}", Platform: "bluesky"},
		{TenantId: tenant + "0", ConnectionId: "c0", Platform: "mastodon"},
	} {
		must(t, "put connection", s.PutConnection(ctx, c))
		if c.TenantId == tenant {
			conns[c.ConnectionId] = c
		}
	}
	got, err := s.ListConnections(ctx, tenant)
	must(t, "list connections", err)
	want := []string{"a:{b}", "c1", "c2", "c3"}
	if len(got) != len(want) {
		t.Fatalf("ListConnections lists %d connections, want %d", len(got), len(want))
	}
	for i, id := range want {
		mustEqual(t, fmt.Sprintf("connection %d", i), got[i], conns[id])
	}
	none, err := s.ListConnections(ctx, newTenant(t))
	must(t, "list connections of an unknown tenant", err)
	if len(none) != 0 {
		t.Fatalf("unknown tenant lists %d connections", len(none))
	}
}
