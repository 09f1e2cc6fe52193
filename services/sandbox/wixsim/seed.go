package wixsim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
)

// The methods in this file seed and inspect state directly. They send no
// webhooks and do not count as API calls.

// AddSite installs the app on a site without sending AppInstalled. Adding
// a site again keeps its content, updates the owner and installs the app
// again if it was removed.
func (s *Server) AddSite(instanceID, ownerUserID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.sites[instanceID]; ok {
		st.ownerUserID = ownerUserID
		st.installed = true
		return
	}
	s.sites[instanceID] = newSite(instanceID, ownerUserID)
}

// AddImage adds a READY Media Manager file holding a generated PNG whose
// colours and pattern follow from name. Its id is derived from the site,
// name and size, so the same call always gives the same file.
func (s *Server) AddImage(instanceID, name string, width, height int) (FileDescriptor, error) {
	if name == "" {
		return FileDescriptor{}, fmt.Errorf("add image: empty name: %w", ErrInvalid)
	}
	if err := checkPictureSize(width, height); err != nil {
		return FileDescriptor{}, fmt.Errorf("add image %q: %w", name, err)
	}
	prefix, err := s.filePrefix(instanceID)
	if err != nil {
		return FileDescriptor{}, fmt.Errorf("add image %q: %w", name, err)
	}
	sum := sha256.Sum256([]byte(instanceID + "\x00" + name + "\x00" + strconv.Itoa(width) + "x" + strconv.Itoa(height)))
	id := prefix + "_" + hex.EncodeToString(sum[:16]) + "~mv2.png"
	if f, err := s.lookupFile(instanceID, id); err == nil {
		return f, nil
	}
	data, err := renderPNG(name, width, height)
	if err != nil {
		return FileDescriptor{}, fmt.Errorf("add image %q: %w", name, err)
	}
	f := s.readyFile(instanceID, id, data, "image/png", width, height, fileName(name, "", id, "png"))
	if err := s.storeFile(f); err != nil {
		if existing, lerr := s.lookupFile(instanceID, id); lerr == nil {
			return existing, nil // added by a concurrent call
		}
		return FileDescriptor{}, fmt.Errorf("add image %q: %w", name, err)
	}
	return f.desc, nil
}

// SeedOption adjusts a seeded gallery.
type SeedOption func(*seedOptions)

type seedOptions struct {
	id string
}

// WithID gives a seeded gallery a fixed id, so a restarted sandbox seeds
// the same ids.
func WithID(id string) SeedOption {
	return func(o *seedOptions) { o.id = id }
}

// CreateGallery adds an empty gallery without sending a webhook.
func (s *Server) CreateGallery(instanceID, name string, opts ...SeedOption) (Gallery, error) {
	var o seedOptions
	for _, opt := range opts {
		opt(&o)
	}
	var out Gallery
	err := s.change(instanceID, nil, func(st *site) ([]domainEvent, error) {
		id := o.id
		if id == "" {
			id = newUUID()
		}
		if _, taken := st.galleries[id]; taken {
			return nil, fmt.Errorf("gallery %s: %w", id, ErrConflict)
		}
		now := s.now()
		g := &gallery{id: id, name: name, sortOrder: float64(now.UnixMilli()), created: now, seq: st.nextSeq(), items: map[string]*storedItem{}}
		st.galleries[id] = g
		out = g.view(0, 0)
		return nil, nil
	})
	if err != nil {
		return Gallery{}, fmt.Errorf("create gallery %q: %w", name, err)
	}
	return out, nil
}

// AddItem adds an item to a gallery without sending a webhook. It is
// checked like Create Gallery Item; item.ID is kept when set and unused.
func (s *Server) AddItem(instanceID, galleryID string, item Item) (Item, error) {
	raw, err := json.Marshal(item)
	if err != nil {
		return Item{}, fmt.Errorf("encode item: %w", err)
	}
	var out Item
	err = s.change(instanceID, nil, func(st *site) ([]domainEvent, error) {
		g, err := lookupGallery(st, galleryID)
		if err != nil {
			return nil, err
		}
		if item.ID != "" {
			if _, taken := g.items[item.ID]; taken {
				return nil, fmt.Errorf("item %s: %w", item.ID, ErrConflict)
			}
		}
		var fields map[string]json.RawMessage
		_ = json.Unmarshal(raw, &fields)
		if item.SortOrder == 0 {
			// Zero means "not given" here, so the default applies.
			delete(fields, "sortOrder")
			raw, _ = json.Marshal(fields)
		}
		now := s.now()
		it, err := s.newItem(st, g, raw, "item", now)
		if err != nil {
			return nil, err
		}
		if item.ID != "" {
			it.ID = item.ID
		}
		g.items[it.ID] = &storedItem{item: it, seq: st.nextSeq(), updated: now}
		out = it
		return nil, nil
	})
	if err != nil {
		return Item{}, fmt.Errorf("add item to gallery %s: %w", galleryID, err)
	}
	return out, nil
}

// Items returns every item of a gallery in display order, without paging
// and without counting as an API call.
func (s *Server) Items(instanceID, galleryID string) ([]Item, error) {
	var out []Item
	err := s.read(instanceID, func(st *site) error {
		g, err := lookupGallery(st, galleryID)
		if err != nil {
			return err
		}
		out = g.page(0, len(g.items))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("items of gallery %s: %w", galleryID, err)
	}
	return out, nil
}

// Galleries returns the site's galleries in creation order with all items.
func (s *Server) Galleries(instanceID string) ([]Gallery, error) {
	var out []Gallery
	err := s.read(instanceID, func(st *site) error {
		for _, g := range st.sortedGalleries() {
			out = append(out, g.view(0, len(g.items)))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("galleries of %s: %w", instanceID, err)
	}
	return out, nil
}
