package web

import (
	"context"
	"fmt"
	"net/http"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/console/auth"
)

// historyLimit is how many log entries an item's page shows.
const historyLimit = 100

// ItemsPage is one page of a link's item mappings.
type ItemsPage struct {
	Items []ItemView `json:"items"`
	// Next is the token of the next page, empty on the last.
	Next string `json:"next_page_token,omitempty"`
}

// ItemHistory is an item mapping with its sync log.
type ItemHistory struct {
	Link    LinkView  `json:"link"`
	Item    ItemView  `json:"item"`
	History []LogView `json:"history"`
}

// items reads a page of a link's item mappings; the link is checked to be
// the tenant's first.
func (h *Handler) items(ctx context.Context, tenant, linkID, token string) (ItemsPage, error) {
	if _, err := h.link(ctx, tenant, linkID); err != nil {
		return ItemsPage{}, err
	}
	resp, err := h.d.Mapping.ListItems(ctx, &gsv1.ListItemsRequest{TenantId: tenant, LinkId: linkID, PageSize: itemsPage, PageToken: token})
	if err != nil {
		return ItemsPage{}, fmt.Errorf("list items: %w", err)
	}
	p := ItemsPage{Items: []ItemView{}, Next: resp.GetNextPageToken()}
	for _, it := range resp.GetItems() {
		p.Items = append(p.Items, itemView(it))
	}
	return p, nil
}

// history reads one item mapping of a link with its log.
func (h *Handler) history(ctx context.Context, tenant, linkID, itemID string) (ItemHistory, error) {
	lv, err := h.linkView(ctx, tenant, linkID, false)
	if err != nil {
		return ItemHistory{}, err
	}
	it, err := h.d.Mapping.GetItem(ctx, &gsv1.GetItemRequest{TenantId: tenant, LinkId: linkID, Key: &gsv1.GetItemRequest_WixItemId{WixItemId: itemID}})
	if err != nil {
		return ItemHistory{}, fmt.Errorf("get item: %w", err)
	}
	logs, err := h.d.Mapping.ListLog(ctx, &gsv1.ListLogRequest{TenantId: tenant, LinkId: linkID, WixItemId: itemID, Limit: historyLimit})
	if err != nil {
		return ItemHistory{}, fmt.Errorf("list log: %w", err)
	}
	out := ItemHistory{Link: lv, Item: itemView(it.GetItem()), History: []LogView{}}
	for _, e := range logs.GetEntries() {
		out.History = append(out.History, *logView(e))
	}
	return out, nil
}

// linkData is what a link's page shows.
type linkData struct {
	Link  LinkView
	Items ItemsPage
	// After is the token this page started at.
	After string
}

func (h *Handler) linkPage(w http.ResponseWriter, r *http.Request, s auth.Session) error {
	id := r.PathValue("link")
	lv, err := h.linkView(r.Context(), s.Tenant, id, true)
	if err != nil {
		return err
	}
	after := r.URL.Query().Get("after")
	items, err := h.items(r.Context(), s.Tenant, id, after)
	if err != nil {
		return err
	}
	return h.render(w, r, s, http.StatusOK, "link", "links", lv.GalleryName+" → "+lv.Album, linkData{Link: lv, Items: items, After: after})
}

func (h *Handler) itemPage(w http.ResponseWriter, r *http.Request, s auth.Session) error {
	v, err := h.history(r.Context(), s.Tenant, r.PathValue("link"), r.PathValue("item"))
	if err != nil {
		return err
	}
	return h.render(w, r, s, http.StatusOK, "item", "links", "Item "+v.Item.WixItemID, v)
}

func (h *Handler) apiItems(r *http.Request, s auth.Session) (any, error) {
	return h.items(r.Context(), s.Tenant, r.PathValue("link"), r.URL.Query().Get("page_token"))
}

func (h *Handler) apiItem(r *http.Request, s auth.Session) (any, error) {
	return h.history(r.Context(), s.Tenant, r.PathValue("link"), r.PathValue("item"))
}
