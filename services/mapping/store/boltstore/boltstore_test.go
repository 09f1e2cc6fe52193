package boltstore

import (
	"cmp"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
	"gallerysync.dev/services/mapping/store/storetest"
)

func open(t *testing.T, path string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(path, opts...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	// Every store is a file of its own, so every store is also empty.
	fresh := func(t *testing.T) store.Store { return open(t, filepath.Join(t.TempDir(), "mapping.db")) }
	storetest.Run(t, fresh, fresh)
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "mapping.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	tenant := &gsv1.Tenant{TenantId: "t1", DisplayName: "kept"}
	conn := &gsv1.Connection{TenantId: "t1", ConnectionId: "c1", Platform: "mastodon", Credentials: []byte("sealed")}
	link := &gsv1.Link{TenantId: "t1", LinkId: "l1", GalleryId: "g1", ConnectionId: "c1"}
	if err := s.PutTenant(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	if err := s.PutConnection(ctx, conn); err != nil {
		t.Fatal(err)
	}
	if err := s.PutLink(ctx, link); err != nil {
		t.Fatal(err)
	}
	item, err := s.PutItem(ctx, &gsv1.ItemMapping{TenantId: "t1", LinkId: "l1", WixItemId: "w1", ExternalId: "e1"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkDedup(ctx, "t1", "wix:ev1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCursor(ctx, "t1", "watch:c1", "109876"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path)
	checks := []struct {
		name string
		get  func() (proto.Message, error)
		want proto.Message
	}{
		{"tenant", func() (proto.Message, error) { return s.GetTenant(ctx, "t1") }, tenant},
		{"connection", func() (proto.Message, error) { return s.GetConnection(ctx, "t1", "c1") }, conn},
		{"link", func() (proto.Message, error) { return s.GetLink(ctx, "t1", "l1") }, link},
		{"item by external id", func() (proto.Message, error) { return s.GetItemByExternal(ctx, "t1", "l1", "e1") }, item},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.get()
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, c.want) {
				t.Fatalf("after reopen got %v, want %v", got, c.want)
			}
		})
	}
	t.Run("cursor", func(t *testing.T) {
		got, err := s.GetCursor(ctx, "t1", "watch:c1")
		if err != nil || got != "109876" {
			t.Fatalf("cursor after reopen %q, %v; want 109876", got, err)
		}
	})
	t.Run("scan", func(t *testing.T) {
		links, next, err := s.ScanLinks(ctx, 0, "")
		if err != nil || len(links) != 1 || !proto.Equal(links[0], link) || next != "" {
			t.Fatalf("scan after reopen: %v, next %q, %v; want only %v", links, next, err, link)
		}
	})
	t.Run("dedup mark", func(t *testing.T) {
		first, err := s.MarkDedup(ctx, "t1", "wix:ev1", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if first {
			t.Fatal("dedup mark lost on reopen")
		}
	})
}

// A file written before the tenant index existed has links but no index;
// Open builds it, so the scan still finds every link.
func TestOpenIndexesLinksOfAnOlderFile(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "mapping.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var want []*gsv1.Link
	// The first tenant id is 200 bytes long: its key's length prefix takes two bytes.
	for _, tenant := range []string{strings.Repeat("t", 200), "t-b", "t-a", "t-a0"} {
		for _, id := range []string{"l2", "l1"} {
			l := &gsv1.Link{TenantId: tenant, LinkId: id, GalleryId: "g", ConnectionId: "c"}
			if err := s.PutLink(ctx, l); err != nil {
				t.Fatal(err)
			}
			want = append(want, l)
		}
	}
	err = s.db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte(bucketLinkTenants)) })
	if err == nil {
		err = s.Close()
	}
	if err != nil {
		t.Fatal(err)
	}

	s = open(t, path)
	slices.SortFunc(want, func(a, b *gsv1.Link) int {
		return cmp.Or(strings.Compare(a.TenantId, b.TenantId), strings.Compare(a.LinkId, b.LinkId))
	})
	got, next, err := s.ScanLinks(ctx, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if next != "" || len(got) != len(want) {
		t.Fatalf("scan of the reopened file: %d links, next %q; want all %d", len(got), next, len(want))
	}
	for i := range want {
		if !proto.Equal(got[i], want[i]) {
			t.Fatalf("link %d: %v, want %v", i, got[i], want[i])
		}
	}
}

func TestSweeperRemovesExpiredEntries(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "mapping.db"), WithSweepInterval(50*time.Millisecond))
	if err := s.MarkEcho(ctx, "t1", gsv1.Side_SIDE_WIX, "o1", "h", 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkDedup(ctx, "t1", "short", 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcquireLock(ctx, "t1", "short", "o", 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutIntent(ctx, &gsv1.Intent{TenantId: "t1", Key: "short"}, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Throttle(ctx, "t1", "short", store.Rate{Limit: 10, Period: time.Second}, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkDedup(ctx, "t1", "long", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Throttle(ctx, "t1", "long", store.Rate{Limit: 1, Period: time.Hour}, 1); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		counts := s.entryCounts(t)
		if counts[bucketEcho] == 0 && counts[bucketLocks] == 0 && counts[bucketIntents] == 0 &&
			counts[bucketDedup] == 1 && counts["throttle"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("entries left after expiry: %v; want only the live dedup mark and the empty throttle bucket", counts)
		}
		time.Sleep(20 * time.Millisecond)
	}
	res, err := s.Throttle(ctx, "t1", "long", store.Rate{Limit: 1, Period: time.Hour}, 1)
	if err != nil || res.Allowed {
		t.Fatalf("empty bucket after sweeps: %+v, err %v; the sweeper must keep it", res, err)
	}
	seen, err := s.CheckDedup(ctx, "t1", "long")
	if err != nil || !seen {
		t.Fatalf("live dedup mark: seen %v, err %v; the sweeper must keep it", seen, err)
	}
}

// entryCounts counts the raw entries of the expiring buckets, expired or
// not, and the rate-limit buckets held in memory (as "throttle").
func (s *Store) entryCounts(t *testing.T) map[string]int {
	t.Helper()
	counts := map[string]int{}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, name := range ttlBuckets() {
			counts[name] = bucket(tx, name).Stats().KeyN
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.buckets.mu.Lock()
	counts["throttle"] = len(s.buckets.tat)
	s.buckets.mu.Unlock()
	return counts
}

func TestSecondOpenOfALockedFileFails(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "mapping.db")
	open(t, path)
	s, err := Open(path, WithOpenTimeout(100*time.Millisecond))
	if err == nil {
		_ = s.Close()
		t.Fatal("a second Open of a file in use succeeded")
	}
}

func TestClosedStoreFailsPing(t *testing.T) {
	t.Parallel()
	s, err := Open(filepath.Join(t.TempDir(), "mapping.db"), WithSweepInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("ping an open store: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Fatal("ping of a closed store succeeded")
	}
}

// TestDeleteLinkUnindexesTenant checks the index of tenants with links,
// which the scan reads but no call shows: a tenant leaves it with its last link.
func TestDeleteLinkUnindexesTenant(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "mapping.db"))
	indexed := func(tenant string) bool {
		var found bool
		err := s.db.View(func(tx *bolt.Tx) error {
			found = bucket(tx, bucketLinkTenants).Get([]byte(tenant)) != nil
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return found
	}
	for _, l := range []*gsv1.Link{
		{TenantId: "t1", LinkId: "l1", GalleryId: "g", ConnectionId: "c"},
		{TenantId: "t1", LinkId: "l2", GalleryId: "g", ConnectionId: "c"},
		{TenantId: "t10", LinkId: "l1", GalleryId: "g", ConnectionId: "c"},
	} {
		if err := s.PutLink(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name         string
		link         string
		wantIndexed  bool
		wantNeighbor bool
	}{
		{"a link of two", "l1", true, true},
		{"the last link", "l2", false, true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := s.DeleteLink(ctx, "t1", st.link); err != nil {
				t.Fatal(err)
			}
			if got, neighbor := indexed("t1"), indexed("t10"); got != st.wantIndexed || neighbor != st.wantNeighbor {
				t.Fatalf("after deleting %s: t1 indexed %v, t10 indexed %v; want %v, %v", st.link, got, neighbor, st.wantIndexed, st.wantNeighbor)
			}
		})
	}
}
