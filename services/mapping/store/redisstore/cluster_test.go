package redisstore

import (
	"context"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"gallerysync.dev/libs/testkit"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
	"gallerysync.dev/services/mapping/store/storetest"
)

// startClusterNode runs redis-server in cluster mode as a one-node cluster
// that owns every slot. Redis then refuses any multi-key command or script
// whose keys span slots, as a real cluster does.
func startClusterNode(t *testing.T) string {
	t.Helper()
	bin := testkit.RequireBinary(t, "redis-server")
	port := strconv.Itoa(testkit.FreePort(t))
	cmd := exec.Command(bin,
		"--port", port, "--bind", "127.0.0.1", "--dir", t.TempDir(),
		"--save", "", "--appendonly", "no", "--logfile", "",
		"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
		"--cluster-announce-ip", "127.0.0.1",
	)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := "127.0.0.1:" + port
	admin := newClient(t, addr)
	waitUntil(t, "cluster node answers", func(ctx context.Context) bool { return admin.Ping(ctx).Err() == nil })
	if err := admin.Do(t.Context(), "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatalf("assign slots: %v", err)
	}
	waitUntil(t, "cluster state ok", func(ctx context.Context) bool {
		info, err := admin.ClusterInfo(ctx).Result()
		return err == nil && strings.Contains(info, "cluster_state:ok")
	})
	return addr
}

func newClusterClient(t *testing.T, addr string) *redis.ClusterClient {
	t.Helper()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func waitUntil(t *testing.T, what string, cond func(ctx context.Context) bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		ok := cond(ctx)
		cancel()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 15s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCluster(t *testing.T) {
	t.Parallel()
	addr := startClusterNode(t)
	cluster := newClusterClient(t, addr)
	admin := newClient(t, addr)

	t.Run("conformance", func(t *testing.T) {
		storetest.Run(t,
			func(t *testing.T) store.Store { return New(cluster) },
			func(t *testing.T) store.Store { return New(newClusterClient(t, startClusterNode(t))) },
		)
	})

	t.Run("a tenant's keys share one slot", func(t *testing.T) {
		s := New(cluster)
		tenants := []string{"plain", "with:colons", "br}ace", "{open", "50%", "a}:conn:x"}
		for _, tenant := range tenants {
			t.Run(tenant, func(t *testing.T) {
				before := allKeys(t, admin)
				writeEverything(t, s, tenant)
				var added []string
				for _, k := range allKeys(t, admin) {
					// The index of tenants with links spans tenants by design.
					if _, ok := slices.BinarySearch(before, k); !ok && k != linkTenantsKey {
						added = append(added, k)
					}
				}
				if len(added) < 16 {
					t.Fatalf("writing every record of tenant %q added %d keys %q, want at least 16", tenant, len(added), added)
				}
				indexed, err := admin.ZScore(t.Context(), linkTenantsKey, tenant).Result()
				if err != nil || indexed != 0 {
					t.Fatalf("tenant %q in the index of tenants with links: score %v, %v; want listed with score 0", tenant, indexed, err)
				}
				slots := map[int64][]string{}
				for _, k := range added {
					slot, err := admin.ClusterKeySlot(t.Context(), k).Result()
					mustDo(t, "CLUSTER KEYSLOT", err)
					slots[slot] = append(slots[slot], k)
				}
				if len(slots) != 1 {
					t.Fatalf("keys of tenant %q span %d slots: %v", tenant, len(slots), slots)
				}
			})
		}
	})
}

func allKeys(t *testing.T, c *redis.Client) []string {
	t.Helper()
	var keys []string
	iter := c.Scan(t.Context(), 0, "*", 1000).Iterator()
	for iter.Next(t.Context()) {
		keys = append(keys, iter.Val())
	}
	mustDo(t, "scan", iter.Err())
	slices.Sort(keys)
	return keys
}

func writeEverything(t *testing.T, s *Store, tenant string) {
	t.Helper()
	ctx := t.Context()
	mustDo(t, "put tenant", s.PutTenant(ctx, &gsv1.Tenant{TenantId: tenant}))
	mustDo(t, "put connection", s.PutConnection(ctx, &gsv1.Connection{TenantId: tenant, ConnectionId: "c:1", Platform: "mastodon"}))
	mustDo(t, "put link", s.PutLink(ctx, &gsv1.Link{TenantId: tenant, LinkId: "l{1}", GalleryId: "g", ConnectionId: "c:1"}))
	_, err := s.PutItem(ctx, &gsv1.ItemMapping{TenantId: tenant, LinkId: "l{1}", WixItemId: "w}1", ExternalId: "e:1"}, 0)
	mustDo(t, "put item", err)
	mustDo(t, "mark echo", s.MarkEcho(ctx, tenant, gsv1.Side_SIDE_WIX, "o", "h", time.Hour))
	_, err = s.MarkDedup(ctx, tenant, "wix:ev1", time.Hour)
	mustDo(t, "mark dedup", err)
	_, err = s.AcquireLock(ctx, tenant, "item:w}1", "writer", time.Hour)
	mustDo(t, "acquire lock", err)
	_, err = s.PutIntent(ctx, &gsv1.Intent{TenantId: tenant, Key: "wix-create:l{1}:e}1"}, time.Hour)
	mustDo(t, "put intent", err)
	_, err = s.Throttle(ctx, tenant, "mastodon:c}1", store.Rate{Limit: 1, Period: time.Hour}, 1)
	mustDo(t, "throttle", err)
	mustDo(t, "put cursor", s.PutCursor(ctx, tenant, "watch:c}1", "110"))
	mustDo(t, "append log", s.AppendLog(ctx, tenant, "l{1}", &gsv1.LogEntry{WixItemId: "w}1", Action: "create"}))
	_, err = s.PutShareJob(ctx, &gsv1.ShareJob{TenantId: tenant, JobId: "j:{1}", LinkId: "l{1}",
		State: gsv1.ShareState_SHARE_STATE_RUNNING, Total: 2}, 0)
	mustDo(t, "put share job", err)
	_, err = s.CountShareItem(ctx, tenant, "j:{1}", "w}1", true)
	mustDo(t, "count share item", err)
	// A second link, unlinked: its delete script runs over the tenant's keys.
	mustDo(t, "put link", s.PutLink(ctx, &gsv1.Link{TenantId: tenant, LinkId: "l}2", GalleryId: "g", ConnectionId: "c:1"}))
	_, err = s.PutItem(ctx, &gsv1.ItemMapping{TenantId: tenant, LinkId: "l}2", WixItemId: "w}1", ExternalId: "e:1"}, 0)
	mustDo(t, "put item", err)
	mustDo(t, "delete link", s.DeleteLink(ctx, tenant, "l}2"))
	_, err = s.RemoveTenant(ctx, tenant)
	mustDo(t, "remove tenant", err)
}
