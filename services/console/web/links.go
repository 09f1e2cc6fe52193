package web

import (
	"context"
	"fmt"
	"net/http"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/console/auth"
)

// Sizes of the mapping reads behind a link's page.
const (
	countPage = 500
	itemsPage = 50
	// logScan is how much of a link's log is read to find the last change
	// each way.
	logScan = 200
)

// names are what a link's ids are shown as.
type names struct {
	galleries   map[string]string
	connections map[string]*gsv1.Connection
}

// namesOf reads the tenant's gallery and connection names.
func (h *Handler) namesOf(ctx context.Context, tenant string) (names, error) {
	n := names{galleries: map[string]string{}, connections: map[string]*gsv1.Connection{}}
	conns, err := h.d.Mapping.ListConnections(ctx, &gsv1.ListConnectionsRequest{TenantId: tenant})
	if err != nil {
		return n, fmt.Errorf("list connections: %w", err)
	}
	for _, c := range conns.GetConnections() {
		n.connections[c.GetConnectionId()] = c
	}
	for _, g := range h.allGalleries(ctx, tenant) {
		n.galleries[g.ID] = g.Name
	}
	return n, nil
}

// viewOf is a link as shown; full adds its counts, last changes and jobs.
func (h *Handler) viewOf(ctx context.Context, l *gsv1.Link, n names, full bool) (LinkView, error) {
	c := n.connections[l.GetConnectionId()]
	v := LinkView{
		ID: l.GetLinkId(), GalleryID: l.GetGalleryId(), GalleryName: n.galleries[l.GetGalleryId()],
		ConnectionID: l.GetConnectionId(), ConnectionName: c.GetDisplayName(), Platform: c.GetPlatform(),
		Album: l.GetAlbumId(), State: linkState(l.GetState()), Direction: directionName(l.GetDirection()),
		CreatedAt: timeOf(l.GetCreatedAt()),
	}
	if v.GalleryName == "" {
		v.GalleryName = l.GetGalleryId()
	}
	if v.Platform == platformMastodon {
		v.Album = "#" + v.Album
	}
	if !full {
		return v, nil
	}
	var err error
	if v.Counts, err = h.counts(ctx, l); err != nil {
		return v, err
	}
	logs, err := h.d.Mapping.ListLog(ctx, &gsv1.ListLogRequest{TenantId: l.GetTenantId(), LinkId: l.GetLinkId(), Limit: logScan})
	if err != nil {
		return v, fmt.Errorf("list log: %w", err)
	}
	for _, e := range logs.GetEntries() {
		switch {
		case e.GetTarget() == gsv1.Side_SIDE_WIX && v.LastToWix == nil:
			v.LastToWix = logView(e)
		case e.GetTarget() == gsv1.Side_SIDE_PLATFORM && v.LastToPlatform == nil:
			v.LastToPlatform = logView(e)
		}
	}
	jobs, err := h.d.Mapping.ListShareJobs(ctx, &gsv1.ListShareJobsRequest{TenantId: l.GetTenantId(), LinkId: l.GetLinkId()})
	if err != nil {
		return v, fmt.Errorf("list share jobs: %w", err)
	}
	for _, j := range jobs.GetJobs() {
		v.Jobs = append(v.Jobs, jobView(j, h.now()))
	}
	return v, nil
}

// counts pages through a link's item mappings.
func (h *Handler) counts(ctx context.Context, l *gsv1.Link) (Counts, error) {
	var c Counts
	token := ""
	for {
		resp, err := h.d.Mapping.ListItems(ctx, &gsv1.ListItemsRequest{TenantId: l.GetTenantId(), LinkId: l.GetLinkId(), PageSize: countPage, PageToken: token})
		if err != nil {
			return c, fmt.Errorf("list items: %w", err)
		}
		for _, it := range resp.GetItems() {
			switch it.GetState() {
			case gsv1.ItemState_ITEM_STATE_SYNCED:
				c.Synced++
			case gsv1.ItemState_ITEM_STATE_PENDING_CREATE:
				c.Pending++
			case gsv1.ItemState_ITEM_STATE_DELETED:
				c.Deleted++
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			return c, nil
		}
	}
}

// link reads one of the tenant's links.
func (h *Handler) link(ctx context.Context, tenant, id string) (*gsv1.Link, error) {
	resp, err := h.d.Mapping.GetLink(ctx, &gsv1.GetLinkRequest{TenantId: tenant, LinkId: id})
	if err != nil {
		return nil, fmt.Errorf("get link: %w", err)
	}
	return resp.GetLink(), nil
}

// linkView reads one link as shown.
func (h *Handler) linkView(ctx context.Context, tenant, id string, full bool) (LinkView, error) {
	l, err := h.link(ctx, tenant, id)
	if err != nil {
		return LinkView{}, err
	}
	n, err := h.namesOf(ctx, tenant)
	if err != nil {
		return LinkView{}, err
	}
	return h.viewOf(ctx, l, n, full)
}

// links reads every link of the tenant as shown.
func (h *Handler) links(ctx context.Context, tenant string) ([]LinkView, error) {
	resp, err := h.d.Mapping.ListLinks(ctx, &gsv1.ListLinksRequest{TenantId: tenant})
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	n, err := h.namesOf(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := []LinkView{}
	for _, l := range resp.GetLinks() {
		v, err := h.viewOf(ctx, l, n, true)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// setLinkState pauses or resumes a link.
func (h *Handler) setLinkState(ctx context.Context, tenant, id, action string) (*gsv1.Link, error) {
	var state gsv1.LinkState
	switch action {
	case "pause":
		state = gsv1.LinkState_LINK_STATE_PAUSED
	case "resume":
		state = gsv1.LinkState_LINK_STATE_ACTIVE
	default:
		return nil, errNotFound
	}
	l, err := h.link(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	l.State = state
	put, err := h.d.Mapping.PutLink(ctx, &gsv1.PutLinkRequest{Link: l})
	if err != nil {
		return nil, fmt.Errorf("put link: %w", err)
	}
	return put.GetLink(), nil
}

// unlink removes one of the tenant's links and its mappings.
func (h *Handler) unlink(ctx context.Context, tenant, id string) error {
	if _, err := h.link(ctx, tenant, id); err != nil {
		return err
	}
	if _, err := h.d.Mapping.DeleteLink(ctx, &gsv1.DeleteLinkRequest{TenantId: tenant, LinkId: id}); err != nil {
		return fmt.Errorf("delete link: %w", err)
	}
	return nil
}

func (h *Handler) linksPage(w http.ResponseWriter, r *http.Request, s auth.Session) error {
	links, err := h.links(r.Context(), s.Tenant)
	if err != nil {
		return err
	}
	return h.render(w, r, s, http.StatusOK, "links", "links", "Links", links)
}

func (h *Handler) linkActionForm(w http.ResponseWriter, r *http.Request, s auth.Session) error {
	action := r.PathValue("action")
	if _, err := h.setLinkState(r.Context(), s.Tenant, r.PathValue("link"), action); err != nil {
		return err
	}
	return redirect(w, r, "/links/"+r.PathValue("link"), action+"d")
}

// unlinkForm asks for confirmation unless the form carries it.
func (h *Handler) unlinkForm(w http.ResponseWriter, r *http.Request, s auth.Session) error {
	id := r.PathValue("link")
	if r.PostFormValue("confirm") != "yes" {
		v, err := h.linkView(r.Context(), s.Tenant, id, false)
		if err != nil {
			return err
		}
		return h.render(w, r, s, http.StatusOK, "unlink", "links", "Unlink "+v.GalleryName, v)
	}
	if err := h.unlink(r.Context(), s.Tenant, id); err != nil {
		return err
	}
	return redirect(w, r, "/links", "unlinked")
}

func (h *Handler) apiLinks(r *http.Request, s auth.Session) (any, error) {
	links, err := h.links(r.Context(), s.Tenant)
	if err != nil {
		return nil, err
	}
	return map[string]any{"links": links}, nil
}

func (h *Handler) apiLink(r *http.Request, s auth.Session) (any, error) {
	return h.linkView(r.Context(), s.Tenant, r.PathValue("link"), true)
}

func (h *Handler) apiLinkAction(r *http.Request, s auth.Session) (any, error) {
	if _, err := h.setLinkState(r.Context(), s.Tenant, r.PathValue("link"), r.PathValue("action")); err != nil {
		return nil, err
	}
	return h.linkView(r.Context(), s.Tenant, r.PathValue("link"), true)
}

func (h *Handler) apiUnlink(r *http.Request, s auth.Session) (any, error) {
	return nil, h.unlink(r.Context(), s.Tenant, r.PathValue("link"))
}
