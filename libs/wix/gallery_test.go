package wix

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestItemsPagesThroughGallery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		items int
		pages int
	}{
		{0, 1}, {1, 1}, {100, 1}, {130, 2}, {2500, 25},
	} {
		t.Run(fmt.Sprintf("%d items", tc.items), func(t *testing.T) {
			t.Parallel()
			f := newFakeWix(t)
			gid := fmt.Sprintf("%08d-0000-4000-8000-000000000000", tc.items)
			f.addGallery(gid, "Big", tc.items)
			c := f.client(t)
			var got []string
			for it, err := range c.Items(t.Context(), testInstance, gid) {
				if err != nil {
					t.Fatalf("Items: %v", err)
				}
				got = append(got, it.ID)
				if it.Image == nil || it.Image.ImageInfo == nil || it.Image.ImageInfo.Width != 1080 {
					t.Fatalf("item %s lost its image: %+v", it.ID, it.Image)
				}
			}
			if len(got) != tc.items {
				t.Fatalf("Items yielded %d items, want %d", len(got), tc.items)
			}
			for i, id := range got {
				if want := fmt.Sprintf("%s-item-%05d", gid[:8], i); id != want {
					t.Fatalf("item %d is %s, want %s", i, id, want)
				}
			}
			reqs := f.seen("GET " + DefaultGalleryPrefix + "/galleries/" + gid)
			if len(reqs) != tc.pages {
				t.Errorf("%d page requests, want %d", len(reqs), tc.pages)
			}
			for i, r := range reqs {
				if r.query["itemOffset"][0] != fmt.Sprint(i*100) || r.query["itemLimit"][0] != "100" {
					t.Errorf("page %d asked for %v", i, r.query)
				}
			}
		})
	}
}

func TestItemsStopsEarly(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	gid := "00000300-0000-4000-8000-000000000000"
	f.addGallery(gid, "Big", 300)
	c := f.client(t)
	n := 0
	for _, err := range c.Items(t.Context(), testInstance, gid) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 150 {
			break
		}
	}
	if reqs := f.seen("GET " + DefaultGalleryPrefix + "/galleries/" + gid); len(reqs) != 2 {
		t.Errorf("%d page requests for 150 items, want 2", len(reqs))
	}
}

func TestItemsRefusesToLoopWhenOffsetIsIgnored(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	gid := "00000250-0000-4000-8000-000000000000"
	f.addGallery(gid, "Big", 250)
	f.mu.Lock()
	f.ignoreOffset = true
	f.mu.Unlock()
	c := f.client(t)
	var n int
	var last error
	for _, err := range c.Items(t.Context(), testInstance, gid) {
		if err != nil {
			last = err
			continue
		}
		n++
	}
	if last == nil || n != 100 {
		t.Errorf("Items over a server that ignores itemOffset: %d items, error %v; want the first page and an error", n, last)
	}
}

func TestItemsYieldsError(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	c := f.client(t)
	var errs []error
	for _, err := range c.Items(t.Context(), testInstance, "no-such-gallery") {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrNotFound) {
		t.Errorf("Items of a missing gallery yielded %v, want one ErrNotFound", errs)
	}
}

func TestAllGalleries(t *testing.T) {
	t.Parallel()
	for _, sampleKeys := range []bool{false, true} {
		t.Run(fmt.Sprintf("sample keys %v", sampleKeys), func(t *testing.T) {
			t.Parallel()
			f := newFakeWix(t)
			f.mu.Lock()
			f.sampleKeys = sampleKeys
			f.mu.Unlock()
			for i := range 22 {
				f.addGallery(fmt.Sprintf("%08d-1111-4000-8000-000000000000", i), fmt.Sprint("G", i), i%3)
			}
			c := f.client(t)
			all, err := c.AllGalleries(t.Context(), testInstance)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 23 {
				t.Fatalf("AllGalleries returned %d, want 23", len(all))
			}
			if all[0].ID != testGallery || all[5].TotalItems != 1 || all[5].CreatedDate.IsZero() {
				t.Errorf("galleries decoded wrongly: %+v, %+v", all[0], all[5])
			}
			if n := len(f.seen("GET " + DefaultGalleryPrefix + "/galleries")); n != 3 {
				t.Errorf("%d list requests, want 3", n)
			}
			page, err := c.ListGalleries(t.Context(), testInstance, 20, 10)
			if err != nil || page.TotalGalleries != 23 || len(page.Galleries) != 3 {
				t.Errorf("ListGalleries(20, 10) = %+v, %v", page, err)
			}
		})
	}
}

func TestPagingArgumentsCheckedLocally(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	c := f.client(t)
	ctx := t.Context()
	for name, call := range map[string]func() error{
		"gallery limit 11":  func() error { _, err := c.ListGalleries(ctx, testInstance, 0, 11); return err },
		"negative offset":   func() error { _, err := c.ListGalleries(ctx, testInstance, -1, 10); return err },
		"item limit 101":    func() error { _, err := c.GetGallery(ctx, testInstance, testGallery, 0, 101); return err },
		"item limit 0":      func() error { _, err := c.ListItems(ctx, testInstance, testGallery, 0, 0); return err },
		"empty instance":    func() error { _, err := c.GetItem(ctx, "", testGallery, "i"); return err },
		"empty item id":     func() error { return c.DeleteItem(ctx, testInstance, testGallery, "") },
		"empty patch":       func() error { _, err := c.UpdateItem(ctx, testInstance, testGallery, "i", ItemPatch{}); return err },
		"item without file": func() error { _, err := c.CreateItem(ctx, testInstance, testGallery, Item{Title: "x"}); return err },
		"image without id": func() error {
			_, err := c.CreateItem(ctx, testInstance, testGallery, Item{Image: &Image{ImageInfo: &ImageInfo{Width: 1, Height: 1}}})
			return err
		},
		"image and text": func() error {
			_, err := c.CreateItem(ctx, testInstance, testGallery, Item{Image: &Image{ImageInfo: &ImageInfo{ID: "f"}}, Text: &Text{HTML: "<p>x</p>"}})
			return err
		},
	} {
		if err := call(); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: %v, want ErrInvalidRequest", name, err)
		}
	}
	if n := len(f.seen("")); n != 0 {
		t.Errorf("%d requests reached the API, want 0", n)
	}
}

func TestListAndGetItems(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	gid := "00000012-0000-4000-8000-000000000000"
	f.addGallery(gid, "Twelve", 12)
	c := f.client(t)
	items, err := c.ListItems(t.Context(), testInstance, gid, 10, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].ID != "00000012-item-00010" {
		t.Fatalf("ListItems(10, 5) = %d items starting %q", len(items), items[0].ID)
	}
	it, err := c.GetItem(t.Context(), testInstance, gid, items[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)
	if it.ID != items[1].ID || it.Type != ItemTypeImage || !it.UpdatedDate.Equal(want) || it.SortOrder != 12 {
		t.Errorf("GetItem = %+v", it)
	}
	if _, err := c.GetItem(t.Context(), testInstance, gid, "gone"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetItem(gone) = %v, want ErrNotFound", err)
	}
}

func TestCreateItemSendsWritableFields(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	c := f.client(t)
	in := Item{
		ID:          "ignored",
		Type:        ItemTypeImage,
		UpdatedDate: time.Now(),
		SortOrder:   1717171717000,
		Title:       "Sunset at the pier",
		Description: "Posted 2024-05-31",
		Link:        &Link{Type: "EXTERNAL", URL: "https://example.com/p/XYZ", Target: "_blank"},
		Image: &Image{Type: "WIX_MEDIA", FocalPoint: &Point{X: 0.5, Y: 0.5}, ImageInfo: &ImageInfo{
			ID: "a1b2c3_9f~mv2.jpg", URL: "https://static.wixstatic.com/media/a1b2c3_9f~mv2.jpg",
			Width: 1080, Height: 1350, AltText: "Sunset", Filename: "ig_XYZ.jpg",
		}},
	}
	got, err := c.CreateItem(t.Context(), testInstance, testGallery, in)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == "" || got.ID == "ignored" || got.Title != in.Title {
		t.Errorf("CreateItem = %+v", got)
	}
	reqs := f.seen("POST " + DefaultGalleryPrefix)
	if len(reqs) != 1 {
		t.Fatalf("%d create requests", len(reqs))
	}
	want := `{"item":{"sortOrder":1717171717000,"title":"Sunset at the pier","description":"Posted 2024-05-31",
		"link":{"url":"https://example.com/p/XYZ","target":"_blank","type":"EXTERNAL"},
		"image":{"type":"WIX_MEDIA","imageInfo":{"id":"a1b2c3_9f~mv2.jpg","height":1350,"width":1080,"altText":"Sunset","filename":"ig_XYZ.jpg"},
		"focalPoint":{"x":0.5,"y":0.5}}}}`
	assertBodyJSON(t, reqs[0].body, want)
	if in.Image.ImageInfo.URL == "" || in.ID != "ignored" {
		t.Error("CreateItem changed the caller's item")
	}
}

func TestUpdateItemSendsOnlySetFields(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		patch ItemPatch
		want  string
	}{
		{"title", ItemPatch{Title: new("New caption")}, `{"item":{"title":"New caption"}}`},
		{"cleared description", ItemPatch{Description: new("")}, `{"item":{"description":""}}`},
		{"zero sort order", ItemPatch{SortOrder: new(0.0)}, `{"item":{"sortOrder":0}}`},
		{"link and tags", ItemPatch{Link: &Link{URL: "https://example.com/a"}, Tags: &Tags{Values: []string{"sea"}}},
			`{"item":{"link":{"url":"https://example.com/a"},"tags":{"values":["sea"]}}}`},
		{"image without its read-only url", ItemPatch{Image: &Image{ImageInfo: &ImageInfo{ID: "f1~mv2.jpg", URL: "https://static.wixstatic.com/media/f1~mv2.jpg", Width: 4, Height: 3}}},
			`{"item":{"image":{"imageInfo":{"id":"f1~mv2.jpg","width":4,"height":3}}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeWix(t)
			gid := "00000003-0000-4000-8000-000000000000"
			f.addGallery(gid, "Three", 3)
			c := f.client(t)
			id := "00000003-item-00001"
			got, err := c.UpdateItem(t.Context(), testInstance, gid, id, tc.patch)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != id || got.Description == "" && tc.patch.Description == nil {
				t.Errorf("UpdateItem returned %+v, want the whole item", got)
			}
			reqs := f.seen("PATCH " + DefaultGalleryPrefix + "/galleries/" + gid + "/items/" + id)
			if len(reqs) != 1 {
				t.Fatalf("%d patch requests", len(reqs))
			}
			assertBodyJSON(t, reqs[0].body, tc.want)
		})
	}
}

func assertBodyJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body\n%s\nwant\n%s", got, want)
	}
}

func TestDeleteItem(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	gid := "00000002-0000-4000-8000-000000000000"
	f.addGallery(gid, "Two", 2)
	c := f.client(t)
	id := "00000002-item-00000"
	for i := range 2 {
		// The second delete finds it gone (404): still no error.
		if err := c.DeleteItem(t.Context(), testInstance, gid, id); err != nil {
			t.Fatalf("delete %d: %v", i+1, err)
		}
	}
	if _, err := c.GetItem(t.Context(), testInstance, gid, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted item: %v", err)
	}
	f.failNext(1, scriptedFailure{match: "DELETE ", status: http.StatusForbidden, body: `{"message":"missing scope","details":{}}`})
	if err := c.DeleteItem(t.Context(), testInstance, gid, "00000002-item-00001"); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("DeleteItem refused = %v, want ErrUnauthorized", err)
	}
}

func TestBulkDeleteItemsInChunks(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	gid := "00000260-0000-4000-8000-000000000000"
	f.addGallery(gid, "Many", 260)
	c := f.client(t)
	var ids []string
	for i := range 250 {
		ids = append(ids, fmt.Sprintf("00000260-item-%05d", i))
	}
	deleted, err := c.BulkDeleteItems(t.Context(), testInstance, gid, ids)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(deleted, ids) {
		t.Errorf("deleted %d ids, want the 250 asked for", len(deleted))
	}
	var sizes []int
	for _, r := range f.seen("POST " + DefaultGalleryPrefix + "/galleries/" + gid + "/items/delete") {
		var body struct {
			ItemIDs []string `json:"itemIds"`
		}
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(body.ItemIDs))
	}
	if !slices.Equal(sizes, []int{100, 100, 50}) {
		t.Errorf("chunks of %v, want [100 100 50]", sizes)
	}
	var left int
	for _, err := range c.Items(t.Context(), testInstance, gid) {
		if err != nil {
			t.Fatal(err)
		}
		left++
	}
	if left != 10 {
		t.Errorf("%d items left, want 10", left)
	}
	if got, err := c.BulkDeleteItems(t.Context(), testInstance, gid, nil); err != nil || got != nil {
		t.Errorf("BulkDeleteItems(nil) = %v, %v", got, err)
	}
}

func TestSnapshotOfClientItem(t *testing.T) {
	t.Parallel()
	raw := `{"id":"a045b201","sortOrder":"1644317968.985","title":"T","description":"D",
		"link":{"url":"https://example.com/a"},"updatedDate":"2026-01-02T03:04:06Z","createdDate":"",
		"image":{"type":"WIX_MEDIA","imageInfo":{"id":"11062b_x~mv2.jpeg","width":"6446","height":4298,"altText":"Harbour"}}}`
	var it Item
	if err := json.Unmarshal([]byte(raw), &it); err != nil {
		t.Fatal(err)
	}
	s := Snapshot(it)
	if s.GetItemId() != "a045b201" || s.GetSortOrder() != 1644317968.985 || s.GetAltText() != "Harbour" ||
		s.GetWidth() != 6446 || s.GetMimeType() != "image/jpeg" ||
		s.GetMediaUrl() != "https://static.wixstatic.com/media/11062b_x~mv2.jpeg" ||
		!s.GetUpdatedAt().AsTime().Equal(time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)) {
		t.Errorf("Snapshot = %v", s)
	}
	noAlt := it
	noAlt.Image = &Image{ImageInfo: &ImageInfo{ID: "11062b_x~mv2.jpeg", Width: 6446, Height: 4298}}
	if Snapshot(noAlt).GetContentHash() == s.GetContentHash() {
		t.Error("alt text does not change the content hash")
	}
	it.UpdatedDate = time.Time{}
	if Snapshot(it).GetUpdatedAt() != nil {
		t.Error("Snapshot invents an update time")
	}
}
