package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

func newLink(tenant, id string) *gsv1.Link {
	return &gsv1.Link{
		TenantId: tenant, LinkId: id, GalleryId: "g-" + id, ConnectionId: "c1", AlbumId: "album-" + id,
		State: gsv1.LinkState_LINK_STATE_ACTIVE, Direction: gsv1.Direction_DIRECTION_TWO_WAY,
		CreatedAt: timestamppb.New(time.Unix(1700000000, 0)),
	}
}

// linkKey names a link across tenants; ids hold no control characters, so
// the separator keeps the key unambiguous.
func linkKey(l *gsv1.Link) string { return l.TenantId + "\x00" + l.LinkId }

// compareLinks is the scan order: tenant id, then link id, byte by byte.
func compareLinks(a, b *gsv1.Link) int {
	return cmp.Or(strings.Compare(a.TenantId, b.TenantId), strings.Compare(a.LinkId, b.LinkId))
}

// putLinks writes links from a few goroutines, as concurrent writers would.
func putLinks(t *testing.T, s store.Store, links []*gsv1.Link) {
	t.Helper()
	work := make(chan *gsv1.Link)
	errs := make(chan error, len(links))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for l := range work {
				if err := s.PutLink(t.Context(), l); err != nil {
					errs <- fmt.Errorf("put link %s of %s: %w", l.LinkId, l.TenantId, err)
				}
			}
		})
	}
	for _, l := range links {
		work <- l
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// scanAll pages through every link in the store. It fails unless the links
// come in scan order without repeats and every page but the last is full.
// between, if set, runs after each page.
func scanAll(t *testing.T, s store.Store, pageSize int, between func(page int)) (links []*gsv1.Link, pages int) {
	t.Helper()
	want, err := store.PageSize(pageSize)
	must(t, "page size", err)
	token := ""
	for {
		page, next, err := s.ScanLinks(t.Context(), pageSize, token)
		must(t, fmt.Sprintf("ScanLinks page %d", pages+1), err)
		pages++
		if len(page) > want || (next != "" && len(page) != want) {
			t.Fatalf("page %d has %d links and next token %q; want %d (at most %d on the last page)",
				pages, len(page), next, want, want)
		}
		for _, l := range page {
			if n := len(links); n > 0 && compareLinks(links[n-1], l) >= 0 {
				t.Fatalf("page %d: link (%s, %s) after (%s, %s); want strictly ascending tenant, then link id",
					pages, l.TenantId, l.LinkId, links[n-1].TenantId, links[n-1].LinkId)
			}
			links = append(links, l)
		}
		if next == "" {
			return links, pages
		}
		if pages > 100000 {
			t.Fatal("scan does not end")
		}
		if between != nil {
			between(pages)
		}
		token = next
	}
}

// ofTenants keeps the links of the given tenants.
func ofTenants(links []*gsv1.Link, tenants ...string) []*gsv1.Link {
	return slices.DeleteFunc(slices.Clone(links), func(l *gsv1.Link) bool { return !slices.Contains(tenants, l.TenantId) })
}

// sameLinks fails unless got holds exactly the links of want, in scan order.
func sameLinks(t *testing.T, what string, got, want []*gsv1.Link) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d links, want each of %d exactly once", what, len(got), len(want))
	}
	for i := range want {
		mustEqual(t, fmt.Sprintf("%s: link %d", what, i), got[i], want[i])
	}
}

// scanFixture is three tenants of 250 links each. The tenant ids sort
// differently by their bytes than by their length, and the link ids include
// separators, braces and non-ASCII text.
func scanFixture(base string) (tenants []string, links []*gsv1.Link) {
	tenants = []string{base + "-b", base + "-a0", base + "-a"}
	for _, tenant := range tenants {
		for i := range 246 {
			links = append(links, newLink(tenant, fmt.Sprintf("link-%03d", i)))
		}
		for _, id := range []string{"a:b", "a{b}", "Z", "élan"} {
			links = append(links, newLink(tenant, id))
		}
	}
	return tenants, links
}

func testScanLinks(t *testing.T, s store.Store) {
	tenants, want := scanFixture(newTenant(t))
	putLinks(t, s, shuffled(want))
	slices.SortFunc(want, compareLinks)

	sizes := []struct {
		name string
		size int
	}{
		{"pages of 100", 100},
		{"default size", 0},
		{"small pages", 7},
		{"one page", 1000},
		{"larger than the maximum", 5000},
	}
	for _, c := range sizes {
		t.Run(c.name, func(t *testing.T) {
			all, _ := scanAll(t, s, c.size, nil)
			sameLinks(t, "own links in the scan", ofTenants(all, tenants...), want)
		})
	}

	t.Run("links written during the scan", func(t *testing.T) {
		// Each original link exists throughout, so it must be visited once,
		// whatever is written next to it. A replaced link may show either
		// version; new links may or may not show up.
		replaced := 0
		visited := map[string]int{}
		all, _ := scanAll(t, s, 100, func(page int) {
			var writes []*gsv1.Link
			for _, tenant := range append(slices.Clone(tenants), fmt.Sprintf("%s-new%d", tenants[0], page)) {
				writes = append(writes,
					newLink(tenant, fmt.Sprintf("link-%03d-new", page*30)),
					newLink(tenant, fmt.Sprintf("%c-new", 'A'+page)))
			}
			// Links near the end, most of them still ahead of the scan.
			start := max(0, len(want)-page*40)
			for _, l := range want[start:min(start+10, len(want))] {
				moved := newLink(l.TenantId, l.LinkId)
				moved.AlbumId = "moved"
				writes = append(writes, moved)
				replaced++
			}
			putLinks(t, s, writes)
		})
		for _, l := range all {
			visited[linkKey(l)]++
		}
		for _, l := range want {
			if n := visited[linkKey(l)]; n != 1 {
				t.Fatalf("link (%s, %s) visited %d times, want once", l.TenantId, l.LinkId, n)
			}
		}
		if replaced == 0 {
			t.Fatal("the scan took one page: nothing was written during it")
		}
	})
}

// testScanLinksAlone runs on a backend of its own, so it knows every link
// the scan must return.
func testScanLinksAlone(t *testing.T, s store.Store) {
	ctx := t.Context()
	t.Run("empty store", func(t *testing.T) {
		for _, size := range []int{0, 1, store.MaxPageSize} {
			links, next, err := s.ScanLinks(ctx, size, "")
			must(t, "scan an empty store", err)
			if len(links) != 0 || next != "" {
				t.Fatalf("scan of an empty store with page size %d: %d links, next %q; want nothing", size, len(links), next)
			}
		}
	})

	var want []*gsv1.Link
	for _, tenant := range []string{"t-b", "t-a0", "t-a"} {
		for _, id := range []string{"l2", "l1"} {
			want = append(want, newLink(tenant, id))
		}
	}
	want = append(want, newLink("t-c", "only"))
	putLinks(t, s, want)
	slices.SortFunc(want, compareLinks)
	t.Run("exact pages", func(t *testing.T) {
		for size := 1; size <= len(want)+1; size++ {
			got, pages := scanAll(t, s, size, nil)
			sameLinks(t, fmt.Sprintf("scan with page size %d", size), got, want)
			if wantPages := (len(want) + size - 1) / size; pages != wantPages {
				t.Fatalf("page size %d: %d pages, want %d: the last page says it is the last", size, pages, wantPages)
			}
		}
	})

	t.Run("many tenants", func(t *testing.T) {
		var many []*gsv1.Link
		for i := range 300 {
			for j := range i%3 + 1 {
				many = append(many, newLink(fmt.Sprintf("t-m%03d", i), fmt.Sprintf("l%d", j)))
			}
		}
		putLinks(t, s, shuffled(many))
		want = slices.SortedFunc(slices.Values(append(want, many...)), compareLinks)
		for _, size := range []int{1, 2, 7, 100, store.MaxPageSize} {
			got, _ := scanAll(t, s, size, nil)
			sameLinks(t, fmt.Sprintf("scan with page size %d", size), got, want)
		}
	})

	t.Run("page size capped", func(t *testing.T) {
		var big []*gsv1.Link
		for i := range store.MaxPageSize {
			big = append(big, newLink("t-big", fmt.Sprintf("l%04d", i)))
		}
		putLinks(t, s, big)
		want := slices.SortedFunc(slices.Values(append(slices.Clone(want), big...)), compareLinks)
		got, pages := scanAll(t, s, store.MaxPageSize*5, nil)
		sameLinks(t, "scan", got, want)
		if pages != 2 {
			t.Fatalf("%d links in %d pages, want 2 pages of at most %d", len(want), pages, store.MaxPageSize)
		}
	})
}
