package server

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// putLinksRPC writes links over gRPC from a few goroutines and returns them
// as stored (with created_at), in scan order.
func putLinksRPC(t *testing.T, c gsv1.MappingServiceClient, links []*gsv1.Link) []*gsv1.Link {
	t.Helper()
	stored := make([]*gsv1.Link, len(links))
	errs := make(chan error, len(links))
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(links); i += 8 {
				resp, err := c.PutLink(t.Context(), &gsv1.PutLinkRequest{Link: links[i]})
				if err != nil {
					errs <- fmt.Errorf("put link %s of %s: %w", links[i].LinkId, links[i].TenantId, err)
					continue
				}
				stored[i] = resp.Link
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	sortLinks(stored)
	return stored
}

func sortLinks(links []*gsv1.Link) {
	slices.SortFunc(links, func(a, b *gsv1.Link) int {
		return cmp.Or(strings.Compare(a.TenantId, b.TenantId), strings.Compare(a.LinkId, b.LinkId))
	})
}

// scanRPC pages through ScanLinks and returns the links and the size of each page.
func scanRPC(t *testing.T, c gsv1.MappingServiceClient, pageSize int32) (links []*gsv1.Link, pages []int) {
	t.Helper()
	token := ""
	for {
		resp, err := c.ScanLinks(t.Context(), &gsv1.ScanLinksRequest{PageSize: pageSize, PageToken: token})
		if err != nil {
			t.Fatalf("ScanLinks page %d: %v", len(pages)+1, err)
		}
		links = append(links, resp.Links...)
		pages = append(pages, len(resp.Links))
		if resp.NextPageToken == "" {
			return links, pages
		}
		if len(pages) > 10000 {
			t.Fatal("scan does not end")
		}
		token = resp.NextPageToken
	}
}

func TestScanLinks(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()

	t.Run("empty store", func(t *testing.T) {
		resp, err := c.ScanLinks(ctx, &gsv1.ScanLinksRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Links) != 0 || resp.NextPageToken != "" {
			t.Fatalf("scan of an empty store: %v; want no links and no token", resp)
		}
	})

	var links []*gsv1.Link
	for _, tenant := range []string{"tenant-c", "tenant-a", "tenant-b"} {
		for i := range 250 {
			links = append(links, &gsv1.Link{
				TenantId: tenant, LinkId: fmt.Sprintf("link-%03d", (i*97)%250), GalleryId: "g1",
				ConnectionId: "c1", AlbumId: fmt.Sprintf("album-%d", i),
			})
		}
	}
	want := putLinksRPC(t, c, links)

	sizes := []struct {
		name      string
		size      int32
		wantPages []int
	}{
		{"pages of 100", 100, []int{100, 100, 100, 100, 100, 100, 100, 50}},
		{"default size", 0, []int{100, 100, 100, 100, 100, 100, 100, 50}},
		{"pages of 250", 250, []int{250, 250, 250}},
		{"above the maximum", 5000, []int{750}},
	}
	for _, tc := range sizes {
		t.Run(tc.name, func(t *testing.T) {
			got, pages := scanRPC(t, c, tc.size)
			if fmt.Sprint(pages) != fmt.Sprint(tc.wantPages) {
				t.Fatalf("page sizes %v, want %v", pages, tc.wantPages)
			}
			if len(got) != len(want) {
				t.Fatalf("scan visited %d links, want each of %d exactly once", len(got), len(want))
			}
			for i := range want {
				if !proto.Equal(got[i], want[i]) {
					t.Fatalf("link %d of the scan: %v, want %v", i, got[i], want[i])
				}
			}
		})
	}

	t.Run("bad requests", func(t *testing.T) {
		first, err := c.ScanLinks(ctx, &gsv1.ScanLinksRequest{PageSize: 10})
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			req  *gsv1.ScanLinksRequest
			want string
		}{
			{"negative page size", &gsv1.ScanLinksRequest{PageSize: -1}, "page_size: -1 is negative"},
			{"garbage token", &gsv1.ScanLinksRequest{PageToken: "garbage"}, "page_token"},
			{"token with a foreign character", &gsv1.ScanLinksRequest{PageToken: first.NextPageToken + "!"}, "page_token"},
			{"ListItems token", &gsv1.ScanLinksRequest{PageToken: store.PageToken("w1")}, "page_token"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := c.ScanLinks(ctx, tc.req)
				wantCode(t, tc.name, err, codes.InvalidArgument)
				if msg := status.Convert(err).Message(); !strings.Contains(msg, tc.want) {
					t.Fatalf("message %q does not say %q", msg, tc.want)
				}
			})
		}
		_, err = c.ListItems(ctx, &gsv1.ListItemsRequest{TenantId: "tenant-a", LinkId: "link-000", PageToken: first.NextPageToken})
		wantCode(t, "ListItems with a ScanLinks token", err, codes.InvalidArgument)
	})
}

func TestCursors(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	get := func(tenant, key string) (string, error) {
		resp, err := c.GetCursor(ctx, &gsv1.GetCursorRequest{TenantId: tenant, Key: key})
		return resp.GetValue(), err
	}
	put := func(tenant, key, value string) error {
		_, err := c.PutCursor(ctx, &gsv1.PutCursorRequest{TenantId: tenant, Key: key, Value: value})
		return err
	}
	if _, err := get("t1", "watch:c1"); status.Code(err) != codes.NotFound {
		t.Fatalf("cursor before any put: %v, want NotFound", err)
	}
	steps := []struct {
		name, tenant, key, value string
	}{
		{"first", "t1", "watch:c1", "109876"},
		{"moved on", "t1", "watch:c1", "109999"},
		{"other connection", "t1", "watch:c2", "5"},
		{"other tenant, same key", "t2", "watch:c1", "42"},
		{"empty", "t2", "watch:c3", ""},
		{"longest", "t2", "watch:c4", strings.Repeat("9", store.MaxCursorLen)},
	}
	want := map[[2]string]string{}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := put(st.tenant, st.key, st.value); err != nil {
				t.Fatal(err)
			}
			want[[2]string{st.tenant, st.key}] = st.value
			for k, v := range want {
				got, err := get(k[0], k[1])
				if err != nil || got != v {
					t.Fatalf("cursor %s of %s = %.30q, %v; want %.30q", k[1], k[0], got, err, v)
				}
			}
		})
	}
	t.Run("bad requests", func(t *testing.T) {
		cases := []struct {
			name string
			call func() error
			want string
		}{
			{"put without tenant", func() error { return put("", "watch:c1", "1") }, "tenant_id: must not be empty"},
			{"put without key", func() error { return put("t1", "", "1") }, "key: must not be empty"},
			{"put key too long", func() error { return put("t1", strings.Repeat("k", store.MaxKeyLen+1), "1") }, "key: 1025 bytes, at most 1024"},
			{"put value too long", func() error { return put("t1", "watch:c1", strings.Repeat("9", store.MaxCursorLen+1)) },
				"value: 4097 bytes, at most 4096"},
			{"get without key", func() error { _, err := get("t1", ""); return err }, "key: must not be empty"},
			{"get with a control character in the tenant", func() error { _, err := get("t\x01", "watch:c1"); return err },
				"tenant_id: control character"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.call()
				wantCode(t, tc.name, err, codes.InvalidArgument)
				if msg := status.Convert(err).Message(); !strings.Contains(msg, tc.want) {
					t.Fatalf("message %q does not say %q", msg, tc.want)
				}
			})
		}
		got, err := get("t1", "watch:c1")
		if err != nil || got != "109999" {
			t.Fatalf("cursor after refused puts = %q, %v; want it unchanged", got, err)
		}
	})
}
