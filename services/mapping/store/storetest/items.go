package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

func newItem(tenant, link, wix, ext, wixHash string) *gsv1.ItemMapping {
	return &gsv1.ItemMapping{
		TenantId: tenant, LinkId: link, WixItemId: wix, ExternalId: ext,
		State: gsv1.ItemState_ITEM_STATE_SYNCED, IntentKey: "intent-" + wix,
		WixHash: wixHash, ExternalHash: "x" + wixHash, SortOrder: 1.5,
		WixVersion:      timestamppb.New(time.Unix(1700000000, 0)),
		ExternalVersion: timestamppb.New(time.Unix(1700000100, 0)),
		ExternalAttrs:   map[string]string{"media_id": "m-" + wix},
	}
}

// sameContent compares what the caller wrote with what was stored, leaving
// out the fields the store assigns.
func sameContent(t *testing.T, what string, got, wrote *gsv1.ItemMapping) {
	t.Helper()
	g := proto.Clone(got).(*gsv1.ItemMapping)
	w := proto.Clone(wrote).(*gsv1.ItemMapping)
	g.Revision, g.UpdatedAt, w.Revision, w.UpdatedAt = 0, nil, 0, nil
	mustEqual(t, what, g, w)
}

func testItemCompareAndSet(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	steps := []struct {
		name     string
		expected int64
		ext      string
		wantRev  int64
		wantErr  error
	}{
		{"create", 0, "e1", 1, nil},
		{"create again", 0, "e-other", 0, store.ErrConflict},
		{"update", 1, "e1", 2, nil},
		{"stale revision", 1, "e-stale", 0, store.ErrConflict},
		{"revision from the future", 9, "e-future", 0, store.ErrConflict},
		{"change external id", 2, "e2", 3, nil},
	}
	var last *gsv1.ItemMapping
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			in := newItem(tenant, "l1", "w1", st.ext, st.name)
			in.Revision = 42 // assigned by the store, whatever the caller sends
			before := proto.Clone(in)
			put, err := s.PutItem(ctx, in, st.expected)
			mustEqual(t, "caller's item after PutItem", in, before)
			if st.wantErr != nil {
				mustErr(t, "PutItem", err, st.wantErr)
				if _, err := s.GetItemByExternal(ctx, tenant, "l1", st.ext); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("a refused PutItem indexed external id %s (err %v)", st.ext, err)
				}
			} else {
				must(t, "PutItem", err)
				if put.Revision != st.wantRev {
					t.Fatalf("PutItem revision %d, want %d", put.Revision, st.wantRev)
				}
				if put.UpdatedAt == nil || put.UpdatedAt.AsTime().Before(time.Now().Add(-time.Hour)) {
					t.Fatalf("PutItem updated_at %v, want about now", put.UpdatedAt)
				}
				sameContent(t, "returned item", put, in)
				last = put
			}
			got, err := s.GetItemByWix(ctx, tenant, "l1", "w1")
			must(t, "GetItemByWix", err)
			mustEqual(t, "stored item", got, last)
		})
	}

	t.Run("recreate after delete", func(t *testing.T) {
		must(t, "delete", s.DeleteItem(ctx, tenant, "l1", "w1"))
		put, err := s.PutItem(ctx, newItem(tenant, "l1", "w1", "e2", "again"), 0)
		must(t, "PutItem after delete", err)
		if put.Revision != 1 {
			t.Fatalf("revision after recreate %d, want 1", put.Revision)
		}
	})
}

func testItemConcurrentCompareAndSet(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	const writers = 8
	for round := range 4 {
		expected := int64(round)
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			winners []string
			others  []error
		)
		for w := range writers {
			hash := fmt.Sprintf("round%d-writer%d", round, w)
			wg.Go(func() {
				_, err := s.PutItem(ctx, newItem(tenant, "l1", "w1", "e-"+hash, hash), expected)
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					winners = append(winners, hash)
				} else if !errors.Is(err, store.ErrConflict) {
					others = append(others, err)
				}
			})
		}
		wg.Wait()
		if len(others) > 0 || len(winners) != 1 {
			t.Fatalf("round %d (expected revision %d): winners %v, unexpected errors %v; want exactly one winner",
				round, expected, winners, others)
		}
		got, err := s.GetItemByWix(ctx, tenant, "l1", "w1")
		must(t, "GetItemByWix", err)
		if got.Revision != expected+1 || got.WixHash != winners[0] {
			t.Fatalf("round %d: stored revision %d hash %q, want %d %q", round, got.Revision, got.WixHash, expected+1, winners[0])
		}
		byExt, err := s.GetItemByExternal(ctx, tenant, "l1", "e-"+winners[0])
		must(t, "winner's external id", err)
		mustEqual(t, "item by winner's external id", byExt, got)
	}
}

func testExternalIndex(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	lookups := func(t *testing.T, link string, want map[string]string) {
		t.Helper()
		for ext, wix := range want {
			got, err := s.GetItemByExternal(ctx, tenant, link, ext)
			if wix == "" {
				mustErr(t, "GetItemByExternal "+ext, err, store.ErrNotFound)
				continue
			}
			must(t, "GetItemByExternal "+ext, err)
			if got.WixItemId != wix || got.ExternalId != ext {
				t.Fatalf("external %s resolves to wix %s (external %s), want wix %s", ext, got.WixItemId, got.ExternalId, wix)
			}
		}
	}
	put := func(t *testing.T, link, wix, ext string, expected int64) *gsv1.ItemMapping {
		t.Helper()
		it, err := s.PutItem(ctx, newItem(tenant, link, wix, ext, "h"), expected)
		must(t, fmt.Sprintf("PutItem %s/%s ext %q", link, wix, ext), err)
		return it
	}

	t.Run("create indexes", func(t *testing.T) {
		put(t, "l1", "w1", "e1", 0)
		put(t, "l1", "w2", "", 0)
		lookups(t, "l1", map[string]string{"e1": "w1", "e2": ""})
	})
	t.Run("change moves the entry", func(t *testing.T) {
		put(t, "l1", "w1", "e1b", 1)
		lookups(t, "l1", map[string]string{"e1": "", "e1b": "w1"})
	})
	t.Run("clearing removes the entry", func(t *testing.T) {
		put(t, "l1", "w1", "", 2)
		lookups(t, "l1", map[string]string{"e1b": ""})
	})
	t.Run("external id of another item is refused", func(t *testing.T) {
		put(t, "l1", "w3", "e3", 0)
		_, err := s.PutItem(ctx, newItem(tenant, "l1", "w2", "e3", "h"), 1)
		mustErr(t, "PutItem claiming another item's external id", err, store.ErrConflict)
		lookups(t, "l1", map[string]string{"e3": "w3"})
		got, err := s.GetItemByWix(ctx, tenant, "l1", "w2")
		must(t, "GetItemByWix w2", err)
		if got.Revision != 1 || got.ExternalId != "" {
			t.Fatalf("refused PutItem changed w2: revision %d external %q", got.Revision, got.ExternalId)
		}
	})
	t.Run("freed external id can be taken", func(t *testing.T) {
		put(t, "l1", "w3", "e3b", 1)
		put(t, "l1", "w2", "e3", 1)
		lookups(t, "l1", map[string]string{"e3": "w2", "e3b": "w3"})
	})
	t.Run("links are separate", func(t *testing.T) {
		put(t, "l2", "w9", "e3", 0)
		lookups(t, "l1", map[string]string{"e3": "w2"})
		lookups(t, "l2", map[string]string{"e3": "w9", "e3b": ""})
	})
	t.Run("separators in ids do not collide", func(t *testing.T) {
		put(t, "a:b", "c", "x:y", 0)
		put(t, "a", "b:c", "y", 0)
		lookups(t, "a:b", map[string]string{"x:y": "c", "y": ""})
		lookups(t, "a", map[string]string{"y": "b:c", "x:y": ""})
	})
	t.Run("delete removes the entry", func(t *testing.T) {
		must(t, "DeleteItem", s.DeleteItem(ctx, tenant, "l1", "w2"))
		_, err := s.GetItemByWix(ctx, tenant, "l1", "w2")
		mustErr(t, "GetItemByWix after delete", err, store.ErrNotFound)
		lookups(t, "l1", map[string]string{"e3": "", "e3b": "w3"})
		mustErr(t, "second DeleteItem", s.DeleteItem(ctx, tenant, "l1", "w2"), store.ErrNotFound)
	})
}

// putItems writes one item per id, several at a time.
func putItems(t *testing.T, s store.Store, tenant, link string, ids []string) {
	t.Helper()
	work := make(chan string)
	errs := make(chan error, len(ids))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for id := range work {
				if _, err := s.PutItem(t.Context(), newItem(tenant, link, id, "ext-"+id, "h-"+id), 0); err != nil {
					errs <- fmt.Errorf("put %s: %w", id, err)
				}
			}
		})
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// pageAll lists a link page by page and fails on a repeated or unordered item.
func pageAll(t *testing.T, s store.Store, tenant, link string, pageSize int) (ids []string, pages int) {
	t.Helper()
	token := ""
	for {
		items, next, err := s.ListItems(t.Context(), tenant, link, pageSize, token)
		must(t, fmt.Sprintf("ListItems page %d", pages), err)
		pages++
		for _, it := range items {
			if n := len(ids); n > 0 && ids[n-1] >= it.WixItemId {
				t.Fatalf("page %d: %q after %q, want strictly ascending wix ids", pages, it.WixItemId, ids[n-1])
			}
			if it.ExternalId != "ext-"+it.WixItemId || it.Revision != 1 {
				t.Fatalf("page %d: item %q has external %q revision %d", pages, it.WixItemId, it.ExternalId, it.Revision)
			}
			ids = append(ids, it.WixItemId)
		}
		if next == "" {
			return ids, pages
		}
		if len(items) == 0 {
			t.Fatalf("page %d is empty but has a next token", pages)
		}
		if pages > 10000 {
			t.Fatal("paging does not end")
		}
		token = next
	}
}

func shuffled[T any](ids []T) []T {
	out := slices.Clone(ids)
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func testPaging(t *testing.T, s store.Store) {
	tenant := newTenant(t)
	var want []string
	for i := range 246 {
		want = append(want, fmt.Sprintf("item-%04d", i))
	}
	// Ids with separators, braces and non-ASCII text sort by their bytes too.
	want = append(want, "a:b", "a{b}", "Z", "élan")
	putItems(t, s, tenant, "l1", shuffled(want))
	putItems(t, s, tenant, "l2", []string{"item-0001"}) // a neighbour that must not show up
	slices.Sort(want)

	sizes := []struct {
		name      string
		size      int
		wantPages int
	}{
		{"one by one", 1, 250},
		{"small pages", 7, 36},
		{"default size", 0, 3},
		{"exact fit", 250, 1},
		{"larger than the link", 1000, 1},
	}
	for _, c := range sizes {
		t.Run(c.name, func(t *testing.T) {
			got, pages := pageAll(t, s, tenant, "l1", c.size)
			if !slices.Equal(got, want) {
				t.Fatalf("paging visited %d items, want each of %d exactly once", len(got), len(want))
			}
			// The last page may be empty when the link size is a multiple of the page size.
			if pages != c.wantPages && pages != c.wantPages+1 {
				t.Fatalf("paging took %d pages, want %d", pages, c.wantPages)
			}
		})
	}
	t.Run("first page of default size", func(t *testing.T) {
		items, next, err := s.ListItems(t.Context(), tenant, "l1", 0, "")
		must(t, "ListItems", err)
		if len(items) != store.DefaultPageSize || next == "" {
			t.Fatalf("default page has %d items, next %q; want %d and a token", len(items), next, store.DefaultPageSize)
		}
	})
}

func testLargeLink(t *testing.T, s store.Store) {
	tenant := newTenant(t)
	var want []string
	for i := range 2000 {
		want = append(want, fmt.Sprintf("w%05d", i*7919%100000))
	}
	putItems(t, s, tenant, "big", shuffled(want))
	slices.Sort(want)

	got, pages := pageAll(t, s, tenant, "big", 0)
	if !slices.Equal(got, want) {
		t.Fatalf("paging 2000 items visited %d, want each exactly once", len(got))
	}
	if pages < 20 {
		t.Fatalf("default paging took %d pages, want at least 20", pages)
	}
	items, next, err := s.ListItems(t.Context(), tenant, "big", 5000, "")
	must(t, "ListItems with oversized page", err)
	if len(items) != store.MaxPageSize || next == "" {
		t.Fatalf("page size 5000 returned %d items, next %q; want the maximum %d and a token", len(items), next, store.MaxPageSize)
	}
}
