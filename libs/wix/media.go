package wix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// wixMediaBase is where Wix serves Media Manager files by id (wix-api.md 1.4:
// imageInfo.url is "https://static.wixstatic.com/media/<id>").
const wixMediaBase = "https://static.wixstatic.com/media/"

const wixImageScheme = "wix:image://v1/"

// mediaRef is an image given as one string instead of the REST object.
type mediaRef struct {
	id, url, filename string
	width, height     int32
}

// parseMediaRef reads the string forms an image can take: the SDK form
// "wix:image://v1/<fileId>/<filename>#originWidth=<w>&originHeight=<h>", a
// media URL, or a bare Media Manager file id (Wix accepts all three where a
// file id is expected).
func parseMediaRef(ref string) (mediaRef, error) {
	switch {
	case strings.HasPrefix(ref, wixImageScheme):
		rest, frag, _ := strings.Cut(strings.TrimPrefix(ref, wixImageScheme), "#")
		id, filename, _ := strings.Cut(rest, "/")
		if id == "" {
			return mediaRef{}, errors.New("wix:image reference has no file id")
		}
		if unescaped, err := url.PathUnescape(filename); err == nil {
			filename = unescaped
		}
		m := mediaRef{id: id, url: wixMediaBase + id, filename: filename}
		q, err := url.ParseQuery(frag)
		if err != nil {
			return mediaRef{}, fmt.Errorf("image reference fragment: %w", err)
		}
		if m.width, err = dimension(q.Get("originWidth")); err != nil {
			return mediaRef{}, fmt.Errorf("originWidth: %w", err)
		}
		if m.height, err = dimension(q.Get("originHeight")); err != nil {
			return mediaRef{}, fmt.Errorf("originHeight: %w", err)
		}
		return m, nil
	case strings.HasPrefix(ref, "https://"), strings.HasPrefix(ref, "http://"):
		return mediaRef{url: ref}, nil
	case ref == "":
		return mediaRef{}, nil
	default:
		return mediaRef{id: ref, url: wixMediaBase + ref}, nil
	}
}

func dimension(s string) (int32, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, fmt.Errorf("negative: %d", n)
	}
	return int32(n), nil
}

// mimeByExt names the media types a gallery item can hold, by file extension.
// A fixed table rather than mime.TypeByExtension, whose answers depend on the
// host's mime.types files.
func mimeByExt(ext string) string {
	switch ext {
	case "jpg", "jpeg", "jpe", "jfif":
		return "image/jpeg"
	case "png":
		return "image/png"
	case "gif":
		return "image/gif"
	case "webp":
		return "image/webp"
	case "avif":
		return "image/avif"
	case "heic":
		return "image/heic"
	case "bmp":
		return "image/bmp"
	case "tif", "tiff":
		return "image/tiff"
	case "svg":
		return "image/svg+xml"
	case "mp4", "m4v":
		return "video/mp4"
	case "mov":
		return "video/quicktime"
	case "webm":
		return "video/webm"
	case "m3u8", "hls":
		return "application/vnd.apple.mpegurl"
	}
	return ""
}

// mimeType returns the media type named by the first candidate (file name,
// file id or URL) whose extension is known, or "" when none is.
func mimeType(candidates ...string) string {
	for _, c := range candidates {
		if c == "" {
			continue
		}
		p := c
		if u, err := url.Parse(c); err == nil && u.Scheme != "" {
			p = u.Path
		}
		ext := strings.ToLower(strings.TrimPrefix(path.Ext(p), "."))
		if t := mimeByExt(ext); t != "" {
			return t
		}
	}
	return ""
}

// flexInt is a non-negative int32 that Wix may send as a number or as a
// numeric string (int64 values often travel as strings).
type flexInt int32

// UnmarshalJSON accepts 640, 640.0 and "640".
func (n *flexInt) UnmarshalJSON(b []byte) error {
	f, err := flexNumber(b)
	if err != nil {
		return err
	}
	if f < 0 || f > math.MaxInt32 || f != math.Trunc(f) {
		return fmt.Errorf("%v is not a valid dimension", f)
	}
	*n = flexInt(f)
	return nil
}

// flexFloat is a finite number sent as a number or a numeric string.
type flexFloat float64

// UnmarshalJSON accepts 1.5 and "1.5".
func (n *flexFloat) UnmarshalJSON(b []byte) error {
	f, err := flexNumber(b)
	if err != nil {
		return err
	}
	*n = flexFloat(f)
	return nil
}

func flexNumber(b []byte) (float64, error) {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return 0, nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, err
		}
		b = []byte(s)
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, errors.New("want a number or a numeric string")
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errors.New("number is not finite")
	}
	return f, nil
}
