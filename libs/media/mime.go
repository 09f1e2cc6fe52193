package media

import (
	"fmt"
	"mime"
	"net/http"
	"path"
	"strings"
)

// mimeType takes the declared type, or sniffs the body when the server did
// not say (or only said "bytes"), and accepts only images and videos.
func mimeType(contentType string, data []byte) (string, error) {
	if len(data) == 0 {
		return "", fmt.Errorf("%w: empty body", ErrUnsupportedMedia)
	}
	mt := ""
	if contentType != "" {
		if parsed, _, err := mime.ParseMediaType(contentType); err == nil {
			mt = parsed
		}
	}
	if mt == "" || mt == "application/octet-stream" || mt == "binary/octet-stream" {
		mt, _, _ = mime.ParseMediaType(http.DetectContentType(data))
	}
	if !strings.HasPrefix(mt, "image/") && !strings.HasPrefix(mt, "video/") {
		return "", fmt.Errorf("%w: %s", ErrUnsupportedMedia, mt)
	}
	return mt, nil
}

// extension names the usual file extension of the media types platforms
// accept; some platforms check the name as well as the type.
func extension(mt string) string {
	switch mt {
	case "image/jpeg":
		return ".jpg"
	case "image/png", "image/gif", "image/webp", "image/avif", "image/heic", "image/bmp",
		"video/mp4", "video/webm":
		return "." + strings.TrimPrefix(strings.TrimPrefix(mt, "image/"), "video/")
	case "video/quicktime":
		return ".mov"
	}
	return ""
}

// filename picks a safe file name: the server's Content-Disposition name, or
// the last path segment, reduced to a conservative character set.
func filename(resp *http.Response, mt string) string {
	name := ""
	if cd := resp.Header.Get("Content-Disposition"); cd != "" {
		if _, params, err := mime.ParseMediaType(cd); err == nil {
			name = params["filename"]
		}
	}
	if name == "" && resp.Request != nil {
		name = path.Base(resp.Request.URL.Path)
	}
	name = sanitize(path.Base(strings.ReplaceAll(name, "\\", "/")))
	if name == "" || strings.Trim(name, ".") == "" {
		name = "media"
	}
	if path.Ext(name) == "" {
		name += extension(mt)
	}
	return name
}

func sanitize(s string) string {
	const maxLen = 100
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= maxLen {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}
