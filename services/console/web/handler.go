// Package web is the site owner's dashboard: server-rendered pages (its
// galleries with their covers, connections, share with live progress,
// links with per-item history, failed events with replay) and the JSON API
// behind every page. Every request acts for the tenant of its session
// cookie, never for an id found in the request.
package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/wix"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/console/auth"
	"gallerysync.dev/services/console/check"
	"gallerysync.dev/services/console/share"
)

// Galleries lists a site's Pro Galleries; *wix.Client is the real one.
type Galleries interface {
	ListGalleries(ctx context.Context, instanceID string, offset, limit int) (wix.GalleriesPage, error)
}

// DeadLetters lists and replays failed events; *bus.Bus is the real one.
type DeadLetters interface {
	DeadLetters(ctx context.Context, filter func(*gsv1.ChangeEvent) bool, limit int) ([]bus.DeadLetter, error)
	DeadLetter(ctx context.Context, seq uint64) (bus.DeadLetter, error)
	Replay(ctx context.Context, seq uint64) error
}

// Starter starts shares; *share.Starter is the real one.
type Starter interface {
	Start(ctx context.Context, tenant string, req share.Request) (*gsv1.ShareJob, error)
}

// Deps are what the dashboard works with.
type Deps struct {
	Mapping   gsv1.MappingServiceClient
	Galleries Galleries
	Failures  DeadLetters
	Shares    Starter
	// Checkers verify new connections, by platform name.
	Checkers map[string]check.Checker
	Sessions *auth.Sessions
	// AppSecret verifies the signed instance of the dashboard URL.
	AppSecret []byte
	// InstanceMaxAge is how old a signed instance may be.
	InstanceMaxAge time.Duration
	// ImageOrigins may serve gallery images (the Content-Security-Policy
	// allows them and nothing else outside this origin).
	ImageOrigins []string
	Logger       *slog.Logger
}

// Handler serves the dashboard.
type Handler struct {
	d     Deps
	log   *slog.Logger
	pages map[string]*template.Template
	csp   string
	mux   *http.ServeMux
	now   func() time.Time
}

// New checks deps and builds the handler with its routes.
func New(d Deps) (*Handler, error) {
	switch {
	case d.Mapping == nil || d.Galleries == nil || d.Failures == nil || d.Shares == nil || d.Sessions == nil:
		return nil, errors.New("web: mapping, galleries, failures, shares and sessions are required")
	case len(d.AppSecret) == 0:
		return nil, errors.New("web: app secret is required")
	case d.InstanceMaxAge <= 0:
		return nil, errors.New("web: instance max age must be positive")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	h := &Handler{d: d, log: d.Logger, pages: pages, csp: policy(d.ImageOrigins), mux: http.NewServeMux(), now: time.Now}
	h.routes()
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}

// policy is the Content-Security-Policy: our own scripts, styles and
// calls only; images also from the Wix media origins; framing only by the
// Wix dashboard.
func policy(imageOrigins []string) string {
	img := []string{"'self'"}
	for _, o := range imageOrigins {
		if u, err := url.Parse(o); err == nil && u.Scheme != "" && u.Host != "" {
			img = append(img, u.Scheme+"://"+u.Host)
		}
	}
	return fmt.Sprintf("default-src 'none'; script-src 'self'; style-src 'self'; img-src %s; connect-src 'self'; "+
		"form-action 'self'; base-uri 'none'; frame-ancestors 'self' https://*.wix.com", strings.Join(img, " "))
}

func (h *Handler) routes() {
	m := h.mux
	m.Handle("GET /assets/", assetHandler())
	m.HandleFunc("GET /{$}", h.page(h.galleriesPage))
	m.HandleFunc("GET /galleries", h.page(h.galleriesPage))
	m.HandleFunc("GET /connections", h.page(h.connectionsPage))
	m.HandleFunc("POST /connections", h.page(h.connectForm))
	m.HandleFunc("GET /share", h.page(h.sharePage))
	m.HandleFunc("POST /share", h.page(h.shareForm))
	m.HandleFunc("GET /shares/{job}", h.page(h.progressPage))
	m.HandleFunc("POST /shares/{job}/{action}", h.page(h.shareActionForm))
	m.HandleFunc("GET /links", h.page(h.linksPage))
	m.HandleFunc("GET /links/{link}", h.page(h.linkPage))
	m.HandleFunc("GET /links/{link}/items/{item}", h.page(h.itemPage))
	m.HandleFunc("POST /links/{link}/unlink", h.page(h.unlinkForm))
	m.HandleFunc("POST /links/{link}/{action}", h.page(h.linkActionForm))
	m.HandleFunc("GET /failures", h.page(h.failuresPage))
	m.HandleFunc("POST /failures/retry-all", h.page(h.retryAllForm))
	m.HandleFunc("POST /failures/{seq}/retry", h.page(h.retryForm))

	m.HandleFunc("GET /api/session", h.api(h.apiSession))
	m.HandleFunc("GET /api/galleries", h.api(h.apiGalleries))
	m.HandleFunc("GET /api/connections", h.api(h.apiConnections))
	m.HandleFunc("POST /api/connections", h.api(h.apiConnect))
	m.HandleFunc("POST /api/shares", h.api(h.apiStartShare))
	m.HandleFunc("GET /api/shares/{job}", h.api(h.apiShare))
	m.HandleFunc("POST /api/shares/{job}/{action}", h.api(h.apiShareAction))
	m.HandleFunc("GET /api/links", h.api(h.apiLinks))
	m.HandleFunc("GET /api/links/{link}", h.api(h.apiLink))
	m.HandleFunc("DELETE /api/links/{link}", h.api(h.apiUnlink))
	m.HandleFunc("POST /api/links/{link}/{action}", h.api(h.apiLinkAction))
	m.HandleFunc("GET /api/links/{link}/items", h.api(h.apiItems))
	m.HandleFunc("GET /api/links/{link}/items/{item}", h.api(h.apiItem))
	m.HandleFunc("GET /api/failures", h.api(h.apiFailures))
	m.HandleFunc("POST /api/failures/retry-all", h.api(h.apiRetryAll))
	m.HandleFunc("POST /api/failures/{seq}/retry", h.api(h.apiRetry))
	m.HandleFunc("/api/", h.api(func(*http.Request, auth.Session) (any, error) { return nil, errNotFound }))
	m.HandleFunc("/", h.page(func(http.ResponseWriter, *http.Request, auth.Session) error { return errNotFound }))
}
