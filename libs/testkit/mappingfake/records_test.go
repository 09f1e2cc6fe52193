package mappingfake_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"

	"gallerysync.dev/libs/testkit/mappingfake"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

func TestShareJobCountsSettle(t *testing.T) {
	t.Parallel()
	type count struct {
		item   string
		failed bool
	}
	tests := []struct {
		name         string
		state        gsv1.ShareState
		counts       []count
		done, failed int32
		want         gsv1.ShareState
	}{
		{"running reaches total", gsv1.ShareState_SHARE_STATE_RUNNING, []count{{"a", false}, {"b", true}}, 1, 1, gsv1.ShareState_SHARE_STATE_DONE},
		{"paused reaches total", gsv1.ShareState_SHARE_STATE_PAUSED, []count{{"a", false}, {"b", false}}, 2, 0, gsv1.ShareState_SHARE_STATE_DONE},
		{"cancelled stays", gsv1.ShareState_SHARE_STATE_CANCELLED, []count{{"a", false}, {"b", false}}, 2, 0, gsv1.ShareState_SHARE_STATE_CANCELLED},
		{"a repeat counts once", gsv1.ShareState_SHARE_STATE_RUNNING, []count{{"a", false}, {"a", false}, {"a", true}}, 1, 0, gsv1.ShareState_SHARE_STATE_RUNNING},
		{"failed then done moves", gsv1.ShareState_SHARE_STATE_RUNNING, []count{{"a", true}, {"a", false}, {"a", true}}, 1, 0, gsv1.ShareState_SHARE_STATE_RUNNING},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f, c := mappingfake.Start(t)
			put, err := c.PutShareJob(ctx, &gsv1.PutShareJobRequest{Job: &gsv1.ShareJob{
				TenantId: "t1", JobId: "j1", LinkId: "l1", Total: 2, State: tc.state, Done: 9}})
			if err != nil || put.GetJob().GetRevision() != 1 || put.GetJob().GetDone() != 0 {
				t.Fatalf("put job: %v, %v (want revision 1, counts kept by the fake)", put, err)
			}
			for _, ct := range tc.counts {
				if _, err := c.CountShareItem(ctx, &gsv1.CountShareItemRequest{TenantId: "t1", JobId: "j1", ItemId: ct.item, Failed: ct.failed}); err != nil {
					t.Fatalf("count %s: %v", ct.item, err)
				}
			}
			j := f.ShareJob("t1", "j1")
			if j.GetDone() != tc.done || j.GetFailed() != tc.failed || j.GetState() != tc.want {
				t.Fatalf("job %v: want done %d failed %d state %v", j, tc.done, tc.failed, tc.want)
			}
			if (j.GetState() == gsv1.ShareState_SHARE_STATE_DONE) != (j.GetFinishedAt() != nil) {
				t.Fatalf("finished_at %v in state %v", j.GetFinishedAt(), j.GetState())
			}
			// Every count moved the revision on, so a write from before them loses.
			_, err = c.PutShareJob(ctx, &gsv1.PutShareJobRequest{Job: j, ExpectedRevision: 1})
			wantCode(t, err, codes.Aborted)
		})
	}
}

func TestTenantsLinksAndLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, c := mappingfake.Start(t)
	if _, err := c.PutTenant(ctx, &gsv1.PutTenantRequest{Tenant: &gsv1.Tenant{TenantId: "t1", State: gsv1.TenantState_TENANT_STATE_ACTIVE}}); err != nil {
		t.Fatalf("put tenant: %v", err)
	}
	if resp, err := c.PutConnection(ctx, &gsv1.PutConnectionRequest{Connection: &gsv1.Connection{
		TenantId: "t1", ConnectionId: "c1", Platform: "mastodon", Credentials: []byte("secret")}}); err != nil || resp.GetConnection().GetCredentials() != nil {
		t.Fatalf("put connection: %v, %v (credentials must not come back)", resp, err)
	}
	for _, l := range []*gsv1.Link{
		{TenantId: "t1", LinkId: "l2", GalleryId: "g1", ConnectionId: "c1", AlbumId: "a"},
		{TenantId: "t1", LinkId: "l1", GalleryId: "g1", ConnectionId: "c1", AlbumId: "b"},
		{TenantId: "t2", LinkId: "l3", GalleryId: "g1", ConnectionId: "c1", AlbumId: "a"},
	} {
		if _, err := c.PutLink(ctx, &gsv1.PutLinkRequest{Link: l}); err != nil {
			t.Fatalf("put link: %v", err)
		}
	}
	links, err := c.ListLinks(ctx, &gsv1.ListLinksRequest{TenantId: "t1", GalleryId: "g1", AlbumId: "a"})
	if err != nil || len(links.GetLinks()) != 1 || links.GetLinks()[0].GetLinkId() != "l2" {
		t.Fatalf("filtered links: %v, %v", links, err)
	}
	conns, err := c.ListConnections(ctx, &gsv1.ListConnectionsRequest{TenantId: "t1"})
	if err != nil || len(conns.GetConnections()) != 1 || conns.GetConnections()[0].GetCredentials() != nil {
		t.Fatalf("list connections: %v, %v", conns, err)
	}
	if got, err := c.GetConnection(ctx, &gsv1.GetConnectionRequest{TenantId: "t1", ConnectionId: "c1"}); err != nil || string(got.GetConnection().GetCredentials()) != "secret" {
		t.Fatalf("get connection: %v, %v", got, err)
	}

	for _, action := range []string{"create", "update"} {
		if _, err := c.AppendLog(ctx, &gsv1.AppendLogRequest{TenantId: "t1", LinkId: "l1", Entry: &gsv1.LogEntry{Action: action, WixItemId: "w1"}}); err != nil {
			t.Fatalf("append log: %v", err)
		}
	}
	_, err = c.AppendLog(ctx, &gsv1.AppendLogRequest{TenantId: "t1", LinkId: "nope", Entry: &gsv1.LogEntry{Action: "create"}})
	wantCode(t, err, codes.NotFound)
	logs, err := c.ListLog(ctx, &gsv1.ListLogRequest{TenantId: "t1", LinkId: "l1", Limit: 1})
	if err != nil || len(logs.GetEntries()) != 1 || logs.GetEntries()[0].GetAction() != "update" {
		t.Fatalf("newest log entry: %v, %v", logs, err)
	}
	if got := f.Log("t1", "l1"); len(got) != 2 || got[0].GetAction() != "create" {
		t.Fatalf("log oldest first: %v", got)
	}

	f.SeedItem(&gsv1.ItemMapping{TenantId: "t1", LinkId: "l1", WixItemId: "w1"}, f.Log("t1", "l1")[0].GetAt().AsTime())
	if _, err := c.DeleteLink(ctx, &gsv1.DeleteLinkRequest{TenantId: "t1", LinkId: "l1"}); err != nil {
		t.Fatalf("delete link: %v", err)
	}
	if len(f.Items("t1", "l1")) != 0 || len(f.Log("t1", "l1")) != 0 {
		t.Fatal("unlink left item mappings or log behind")
	}
	_, err = c.DeleteLink(ctx, &gsv1.DeleteLinkRequest{TenantId: "t1", LinkId: "l1"})
	wantCode(t, err, codes.NotFound)

	removed, err := c.RemoveTenant(ctx, &gsv1.RemoveTenantRequest{TenantId: "t1"})
	if err != nil || removed.GetTenant().GetState() != gsv1.TenantState_TENANT_STATE_REMOVED {
		t.Fatalf("remove tenant: %v, %v", removed, err)
	}
	if f.Credentials("t1", "c1") != nil {
		t.Fatal("credentials kept after the tenant was removed")
	}
	l2, err := c.GetLink(ctx, &gsv1.GetLinkRequest{TenantId: "t1", LinkId: "l2"})
	l3, err3 := c.GetLink(ctx, &gsv1.GetLinkRequest{TenantId: "t2", LinkId: "l3"})
	if err != nil || err3 != nil || l2.GetLink().GetState() != gsv1.LinkState_LINK_STATE_PAUSED || l3.GetLink().GetState() == gsv1.LinkState_LINK_STATE_PAUSED {
		t.Fatalf("links after removal: %v %v (%v %v): want only t1's paused", l2, l3, err, err3)
	}
	_, err = c.GetTenant(ctx, &gsv1.GetTenantRequest{TenantId: "t2"})
	wantCode(t, err, codes.NotFound)
}
