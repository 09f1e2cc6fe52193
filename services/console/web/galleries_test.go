package web_test

import (
	"net/http"
	"strings"
	"testing"

	"gallerysync.dev/services/console/web"
)

func TestGalleriesAreThoseOfTheSessionsSite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.signIn(t, siteA)
	var p1, p2 web.GalleriesView
	a.json(http.MethodGet, "/api/galleries", nil, http.StatusOK, &p1)
	a.json(http.MethodGet, "/api/galleries?page=2", nil, http.StatusOK, &p2)
	if p1.Total != 12 || p1.Pages != 2 || len(p1.Galleries) != 10 || len(p2.Galleries) != 2 || p2.Page != 2 {
		t.Fatalf("pages: %d+%d galleries of %d in %d pages, want 10+2 of 12 in 2", len(p1.Galleries), len(p2.Galleries), p1.Total, p1.Pages)
	}
	first := p1.Galleries[0]
	if first.Name != "Harbour at dawn" || first.Items != 3 || first.CoverURL != "http://media.test/a1.png" || first.CoverAlt == "" {
		t.Fatalf("first gallery %+v: want its first image as cover", first)
	}
	if p1.Galleries[1].CoverURL != "" {
		t.Fatalf("an empty gallery has cover %q", p1.Galleries[1].CoverURL)
	}
	_, page := a.page("/galleries")
	if !strings.Contains(page, `src="http://media.test/a1.png"`) || !strings.Contains(page, `href="/galleries?page=2"`) {
		t.Fatal("the galleries page lacks the cover image or the next page link")
	}
	code, _, hdr := a.do(http.MethodGet, "/galleries", nil, "")
	if csp := hdr.Get("Content-Security-Policy"); code != http.StatusOK || !strings.Contains(csp, "img-src 'self' http://media.test") || !strings.Contains(csp, "script-src 'self';") {
		t.Fatalf("policy %q: want own scripts and images from the media origin only", csp)
	}

	b := e.signIn(t, siteB)
	var pb web.GalleriesView
	b.json(http.MethodGet, "/api/galleries?page=1", nil, http.StatusOK, &pb)
	if pb.Total != 1 || pb.Galleries[0].ID != "gal-b" {
		t.Fatalf("site B sees %+v, want its one gallery", pb)
	}
}
