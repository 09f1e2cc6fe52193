package redisstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	"gallerysync.dev/libs/testkit"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
	"gallerysync.dev/services/mapping/store/storetest"
)

func newClient(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestConformance(t *testing.T) {
	t.Parallel()
	client := newClient(t, testkit.StartRedis(t).Addr())
	storetest.Run(t,
		func(t *testing.T) store.Store { return New(client) },
		func(t *testing.T) store.Store { return New(newClient(t, testkit.StartRedis(t).Addr())) },
	)
}

func TestRestartKeepsData(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := testkit.StartRedis(t)
	s := New(newClient(t, r.Addr()))

	tenant := &gsv1.Tenant{TenantId: "t1", DisplayName: "kept"}
	conn := &gsv1.Connection{TenantId: "t1", ConnectionId: "c1", Platform: "mastodon", Credentials: []byte("sealed")}
	link := &gsv1.Link{TenantId: "t1", LinkId: "l1", GalleryId: "g1", ConnectionId: "c1"}
	mustDo(t, "put tenant", s.PutTenant(ctx, tenant))
	mustDo(t, "put connection", s.PutConnection(ctx, conn))
	mustDo(t, "put link", s.PutLink(ctx, link))
	item, err := s.PutItem(ctx, &gsv1.ItemMapping{TenantId: "t1", LinkId: "l1", WixItemId: "w1", ExternalId: "e1"}, 0)
	mustDo(t, "put item", err)
	_, err = s.MarkDedup(ctx, "t1", "wix:ev1", time.Hour)
	mustDo(t, "mark dedup", err)
	_, err = s.AcquireLock(ctx, "t1", "item:w1", "writer-1", time.Hour)
	mustDo(t, "acquire lock", err)
	mustDo(t, "put cursor", s.PutCursor(ctx, "t1", "watch:c1", "109876"))

	r.Restart() // SIGKILL, then start on the same AOF: acknowledged writes must be there
	waitForPing(t, s)

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
			mustDo(t, "read after restart", err)
			if !proto.Equal(got, c.want) {
				t.Fatalf("after restart got %v, want %v", got, c.want)
			}
		})
	}
	t.Run("markers", func(t *testing.T) {
		seen, err := s.CheckDedup(ctx, "t1", "wix:ev1")
		mustDo(t, "check dedup", err)
		other, err := s.AcquireLock(ctx, "t1", "item:w1", "writer-2", time.Hour)
		mustDo(t, "acquire lock", err)
		if !seen || other {
			t.Fatalf("after restart: dedup mark kept %v, lock taken by another writer %v; want true, false", seen, other)
		}
	})
	t.Run("cursor", func(t *testing.T) {
		got, err := s.GetCursor(ctx, "t1", "watch:c1")
		mustDo(t, "get cursor", err)
		ttl, err := s.rdb.PTTL(ctx, keysOf("t1").cursor("watch:c1")).Result()
		mustDo(t, "PTTL", err)
		if got != "109876" || ttl != -1 {
			t.Fatalf("after restart: cursor %q with TTL %v; want 109876 without a TTL", got, ttl)
		}
	})
	t.Run("scan", func(t *testing.T) {
		links, next, err := s.ScanLinks(ctx, 0, "")
		mustDo(t, "scan links", err)
		if len(links) != 1 || !proto.Equal(links[0], link) || next != "" {
			t.Fatalf("after restart the scan finds %v, next %q; want only %v", links, next, link)
		}
	})
	t.Run("revision continues", func(t *testing.T) {
		next, err := s.PutItem(ctx, item, item.Revision)
		mustDo(t, "put item after restart", err)
		if next.Revision != 2 {
			t.Fatalf("revision after restart %d, want 2", next.Revision)
		}
	})
}

func waitForPing(t *testing.T, s *Store) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		err := s.Ping(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis not back after restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustDo(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func TestItemErrorsNameTheirCause(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := New(newClient(t, testkit.StartRedis(t).Addr()))
	if _, err := s.PutItem(ctx, &gsv1.ItemMapping{TenantId: "t", LinkId: "l", WixItemId: "w1", ExternalId: "e"}, 0); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		item     *gsv1.ItemMapping
		expected int64
		want     string
	}{
		{"stale revision", &gsv1.ItemMapping{TenantId: "t", LinkId: "l", WixItemId: "w1"}, 0, "put item w1: revision is 1, expected 0: conflict"},
		{"external id taken", &gsv1.ItemMapping{TenantId: "t", LinkId: "l", WixItemId: "w2", ExternalId: "e"}, 0,
			"put item w2: external id e belongs to wix item w1: conflict"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.PutItem(ctx, c.item, c.expected)
			if !errors.Is(err, store.ErrConflict) || err.Error() != c.want {
				t.Fatalf("error %q, want %q", err, c.want)
			}
		})
	}
}

func TestIdleThrottleBucketVanishes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	client := newClient(t, testkit.StartRedis(t).Addr())
	s := New(client)
	rate := store.Rate{Limit: 10, Period: time.Second, Burst: 3} // full again 300ms after the burst
	for range 3 {
		res, err := s.Throttle(ctx, "t1", "wix", rate, 1)
		mustDo(t, "throttle", err)
		if !res.Allowed {
			t.Fatalf("full bucket refused: %+v", res)
		}
	}
	key := keysOf("t1").throttle("wix")
	ttl, err := client.PTTL(ctx, key).Result()
	mustDo(t, "PTTL", err)
	if ttl <= 0 || ttl > 300*time.Millisecond {
		t.Fatalf("bucket key %s has TTL %v, want in (0, 300ms]: until the bucket is full again", key, ttl)
	}
	waitUntil(t, "idle bucket key gone", func(ctx context.Context) bool {
		n, err := client.Exists(ctx, key).Result()
		return err == nil && n == 0
	})
	res, err := s.Throttle(ctx, "t1", "wix", rate, 3)
	mustDo(t, "throttle after idle", err)
	if !res.Allowed {
		t.Fatalf("bucket not full after its key expired: %+v", res)
	}
}
