package wixsim_test

import (
	"fmt"
	"net/http"
	"testing"

	"gallerysync.dev/services/sandbox/wixsim"
)

type galleryResp struct {
	Gallery wixsim.Gallery `json:"gallery"`
}

type itemResp struct {
	Item wixsim.Item `json:"item"`
}

type itemsResp struct {
	Items []wixsim.Item `json:"items"`
}

func TestGalleryLifecycle(t *testing.T) {
	t.Parallel()
	e := start(t)
	tok := e.appToken(t, siteA)
	photo, err := e.srv.AddImage(siteA, "lifecycle", 320, 200)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"/pro-gallery/v2", "/progallery/v2"} {
		t.Run(prefix, func(t *testing.T) {
			var created galleryResp
			e.mustDo(t, "POST", prefix+"/galleries", tok, map[string]any{"gallery": map[string]any{"name": "Trip"}}, &created)
			g := created.Gallery
			if g.ID == "" || g.Name != "Trip" || g.TotalItems != 0 || g.CreatedDate == "" {
				t.Fatalf("created gallery = %+v", g)
			}
			base := prefix + "/galleries/" + g.ID

			var it itemResp
			e.mustDo(t, "POST", base+"/items", tok, imageItem(photo.ID, "first"), &it)
			item := it.Item
			if item.ID == "" || item.Type != "IMAGE" || item.CreatedDate == "" || item.UpdatedDate == "" {
				t.Fatalf("created item = %+v", item)
			}
			if info := item.Image.ImageInfo; info.Width != 320 || info.Height != 200 || info.URL != e.base+"/media/"+photo.ID {
				t.Fatalf("imageInfo = %+v, want size and URL from the file", info)
			}
			if item.SortOrder < 1e12 {
				t.Fatalf("default sortOrder = %v, want the creation time in epoch ms", item.SortOrder)
			}

			var got itemResp
			e.mustDo(t, "GET", base+"/items/"+item.ID, tok, nil, &got)
			if got.Item.ID != item.ID || got.Item.Title != "first" {
				t.Fatalf("get item = %+v", got.Item)
			}
			var full galleryResp
			e.mustDo(t, "GET", base, tok, nil, &full)
			if full.Gallery.TotalItems != 1 || len(full.Gallery.Items) != 1 || full.Gallery.Items[0].ID != item.ID {
				t.Fatalf("get gallery = %+v", full.Gallery)
			}
			var items itemsResp
			e.mustDo(t, "GET", base+"/items", tok, nil, &items)
			if len(items.Items) != 1 {
				t.Fatalf("list items = %+v", items.Items)
			}

			var renamed galleryResp
			e.mustDo(t, "PATCH", base, tok, map[string]any{"gallery": map[string]any{"name": "Trip 2"}}, &renamed)
			if renamed.Gallery.Name != "Trip 2" || renamed.Gallery.TotalItems != 1 {
				t.Fatalf("updated gallery = %+v", renamed.Gallery)
			}

			var del struct {
				ItemID string `json:"itemId"`
			}
			e.mustDo(t, "DELETE", base+"/items/"+item.ID, tok, nil, &del)
			if del.ItemID != item.ID {
				t.Fatalf("delete item answered %+v", del)
			}
			e.expectError(t, "GET", base+"/items/"+item.ID, tok, nil, http.StatusNotFound)
			e.expectError(t, "DELETE", base+"/items/"+item.ID, tok, nil, http.StatusNotFound)

			var delG struct {
				GalleryID string `json:"galleryId"`
			}
			e.mustDo(t, "DELETE", base, tok, nil, &delG)
			if delG.GalleryID != g.ID {
				t.Fatalf("delete gallery answered %+v", delG)
			}
			e.expectError(t, "GET", base, tok, nil, http.StatusNotFound)
		})
	}
}

func TestCreateGalleryWithItemsAndClone(t *testing.T) {
	t.Parallel()
	e := start(t)
	tok := e.appToken(t, siteA)
	photo, err := e.srv.AddImage(siteA, "clone", 50, 40)
	if err != nil {
		t.Fatal(err)
	}
	var created galleryResp
	e.mustDo(t, "POST", "/pro-gallery/v2/galleries", tok, map[string]any{"gallery": map[string]any{
		"name":  "With items",
		"items": []any{imageItem(photo.ID, "a")["item"], imageItem(photo.ID, "b")["item"]},
	}}, &created)
	if created.Gallery.TotalItems != 2 || len(created.Gallery.Items) != 2 {
		t.Fatalf("created = %+v", created.Gallery)
	}
	var clone galleryResp
	e.mustDo(t, "POST", "/pro-gallery/v2/galleries", tok, map[string]any{"cloneFromGalleryId": created.Gallery.ID}, &clone)
	if clone.Gallery.ID == created.Gallery.ID || clone.Gallery.TotalItems != 2 || clone.Gallery.Name != "With items" {
		t.Fatalf("clone = %+v", clone.Gallery)
	}
	for i := range clone.Gallery.Items {
		if clone.Gallery.Items[i].ID == created.Gallery.Items[i].ID {
			t.Fatal("cloned item kept the source item's id")
		}
	}
	we := e.expectError(t, "POST", "/pro-gallery/v2/galleries", tok, map[string]any{"gallery": map[string]any{
		"name": "Bad", "items": []any{map[string]any{"title": "no media"}},
	}}, http.StatusBadRequest)
	if !hasViolation(we, "gallery.items[0].image.imageInfo.id") {
		t.Fatalf("violations = %+v", we.Details.ValidationError)
	}
	var list struct {
		TotalGalleries int `json:"totalGalleries"`
	}
	e.mustDo(t, "GET", "/pro-gallery/v2/galleries", tok, nil, &list)
	if list.TotalGalleries != 2 {
		t.Fatalf("totalGalleries = %d after a failed create, want 2", list.TotalGalleries)
	}
}

func TestListGalleries(t *testing.T) {
	t.Parallel()
	e := start(t)
	tok := e.appToken(t, siteA)
	var ids []string
	for i := range 12 {
		g, _ := e.seedGallery(t, fmt.Sprintf("g%02d", i), 12)
		ids = append(ids, g.ID)
	}
	type listResp struct {
		TotalGalleries int              `json:"totalGalleries"`
		Galleries      []wixsim.Gallery `json:"galleries"`
	}
	var first listResp
	e.mustDo(t, "GET", "/pro-gallery/v2/galleries", tok, nil, &first)
	if first.TotalGalleries != 12 || len(first.Galleries) != 10 {
		t.Fatalf("first page: total %d, %d galleries", first.TotalGalleries, len(first.Galleries))
	}
	if g := first.Galleries[0]; g.TotalItems != 12 || len(g.Items) != 10 {
		t.Fatalf("default itemLimit: %d of %d items", len(g.Items), g.TotalItems)
	}
	var second listResp
	e.mustDo(t, "GET", "/pro-gallery/v2/galleries?offset=10&limit=5&itemLimit=3", tok, nil, &second)
	if len(second.Galleries) != 2 || len(second.Galleries[0].Items) != 3 {
		t.Fatalf("second page: %+v", second)
	}
	var seen []string
	for _, g := range append(first.Galleries, second.Galleries...) {
		seen = append(seen, g.ID)
	}
	if fmt.Sprint(seen) != fmt.Sprint(ids) {
		t.Fatalf("galleries %v, want creation order %v", seen, ids)
	}

	bad := []struct {
		query, field string
	}{
		{"limit=0", "limit"},
		{"limit=11", "limit"},
		{"itemLimit=101", "itemLimit"},
		{"itemLimit=0", "itemLimit"},
		{"offset=-1", "offset"},
		{"offset=x", "offset"},
	}
	for _, b := range bad {
		t.Run(b.query, func(t *testing.T) {
			t.Parallel()
			we := e.expectError(t, "GET", "/pro-gallery/v2/galleries?"+b.query, tok, nil, http.StatusBadRequest)
			if !hasViolation(we, b.field) {
				t.Fatalf("violations = %+v, want %s", we.Details.ValidationError, b.field)
			}
		})
	}
}

func TestPagingVisitsEveryItemOnce(t *testing.T) {
	t.Parallel()
	e := start(t)
	tok := e.appToken(t, siteA)
	g, _ := e.seedGallery(t, "big", 250)
	all, err := e.srv.Items(siteA, g.ID)
	if err != nil || len(all) != 250 {
		t.Fatalf("seeded %d items: %v", len(all), err)
	}

	pagers := []struct {
		name  string
		limit int
		page  func(offset, limit int) ([]wixsim.Item, int)
	}{
		{name: "get gallery", limit: 100, page: func(offset, limit int) ([]wixsim.Item, int) {
			var r galleryResp
			e.mustDo(t, "GET", fmt.Sprintf("/pro-gallery/v2/galleries/%s?itemOffset=%d&itemLimit=%d", g.ID, offset, limit), tok, nil, &r)
			return r.Gallery.Items, r.Gallery.TotalItems
		}},
		{name: "list items", limit: 37, page: func(offset, limit int) ([]wixsim.Item, int) {
			var r itemsResp
			e.mustDo(t, "GET", fmt.Sprintf("/progallery/v2/galleries/%s/items?itemOffset=%d&itemLimit=%d", g.ID, offset, limit), tok, nil, &r)
			return r.Items, -1
		}},
	}
	for _, p := range pagers {
		t.Run(p.name, func(t *testing.T) {
			seen := map[string]int{}
			var order []float64
			for offset := 0; ; offset += p.limit {
				items, total := p.page(offset, p.limit)
				if total >= 0 && total != 250 {
					t.Fatalf("totalItems = %d", total)
				}
				for _, it := range items {
					seen[it.ID]++
					order = append(order, it.SortOrder)
				}
				if len(items) < p.limit {
					break
				}
			}
			if len(seen) != 250 {
				t.Fatalf("visited %d distinct items, want 250", len(seen))
			}
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("item %s visited %d times", id, n)
				}
			}
			for i := 1; i < len(order); i++ {
				if order[i] < order[i-1] {
					t.Fatalf("items not in ascending sortOrder at %d: %v then %v", i, order[i-1], order[i])
				}
			}
		})
	}

	we := e.expectError(t, "GET", "/pro-gallery/v2/galleries/"+g.ID+"?itemLimit=101", tok, nil, http.StatusBadRequest)
	if !hasViolation(we, "itemLimit") {
		t.Fatalf("violations = %+v", we.Details.ValidationError)
	}
	e.expectError(t, "GET", "/pro-gallery/v2/galleries/"+g.ID+"/items?itemOffset=-5", tok, nil, http.StatusBadRequest)
}

func TestPartialUpdateKeepsUntouchedFields(t *testing.T) {
	t.Parallel()
	e := start(t)
	tok := e.appToken(t, siteA)
	g, photo := e.seedGallery(t, "patch", 0)
	other, err := e.srv.AddImage(siteA, "patch-other", 111, 77)
	if err != nil {
		t.Fatal(err)
	}
	base := "/pro-gallery/v2/galleries/" + g.ID + "/items"
	var created itemResp
	e.mustDo(t, "POST", base, tok, map[string]any{"item": map[string]any{
		"title":       "Original",
		"description": "Kept",
		"sortOrder":   42.5,
		"link":        map[string]any{"url": "https://example.org/p/1", "text": "post", "target": "_blank"},
		"tags":        map[string]any{"values": []string{"a", "b"}},
		"image": map[string]any{
			"imageInfo":  map[string]any{"id": photo.ID, "altText": "alt"},
			"focalPoint": map[string]any{"x": 0.25, "y": 0.75},
		},
	}}, &created)
	orig := created.Item
	if orig.SortOrder != 42.5 {
		t.Fatalf("sortOrder = %v, want the given 42.5", orig.SortOrder)
	}

	var patched itemResp
	e.mustDo(t, "PATCH", base+"/"+orig.ID, tok, map[string]any{"item": map[string]any{
		"title": "New caption",
		"link":  map[string]any{"url": "https://example.org/p/2"},
		"id":    "ignored",
	}}, &patched)
	p := patched.Item
	switch {
	case p.ID != orig.ID:
		t.Fatalf("id changed to %s", p.ID)
	case p.Title != "New caption":
		t.Fatalf("title = %q", p.Title)
	case p.Description != "Kept" || p.SortOrder != 42.5:
		t.Fatalf("untouched fields changed: %+v", p)
	case p.Link.URL != "https://example.org/p/2" || p.Link.Text != "post" || p.Link.Target != "_blank":
		t.Fatalf("link = %+v, want url changed and the rest kept", p.Link)
	case fmt.Sprint(p.Tags.Values) != "[a b]":
		t.Fatalf("tags = %+v", p.Tags)
	case p.Image.ImageInfo.ID != photo.ID || p.Image.ImageInfo.AltText != "alt" || p.Image.FocalPoint.X != 0.25:
		t.Fatalf("image = %+v", p.Image)
	case p.CreatedDate != orig.CreatedDate:
		t.Fatalf("createdDate moved: %s -> %s", orig.CreatedDate, p.CreatedDate)
	case p.UpdatedDate <= orig.UpdatedDate:
		t.Fatalf("updatedDate did not move: %s -> %s", orig.UpdatedDate, p.UpdatedDate)
	}

	var swapped itemResp
	e.mustDo(t, "PATCH", base+"/"+orig.ID, tok, map[string]any{"item": map[string]any{
		"image": map[string]any{"imageInfo": map[string]any{"id": other.ID}},
	}}, &swapped)
	if info := swapped.Item.Image.ImageInfo; info.ID != other.ID || info.Width != 111 || info.Height != 77 || info.URL != e.base+"/media/"+other.ID {
		t.Fatalf("after a new image: %+v, want size and URL of the new file", info)
	}
	if swapped.Item.Title != "New caption" {
		t.Fatalf("title lost on image change: %q", swapped.Item.Title)
	}

	var stored itemResp
	e.mustDo(t, "GET", base+"/"+orig.ID, tok, nil, &stored)
	if stored.Item.UpdatedDate != swapped.Item.UpdatedDate || stored.Item.Image.ImageInfo.ID != other.ID {
		t.Fatalf("stored item = %+v", stored.Item)
	}

	tests := []struct {
		name  string
		patch map[string]any
		field string
	}{
		{name: "unknown file", patch: map[string]any{"image": map[string]any{"imageInfo": map[string]any{"id": "nope~mv2.png"}}}, field: "item.image.imageInfo.id"},
		{name: "bad quality", patch: map[string]any{"image": map[string]any{"quality": 5}}, field: "item.image.quality"},
		{name: "bad link target", patch: map[string]any{"link": map[string]any{"target": "_top"}}, field: "item.link.target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			we := e.expectError(t, "PATCH", base+"/"+orig.ID, tok, map[string]any{"item": tt.patch}, http.StatusBadRequest)
			if !hasViolation(we, tt.field) {
				t.Fatalf("violations = %+v, want %s", we.Details.ValidationError, tt.field)
			}
		})
	}
	var after itemResp
	e.mustDo(t, "GET", base+"/"+orig.ID, tok, nil, &after)
	if after.Item.UpdatedDate != swapped.Item.UpdatedDate {
		t.Fatal("a refused update changed the item")
	}
	e.expectError(t, "PATCH", base+"/00000000-0000-4000-8000-000000000000", tok, map[string]any{"item": map[string]any{"title": "x"}}, http.StatusNotFound)
}

func TestCreateItemNeedsAReadyFileOfThisSite(t *testing.T) {
	t.Parallel()
	e := start(t)
	tok := e.appToken(t, siteA)
	g, _ := e.seedGallery(t, "validate", 0)
	foreign, err := e.srv.AddImage(siteB, "foreign", 10, 10)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		body map[string]any
	}{
		{name: "missing media", body: map[string]any{"item": map[string]any{"title": "x"}}},
		{name: "missing image id", body: map[string]any{"item": map[string]any{"image": map[string]any{"imageInfo": map[string]any{"width": 10}}}}},
		{name: "unknown file", body: imageItem("abc123_ffffffffffffffffffffffffffffffff~mv2.png", "x")},
		{name: "file of another site", body: imageItem(foreign.ID, "x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			we := e.expectError(t, "POST", "/pro-gallery/v2/galleries/"+g.ID+"/items", tok, tt.body, http.StatusBadRequest)
			if !hasViolation(we, "item.image.imageInfo.id") {
				t.Fatalf("violations = %+v", we.Details.ValidationError)
			}
		})
	}
	t.Run("missing item", func(t *testing.T) {
		t.Parallel()
		we := e.expectError(t, "POST", "/pro-gallery/v2/galleries/"+g.ID+"/items", tok, map[string]any{}, http.StatusBadRequest)
		if !hasViolation(we, "item") {
			t.Fatalf("violations = %+v", we.Details.ValidationError)
		}
	})
	t.Run("unknown gallery", func(t *testing.T) {
		t.Parallel()
		we := e.expectError(t, "POST", "/pro-gallery/v2/galleries/nope/items", tok, imageItem(foreign.ID, "x"), http.StatusNotFound)
		if we.Details.ApplicationError == nil || we.Details.ApplicationError.Code != "GALLERY_NOT_FOUND" {
			t.Fatalf("error = %+v", we)
		}
	})
	t.Run("text item", func(t *testing.T) {
		t.Parallel()
		var r itemResp
		e.mustDo(t, "POST", "/pro-gallery/v2/galleries/"+g.ID+"/items", tok, map[string]any{"item": map[string]any{"text": map[string]any{"html": "<p>hi</p>"}}}, &r)
		if r.Item.Type != "TEXT" {
			t.Fatalf("type = %s", r.Item.Type)
		}
	})
	items, err := e.srv.Items(siteA, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Type != "TEXT" {
			t.Fatalf("a refused create stored %+v", it)
		}
	}
}

func TestBulkDelete(t *testing.T) {
	t.Parallel()
	e := start(t)
	tok := e.appToken(t, siteA)
	g, _ := e.seedGallery(t, "bulk", 5)
	items, err := e.srv.Items(siteA, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	path := "/pro-gallery/v2/galleries/" + g.ID + "/items/delete"

	we := e.expectError(t, "POST", path, tok, map[string]any{"itemIds": []string{items[0].ID, "missing"}}, http.StatusNotFound)
	if we.Details.ApplicationError == nil || we.Details.ApplicationError.Code != "ITEM_NOT_FOUND" {
		t.Fatalf("error = %+v", we)
	}
	if left, _ := e.srv.Items(siteA, g.ID); len(left) != 5 {
		t.Fatalf("a failed bulk delete removed items: %d left", len(left))
	}
	e.expectError(t, "POST", path, tok, map[string]any{"itemIds": []string{}}, http.StatusBadRequest)

	var resp struct {
		ItemIDs []string `json:"itemIds"`
	}
	e.mustDo(t, "POST", path, tok, map[string]any{"itemIds": []string{items[0].ID, items[3].ID}}, &resp)
	if len(resp.ItemIDs) != 2 {
		t.Fatalf("answer = %+v", resp)
	}
	left, _ := e.srv.Items(siteA, g.ID)
	if len(left) != 3 {
		t.Fatalf("%d items left, want 3", len(left))
	}
	for _, it := range left {
		if it.ID == items[0].ID || it.ID == items[3].ID {
			t.Fatalf("deleted item %s still there", it.ID)
		}
	}
}
