package wixsim

import (
	"encoding/json"
	"net/http"
	"time"
)

type itemsResponse struct {
	Items []Item `json:"items"`
}

func (s *Server) listItems(w http.ResponseWriter, r *http.Request, c caller) {
	offset, limit, err := itemPage(r, defaultItemsPerPage)
	if err != nil {
		writeError(w, err)
		return
	}
	var resp itemsResponse
	err = s.read(c.instanceID, func(st *site) error {
		g, err := lookupGallery(st, r.PathValue("galleryId"))
		if err != nil {
			return err
		}
		resp.Items = g.page(offset, limit)
		return nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

type itemResponse struct {
	Item Item `json:"item"`
}

func (s *Server) getItem(w http.ResponseWriter, r *http.Request, c caller) {
	var resp itemResponse
	err := s.read(c.instanceID, func(st *site) error {
		gid, iid := r.PathValue("galleryId"), r.PathValue("itemId")
		g, err := lookupGallery(st, gid)
		if err != nil {
			return err
		}
		it, ok := g.items[iid]
		if !ok {
			return itemNotFound(gid, iid)
		}
		resp.Item = it.item
		return nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

type itemRequest struct {
	Item json.RawMessage `json:"item"`
}

func (s *Server) createItem(w http.ResponseWriter, r *http.Request, c caller) {
	var req itemRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	var resp itemResponse
	err := s.change(c.instanceID, &c.identity, func(st *site) ([]domainEvent, error) {
		g, err := lookupGallery(st, r.PathValue("galleryId"))
		if err != nil {
			return nil, err
		}
		now := s.now()
		it, err := s.newItem(st, g, req.Item, "item", now)
		if err != nil {
			return nil, err
		}
		g.items[it.ID] = &storedItem{item: it, seq: st.nextSeq(), updated: now}
		resp.Item = it
		return []domainEvent{itemCreated(g.id, it, now)}, nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) updateItem(w http.ResponseWriter, r *http.Request, c caller) {
	var req itemRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	var resp itemResponse
	err := s.change(c.instanceID, &c.identity, func(st *site) ([]domainEvent, error) {
		gid, iid := r.PathValue("galleryId"), r.PathValue("itemId")
		g, err := lookupGallery(st, gid)
		if err != nil {
			return nil, err
		}
		cur, ok := g.items[iid]
		if !ok {
			return nil, itemNotFound(gid, iid)
		}
		it, err := s.patchItem(st, cur.item, req.Item, "item")
		if err != nil {
			return nil, err
		}
		now := laterThan(cur.updated, s.now())
		it.UpdatedDate = timestamp(now)
		cur.item, cur.updated = it, now
		resp.Item = it
		return []domainEvent{itemUpdated(gid, it, now)}, nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

type deleteItemResponse struct {
	ItemID string `json:"itemId"`
}

func (s *Server) deleteItem(w http.ResponseWriter, r *http.Request, c caller) {
	gid, iid := r.PathValue("galleryId"), r.PathValue("itemId")
	err := s.change(c.instanceID, &c.identity, func(st *site) ([]domainEvent, error) {
		return deleteItems(st, gid, []string{iid}, s.now())
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, deleteItemResponse{ItemID: iid})
}

type bulkDeleteRequest struct {
	ItemIDs []string `json:"itemIds"`
}

func (s *Server) bulkDeleteItems(w http.ResponseWriter, r *http.Request, c caller) {
	var req bulkDeleteRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	if len(req.ItemIDs) == 0 {
		writeError(w, invalid(violation("itemIds", "REQUIRED_FIELD", "must not be empty")))
		return
	}
	gid := r.PathValue("galleryId")
	err := s.change(c.instanceID, &c.identity, func(st *site) ([]domainEvent, error) {
		return deleteItems(st, gid, req.ItemIDs, s.now())
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, bulkDeleteRequest{ItemIDs: req.ItemIDs})
}

// deleteItems removes items from a gallery, all or none: an unknown id
// fails the whole call before anything is deleted.
func deleteItems(st *site, gid string, ids []string, now time.Time) ([]domainEvent, error) {
	g, err := lookupGallery(st, gid)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if _, ok := g.items[id]; !ok {
			return nil, itemNotFound(gid, id)
		}
	}
	var events []domainEvent
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		delete(g.items, id)
		events = append(events, itemDeleted(gid, id, "", now))
	}
	return events, nil
}
