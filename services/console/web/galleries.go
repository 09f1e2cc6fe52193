package web

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"

	"gallerysync.dev/libs/wix"
	"gallerysync.dev/services/console/auth"
)

// galleriesPerPage is Wix's page size of List Galleries.
const galleriesPerPage = wix.MaxGalleriesPerPage

// galleries reads one page (1-based) of the site's galleries.
func (h *Handler) galleries(ctx context.Context, tenant string, pageNo int) (GalleriesView, error) {
	pageNo = max(pageNo, 1)
	p, err := h.d.Galleries.ListGalleries(ctx, tenant, (pageNo-1)*galleriesPerPage, galleriesPerPage)
	if err != nil {
		return GalleriesView{}, err
	}
	v := GalleriesView{Page: pageNo, Total: p.TotalGalleries, Galleries: []GalleryView{}}
	v.Pages = max(1, (p.TotalGalleries+galleriesPerPage-1)/galleriesPerPage)
	for _, g := range p.Galleries {
		v.Galleries = append(v.Galleries, galleryView(g))
	}
	return v, nil
}

// allGalleries reads every gallery of the site; pages after a failure are
// left out (names then fall back to ids).
func (h *Handler) allGalleries(ctx context.Context, tenant string) []GalleryView {
	var out []GalleryView
	for pageNo := 1; ; pageNo++ {
		v, err := h.galleries(ctx, tenant, pageNo)
		if err != nil {
			h.log.WarnContext(ctx, "list galleries", slog.Any("error", err))
			return out
		}
		out = append(out, v.Galleries...)
		if pageNo >= v.Pages || len(v.Galleries) == 0 {
			return out
		}
	}
}

// pageParam reads ?page=, 1 when absent or not a number.
func pageParam(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

func (h *Handler) galleriesPage(w http.ResponseWriter, r *http.Request, s auth.Session) error {
	v, err := h.galleries(r.Context(), s.Tenant, pageParam(r))
	if err != nil {
		return err
	}
	data := struct {
		GalleriesView
		Prev, Next int
	}{GalleriesView: v}
	if v.Page > 1 {
		data.Prev = v.Page - 1
	}
	if v.Page < v.Pages {
		data.Next = v.Page + 1
	}
	return h.render(w, r, s, http.StatusOK, "galleries", "galleries", "Galleries", data)
}

func (h *Handler) apiGalleries(r *http.Request, s auth.Session) (any, error) {
	return h.galleries(r.Context(), s.Tenant, pageParam(r))
}

func (h *Handler) apiSession(_ *http.Request, s auth.Session) (any, error) {
	return map[string]any{"tenant": s.Tenant, "csrf": h.d.Sessions.CSRFToken(s), "expires": s.Expires}, nil
}
