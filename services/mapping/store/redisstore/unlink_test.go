package redisstore

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"gallerysync.dev/libs/testkit"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// beforeCommand is a client hook that runs fn once, just before the first
// command called name on key is sent: it puts another client's call in the
// middle of a multi-step write, at a chosen step.
type beforeCommand struct {
	name, key string
	fn        func(ctx context.Context)
	once      sync.Once
}

func (h *beforeCommand) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *beforeCommand) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *beforeCommand) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if args := cmd.Args(); cmd.Name() == h.name && len(args) > 1 && args[1] == h.key {
			h.once.Do(func() { h.fn(ctx) })
		}
		return next(ctx, cmd)
	}
}

func link(tenant, id string) *gsv1.Link {
	return &gsv1.Link{TenantId: tenant, LinkId: id, GalleryId: "g", ConnectionId: "c"}
}

// indexed reports whether the tenant is in the index of tenants with links.
func indexed(t *testing.T, rdb *redis.Client, tenant string) bool {
	t.Helper()
	_, err := rdb.ZScore(t.Context(), linkTenantsKey, tenant).Result()
	if errors.Is(err, redis.Nil) {
		return false
	}
	mustDo(t, "ZSCORE", err)
	return true
}

// scanned returns the ids of the tenant's links that ScanLinks finds.
func scanned(t *testing.T, s *Store, tenant string) []string {
	t.Helper()
	var ids []string
	token := ""
	for {
		links, next, err := s.ScanLinks(t.Context(), 1000, token)
		mustDo(t, "scan links", err)
		for _, l := range links {
			if l.TenantId == tenant {
				ids = append(ids, l.LinkId)
			}
		}
		if next == "" {
			return ids
		}
		token = next
	}
}

// TestDeleteLinkKeepsTheScanIndex checks the tenant index (linkTenantsKey)
// that DeleteLink updates outside its script, including when a PutLink of
// the same tenant runs in the middle of it, or it in the middle of a PutLink.
func TestDeleteLinkKeepsTheScanIndex(t *testing.T) {
	t.Parallel()
	addr := testkit.StartRedis(t).Addr()
	plain := newClient(t, addr)
	other := New(plain)
	cases := []struct {
		name string
		// hook, when set, runs a call of other inside the call of run.
		hook     func(t *testing.T, tenant string) *beforeCommand
		run      func(t *testing.T, s *Store, tenant string) error
		wantScan []string
	}{
		{
			name:     "last link leaves the index",
			run:      func(t *testing.T, s *Store, tenant string) error { return s.DeleteLink(t.Context(), tenant, "a") },
			wantScan: nil,
		},
		{
			name: "another link keeps the tenant indexed",
			run: func(t *testing.T, s *Store, tenant string) error {
				mustDo(t, "put link", s.PutLink(t.Context(), link(tenant, "b")))
				return s.DeleteLink(t.Context(), tenant, "a")
			},
			wantScan: []string{"b"},
		},
		{
			name: "a put between the delete and its index update",
			hook: func(t *testing.T, tenant string) *beforeCommand {
				return &beforeCommand{name: "zrem", key: linkTenantsKey, fn: func(ctx context.Context) {
					mustDo(t, "put link in the middle", other.PutLink(ctx, link(tenant, "b")))
				}}
			},
			run:      func(t *testing.T, s *Store, tenant string) error { return s.DeleteLink(t.Context(), tenant, "a") },
			wantScan: []string{"b"},
		},
		{
			name: "a delete between the put's index update and its link",
			hook: func(t *testing.T, tenant string) *beforeCommand {
				return &beforeCommand{name: "hset", key: keysOf(tenant).links(), fn: func(ctx context.Context) {
					mustDo(t, "delete link in the middle", other.DeleteLink(ctx, tenant, "a"))
				}}
			},
			run:      func(t *testing.T, s *Store, tenant string) error { return s.PutLink(t.Context(), link(tenant, "b")) },
			wantScan: []string{"b"},
		},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tenant := "tenant-" + string(rune('a'+i))
			mustDo(t, "put link", other.PutLink(t.Context(), link(tenant, "a")))
			client := newClient(t, addr)
			if c.hook != nil {
				client.AddHook(c.hook(t, tenant))
			}
			mustDo(t, c.name, c.run(t, New(client), tenant))
			if got := scanned(t, other, tenant); !slices.Equal(got, c.wantScan) {
				t.Fatalf("scan finds links %v, want %v", got, c.wantScan)
			}
			if got, want := indexed(t, plain, tenant), len(c.wantScan) > 0; got != want {
				t.Fatalf("tenant in the index of tenants with links: %v, want %v", got, want)
			}
		})
	}
}

func TestDeleteLinkRemovesEveryKeyOfTheLink(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	admin := newClient(t, testkit.StartRedis(t).Addr())
	s := New(admin)
	k := keysOf("t{1}")
	for _, l := range []string{"l:1", "l:2"} {
		mustDo(t, "put link", s.PutLink(ctx, link("t{1}", l)))
		for _, w := range []string{"w1", "w:2"} {
			_, err := s.PutItem(ctx, &gsv1.ItemMapping{TenantId: "t{1}", LinkId: l, WixItemId: w, ExternalId: "e-" + w}, 0)
			mustDo(t, "put item", err)
		}
		mustDo(t, "append log", s.AppendLog(ctx, "t{1}", l, &gsv1.LogEntry{WixItemId: "w1", Action: "create"}))
		_, err := s.PutShareJob(ctx, &gsv1.ShareJob{TenantId: "t{1}", JobId: "job-" + l, LinkId: l,
			State: gsv1.ShareState_SHARE_STATE_RUNNING, Total: 2}, 0)
		mustDo(t, "put share job", err)
		_, err = s.CountShareItem(ctx, "t{1}", "job-"+l, "w1", false)
		mustDo(t, "count share item", err)
	}
	before := allKeys(t, admin)

	t.Run("a stale item list deletes nothing", func(t *testing.T) {
		// The item w:2 was written after the ids were read.
		res, err := s.scripts.deleteLink.Run(ctx, admin,
			[]string{k.links(), k.order("l:1"), k.external("l:1"), k.log("l:1"), k.item("l:1", "w1")}, "l:1", "w1").StringSlice()
		mustDo(t, "delete link script", err)
		if !slices.Equal(res, []string{"changed"}) {
			t.Fatalf("script reply %q, want [changed]", res)
		}
		if after := allKeys(t, admin); !slices.Equal(after, before) {
			t.Fatalf("keys after a refused delete %q, want %q", after, before)
		}
	})
	t.Run("delete", func(t *testing.T) {
		mustDo(t, "delete link", s.DeleteLink(ctx, "t{1}", "l:1"))
		after := allKeys(t, admin)
		gone := slices.DeleteFunc(slices.Clone(before), func(key string) bool { _, found := slices.BinarySearch(after, key); return found })
		want := []string{k.external("l:1"), k.item("l:1", "w1"), k.item("l:1", "w:2"), k.log("l:1"), k.order("l:1")}
		slices.Sort(want)
		if !slices.Equal(gone, want) || len(after) != len(before)-len(want) {
			t.Fatalf("DeleteLink removed keys %q, want exactly %q", gone, want)
		}
		n, err := admin.HLen(ctx, k.links()).Result()
		mustDo(t, "HLEN", err)
		if n != 1 {
			t.Fatalf("%d links left in the tenant's hash, want 1", n)
		}
	})
}

func TestShareJobAndLogSurviveRestart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := testkit.StartRedis(t)
	s := New(newClient(t, r.Addr()))
	mustDo(t, "put link", s.PutLink(ctx, link("t1", "l1")))
	_, err := s.PutShareJob(ctx, &gsv1.ShareJob{TenantId: "t1", JobId: "j1", LinkId: "l1", State: gsv1.ShareState_SHARE_STATE_RUNNING, Total: 2}, 0)
	mustDo(t, "put share job", err)
	job, err := s.CountShareItem(ctx, "t1", "j1", "w1", true)
	mustDo(t, "count share item", err)
	entry := &gsv1.LogEntry{WixItemId: "w1", Action: "failed", Detail: "429 from the platform"}
	mustDo(t, "append log", s.AppendLog(ctx, "t1", "l1", entry))

	r.Restart()
	waitForPing(t, s)

	got, err := s.GetShareJob(ctx, "t1", "j1")
	mustDo(t, "get share job after restart", err)
	if got.Failed != 1 || got.Revision != job.Revision || !got.UpdatedAt.AsTime().Equal(job.UpdatedAt.AsTime()) {
		t.Fatalf("share job after restart %v, want %v", got, job)
	}
	// The item's outcome survived too: counting it again changes nothing,
	// and its success still moves it.
	again, err := s.CountShareItem(ctx, "t1", "j1", "w1", true)
	mustDo(t, "count again", err)
	moved, err := s.CountShareItem(ctx, "t1", "j1", "w1", false)
	mustDo(t, "count success", err)
	if again.Revision != job.Revision || moved.Done != 1 || moved.Failed != 0 {
		t.Fatalf("after restart: a repeated failure gave revision %d (want %d), a success done %d failed %d (want 1, 0)",
			again.Revision, job.Revision, moved.Done, moved.Failed)
	}
	log, err := s.ListLog(ctx, "t1", "l1", "", 0)
	mustDo(t, "list log after restart", err)
	if len(log) != 1 || log[0].Detail != entry.Detail || time.Since(log[0].At.AsTime()).Abs() > time.Minute {
		t.Fatalf("log after restart %v, want the one entry, stamped about now", log)
	}
}
