package wixsim

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"
)

// site is one app instance: a Wix site and whether the app is installed
// on it. A site whose app was removed keeps its content (it is the site's,
// not the app's) but gets no tokens and sends no webhooks.
type site struct {
	instanceID  string
	ownerUserID string
	siteID      string
	filePrefix  string
	installed   bool
	galleries   map[string]*gallery
	seq         int64
}

// gallery is a stored Pro Gallery.
type gallery struct {
	id        string
	name      string
	sortOrder float64
	created   time.Time
	seq       int64
	items     map[string]*storedItem
}

// storedItem is an item in its wire form plus what orders it.
type storedItem struct {
	item    Item
	seq     int64
	updated time.Time
}

func newSite(instanceID, ownerUserID string) *site {
	sum := sha256.Sum256([]byte("site:" + instanceID))
	h := hex.EncodeToString(sum[:])
	return &site{
		instanceID:  instanceID,
		ownerUserID: ownerUserID,
		siteID:      h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32],
		filePrefix:  h[32:38],
		installed:   true,
		galleries:   map[string]*gallery{},
	}
}

func (st *site) nextSeq() int64 {
	st.seq++
	return st.seq
}

// sortedGalleries lists galleries by creation, as List Galleries does.
func (st *site) sortedGalleries() []*gallery {
	out := make([]*gallery, 0, len(st.galleries))
	for _, g := range st.galleries {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *gallery) int {
		if c := a.created.Compare(b.created); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	return out
}

// sortedItems lists items by ascending sortOrder; ties keep creation order
// so that offset paging is stable.
func (g *gallery) sortedItems() []*storedItem {
	out := make([]*storedItem, 0, len(g.items))
	for _, it := range g.items {
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b *storedItem) int {
		if c := cmp.Compare(a.item.SortOrder, b.item.SortOrder); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	return out
}

// page returns items [offset, offset+limit) in display order.
func (g *gallery) page(offset, limit int) []Item {
	all := g.sortedItems()
	out := []Item{}
	for i := offset; i < len(all) && i < offset+limit; i++ {
		out = append(out, all[i].item)
	}
	return out
}

// view is the gallery in wire form with one page of items.
func (g *gallery) view(offset, limit int) Gallery {
	return Gallery{
		ID:          g.id,
		Name:        g.name,
		TotalItems:  len(g.items),
		Items:       g.page(offset, limit),
		SortOrder:   g.sortOrder,
		CreatedDate: timestamp(g.created),
	}
}

// freeSortOrder returns want, moved up until no item of g uses it, so that
// default sort orders taken from the clock never collide.
func (g *gallery) freeSortOrder(want float64) float64 {
	used := make(map[float64]bool, len(g.items))
	for _, it := range g.items {
		used[it.item.SortOrder] = true
	}
	for used[want] {
		want++
	}
	return want
}

// laterThan returns now, or a millisecond after prev when the clock has not
// moved by a whole millisecond (the precision of the wire format), so that
// updatedDate visibly moves on every change.
func laterThan(prev, now time.Time) time.Time {
	p, n := prev.Truncate(time.Millisecond), now.Truncate(time.Millisecond)
	if n.After(p) {
		return n
	}
	return p.Add(time.Millisecond)
}

// change runs f on the site under the lock and queues the webhooks it
// returns in order. who == nil means a seeding change that sends none.
func (s *Server) change(instanceID string, who *identity, f func(st *site) ([]domainEvent, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.sites[instanceID]
	if !ok {
		return siteNotFound(instanceID)
	}
	events, err := f(st)
	if err != nil {
		return err
	}
	if who != nil {
		s.enqueue(st, *who, events)
	}
	return nil
}

// read runs f on the site under the lock.
func (s *Server) read(instanceID string, f func(st *site) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.sites[instanceID]
	if !ok {
		return siteNotFound(instanceID)
	}
	return f(st)
}

func (s *Server) hasSite(instanceID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.sites[instanceID]
	return ok
}

// isInstalled reports whether the app is installed on the instance.
func (s *Server) isInstalled(instanceID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.sites[instanceID]
	return ok && st.installed
}

// lookupGallery finds a gallery of the site.
func lookupGallery(st *site, id string) (*gallery, error) {
	g, ok := st.galleries[id]
	if !ok {
		return nil, galleryNotFound(id)
	}
	return g, nil
}
