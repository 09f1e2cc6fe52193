package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"gallerysync.dev/services/console/auth"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// pageNames are the templates rendered inside layout.html.
func pageNames() []string {
	return []string{"galleries", "connections", "share", "progress", "links", "link", "item", "failures", "unlink", "error"}
}

// page is what layout.html renders around a page.
type page struct {
	Title string
	// Nav is the section the page belongs to, marked current in the menu.
	Nav   string
	CSRF  string
	Flash string
	Data  any
}

// flash is the message a redirect after a form shows, by code; its text
// never comes from the request.
func flash(code string) string {
	switch code {
	case "connected":
		return "The account is connected."
	case "unlinked":
		return "The gallery was unlinked. Its items stay where they are on both sides."
	case "paused":
		return "The link is paused: changes wait until it is resumed."
	case "resumed":
		return "The link is active again."
	case "retried":
		return "The event was sent again."
	case "retried-all":
		return "Every failed event was sent again."
	}
	return ""
}

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{"when": when}
	out := map[string]*template.Template{}
	for _, n := range pageNames() {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+n+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", n, err)
		}
		out[n] = t
	}
	t, err := template.New("unauthorized.html").ParseFS(templateFS, "templates/unauthorized.html")
	if err != nil {
		return nil, fmt.Errorf("parse template unauthorized: %w", err)
	}
	out["unauthorized"] = t
	return out, nil
}

// render writes a page with status code.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, s auth.Session, code int, name, nav, title string, data any) error {
	p := page{Title: title, Nav: nav, Flash: flash(r.URL.Query().Get("ok")), Data: data}
	if s.Tenant != "" {
		p.CSRF = h.d.Sessions.CSRFToken(s)
	}
	var buf bytes.Buffer
	if err := h.pages[name].Execute(&buf, p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = buf.WriteTo(w)
	return nil
}

// errorPage renders an error with its status.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, s auth.Session, code int, msg string) {
	data := struct {
		Status  int
		Text    string
		Message string
	}{code, http.StatusText(code), msg}
	if err := h.render(w, r, s, code, "error", "", http.StatusText(code), data); err != nil {
		http.Error(w, msg, code)
	}
}

// unauthorized renders the 401 page that sends the owner to the Wix dashboard.
func (h *Handler) unauthorized(w http.ResponseWriter, _ *http.Request, reason string) {
	w.Header().Set("Cache-Control", "no-store")
	var buf bytes.Buffer
	if err := h.pages["unauthorized"].Execute(&buf, struct{ Reason string }{reason}); err != nil {
		http.Error(w, "Open gallerysync from your Wix dashboard.", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = buf.WriteTo(w)
}

// redirect sends the browser to path after a form, with a flash code.
func redirect(w http.ResponseWriter, r *http.Request, path, ok string) error {
	if ok != "" {
		path += "?ok=" + ok
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
	return nil
}

// assetHandler serves the embedded CSS, script and logo.
func assetHandler() http.Handler {
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		// The embed pattern guarantees the folder; reaching here is a build bug.
		return http.NotFoundHandler()
	}
	files := http.StripPrefix("/assets/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// when formats a time for people; the zero time is "never".
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2 Jan 2006, 15:04:05 UTC")
}
