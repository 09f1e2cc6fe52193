package wixsim

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Paging limits documented for Pro Gallery v2.
const (
	maxGalleriesPerPage  = 10
	maxItemsPerPage      = 100
	defaultGalleryItems  = 10
	defaultItemsPerPage  = 50
	originGalleryDeleted = "Gallery Deleted"
)

// routeGallery registers the Pro Gallery v2 endpoints under prefix.
func (s *Server) routeGallery(mux *http.ServeMux, prefix string) {
	g := prefix + "/galleries"
	mux.HandleFunc("GET "+g, s.api("ListGalleries", s.listGalleries))
	mux.HandleFunc("POST "+g, s.api("CreateGallery", s.createGallery))
	mux.HandleFunc("GET "+g+"/{galleryId}", s.api("GetGallery", s.getGallery))
	mux.HandleFunc("PATCH "+g+"/{galleryId}", s.api("UpdateGallery", s.updateGallery))
	mux.HandleFunc("DELETE "+g+"/{galleryId}", s.api("DeleteGallery", s.deleteGallery))
	mux.HandleFunc("GET "+g+"/{galleryId}/items", s.api("ListGalleryItems", s.listItems))
	mux.HandleFunc("POST "+g+"/{galleryId}/items", s.api("CreateGalleryItem", s.createItem))
	mux.HandleFunc("POST "+g+"/{galleryId}/items/delete", s.api("BulkDeleteGalleryItems", s.bulkDeleteItems))
	mux.HandleFunc("GET "+g+"/{galleryId}/items/{itemId}", s.api("GetGalleryItem", s.getItem))
	mux.HandleFunc("PATCH "+g+"/{galleryId}/items/{itemId}", s.api("UpdateGalleryItem", s.updateItem))
	mux.HandleFunc("DELETE "+g+"/{galleryId}/items/{itemId}", s.api("DeleteGalleryItem", s.deleteItem))
}

// itemPage reads itemOffset/itemLimit with the given default limit.
func itemPage(r *http.Request, defLimit int) (offset, limit int, err error) {
	q := r.URL.Query()
	var v []FieldViolation
	offset, bad := queryInt(q, "itemOffset", 0, 0, 0)
	if bad != nil {
		v = append(v, *bad)
	}
	limit, bad = queryInt(q, "itemLimit", defLimit, 1, maxItemsPerPage)
	if bad != nil {
		v = append(v, *bad)
	}
	if len(v) > 0 {
		return 0, 0, invalid(v...)
	}
	return offset, limit, nil
}

type listGalleriesResponse struct {
	TotalGalleries int       `json:"totalGalleries"`
	Galleries      []Gallery `json:"galleries"`
}

func (s *Server) listGalleries(w http.ResponseWriter, r *http.Request, c caller) {
	q := r.URL.Query()
	var v []FieldViolation
	offset, bad := queryInt(q, "offset", 0, 0, 0)
	if bad != nil {
		v = append(v, *bad)
	}
	limit, bad := queryInt(q, "limit", maxGalleriesPerPage, 1, maxGalleriesPerPage)
	if bad != nil {
		v = append(v, *bad)
	}
	itemLimit, bad := queryInt(q, "itemLimit", defaultGalleryItems, 1, maxItemsPerPage)
	if bad != nil {
		v = append(v, *bad)
	}
	if len(v) > 0 {
		writeError(w, invalid(v...))
		return
	}
	resp := listGalleriesResponse{Galleries: []Gallery{}}
	err := s.read(c.instanceID, func(st *site) error {
		all := st.sortedGalleries()
		resp.TotalGalleries = len(all)
		for i := offset; i < len(all) && i < offset+limit; i++ {
			resp.Galleries = append(resp.Galleries, all[i].view(0, itemLimit))
		}
		return nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

type galleryResponse struct {
	Gallery Gallery `json:"gallery"`
}

func (s *Server) getGallery(w http.ResponseWriter, r *http.Request, c caller) {
	offset, limit, err := itemPage(r, defaultItemsPerPage)
	if err != nil {
		writeError(w, err)
		return
	}
	var resp galleryResponse
	err = s.read(c.instanceID, func(st *site) error {
		g, err := lookupGallery(st, r.PathValue("galleryId"))
		if err != nil {
			return err
		}
		resp.Gallery = g.view(offset, limit)
		return nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

type createGalleryRequest struct {
	Gallery *struct {
		Name      string            `json:"name"`
		SortOrder *float64          `json:"sortOrder"`
		Items     []json.RawMessage `json:"items"`
	} `json:"gallery"`
	CloneFromGalleryID string `json:"cloneFromGalleryId"`
}

func (s *Server) createGallery(w http.ResponseWriter, r *http.Request, c caller) {
	var req createGalleryRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	var resp galleryResponse
	err := s.change(c.instanceID, &c.identity, func(st *site) ([]domainEvent, error) {
		now := s.now()
		g := &gallery{id: newUUID(), created: now, seq: st.nextSeq(), items: map[string]*storedItem{}, sortOrder: float64(now.UnixMilli())}
		var items []Item
		if req.CloneFromGalleryID != "" {
			src, err := lookupGallery(st, req.CloneFromGalleryID)
			if err != nil {
				return nil, err
			}
			g.name = src.name
			for _, it := range src.sortedItems() {
				clone := it.item
				clone.ID = newUUID()
				clone.CreatedDate, clone.UpdatedDate = timestamp(now), timestamp(now)
				items = append(items, clone)
			}
		}
		if req.Gallery != nil {
			if req.Gallery.Name != "" {
				g.name = req.Gallery.Name
			}
			if req.Gallery.SortOrder != nil {
				g.sortOrder = *req.Gallery.SortOrder
			}
			for i, raw := range req.Gallery.Items {
				it, err := s.newItem(st, g, raw, fmt.Sprintf("gallery.items[%d]", i), now)
				if err != nil {
					return nil, err
				}
				items = append(items, it)
			}
		}
		for _, it := range items {
			g.items[it.ID] = &storedItem{item: it, seq: st.nextSeq(), updated: now}
		}
		st.galleries[g.id] = g
		events := []domainEvent{galleryCreated(g.view(0, 0), now)}
		for _, it := range g.sortedItems() {
			events = append(events, itemCreated(g.id, it.item, now))
		}
		resp.Gallery = g.view(0, defaultItemsPerPage)
		return events, nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

type updateGalleryRequest struct {
	Gallery *struct {
		Name      *string  `json:"name"`
		SortOrder *float64 `json:"sortOrder"`
	} `json:"gallery"`
}

func (s *Server) updateGallery(w http.ResponseWriter, r *http.Request, c caller) {
	var req updateGalleryRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.Gallery == nil {
		writeError(w, invalid(violation("gallery", "REQUIRED_FIELD", "must not be empty")))
		return
	}
	var resp galleryResponse
	err := s.change(c.instanceID, &c.identity, func(st *site) ([]domainEvent, error) {
		g, err := lookupGallery(st, r.PathValue("galleryId"))
		if err != nil {
			return nil, err
		}
		if req.Gallery.Name != nil {
			g.name = *req.Gallery.Name
		}
		if req.Gallery.SortOrder != nil {
			g.sortOrder = *req.Gallery.SortOrder
		}
		resp.Gallery = g.view(0, defaultItemsPerPage)
		return []domainEvent{galleryUpdated(g.view(0, 0), s.now())}, nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

type deleteGalleryResponse struct {
	GalleryID string `json:"galleryId"`
}

func (s *Server) deleteGallery(w http.ResponseWriter, r *http.Request, c caller) {
	id := r.PathValue("galleryId")
	err := s.change(c.instanceID, &c.identity, func(st *site) ([]domainEvent, error) {
		g, err := lookupGallery(st, id)
		if err != nil {
			return nil, err
		}
		now := s.now()
		delete(st.galleries, id)
		events := []domainEvent{galleryDeleted(id, now)}
		for _, it := range g.sortedItems() {
			events = append(events, itemDeleted(id, it.item.ID, originGalleryDeleted, now))
		}
		return events, nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, deleteGalleryResponse{GalleryID: id})
}
