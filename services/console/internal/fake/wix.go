// Package fake holds an in-memory Wix site for the console's tests.
package fake

import (
	"context"
	"fmt"
	"iter"
	"sync"

	"gallerysync.dev/libs/wix"
)

// Wix is an in-memory set of sites and their galleries, answering like the
// Wix client: pages of 10 galleries with their first items, ErrNotFound for
// a gallery the site does not have.
type Wix struct {
	mu    sync.Mutex
	sites map[string][]wix.Gallery
	// Fail, when set, is returned by every call.
	Fail error
}

// NewWix returns a Wix without sites.
func NewWix() *Wix { return &Wix{sites: map[string][]wix.Gallery{}} }

// AddGallery adds a gallery (with all its items) to a site.
func (w *Wix) AddGallery(tenant string, g wix.Gallery) {
	w.mu.Lock()
	defer w.mu.Unlock()
	g.TotalItems = len(g.Items)
	w.sites[tenant] = append(w.sites[tenant], g)
}

// ImageItem is an image item whose media lives at url.
func ImageItem(id, title, url string) wix.Item {
	return wix.Item{ID: id, Title: title, Type: wix.ItemTypeImage,
		Image: &wix.Image{ImageInfo: &wix.ImageInfo{ID: id + ".png", URL: url, Width: 10, Height: 10}}}
}

func (w *Wix) find(tenant, id string) (wix.Gallery, error) {
	if w.Fail != nil {
		return wix.Gallery{}, w.Fail
	}
	for _, g := range w.sites[tenant] {
		if g.ID == id {
			return g, nil
		}
	}
	return wix.Gallery{}, fmt.Errorf("get gallery %s: %w", id, wix.ErrNotFound)
}

// ListGalleries is wix.Client.ListGalleries.
func (w *Wix) ListGalleries(_ context.Context, tenant string, offset, limit int) (wix.GalleriesPage, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.Fail != nil {
		return wix.GalleriesPage{}, w.Fail
	}
	all := w.sites[tenant]
	page := wix.GalleriesPage{TotalGalleries: len(all)}
	for i := offset; i < len(all) && i < offset+limit; i++ {
		g := all[i]
		g.Items = g.Items[:min(len(g.Items), 10)]
		page.Galleries = append(page.Galleries, g)
	}
	return page, nil
}

// GetGallery is wix.Client.GetGallery.
func (w *Wix) GetGallery(_ context.Context, tenant, id string, offset, limit int) (wix.Gallery, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	g, err := w.find(tenant, id)
	if err != nil {
		return wix.Gallery{}, err
	}
	g.Items = g.Items[min(offset, len(g.Items)):min(offset+limit, len(g.Items))]
	return g, nil
}

// Items is wix.Client.Items.
func (w *Wix) Items(ctx context.Context, tenant, id string) iter.Seq2[wix.Item, error] {
	return func(yield func(wix.Item, error) bool) {
		g, err := w.GetGallery(ctx, tenant, id, 0, 1<<30)
		if err != nil {
			yield(wix.Item{}, err)
			return
		}
		for _, it := range g.Items {
			if !yield(it, nil) {
				return
			}
		}
	}
}
