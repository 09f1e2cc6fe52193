package server

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

func TestErrorCodes(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	item := &gsv1.ItemMapping{TenantId: "t", LinkId: "l", WixItemId: "w1", ExternalId: "e1"}
	put, err := c.PutItem(ctx, &gsv1.PutItemRequest{Item: item})
	if err != nil {
		t.Fatal(err)
	}
	if put.Item.Revision != 1 || put.Item.UpdatedAt == nil {
		t.Fatalf("created item has revision %d, updated_at %v; want 1 and a time", put.Item.Revision, put.Item.UpdatedAt)
	}
	cases := []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"GetTenant missing", func() error { _, err := c.GetTenant(ctx, &gsv1.GetTenantRequest{TenantId: "t"}); return err }, codes.NotFound},
		{"GetConnection missing", func() error {
			_, err := c.GetConnection(ctx, &gsv1.GetConnectionRequest{TenantId: "t", ConnectionId: "c"})
			return err
		}, codes.NotFound},
		{"GetLink missing", func() error { _, err := c.GetLink(ctx, &gsv1.GetLinkRequest{TenantId: "t", LinkId: "l"}); return err }, codes.NotFound},
		{"GetItem by unknown external id", func() error {
			_, err := c.GetItem(ctx, &gsv1.GetItemRequest{TenantId: "t", LinkId: "l", Key: &gsv1.GetItemRequest_ExternalId{ExternalId: "e9"}})
			return err
		}, codes.NotFound},
		{"DeleteItem missing", func() error {
			_, err := c.DeleteItem(ctx, &gsv1.DeleteItemRequest{TenantId: "t", LinkId: "l", WixItemId: "w9"})
			return err
		}, codes.NotFound},
		{"PutItem create over existing", func() error { _, err := c.PutItem(ctx, &gsv1.PutItemRequest{Item: item}); return err }, codes.Aborted},
		{"PutItem stale revision", func() error {
			_, err := c.PutItem(ctx, &gsv1.PutItemRequest{Item: item, ExpectedRevision: 5})
			return err
		}, codes.Aborted},
		{"PutItem external id of another item", func() error {
			_, err := c.PutItem(ctx, &gsv1.PutItemRequest{Item: &gsv1.ItemMapping{TenantId: "t", LinkId: "l", WixItemId: "w2", ExternalId: "e1"}})
			return err
		}, codes.Aborted},
		{"GetItem by external id", func() error {
			_, err := c.GetItem(ctx, &gsv1.GetItemRequest{TenantId: "t", LinkId: "l", Key: &gsv1.GetItemRequest_ExternalId{ExternalId: "e1"}})
			return err
		}, codes.OK},
		{"PutItem with current revision", func() error {
			_, err := c.PutItem(ctx, &gsv1.PutItemRequest{Item: item, ExpectedRevision: 1})
			return err
		}, codes.OK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, tc.name, tc.call(), tc.want)
		})
	}
}

func TestCredentialsAreSealedAtRest(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := openBolt(t)
	key := newKey(t)
	c := serve(t, NewService(st, newSealer(t, key), testLogger(t)))
	secret := []byte("mastodon-token-Zq81")
	conn := &gsv1.Connection{TenantId: "t1", ConnectionId: "c1", Platform: "mastodon", BaseUrl: "https://social.example", Credentials: secret}

	put, err := c.PutConnection(ctx, &gsv1.PutConnectionRequest{Connection: conn})
	if err != nil {
		t.Fatal(err)
	}
	if len(put.Connection.Credentials) != 0 {
		t.Fatal("PutConnection answered with the credentials; only GetConnection may")
	}
	raw, err := st.GetConnection(ctx, "t1", "c1")
	if err != nil {
		t.Fatal(err)
	}
	if len(raw.Credentials) == 0 || bytes.Contains(raw.Credentials, secret) {
		t.Fatalf("store holds credentials %q; want ciphertext without the secret", raw.Credentials)
	}
	got, err := c.GetConnection(ctx, &gsv1.GetConnectionRequest{TenantId: "t1", ConnectionId: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	want := proto.Clone(conn).(*gsv1.Connection)
	want.CreatedAt = put.Connection.CreatedAt
	if !proto.Equal(got.Connection, want) {
		t.Fatalf("GetConnection = %v, want %v", got.Connection, want)
	}

	t.Run("blob copied to another tenant does not open", func(t *testing.T) {
		stolen := proto.Clone(raw).(*gsv1.Connection)
		stolen.TenantId = "t2"
		if err := st.PutConnection(ctx, stolen); err != nil {
			t.Fatal(err)
		}
		_, err := c.GetConnection(ctx, &gsv1.GetConnectionRequest{TenantId: "t2", ConnectionId: "c1"})
		wantCode(t, "GetConnection of a copied blob", err, codes.Internal)
		if strings.Contains(err.Error(), string(secret)) {
			t.Fatal("error reveals the secret")
		}
	})
	t.Run("another key does not open", func(t *testing.T) {
		other := serve(t, NewService(st, newSealer(t, newKey(t)), testLogger(t)))
		_, err := other.GetConnection(ctx, &gsv1.GetConnectionRequest{TenantId: "t1", ConnectionId: "c1"})
		wantCode(t, "GetConnection with another key", err, codes.Internal)
	})
	t.Run("empty credentials stay empty", func(t *testing.T) {
		if _, err := c.PutConnection(ctx, &gsv1.PutConnectionRequest{Connection: &gsv1.Connection{TenantId: "t1", ConnectionId: "c2", Platform: "flickr"}}); err != nil {
			t.Fatal(err)
		}
		got, err := c.GetConnection(ctx, &gsv1.GetConnectionRequest{TenantId: "t1", ConnectionId: "c2"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Connection.Credentials) != 0 {
			t.Fatalf("credentials %q, want none", got.Connection.Credentials)
		}
	})
}

func TestCreatedAt(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	first, err := c.PutTenant(ctx, &gsv1.PutTenantRequest{Tenant: &gsv1.Tenant{TenantId: "t1", DisplayName: "one"}})
	if err != nil {
		t.Fatal(err)
	}
	if first.Tenant.CreatedAt == nil {
		t.Fatal("PutTenant did not set created_at")
	}
	explicit := timestamppb.New(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	cases := []struct {
		name string
		put  func() (*timestamppb.Timestamp, error)
		get  func() (*timestamppb.Timestamp, error)
		want *timestamppb.Timestamp
	}{
		{"tenant replaced keeps its creation time",
			func() (*timestamppb.Timestamp, error) {
				r, err := c.PutTenant(ctx, &gsv1.PutTenantRequest{Tenant: &gsv1.Tenant{TenantId: "t1", DisplayName: "two"}})
				return r.GetTenant().GetCreatedAt(), err
			},
			func() (*timestamppb.Timestamp, error) {
				r, err := c.GetTenant(ctx, &gsv1.GetTenantRequest{TenantId: "t1"})
				return r.GetTenant().GetCreatedAt(), err
			},
			first.Tenant.CreatedAt},
		{"link with explicit time keeps it",
			func() (*timestamppb.Timestamp, error) {
				r, err := c.PutLink(ctx, &gsv1.PutLinkRequest{Link: &gsv1.Link{TenantId: "t1", LinkId: "l1", GalleryId: "g", ConnectionId: "c", CreatedAt: explicit}})
				return r.GetLink().GetCreatedAt(), err
			},
			func() (*timestamppb.Timestamp, error) {
				r, err := c.GetLink(ctx, &gsv1.GetLinkRequest{TenantId: "t1", LinkId: "l1"})
				return r.GetLink().GetCreatedAt(), err
			},
			explicit},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			put, err := tc.put()
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.get()
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(put, tc.want) || !proto.Equal(got, tc.want) {
				t.Fatalf("created_at put %v, stored %v; want %v", put.AsTime(), got.AsTime(), tc.want.AsTime())
			}
		})
	}
	t.Run("connection gets a creation time", func(t *testing.T) {
		r, err := c.PutConnection(ctx, &gsv1.PutConnectionRequest{Connection: &gsv1.Connection{TenantId: "t1", ConnectionId: "c", Platform: "mastodon"}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Connection.CreatedAt == nil || time.Since(r.Connection.CreatedAt.AsTime()) > time.Hour {
			t.Fatalf("created_at %v, want about now", r.Connection.CreatedAt)
		}
	})
}

func TestTenantIsolationOverRPC(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	hour := durationpb.New(time.Hour)
	seedA := []func() error{
		func() error {
			_, err := c.PutTenant(ctx, &gsv1.PutTenantRequest{Tenant: &gsv1.Tenant{TenantId: "A"}})
			return err
		},
		func() error {
			_, err := c.PutConnection(ctx, &gsv1.PutConnectionRequest{Connection: &gsv1.Connection{TenantId: "A", ConnectionId: "c1", Platform: "mastodon", Credentials: []byte("a-token")}})
			return err
		},
		func() error {
			_, err := c.PutLink(ctx, &gsv1.PutLinkRequest{Link: &gsv1.Link{TenantId: "A", LinkId: "l1", GalleryId: "g1", ConnectionId: "c1"}})
			return err
		},
		func() error {
			_, err := c.PutItem(ctx, &gsv1.PutItemRequest{Item: &gsv1.ItemMapping{TenantId: "A", LinkId: "l1", WixItemId: "w1", ExternalId: "e1"}})
			return err
		},
		func() error {
			_, err := c.MarkEcho(ctx, &gsv1.MarkEchoRequest{TenantId: "A", Side: gsv1.Side_SIDE_PLATFORM, ObjectId: "e1", ContentHash: "h", Ttl: hour})
			return err
		},
		func() error {
			_, err := c.MarkDedup(ctx, &gsv1.MarkDedupRequest{TenantId: "A", Key: "wix:1", Ttl: hour})
			return err
		},
		func() error {
			_, err := c.AcquireLock(ctx, &gsv1.AcquireLockRequest{TenantId: "A", Key: "w1", Owner: "writer", Ttl: hour})
			return err
		},
	}
	for _, f := range seedA {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	notFound := []struct {
		name string
		call func() error
	}{
		{"GetTenant", func() error { _, err := c.GetTenant(ctx, &gsv1.GetTenantRequest{TenantId: "B"}); return err }},
		{"GetConnection", func() error {
			_, err := c.GetConnection(ctx, &gsv1.GetConnectionRequest{TenantId: "B", ConnectionId: "c1"})
			return err
		}},
		{"GetLink", func() error { _, err := c.GetLink(ctx, &gsv1.GetLinkRequest{TenantId: "B", LinkId: "l1"}); return err }},
		{"GetItem by wix id", func() error {
			_, err := c.GetItem(ctx, &gsv1.GetItemRequest{TenantId: "B", LinkId: "l1", Key: &gsv1.GetItemRequest_WixItemId{WixItemId: "w1"}})
			return err
		}},
		{"GetItem by external id", func() error {
			_, err := c.GetItem(ctx, &gsv1.GetItemRequest{TenantId: "B", LinkId: "l1", Key: &gsv1.GetItemRequest_ExternalId{ExternalId: "e1"}})
			return err
		}},
		{"DeleteItem", func() error {
			_, err := c.DeleteItem(ctx, &gsv1.DeleteItemRequest{TenantId: "B", LinkId: "l1", WixItemId: "w1"})
			return err
		}},
	}
	for _, tc := range notFound {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, "tenant B "+tc.name, tc.call(), codes.NotFound)
		})
	}
	t.Run("lists and markers", func(t *testing.T) {
		links, err := c.ListLinks(ctx, &gsv1.ListLinksRequest{TenantId: "B"})
		if err != nil {
			t.Fatal(err)
		}
		items, err := c.ListItems(ctx, &gsv1.ListItemsRequest{TenantId: "B", LinkId: "l1"})
		if err != nil {
			t.Fatal(err)
		}
		echo, err := c.CheckEcho(ctx, &gsv1.CheckEchoRequest{TenantId: "B", Side: gsv1.Side_SIDE_PLATFORM, ObjectId: "e1", ContentHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		seen, err := c.CheckDedup(ctx, &gsv1.CheckDedupRequest{TenantId: "B", Key: "wix:1"})
		if err != nil {
			t.Fatal(err)
		}
		rel, err := c.ReleaseLock(ctx, &gsv1.ReleaseLockRequest{TenantId: "B", Key: "w1", Owner: "writer"})
		if err != nil {
			t.Fatal(err)
		}
		if len(links.Links) != 0 || len(items.Items) != 0 || echo.Echo || seen.Seen || rel.Released {
			t.Fatalf("tenant B sees A: %d links, %d items, echo %v, dedup %v, released A's lock %v",
				len(links.Links), len(items.Items), echo.Echo, seen.Seen, rel.Released)
		}
	})
	t.Run("A is untouched", func(t *testing.T) {
		got, err := c.GetItem(ctx, &gsv1.GetItemRequest{TenantId: "A", LinkId: "l1", Key: &gsv1.GetItemRequest_WixItemId{WixItemId: "w1"}})
		if err != nil {
			t.Fatal(err)
		}
		lock, err := c.AcquireLock(ctx, &gsv1.AcquireLockRequest{TenantId: "A", Key: "w1", Owner: "other", Ttl: hour})
		if err != nil {
			t.Fatal(err)
		}
		if got.Item.ExternalId != "e1" || lock.Acquired {
			t.Fatalf("A's item external %q, A's lock taken by another owner %v", got.Item.ExternalId, lock.Acquired)
		}
	})
}
