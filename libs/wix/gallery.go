package wix

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// Paging limits of Pro Gallery v2 (wix-api.md 1.2).
const (
	MaxGalleriesPerPage = 10
	MaxItemsPerPage     = 100
	// MaxBulkDelete is how many item ids one bulk delete call takes here.
	MaxBulkDelete = 100
)

// GalleriesPage is one page of List Galleries.
type GalleriesPage struct {
	// TotalGalleries counts the site's galleries, not only this page's.
	TotalGalleries int
	Galleries      []Gallery
}

// wireGalleries is the List Galleries answer. The schema names
// totalGalleries/galleries; Wix's sample answer totalGalleriesCount/gallery.
type wireGalleries struct {
	TotalGalleries      *flexInt  `json:"totalGalleries"`
	TotalGalleriesCount *flexInt  `json:"totalGalleriesCount"`
	Galleries           []Gallery `json:"galleries"`
	Gallery             []Gallery `json:"gallery"`
}

// ListGalleries returns galleries offset..offset+limit of the site, sorted
// by creation; limit is 1..10. Each comes with its first items (up to 10,
// Wix's default), enough to show a cover image.
func (c *Client) ListGalleries(ctx context.Context, instanceID string, offset, limit int) (GalleriesPage, error) {
	if err := checkPage(offset, limit, MaxGalleriesPerPage); err != nil {
		return GalleriesPage{}, fmt.Errorf("list galleries: %w", err)
	}
	if err := checkIDs(idArg{"instance id", instanceID}); err != nil {
		return GalleriesPage{}, fmt.Errorf("list galleries: %w", err)
	}
	var w wireGalleries
	err := c.do(ctx, instanceID, request{
		method:     http.MethodGet,
		url:        c.gallery + "/galleries",
		path:       "/galleries",
		query:      url.Values{"offset": {strconv.Itoa(offset)}, "limit": {strconv.Itoa(limit)}},
		idempotent: true,
	}, &w)
	if err != nil {
		return GalleriesPage{}, fmt.Errorf("list galleries: %w", err)
	}
	page := GalleriesPage{Galleries: w.Galleries}
	if page.Galleries == nil {
		page.Galleries = w.Gallery
	}
	switch {
	case w.TotalGalleries != nil:
		page.TotalGalleries = int(*w.TotalGalleries)
	case w.TotalGalleriesCount != nil:
		page.TotalGalleries = int(*w.TotalGalleriesCount)
	}
	return page, nil
}

// AllGalleries returns every gallery of the site, reading pages of 10.
func (c *Client) AllGalleries(ctx context.Context, instanceID string) ([]Gallery, error) {
	var all []Gallery
	seen := make(map[string]bool)
	for offset := 0; ; {
		page, err := c.ListGalleries(ctx, instanceID, offset, MaxGalleriesPerPage)
		if err != nil {
			return nil, err
		}
		fresh := 0
		for _, g := range page.Galleries {
			if seen[g.ID] {
				continue
			}
			seen[g.ID] = true
			all = append(all, g)
			fresh++
		}
		offset += len(page.Galleries)
		if len(page.Galleries) < MaxGalleriesPerPage || (page.TotalGalleries > 0 && offset >= page.TotalGalleries) {
			return all, nil
		}
		if fresh == 0 {
			return nil, fmt.Errorf("list galleries: %w", errNoProgress)
		}
	}
}

// errNoProgress is a full page of things already read: Wix ignored the
// offset, and reading on would never end.
var errNoProgress = errors.New("page at the next offset repeats the previous one")

type wireGallery struct {
	Gallery Gallery `json:"gallery"`
}

// GetGallery returns a gallery with items itemOffset..itemOffset+itemLimit;
// itemLimit is 1..100.
func (c *Client) GetGallery(ctx context.Context, instanceID, galleryID string, itemOffset, itemLimit int) (Gallery, error) {
	if err := checkPage(itemOffset, itemLimit, MaxItemsPerPage); err != nil {
		return Gallery{}, fmt.Errorf("get gallery %s: %w", galleryID, err)
	}
	if err := checkIDs(idArg{"instance id", instanceID}, idArg{"gallery id", galleryID}); err != nil {
		return Gallery{}, fmt.Errorf("get gallery %s: %w", galleryID, err)
	}
	var w wireGallery
	err := c.do(ctx, instanceID, request{
		method:     http.MethodGet,
		url:        c.gallery + "/galleries/" + url.PathEscape(galleryID),
		path:       "/galleries/" + galleryID,
		query:      itemPageQuery(itemOffset, itemLimit),
		idempotent: true,
	}, &w)
	if err != nil {
		return Gallery{}, fmt.Errorf("get gallery %s: %w", galleryID, err)
	}
	return w.Gallery, nil
}

// Items yields every item of a gallery, reading pages of 100 with Get
// Gallery until totalItems are read or a page comes back short. An error
// is yielded once, last. Items that move between pages while they are read
// are yielded once.
func (c *Client) Items(ctx context.Context, instanceID, galleryID string) iter.Seq2[Item, error] {
	return func(yield func(Item, error) bool) {
		seen := make(map[string]bool)
		for offset := 0; ; {
			g, err := c.GetGallery(ctx, instanceID, galleryID, offset, MaxItemsPerPage)
			if err != nil {
				yield(Item{}, err)
				return
			}
			fresh := 0
			for _, it := range g.Items {
				if it.ID != "" && seen[it.ID] {
					continue
				}
				seen[it.ID] = true
				fresh++
				if !yield(it, nil) {
					return
				}
			}
			offset += len(g.Items)
			if len(g.Items) < MaxItemsPerPage || (g.TotalItems > 0 && offset >= g.TotalItems) {
				return
			}
			if fresh == 0 {
				yield(Item{}, fmt.Errorf("get gallery %s items: %w", galleryID, errNoProgress))
				return
			}
		}
	}
}

type wireItems struct {
	Items []Item `json:"items"`
}

// ListItems returns items offset..offset+limit of a gallery; limit is 1..100.
// The answer carries no total: Get Gallery's TotalItems has it.
func (c *Client) ListItems(ctx context.Context, instanceID, galleryID string, offset, limit int) ([]Item, error) {
	if err := checkPage(offset, limit, MaxItemsPerPage); err != nil {
		return nil, fmt.Errorf("list items of gallery %s: %w", galleryID, err)
	}
	if err := checkIDs(idArg{"instance id", instanceID}, idArg{"gallery id", galleryID}); err != nil {
		return nil, fmt.Errorf("list items of gallery %s: %w", galleryID, err)
	}
	var w wireItems
	err := c.do(ctx, instanceID, request{
		method:     http.MethodGet,
		url:        c.itemsURL(galleryID),
		path:       "/galleries/" + galleryID + "/items",
		query:      itemPageQuery(offset, limit),
		idempotent: true,
	}, &w)
	if err != nil {
		return nil, fmt.Errorf("list items of gallery %s: %w", galleryID, err)
	}
	return w.Items, nil
}

type wireItem struct {
	Item Item `json:"item"`
}

type wirePatch struct {
	Item ItemPatch `json:"item"`
}

// GetItem returns one item.
func (c *Client) GetItem(ctx context.Context, instanceID, galleryID, itemID string) (Item, error) {
	if err := checkIDs(idArg{"instance id", instanceID}, idArg{"gallery id", galleryID}, idArg{"item id", itemID}); err != nil {
		return Item{}, fmt.Errorf("get item %s: %w", itemID, err)
	}
	var w wireItem
	err := c.do(ctx, instanceID, request{
		method:     http.MethodGet,
		url:        c.itemURL(galleryID, itemID),
		path:       "/galleries/" + galleryID + "/items/" + itemID,
		idempotent: true,
	}, &w)
	if err != nil {
		return Item{}, fmt.Errorf("get item %s: %w", itemID, err)
	}
	return w.Item, nil
}

// CreateItem adds an item to a gallery and returns it with the id Wix gave
// it. Its read-only fields are not sent. An image must name a Media Manager
// file that is ready (see WaitReady and ImageInfoOf). Wix has no idempotency
// key, so a create is retried only when it surely did not take effect; the
// caller records its intent first and reconciles after other failures.
func (c *Client) CreateItem(ctx context.Context, instanceID, galleryID string, it Item) (Item, error) {
	if err := checkIDs(idArg{"instance id", instanceID}, idArg{"gallery id", galleryID}); err != nil {
		return Item{}, fmt.Errorf("create item in gallery %s: %w", galleryID, err)
	}
	if err := checkMedia(it.Image, it.Video, it.Text, true); err != nil {
		return Item{}, fmt.Errorf("create item in gallery %s: %w", galleryID, err)
	}
	var w wireItem
	err := c.do(ctx, instanceID, request{
		method: http.MethodPost,
		url:    c.itemsURL(galleryID),
		path:   "/galleries/" + galleryID + "/items",
		body:   wireItem{Item: writable(it)},
	}, &w)
	if err != nil {
		return Item{}, fmt.Errorf("create item in gallery %s: %w", galleryID, err)
	}
	return w.Item, nil
}

// UpdateItem changes the fields set in the patch and returns the whole item.
func (c *Client) UpdateItem(ctx context.Context, instanceID, galleryID, itemID string, p ItemPatch) (Item, error) {
	if err := checkIDs(idArg{"instance id", instanceID}, idArg{"gallery id", galleryID}, idArg{"item id", itemID}); err != nil {
		return Item{}, fmt.Errorf("update item %s: %w", itemID, err)
	}
	if err := p.check(); err != nil {
		return Item{}, fmt.Errorf("update item %s: %w", itemID, err)
	}
	var w wireItem
	err := c.do(ctx, instanceID, request{
		method:     http.MethodPatch,
		url:        c.itemURL(galleryID, itemID),
		path:       "/galleries/" + galleryID + "/items/" + itemID,
		body:       wirePatch{Item: p.writable()},
		idempotent: true,
	}, &w)
	if err != nil {
		return Item{}, fmt.Errorf("update item %s: %w", itemID, err)
	}
	return w.Item, nil
}

// DeleteItem deletes an item; an item that is already gone is no error.
func (c *Client) DeleteItem(ctx context.Context, instanceID, galleryID, itemID string) error {
	if err := checkIDs(idArg{"instance id", instanceID}, idArg{"gallery id", galleryID}, idArg{"item id", itemID}); err != nil {
		return fmt.Errorf("delete item %s: %w", itemID, err)
	}
	err := c.do(ctx, instanceID, request{
		method:     http.MethodDelete,
		url:        c.itemURL(galleryID, itemID),
		path:       "/galleries/" + galleryID + "/items/" + itemID,
		idempotent: true,
	}, nil)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("delete item %s: %w", itemID, err)
	}
	return nil
}

// wireItemIDs is the Bulk Delete request and answer; the older API spelled
// the key itemsIds.
type wireItemIDs struct {
	ItemIDs  []string `json:"itemIds"`
	ItemsIDs []string `json:"itemsIds,omitempty"`
}

// BulkDeleteItems deletes items in calls of up to 100 ids and returns the
// ids Wix reports deleted. When a call fails, the ids deleted by earlier
// calls are returned with the error.
func (c *Client) BulkDeleteItems(ctx context.Context, instanceID, galleryID string, ids []string) ([]string, error) {
	if err := checkIDs(idArg{"instance id", instanceID}, idArg{"gallery id", galleryID}); err != nil {
		return nil, fmt.Errorf("bulk delete items of gallery %s: %w", galleryID, err)
	}
	for _, id := range ids {
		if err := checkIDs(idArg{"item id", id}); err != nil {
			return nil, fmt.Errorf("bulk delete items of gallery %s: %w", galleryID, err)
		}
	}
	var deleted []string
	for start := 0; start < len(ids); start += MaxBulkDelete {
		chunk := ids[start:min(start+MaxBulkDelete, len(ids))]
		var w wireItemIDs
		err := c.do(ctx, instanceID, request{
			method:     http.MethodPost,
			url:        c.itemsURL(galleryID) + "/delete",
			path:       "/galleries/" + galleryID + "/items/delete",
			body:       wireItemIDs{ItemIDs: chunk},
			idempotent: true,
		}, &w)
		if err != nil {
			return deleted, fmt.Errorf("bulk delete items of gallery %s: %w", galleryID, err)
		}
		switch {
		case w.ItemIDs != nil:
			deleted = append(deleted, w.ItemIDs...)
		case w.ItemsIDs != nil:
			deleted = append(deleted, w.ItemsIDs...)
		default:
			// A success that names nothing: the ids asked for are gone.
			deleted = append(deleted, chunk...)
		}
	}
	return deleted, nil
}

func (c *Client) itemsURL(galleryID string) string {
	return c.gallery + "/galleries/" + url.PathEscape(galleryID) + "/items"
}

func (c *Client) itemURL(galleryID, itemID string) string {
	return c.itemsURL(galleryID) + "/" + url.PathEscape(itemID)
}

// itemPageQuery names an item page as documented; the old sample's
// offset/limit spelling is not sent (wix-api.md 1.2).
func itemPageQuery(offset, limit int) url.Values {
	return url.Values{"itemOffset": {strconv.Itoa(offset)}, "itemLimit": {strconv.Itoa(limit)}}
}

func checkPage(offset, limit, maxLimit int) error {
	if offset < 0 || limit < 1 || limit > maxLimit {
		return fmt.Errorf("%w: offset %d, limit %d: want offset >= 0 and limit 1..%d", ErrInvalidRequest, offset, limit, maxLimit)
	}
	return nil
}

// idArg is an id argument and what it names.
type idArg struct{ name, value string }

func checkIDs(args ...idArg) error {
	for _, a := range args {
		if a.value == "" {
			return fmt.Errorf("%w: empty %s", ErrInvalidRequest, a.name)
		}
		if len(a.value) > MaxIDBytes {
			return fmt.Errorf("%w: %s is %d bytes, limit %d", ErrInvalidRequest, a.name, len(a.value), MaxIDBytes)
		}
	}
	return nil
}
