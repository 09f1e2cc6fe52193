package atproto

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"strings"

	// Decoders of the formats a gallery holds.
	_ "image/gif"
	_ "image/png"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"

	"gallerysync.dev/libs/media"
	"gallerysync.dev/libs/platforms"
)

const (
	// maxBlobBytes is the most a Grain photo blob (and a Bluesky post
	// image) may hold (lexicon maxSize).
	maxBlobBytes = 1_000_000
	// maxEdge is the longest side a downscaled image starts from: what
	// Bluesky's own app uploads, and plenty for a gallery view.
	maxEdge = 2000
	// minEdge is where shrinking gives up: an image that does not fit at
	// this size is refused rather than made a thumbnail.
	minEdge = 200
	// The JPEG qualities tried at each size, from the first down to the
	// last in steps, before the size shrinks.
	firstQuality, lastQuality, qualityStep = 90, 58, 8
)

// uploaded is an image stored as a blob.
type uploaded struct {
	blob   blobRef
	aspect aspect
}

// image fetches an item's image from its source, downscales it when it is
// larger than a photo blob may be, and uploads it.
func (a *Adapter) image(ctx context.Context, s *session, mediaURL string) (uploaded, error) {
	b, err := a.fetcher.Fetch(ctx, mediaURL)
	if err != nil {
		if media.IsPermanent(err) {
			return uploaded{}, fmt.Errorf("fetch media: %w: %w", platforms.ErrPermanent, err)
		}
		return uploaded{}, fmt.Errorf("fetch media: %w", err)
	}
	if !strings.HasPrefix(b.MimeType, "image/") {
		return uploaded{}, permanentf("media %s is %s; a photo must be an image", mediaURL, b.MimeType)
	}
	data, mimeType, asp, err := fitImage(b.Data, b.MimeType, a.maxBytes)
	if err != nil {
		return uploaded{}, fmt.Errorf("%w: media %s: %v", platforms.ErrPermanent, mediaURL, err)
	}
	blob, err := s.uploadBlob(ctx, data, mimeType)
	if err != nil {
		return uploaded{}, err
	}
	return uploaded{blob: blob, aspect: asp}, nil
}

// fitImage returns the image as it is when it fits in maxBytes, else
// re-encoded as JPEG: scaled down (aspect kept) to at most maxEdge pixels,
// then with falling quality, then smaller again, until it fits.
func fitImage(data []byte, mimeType string, maxBytes int64) ([]byte, string, aspect, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, "", aspect{}, fmt.Errorf("read image size: %w", err)
	}
	if cfg.Width < 1 || cfg.Height < 1 {
		return nil, "", aspect{}, fmt.Errorf("image is %dx%d", cfg.Width, cfg.Height)
	}
	asp := aspect{Width: int64(cfg.Width), Height: int64(cfg.Height)}
	if int64(len(data)) <= maxBytes {
		return data, mimeType, asp, nil
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, "", aspect{}, fmt.Errorf("decode image: %w", err)
	}
	w, h := scaled(cfg.Width, cfg.Height, maxEdge)
	for {
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		// JPEG has no transparency: transparent parts become white.
		draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Over, nil)
		for q := firstQuality; q >= lastQuality; q -= qualityStep {
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: q}); err != nil {
				return nil, "", aspect{}, fmt.Errorf("encode jpeg: %w", err)
			}
			if int64(buf.Len()) <= maxBytes {
				return buf.Bytes(), "image/jpeg", aspect{Width: int64(w), Height: int64(h)}, nil
			}
		}
		if max(w, h) <= minEdge {
			return nil, "", aspect{}, fmt.Errorf("image does not fit in %d bytes even at %dx%d", maxBytes, w, h)
		}
		w, h = scaled(w, h, max(minEdge, max(w, h)*3/4))
	}
}

// scaled is w×h shrunk so its longer side is at most edge, aspect kept.
func scaled(w, h, edge int) (int, int) {
	if w <= edge && h <= edge {
		return w, h
	}
	if w >= h {
		return edge, max(1, (h*edge+w/2)/w)
	}
	return max(1, (w*edge+h/2)/h), edge
}
