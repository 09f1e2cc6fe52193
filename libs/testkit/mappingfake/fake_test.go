package mappingfake_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"gallerysync.dev/libs/testkit/mappingfake"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// clock is a time a test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// wantCode fails the test unless err carries the gRPC code want.
func wantCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("error %v: code %v, want %v", err, got, want)
	}
}

func ttl(d time.Duration) *durationpb.Duration { return durationpb.New(d) }

func TestItemsCompareAndSetAndExternalIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, c := mappingfake.Start(t)
	put := func(wixID, extID string, expected int64) (*gsv1.ItemMapping, error) {
		resp, err := c.PutItem(ctx, &gsv1.PutItemRequest{ExpectedRevision: expected, Item: &gsv1.ItemMapping{
			TenantId: "t1", LinkId: "l1", WixItemId: wixID, ExternalId: extID, State: gsv1.ItemState_ITEM_STATE_SYNCED}})
		return resp.GetItem(), err
	}
	if it, err := put("w1", "e1", 0); err != nil || it.GetRevision() != 1 || it.GetUpdatedAt() == nil {
		t.Fatalf("first put: %v, %v", it, err)
	}
	_, err := put("w1", "e1", 0)
	wantCode(t, err, codes.Aborted)
	if it, err := put("w1", "e1", 1); err != nil || it.GetRevision() != 2 {
		t.Fatalf("second put: %v, %v", it, err)
	}
	_, err = put("w2", "e1", 0)
	wantCode(t, err, codes.Aborted)
	_, err = put("", "e9", 0)
	wantCode(t, err, codes.InvalidArgument)

	got, err := c.GetItem(ctx, &gsv1.GetItemRequest{TenantId: "t1", LinkId: "l1", Key: &gsv1.GetItemRequest_ExternalId{ExternalId: "e1"}})
	if err != nil || got.GetItem().GetWixItemId() != "w1" {
		t.Fatalf("by external id: %v, %v", got, err)
	}
	_, err = c.GetItem(ctx, &gsv1.GetItemRequest{TenantId: "t2", LinkId: "l1", Key: &gsv1.GetItemRequest_WixItemId{WixItemId: "w1"}})
	wantCode(t, err, codes.NotFound)
	_, err = c.GetItem(ctx, &gsv1.GetItemRequest{TenantId: "t1", LinkId: "l1"})
	wantCode(t, err, codes.InvalidArgument)

	if _, err := c.DeleteItem(ctx, &gsv1.DeleteItemRequest{TenantId: "t1", LinkId: "l1", WixItemId: "w1"}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if f.ItemByExternal("t1", "l1", "e1") != nil {
		t.Fatal("external id still indexed after delete")
	}
	if _, err := put("w2", "e1", 0); err != nil {
		t.Fatalf("external id of a deleted mapping is free again: %v", err)
	}

	f.FailPutItem(func(it *gsv1.ItemMapping) error {
		if it.GetWixItemId() == "w3" {
			return status.Error(codes.Unavailable, "down")
		}
		return nil
	})
	_, err = put("w3", "e3", 0)
	wantCode(t, err, codes.Unavailable)
	if f.Item("t1", "l1", "w3") != nil {
		t.Fatal("a failed put was stored")
	}
	f.FailPutItem(nil)
	if _, err := put("w3", "e3", 0); err != nil {
		t.Fatalf("put after the hook was removed: %v", err)
	}
}

func TestListItemsAndScanLinksPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, c := mappingfake.Start(t)
	for _, id := range []string{"w3", "w1", "w5", "w2", "w4"} {
		f.SeedItem(&gsv1.ItemMapping{TenantId: "t1", LinkId: "l1", WixItemId: id}, time.Now())
	}
	f.SeedItem(&gsv1.ItemMapping{TenantId: "t2", LinkId: "l1", WixItemId: "other"}, time.Now())
	for _, l := range [][2]string{{"t2", "b"}, {"t1", "b"}, {"t1", "a"}} {
		f.SeedLink(&gsv1.Link{TenantId: l[0], LinkId: l[1]})
	}

	var ids []string
	pages := 0
	for token := ""; ; pages++ {
		resp, err := c.ListItems(ctx, &gsv1.ListItemsRequest{TenantId: "t1", LinkId: "l1", PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatalf("list items: %v", err)
		}
		for _, it := range resp.GetItems() {
			ids = append(ids, it.GetWixItemId())
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if got := strings.Join(ids, " "); got != "w1 w2 w3 w4 w5" || pages != 2 {
		t.Fatalf("items %q in %d further pages, want w1..w5 in 2", got, pages)
	}

	var links []string
	for token := ""; ; {
		resp, err := c.ScanLinks(ctx, &gsv1.ScanLinksRequest{PageSize: 1, PageToken: token})
		if err != nil {
			t.Fatalf("scan links: %v", err)
		}
		for _, l := range resp.GetLinks() {
			links = append(links, l.GetTenantId()+"/"+l.GetLinkId())
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if got := strings.Join(links, " "); got != "t1/a t1/b t2/b" {
		t.Fatalf("scanned %q", got)
	}
	_, err := c.ScanLinks(ctx, &gsv1.ScanLinksRequest{PageToken: "not base64!"})
	wantCode(t, err, codes.InvalidArgument)
	_, err = c.ListItems(ctx, &gsv1.ListItemsRequest{TenantId: "t1", LinkId: "l1", PageSize: -1})
	wantCode(t, err, codes.InvalidArgument)
}
