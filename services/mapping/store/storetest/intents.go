package storetest

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

func newIntent(tenant, key, hash string) *gsv1.Intent {
	return &gsv1.Intent{
		TenantId: tenant, Key: key, LinkId: "l1", ExternalId: "e1", ContentHash: hash,
		Attrs: map[string]string{"file_id": "f-" + hash, "url": "https://example.com/p?a=1&b=é"},
	}
}

// sameIntent compares a stored intent with what was put, apart from created_at.
func sameIntent(t *testing.T, what string, got, put *gsv1.Intent) {
	t.Helper()
	g := proto.Clone(got).(*gsv1.Intent)
	p := proto.Clone(put).(*gsv1.Intent)
	g.CreatedAt, p.CreatedAt = nil, nil
	mustEqual(t, what, g, p)
}

func testIntent(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	key := "wix-create:l1:e1"
	var first *gsv1.Intent

	t.Run("create", func(t *testing.T) {
		in := newIntent(tenant, key, "h1")
		in.CreatedAt = timestamppb.New(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)) // assigned by the store
		sent := proto.Clone(in)
		put, err := s.PutIntent(ctx, in, time.Hour)
		must(t, "put intent", err)
		mustEqual(t, "caller's intent after PutIntent", in, sent)
		sameIntent(t, "returned intent", put, in)
		if put.CreatedAt == nil || time.Since(put.CreatedAt.AsTime()).Abs() > time.Hour {
			t.Fatalf("created_at %v, want about now", put.GetCreatedAt())
		}
		got, err := s.GetIntent(ctx, tenant, key)
		must(t, "get intent", err)
		mustEqual(t, "stored intent", got, put)
		first = put
	})
	t.Run("replace keeps created_at", func(t *testing.T) {
		in := newIntent(tenant, key, "h2")
		in.Attrs = nil
		put, err := s.PutIntent(ctx, in, time.Hour)
		must(t, "replace intent", err)
		sameIntent(t, "returned intent", put, in)
		mustEqual(t, "created_at", put.CreatedAt, first.CreatedAt)
		got, err := s.GetIntent(ctx, tenant, key)
		must(t, "get intent", err)
		mustEqual(t, "stored intent", got, put)
	})
	t.Run("other keys are separate", func(t *testing.T) {
		for _, other := range []string{"wix-create:l1:e2", "wix-create:l1", key + ":"} {
			_, err := s.GetIntent(ctx, tenant, other)
			mustErr(t, "get intent "+other, err, store.ErrNotFound)
		}
	})
	t.Run("longest key", func(t *testing.T) {
		long := strings.Repeat("k", store.MaxKeyLen)
		put, err := s.PutIntent(ctx, newIntent(tenant, long, "h"), time.Hour)
		must(t, "put intent", err)
		got, err := s.GetIntent(ctx, tenant, long)
		must(t, "get intent", err)
		mustEqual(t, "stored intent", got, put)
	})
	t.Run("delete", func(t *testing.T) {
		must(t, "delete intent", s.DeleteIntent(ctx, tenant, key))
		_, err := s.GetIntent(ctx, tenant, key)
		mustErr(t, "get deleted intent", err, store.ErrNotFound)
		must(t, "delete it again", s.DeleteIntent(ctx, tenant, key))
		must(t, "delete one that never was", s.DeleteIntent(ctx, tenant, "never"))
	})
	t.Run("put after delete starts over", func(t *testing.T) {
		put, err := s.PutIntent(ctx, newIntent(tenant, key, "h3"), time.Hour)
		must(t, "put intent", err)
		if put.CreatedAt.AsTime().Before(first.CreatedAt.AsTime()) {
			t.Fatalf("created_at %v is before that of the deleted intent %v", put.CreatedAt.AsTime(), first.CreatedAt.AsTime())
		}
	})
}

func testIntentExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	t.Run("expired intent is gone", func(t *testing.T) {
		put, err := s.PutIntent(ctx, newIntent(tenant, "short", "h1"), shortTTL)
		must(t, "put intent", err)
		waitFor(t, "intent expired", func() bool {
			_, err := s.GetIntent(ctx, tenant, "short")
			if err == nil {
				return false
			}
			mustErr(t, "get intent", err, store.ErrNotFound)
			return true
		})
		again, err := s.PutIntent(ctx, newIntent(tenant, "short", "h2"), time.Hour)
		must(t, "put intent after expiry", err)
		if !again.CreatedAt.AsTime().After(put.CreatedAt.AsTime()) {
			t.Fatalf("created_at %v after expiry, want later than the expired intent's %v",
				again.CreatedAt.AsTime(), put.CreatedAt.AsTime())
		}
	})
	t.Run("replace sets the new ttl", func(t *testing.T) {
		_, err := s.PutIntent(ctx, newIntent(tenant, "extended", "h1"), shortTTL)
		must(t, "put intent", err)
		_, err = s.PutIntent(ctx, newIntent(tenant, "extended", "h2"), time.Hour)
		must(t, "replace intent", err)
		// A witness put after the replacement: once it expired, the first
		// short TTL would have ended too.
		_, err = s.PutIntent(ctx, newIntent(tenant, "witness", "h"), shortTTL)
		must(t, "put witness", err)
		waitFor(t, "witness expired", func() bool {
			_, err := s.GetIntent(ctx, tenant, "witness")
			return err != nil
		})
		got, err := s.GetIntent(ctx, tenant, "extended")
		must(t, "get replaced intent", err)
		if got.ContentHash != "h2" {
			t.Fatalf("content hash %q, want h2", got.ContentHash)
		}
	})
}
