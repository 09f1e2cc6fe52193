package wix

import (
	"fmt"
	"time"
)

// ItemPatch is a partial item update: only the fields set (non-nil) are
// sent, and Wix keeps the others. Setting a field to its zero value (e.g.
// Title: new("")) sends that value.
type ItemPatch struct {
	SortOrder   *float64 `json:"sortOrder,omitempty"`
	Title       *string  `json:"title,omitempty"`
	Description *string  `json:"description,omitempty"`
	Link        *Link    `json:"link,omitempty"`
	Tags        *Tags    `json:"tags,omitempty"`
	Image       *Image   `json:"image,omitempty"`
	Video       *Video   `json:"video,omitempty"`
	Text        *Text    `json:"text,omitempty"`
}

// IsZero reports whether the patch changes nothing.
func (p ItemPatch) IsZero() bool {
	return p == ItemPatch{}
}

func (p ItemPatch) check() error {
	if p.IsZero() {
		return fmt.Errorf("%w: patch sets no field", ErrInvalidRequest)
	}
	return checkMedia(p.Image, p.Video, p.Text, false)
}

// writable is the patch without read-only fields.
func (p ItemPatch) writable() ItemPatch {
	p.Image = writableImage(p.Image)
	return p
}

// writable is the item without its read-only fields, as a create sends it.
func writable(it Item) Item {
	it.ID, it.Type = "", ""
	it.CreatedDate, it.UpdatedDate = time.Time{}, time.Time{}
	it.Image = writableImage(it.Image)
	return it
}

func writableImage(im *Image) *Image {
	if im == nil || im.ImageInfo == nil {
		return im
	}
	cp, info := *im, *im.ImageInfo
	info.URL = ""
	cp.ImageInfo = &info
	return &cp
}

// checkMedia checks the media fields Wix requires (the create and update
// operations' requiredFields): an image names its file, a video its
// videoInfo, a text its html. A create must carry exactly one of them.
func checkMedia(image *Image, video *Video, text *Text, create bool) error {
	n := 0
	if image != nil {
		n++
		if image.ImageInfo == nil || image.ImageInfo.ID == "" {
			return fmt.Errorf("%w: image.imageInfo.id is required", ErrInvalidRequest)
		}
		if image.ImageInfo.Width < 0 || image.ImageInfo.Height < 0 {
			return fmt.Errorf("%w: image dimensions %dx%d", ErrInvalidRequest, image.ImageInfo.Width, image.ImageInfo.Height)
		}
	}
	if video != nil {
		n++
		if video.VideoInfo == nil {
			return fmt.Errorf("%w: video.videoInfo is required", ErrInvalidRequest)
		}
	}
	if text != nil {
		n++
		if text.HTML == "" {
			return fmt.Errorf("%w: text.html is required", ErrInvalidRequest)
		}
	}
	switch {
	case n > 1:
		return fmt.Errorf("%w: an item holds one of image, video and text, not %d", ErrInvalidRequest, n)
	case n == 0 && create:
		return fmt.Errorf("%w: an item needs an image, a video or a text", ErrInvalidRequest)
	}
	return nil
}
