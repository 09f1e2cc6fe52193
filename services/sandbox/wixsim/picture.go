package wixsim

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Generated picture sizes.
const (
	defaultPictureWidth  = 640
	defaultPictureHeight = 480
	maxPictureSide       = 4000
)

// renderPNG draws a picture that depends only on name, width and height:
// a two-colour gradient, a pattern and a disc, all chosen from the name's
// hash, so tests can tell pictures apart and get the same bytes each time.
func renderPNG(name string, width, height int) ([]byte, error) {
	h := sha256.Sum256([]byte(name))
	top := [3]int{int(h[0]), int(h[1]), int(h[2])}
	bottom := [3]int{int(h[3]), int(h[4]), int(h[5])}
	accent := [3]int{int(h[6]), int(h[7]), int(h[8])}
	pattern := int(h[9]) % 3
	short := min(width, height)
	period := max(4, short/(4+int(h[10])%8))
	cx, cy := int(h[11])*width/256, int(h[12])*height/256
	r := max(2, short/6)
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	for y := range height {
		row := img.Pix[y*img.Stride : y*img.Stride+4*width]
		for x := range width {
			t := y * 256 / max(1, height-1)
			var c [3]int
			for i := range 3 {
				c[i] = (top[i]*(256-t) + bottom[i]*t) / 256
			}
			var on bool
			switch pattern {
			case 0:
				on = ((x+y)/period)%2 == 0
			case 1:
				dx, dy := x-width/2, y-height/2
				on = isqrt(dx*dx+dy*dy)/period%2 == 0
			default:
				on = (x/period+y/period)%2 == 0
			}
			if on {
				for i := range 3 {
					c[i] = (c[i] + accent[i]) / 2
				}
			}
			if dx, dy := x-cx, y-cy; dx*dx+dy*dy <= r*r {
				for i := range 3 {
					c[i] = 255 - accent[i]
				}
			}
			p := row[4*x : 4*x+4]
			p[0], p[1], p[2], p[3] = uint8(c[0]), uint8(c[1]), uint8(c[2]), 255
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}

func isqrt(n int) int {
	if n <= 0 {
		return 0
	}
	x := n
	y := (x + 1) / 2
	for y < x {
		x = y
		y = (x + n/x) / 2
	}
	return x
}

// checkPictureSize validates a requested picture size.
func checkPictureSize(width, height int) error {
	var v []FieldViolation
	for _, d := range []struct {
		name string
		n    int
	}{{"w", width}, {"h", height}} {
		if d.n < 1 || d.n > maxPictureSide {
			v = append(v, violation(d.name, "MAX", "must be between 1 and "+strconv.Itoa(maxPictureSide)))
		}
	}
	if len(v) > 0 {
		return invalid(v...)
	}
	return nil
}

// handleImage is GET /_sandbox/images/<name>.png?w=&h=: a generated picture
// a client can import by URL as "a new photo".
func (s *Server) handleImage(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(r.PathValue("name"), ".png")
	if !ok || name == "" {
		writeError(w, appError(http.StatusNotFound, nil, "NOT_FOUND", "images are served as <name>.png"))
		return
	}
	q := r.URL.Query()
	var v []FieldViolation
	width, bad := queryInt(q, "w", defaultPictureWidth, 1, maxPictureSide)
	if bad != nil {
		v = append(v, *bad)
	}
	height, bad := queryInt(q, "h", defaultPictureHeight, 1, maxPictureSide)
	if bad != nil {
		v = append(v, *bad)
	}
	if len(v) > 0 {
		writeError(w, invalid(v...))
		return
	}
	data, err := s.pictures.get(name, width, height)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}

// pictureCache keeps the last rendered pictures: encoding a PNG costs
// milliseconds, and an emulator should answer as fast as the real CDN so
// that what is measured through it is the system, not the emulator.
type pictureCache struct {
	mu    sync.Mutex
	byKey map[pictureKey][]byte
	order []pictureKey // oldest first
}

type pictureKey struct {
	name          string
	width, height int
}

// maxCachedPictures bounds the cache's memory (a few MiB at most).
const maxCachedPictures = 64

func (c *pictureCache) get(name string, width, height int) ([]byte, error) {
	k := pictureKey{name, width, height}
	c.mu.Lock()
	data, ok := c.byKey[k]
	c.mu.Unlock()
	if ok {
		return data, nil
	}
	data, err := renderPNG(name, width, height)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey == nil {
		c.byKey = map[pictureKey][]byte{}
	}
	if _, ok := c.byKey[k]; !ok {
		if len(c.order) >= maxCachedPictures {
			delete(c.byKey, c.order[0])
			c.order = c.order[1:]
		}
		c.byKey[k] = data
		c.order = append(c.order, k)
	}
	return data, nil
}
