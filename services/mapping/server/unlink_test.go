package server

import (
	"bytes"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

func TestListConnectionsHidesCredentials(t *testing.T) {
	t.Parallel()
	onEachStore(t, func(t *testing.T, c gsv1.MappingServiceClient, st store.Store) {
		ctx := t.Context()
		secrets := map[string][]byte{"c2": []byte("token-of-c2-Zq81"), "c1": []byte("token-of-c1-Xk42"), "c3": nil}
		var want []*gsv1.Connection
		for _, id := range []string{"c2", "c1", "c3"} {
			resp, err := c.PutConnection(ctx, &gsv1.PutConnectionRequest{Connection: &gsv1.Connection{
				TenantId: "t1", ConnectionId: id, Platform: "mastodon", BaseUrl: "https://social.example",
				AccountId: "acct-" + id, DisplayName: "@" + id, Credentials: secrets[id],
			}})
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, resp.Connection)
		}
		if _, err := c.PutConnection(ctx, &gsv1.PutConnectionRequest{Connection: &gsv1.Connection{
			TenantId: "t2", ConnectionId: "c9", Platform: "mastodon", Credentials: []byte("t2-token"),
		}}); err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(want, func(a, b *gsv1.Connection) int { return bytes.Compare([]byte(a.ConnectionId), []byte(b.ConnectionId)) })

		resp, err := c.ListConnections(ctx, &gsv1.ListConnectionsRequest{TenantId: "t1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Connections) != len(want) {
			t.Fatalf("ListConnections lists %d connections, want %d", len(resp.Connections), len(want))
		}
		for i := range want {
			if !proto.Equal(resp.Connections[i], want[i]) {
				t.Fatalf("connection %d: %v, want %v", i, resp.Connections[i], want[i])
			}
			if len(resp.Connections[i].Credentials) != 0 {
				t.Fatalf("connection %s listed with credentials", resp.Connections[i].ConnectionId)
			}
		}
		wire, err := proto.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		for id, secret := range secrets {
			if len(secret) > 0 && bytes.Contains(wire, secret) {
				t.Fatalf("the answer holds the secret of %s", id)
			}
		}
		// Listing leaves the stored credentials alone.
		got, err := c.GetConnection(ctx, &gsv1.GetConnectionRequest{TenantId: "t1", ConnectionId: "c1"})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := st.GetConnection(ctx, "t1", "c1")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Connection.Credentials, secrets["c1"]) || bytes.Contains(raw.Credentials, secrets["c1"]) {
			t.Fatalf("after the list GetConnection opens %q (stored %d sealed bytes); want the token", got.Connection.Credentials, len(raw.Credentials))
		}
		none, err := c.ListConnections(ctx, &gsv1.ListConnectionsRequest{TenantId: "t3"})
		if err != nil || len(none.Connections) != 0 {
			t.Fatalf("unknown tenant lists %v, %v; want nothing", none, err)
		}
	})
}

func TestDeleteLink(t *testing.T) {
	t.Parallel()
	onEachStore(t, func(t *testing.T, c gsv1.MappingServiceClient, _ store.Store) {
		ctx := t.Context()
		for _, id := range []string{"l1", "l2"} {
			if _, err := c.PutLink(ctx, &gsv1.PutLinkRequest{Link: &gsv1.Link{TenantId: "t1", LinkId: id, GalleryId: "g", ConnectionId: "c"}}); err != nil {
				t.Fatal(err)
			}
			for _, w := range []string{"w1", "w2"} {
				if _, err := c.PutItem(ctx, &gsv1.PutItemRequest{Item: &gsv1.ItemMapping{TenantId: "t1", LinkId: id, WixItemId: w, ExternalId: "e-" + w}}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := c.AppendLog(ctx, &gsv1.AppendLogRequest{TenantId: "t1", LinkId: id, Entry: &gsv1.LogEntry{WixItemId: "w1", Action: "create"}}); err != nil {
				t.Fatal(err)
			}
		}
		job, err := c.PutShareJob(ctx, &gsv1.PutShareJobRequest{Job: &gsv1.ShareJob{
			TenantId: "t1", JobId: "j1", LinkId: "l1", State: gsv1.ShareState_SHARE_STATE_RUNNING, Total: 2,
		}})
		if err != nil {
			t.Fatal(err)
		}

		if _, err := c.DeleteLink(ctx, &gsv1.DeleteLinkRequest{TenantId: "t1", LinkId: "l1"}); err != nil {
			t.Fatal(err)
		}
		gone := []struct {
			name string
			call func() error
		}{
			{"GetLink", func() error { _, err := c.GetLink(ctx, &gsv1.GetLinkRequest{TenantId: "t1", LinkId: "l1"}); return err }},
			{"GetItem by Wix id", func() error {
				_, err := c.GetItem(ctx, &gsv1.GetItemRequest{TenantId: "t1", LinkId: "l1", Key: &gsv1.GetItemRequest_WixItemId{WixItemId: "w1"}})
				return err
			}},
			{"GetItem by external id", func() error {
				_, err := c.GetItem(ctx, &gsv1.GetItemRequest{TenantId: "t1", LinkId: "l1", Key: &gsv1.GetItemRequest_ExternalId{ExternalId: "e-w2"}})
				return err
			}},
			{"DeleteLink again", func() error {
				_, err := c.DeleteLink(ctx, &gsv1.DeleteLinkRequest{TenantId: "t1", LinkId: "l1"})
				return err
			}},
			{"DeleteLink of another tenant", func() error {
				_, err := c.DeleteLink(ctx, &gsv1.DeleteLinkRequest{TenantId: "t2", LinkId: "l2"})
				return err
			}},
			{"AppendLog", func() error {
				_, err := c.AppendLog(ctx, &gsv1.AppendLogRequest{TenantId: "t1", LinkId: "l1", Entry: &gsv1.LogEntry{Action: "update"}})
				return err
			}},
		}
		for _, g := range gone {
			t.Run(g.name, func(t *testing.T) {
				wantCode(t, g.name, g.call(), codes.NotFound)
			})
		}
		t.Run("lists", func(t *testing.T) {
			items, err := c.ListItems(ctx, &gsv1.ListItemsRequest{TenantId: "t1", LinkId: "l1"})
			if err != nil {
				t.Fatal(err)
			}
			log, err := c.ListLog(ctx, &gsv1.ListLogRequest{TenantId: "t1", LinkId: "l1"})
			if err != nil {
				t.Fatal(err)
			}
			scan, err := c.ScanLinks(ctx, &gsv1.ScanLinksRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if len(items.Items) != 0 || len(log.Entries) != 0 || len(scan.Links) != 1 || scan.Links[0].LinkId != "l2" {
				t.Fatalf("after the unlink: %d items, %d log entries, scan %v; want no items or entries and only l2 scanned",
					len(items.Items), len(log.Entries), scan.Links)
			}
		})
		t.Run("the other link and the share job stay", func(t *testing.T) {
			items, err := c.ListItems(ctx, &gsv1.ListItemsRequest{TenantId: "t1", LinkId: "l2"})
			if err != nil {
				t.Fatal(err)
			}
			log, err := c.ListLog(ctx, &gsv1.ListLogRequest{TenantId: "t1", LinkId: "l2"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.GetShareJob(ctx, &gsv1.GetShareJobRequest{TenantId: "t1", JobId: "j1"})
			if err != nil {
				t.Fatal(err)
			}
			if len(items.Items) != 2 || len(log.Entries) != 1 || !proto.Equal(got.Job, job.Job) {
				t.Fatalf("l2 has %d items, %d log entries, share job %v; want 2, 1 and %v", len(items.Items), len(log.Entries), got.Job, job.Job)
			}
		})
		t.Run("last link", func(t *testing.T) {
			if _, err := c.DeleteLink(ctx, &gsv1.DeleteLinkRequest{TenantId: "t1", LinkId: "l2"}); err != nil {
				t.Fatal(err)
			}
			scan, err := c.ScanLinks(ctx, &gsv1.ScanLinksRequest{})
			if err != nil || len(scan.Links) != 0 {
				t.Fatalf("scan after the last unlink: %v, %v; want no links", scan, err)
			}
		})
	})
}
