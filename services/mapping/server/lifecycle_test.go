package server

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

func TestRemoveTenant(t *testing.T) {
	t.Parallel()
	c, st := newClient(t)
	ctx := t.Context()
	put, err := c.PutTenant(ctx, &gsv1.PutTenantRequest{Tenant: &gsv1.Tenant{
		TenantId: "t1", State: gsv1.TenantState_TENANT_STATE_ACTIVE, DisplayName: "Ann's photos",
	}})
	if err != nil {
		t.Fatal(err)
	}
	conn := &gsv1.Connection{TenantId: "t1", ConnectionId: "c1", Platform: "mastodon", Credentials: []byte("token-Zq81")}
	connPut, err := c.PutConnection(ctx, &gsv1.PutConnectionRequest{Connection: conn})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"l1", "l2"} {
		if _, err := c.PutLink(ctx, &gsv1.PutLinkRequest{Link: &gsv1.Link{
			TenantId: "t1", LinkId: id, GalleryId: "g1", ConnectionId: "c1", State: gsv1.LinkState_LINK_STATE_ACTIVE,
		}}); err != nil {
			t.Fatal(err)
		}
	}
	removed := proto.Clone(put.Tenant).(*gsv1.Tenant)
	removed.State = gsv1.TenantState_TENANT_STATE_REMOVED

	checkRemoved := func(t *testing.T, tenant *gsv1.Tenant) {
		t.Helper()
		got, err := c.GetTenant(ctx, &gsv1.GetTenantRequest{TenantId: "t1"})
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got.Tenant, tenant) {
			t.Fatalf("tenant %v, want %v", got.Tenant, tenant)
		}
		gotConn, err := c.GetConnection(ctx, &gsv1.GetConnectionRequest{TenantId: "t1", ConnectionId: "c1"})
		if err != nil {
			t.Fatal(err)
		}
		wantConn := proto.Clone(connPut.Connection).(*gsv1.Connection)
		wantConn.Credentials = nil
		if !proto.Equal(gotConn.Connection, wantConn) {
			t.Fatalf("connection %v, want %v without credentials", gotConn.Connection, wantConn)
		}
		raw, err := st.GetConnection(ctx, "t1", "c1")
		if err != nil {
			t.Fatal(err)
		}
		if len(raw.Credentials) != 0 {
			t.Fatalf("store still holds %d bytes of sealed credentials", len(raw.Credentials))
		}
		links, err := c.ListLinks(ctx, &gsv1.ListLinksRequest{TenantId: "t1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(links.Links) != 2 {
			t.Fatalf("%d links, want 2", len(links.Links))
		}
		for _, l := range links.Links {
			if l.State != gsv1.LinkState_LINK_STATE_PAUSED {
				t.Fatalf("link %s is %v, want LINK_STATE_PAUSED", l.LinkId, l.State)
			}
		}
	}

	for _, round := range []string{"remove", "remove again"} {
		t.Run(round, func(t *testing.T) {
			resp, err := c.RemoveTenant(ctx, &gsv1.RemoveTenantRequest{TenantId: "t1"})
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(resp.Tenant, removed) {
				t.Fatalf("RemoveTenant returned %v, want %v", resp.Tenant, removed)
			}
			checkRemoved(t, removed)
		})
	}
	t.Run("put tenant re-activates, links stay paused", func(t *testing.T) {
		if _, err := c.PutTenant(ctx, &gsv1.PutTenantRequest{Tenant: &gsv1.Tenant{
			TenantId: "t1", State: gsv1.TenantState_TENANT_STATE_ACTIVE, DisplayName: "Ann's photos",
		}}); err != nil {
			t.Fatal(err)
		}
		checkRemoved(t, put.Tenant)
	})
	t.Run("unknown tenant", func(t *testing.T) {
		resp, err := c.RemoveTenant(ctx, &gsv1.RemoveTenantRequest{TenantId: "never-installed"})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Tenant.State != gsv1.TenantState_TENANT_STATE_REMOVED || resp.Tenant.CreatedAt == nil {
			t.Fatalf("RemoveTenant of an unknown tenant returned %v, want a REMOVED record with created_at", resp.Tenant)
		}
	})
}

func TestIntents(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	hour := durationpb.New(time.Hour)
	in := &gsv1.Intent{
		TenantId: "t1", Key: "wix-create:l1:e1", LinkId: "l1", ExternalId: "e1", ContentHash: "h1",
		Attrs: map[string]string{"file_id": "f1"},
	}
	first, err := c.PutIntent(ctx, &gsv1.PutIntentRequest{Intent: in, Ttl: hour})
	if err != nil {
		t.Fatal(err)
	}
	if first.Intent.CreatedAt == nil {
		t.Fatal("PutIntent did not set created_at")
	}
	want := proto.Clone(in).(*gsv1.Intent)
	want.CreatedAt = first.Intent.CreatedAt
	if !proto.Equal(first.Intent, want) {
		t.Fatalf("PutIntent returned %v, want %v", first.Intent, want)
	}

	replaced := proto.Clone(in).(*gsv1.Intent)
	replaced.ContentHash = "h2"
	second, err := c.PutIntent(ctx, &gsv1.PutIntentRequest{Intent: replaced, Ttl: hour})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetIntent(ctx, &gsv1.GetIntentRequest{TenantId: "t1", Key: in.Key})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got.Intent, second.Intent) || got.Intent.ContentHash != "h2" ||
		!proto.Equal(got.Intent.CreatedAt, first.Intent.CreatedAt) {
		t.Fatalf("after replace: stored %v, returned %v; want h2 with the first created_at %v",
			got.Intent, second.Intent, first.Intent.CreatedAt.AsTime())
	}

	steps := []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"delete", func() error {
			_, err := c.DeleteIntent(ctx, &gsv1.DeleteIntentRequest{TenantId: "t1", Key: in.Key})
			return err
		}, codes.OK},
		{"get deleted", func() error {
			_, err := c.GetIntent(ctx, &gsv1.GetIntentRequest{TenantId: "t1", Key: in.Key})
			return err
		}, codes.NotFound},
		{"delete again", func() error {
			_, err := c.DeleteIntent(ctx, &gsv1.DeleteIntentRequest{TenantId: "t1", Key: in.Key})
			return err
		}, codes.OK},
		{"get of another tenant", func() error {
			if _, err := c.PutIntent(ctx, &gsv1.PutIntentRequest{Intent: in, Ttl: hour}); err != nil {
				return err
			}
			_, err := c.GetIntent(ctx, &gsv1.GetIntentRequest{TenantId: "t2", Key: in.Key})
			return err
		}, codes.NotFound},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			wantCode(t, st.name, st.call(), st.want)
		})
	}
}

func TestThrottle(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	req := &gsv1.ThrottleRequest{TenantId: "t1", Bucket: "wix", Limit: 3, Period: durationpb.New(time.Hour), Burst: 3}
	for i := range 3 {
		resp, err := c.Throttle(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if !resp.Allowed || resp.RetryAfter != nil {
			t.Fatalf("call %d of a full bucket: %v, want allowed without retry_after", i+1, resp)
		}
	}
	resp, err := c.Throttle(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	// One token every 20 minutes; the test took far less than one of them.
	if ra := resp.GetRetryAfter().AsDuration(); resp.Allowed || ra <= 19*time.Minute || ra > 20*time.Minute {
		t.Fatalf("call after the burst: %v, want refused with retry_after in (19m, 20m]", resp)
	}
	other, err := c.Throttle(ctx, &gsv1.ThrottleRequest{TenantId: "t2", Bucket: "wix", Limit: 3, Period: durationpb.New(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !other.Allowed {
		t.Fatalf("another tenant's bucket is refused: %v", other)
	}
}

func TestListLinksFilters(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	for _, l := range []*gsv1.Link{
		{TenantId: "t1", LinkId: "l1", GalleryId: "g1", ConnectionId: "c1", AlbumId: "cats"},
		{TenantId: "t1", LinkId: "l2", GalleryId: "g1", ConnectionId: "c2", AlbumId: "cats"},
		{TenantId: "t1", LinkId: "l3", GalleryId: "g2", ConnectionId: "c1", AlbumId: "dogs"},
	} {
		if _, err := c.PutLink(ctx, &gsv1.PutLinkRequest{Link: l}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		req  *gsv1.ListLinksRequest
		want []string
	}{
		{"none", &gsv1.ListLinksRequest{TenantId: "t1"}, []string{"l1", "l2", "l3"}},
		{"gallery", &gsv1.ListLinksRequest{TenantId: "t1", GalleryId: "g1"}, []string{"l1", "l2"}},
		{"connection", &gsv1.ListLinksRequest{TenantId: "t1", ConnectionId: "c1"}, []string{"l1", "l3"}},
		{"album", &gsv1.ListLinksRequest{TenantId: "t1", AlbumId: "dogs"}, []string{"l3"}},
		{"all three", &gsv1.ListLinksRequest{TenantId: "t1", GalleryId: "g1", ConnectionId: "c2", AlbumId: "cats"}, []string{"l2"}},
		{"no match", &gsv1.ListLinksRequest{TenantId: "t1", GalleryId: "g2", AlbumId: "cats"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := c.ListLinks(ctx, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, l := range resp.Links {
				ids = append(ids, l.LinkId)
			}
			if !slices.Equal(ids, tc.want) {
				t.Fatalf("links %v, want %v", ids, tc.want)
			}
		})
	}
}
