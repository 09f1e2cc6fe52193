package mastodonsim

import (
	"bytes"
	"errors"
	"image"
	_ "image/gif" // registers GIF for image.DecodeConfig
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxDescription is Mastodon's limit on alt text.
const maxDescription = 1500

var (
	errFileBlank    = newAPIError(http.StatusUnprocessableEntity, "Validation failed: File can't be blank")
	errFileTooLarge = newAPIError(http.StatusUnprocessableEntity, "Validation failed: File file size must be less than 16 MB")
	errFileInvalid  = newAPIError(http.StatusUnprocessableEntity, "Validation failed: File content type is invalid, File is invalid")
	errFocusInvalid = newAPIError(http.StatusUnprocessableEntity, "Validation failed: Focus is invalid")
	errDescTooLong  = newAPIError(http.StatusUnprocessableEntity, "Validation failed: Description is too long (maximum is 1500 characters)")
	errMediaInUse   = newAPIError(http.StatusUnprocessableEntity, "Media attachment is currently used by a status")
)

// imageExt maps the sniffed content types Mastodon accepts (and Go can
// recognise) to file extensions.
func imageExt(contentType string) (string, bool) {
	switch contentType {
	case "image/jpeg":
		return "jpeg", true
	case "image/png":
		return "png", true
	case "image/gif":
		return "gif", true
	case "image/webp":
		return "webp", true
	}
	return "", false
}

// uploadMedia handles POST /api/v2/media (and the older /api/v1/media). Images
// are processed synchronously, so the answer is always 200 with a URL.
func (s *Server) uploadMedia(c *call) (any, error) {
	p, err := readParams(c.w, c.r, maxUploadBody)
	if errors.Is(err, errBodyTooLarge) {
		return nil, errFileTooLarge
	}
	if err != nil {
		return nil, err
	}
	f := p.files["file"]
	switch {
	case f == nil:
		return nil, errFileBlank
	case f.tooLarge:
		return nil, errFileTooLarge
	}
	contentType := http.DetectContentType(f.data)
	ext, ok := imageExt(contentType)
	if !ok {
		return nil, errFileInvalid
	}
	var width, height int
	if ext != "webp" {
		cfg, _, err := image.DecodeConfig(bytes.NewReader(f.data))
		if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
			return nil, errFileInvalid
		}
		width, height = cfg.Width, cfg.Height
	}
	description, focus, err := mediaAttributes(p)
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.now()
	m := &media{
		id:          s.ids.next(now),
		account:     c.user,
		data:        f.data,
		contentType: contentType,
		ext:         ext,
		width:       width,
		height:      height,
		description: description,
		focus:       focus,
		createdAt:   now,
	}
	s.media[m.id] = m
	s.stats.MediaUploaded++
	return currentMedia(m, c.base), nil
}

// mediaAttributes reads the optional description and focus parameters.
func mediaAttributes(p *params) (*string, *Focus, error) {
	var description *string
	if v, ok := p.value("description"); ok {
		if utf8.RuneCountInString(v) > maxDescription {
			return nil, nil, errDescTooLong
		}
		description = &v
	}
	var focus *Focus
	if v, ok := p.value("focus"); ok && strings.TrimSpace(v) != "" {
		f, err := parseFocus(v)
		if err != nil {
			return nil, nil, err
		}
		focus = f
	}
	return description, focus, nil
}

// parseFocus reads "x,y" with both coordinates in -1..1.
func parseFocus(s string) (*Focus, error) {
	xs, ys, ok := strings.Cut(s, ",")
	if !ok {
		return nil, errFocusInvalid
	}
	x, errX := strconv.ParseFloat(strings.TrimSpace(xs), 64)
	y, errY := strconv.ParseFloat(strings.TrimSpace(ys), 64)
	if errX != nil || errY != nil || !(x >= -1 && x <= 1) || !(y >= -1 && y <= 1) {
		return nil, errFocusInvalid
	}
	return &Focus{X: x, Y: y}, nil
}

// unattachedMedia finds media the caller owns and has not posted yet;
// Mastodon answers 404 for anything else, attached media included.
func (s *Server) unattachedMedia(c *call) (*media, error) {
	id, ok := parseID(c.pathVars["id"])
	if !ok {
		return nil, errNotFound
	}
	m := s.media[id]
	if m == nil || m.deleted || m.account != c.user || m.status != nil {
		return nil, errNotFound
	}
	return m, nil
}

// getMedia handles GET /api/v1/media/:id.
func (s *Server) getMedia(c *call) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.unattachedMedia(c)
	if err != nil {
		return nil, err
	}
	return currentMedia(m, c.base), nil
}

// updateMedia handles PUT /api/v1/media/:id (description, focus).
func (s *Server) updateMedia(c *call) (any, error) {
	p, err := readParams(c.w, c.r, maxUploadBody)
	if err != nil {
		return nil, err
	}
	description, focus, err := mediaAttributes(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.unattachedMedia(c)
	if err != nil {
		return nil, err
	}
	if description != nil {
		m.description = description
	}
	if focus != nil {
		m.focus = focus
	}
	return currentMedia(m, c.base), nil
}

// deleteMedia handles DELETE /api/v1/media/:id for unattached media.
func (s *Server) deleteMedia(c *call) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := parseID(c.pathVars["id"])
	if !ok {
		return nil, errNotFound
	}
	m := s.media[id]
	if m == nil || m.deleted || m.account != c.user {
		return nil, errNotFound
	}
	if m.status != nil {
		return nil, errMediaInUse
	}
	m.deleted, m.data = true, nil
	return struct{}{}, nil
}

// serveFile serves an uploaded file at /media/<id>.<ext> and its preview at
// /media/<id>-small.<ext>; files are public, as on a media host.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, errMethodNotAllowed)
		return
	}
	stem, ext, _ := strings.Cut(name, ".")
	id, ok := parseID(strings.TrimSuffix(stem, "-small"))
	if !ok {
		writeError(w, errNotFound)
		return
	}
	s.mu.Lock()
	m := s.media[id]
	var data []byte
	if m != nil && !m.deleted && m.ext == ext {
		data = m.data
	}
	s.mu.Unlock()
	if data == nil {
		writeError(w, errNotFound)
		return
	}
	w.Header().Set("Content-Type", m.contentType)
	http.ServeContent(w, r, "", m.createdAt, bytes.NewReader(data))
}
