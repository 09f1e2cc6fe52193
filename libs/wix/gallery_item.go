package wix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ItemType is what an item shows; Wix derives it from the media field set.
type ItemType string

// The item types of Pro Gallery v2.
const (
	ItemTypeUndefined ItemType = "UNDEFINED"
	ItemTypeImage     ItemType = "IMAGE"
	ItemTypeVideo     ItemType = "VIDEO"
	ItemTypeText      ItemType = "TEXT"
)

// Item is a Pro Gallery item as the REST API reads and writes it (wix-api.md
// 1.4). Exactly one of Image, Video and Text is set. ID, Type, CreatedDate,
// UpdatedDate and ImageInfo.URL are read-only: writes leave them out. A zero
// SortOrder is not sent, so Wix assigns its default (the creation time).
type Item struct {
	ID          string    `json:"id,omitempty"`
	SortOrder   float64   `json:"sortOrder,omitempty"`
	Title       string    `json:"title,omitempty"`
	Description string    `json:"description,omitempty"`
	Link        *Link     `json:"link,omitempty"`
	Type        ItemType  `json:"type,omitempty"`
	CreatedDate time.Time `json:"createdDate,omitzero"`
	UpdatedDate time.Time `json:"updatedDate,omitzero"`
	Tags        *Tags     `json:"tags,omitempty"`
	Image       *Image    `json:"image,omitempty"`
	Video       *Video    `json:"video,omitempty"`
	Text        *Text     `json:"text,omitempty"`
}

// UnmarshalJSON accepts numbers sent as numeric strings and empty dates, both
// of which Wix payloads carry.
func (it *Item) UnmarshalJSON(b []byte) error {
	type plain Item
	w := struct {
		*plain
		SortOrder   flexFloat `json:"sortOrder"`
		CreatedDate flexTime  `json:"createdDate"`
		UpdatedDate flexTime  `json:"updatedDate"`
	}{plain: (*plain)(it)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	it.SortOrder = float64(w.SortOrder)
	it.CreatedDate = time.Time(w.CreatedDate)
	it.UpdatedDate = time.Time(w.UpdatedDate)
	return nil
}

// Link is where an item links to.
type Link struct {
	Text string `json:"text,omitempty"`
	URL  string `json:"url,omitempty"`
	// Target is "_blank" or "_self".
	Target string `json:"target,omitempty"`
	// Type is "UNDEFINED", "EXTERNAL" or "INTERNAL".
	Type string `json:"type,omitempty"`
}

// Tags are an item's tags.
type Tags struct {
	Values []string `json:"values"`
}

// Image is the image of an IMAGE item.
type Image struct {
	// Type is "UNDEFINED", "WIX_MEDIA" or "EXTERNAL".
	Type      string     `json:"type,omitempty"`
	ImageInfo *ImageInfo `json:"imageInfo,omitempty"`
	// FocalPoint is where the image stays in view when cropped; 0..1 each.
	FocalPoint     *Point          `json:"focalPoint,omitempty"`
	Exif           json.RawMessage `json:"exif,omitempty"`
	Quality        int             `json:"quality,omitempty"`
	UnsharpMasking *UnsharpMasking `json:"unsharpMasking,omitempty"`
}

// UnmarshalJSON accepts a quality sent as a numeric string.
func (im *Image) UnmarshalJSON(b []byte) error {
	type plain Image
	w := struct {
		*plain
		Quality flexInt `json:"quality"`
	}{plain: (*plain)(im)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	im.Quality = int(w.Quality)
	return nil
}

// ImageInfo is a Media Manager image (wix.common.Image). ID (the Media
// Manager file id), Width and Height are required when an item is written;
// URL is read-only.
type ImageInfo struct {
	ID       string `json:"id"`
	URL      string `json:"url,omitempty"`
	Height   int    `json:"height"`
	Width    int    `json:"width"`
	AltText  string `json:"altText,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// UnmarshalJSON reads the REST object and also the string forms Wix uses
// where an image is expected: the SDK's
// "wix:image://v1/<fileId>/<filename>#originWidth=<w>&originHeight=<h>", a
// media URL or a bare file id.
func (in *ImageInfo) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var ref string
		if err := json.Unmarshal(b, &ref); err != nil {
			return err
		}
		m, err := parseMediaRef(ref)
		if err != nil {
			return err
		}
		*in = ImageInfo{ID: m.id, URL: m.url, Filename: m.filename, Width: int(m.width), Height: int(m.height)}
		return nil
	}
	type plain ImageInfo
	w := struct {
		*plain
		Height flexInt `json:"height"`
		Width  flexInt `json:"width"`
	}{plain: (*plain)(in)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	in.Height, in.Width = int(w.Height), int(w.Width)
	return nil
}

// Point is a position in an image, 0..1 on each axis.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// UnsharpMasking sharpens an image as Wix renders it.
type UnsharpMasking struct {
	Amount    float64 `json:"amount"`
	Radius    float64 `json:"radius"`
	Threshold float64 `json:"threshold"`
}

// Video is the video of a VIDEO item.
type Video struct {
	// Type is "UNDEFINED", "WIX_MEDIA", "YOUTUBE" or "VIMEO".
	Type             string     `json:"type,omitempty"`
	VideoInfo        *VideoInfo `json:"videoInfo,omitempty"`
	DurationInMillis int        `json:"durationInMillis,omitempty"`
}

// UnmarshalJSON accepts a duration sent as a numeric string.
func (v *Video) UnmarshalJSON(b []byte) error {
	type plain Video
	w := struct {
		*plain
		DurationInMillis flexInt `json:"durationInMillis"`
	}{plain: (*plain)(v)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	v.DurationInMillis = int(w.DurationInMillis)
	return nil
}

// VideoInfo is a video (wix.common.VideoV2): a Media Manager video (ID) or
// a YouTube/Vimeo URL.
type VideoInfo struct {
	ID          string            `json:"id,omitempty"`
	URL         string            `json:"url,omitempty"`
	Resolutions []VideoResolution `json:"resolutions,omitempty"`
	Filename    string            `json:"filename,omitempty"`
	Posters     []ImageInfo       `json:"posters,omitempty"`
}

// VideoResolution is one rendition of a video.
type VideoResolution struct {
	URL    string `json:"url"`
	Height int    `json:"height"`
	Width  int    `json:"width"`
	// Format is e.g. "mp4" or "hls".
	Format   string `json:"format,omitempty"`
	Quality  string `json:"quality,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// UnmarshalJSON accepts dimensions sent as numeric strings.
func (r *VideoResolution) UnmarshalJSON(b []byte) error {
	type plain VideoResolution
	w := struct {
		*plain
		Height flexInt `json:"height"`
		Width  flexInt `json:"width"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	r.Height, r.Width = int(w.Height), int(w.Width)
	return nil
}

// Text is the content of a TEXT item.
type Text struct {
	HTML         string          `json:"html"`
	CSS          json.RawMessage `json:"css,omitempty"`
	EditorHTML   string          `json:"editorHtml,omitempty"`
	EditorFontID string          `json:"editorFontId,omitempty"`
}

// Gallery is a Pro Gallery. Items holds the page of items the call asked
// for; TotalItems counts them all.
type Gallery struct {
	ID          string    `json:"id,omitempty"`
	Name        string    `json:"name,omitempty"`
	TotalItems  int       `json:"totalItems,omitempty"`
	Items       []Item    `json:"items,omitempty"`
	SortOrder   float64   `json:"sortOrder,omitempty"`
	CreatedDate time.Time `json:"createdDate,omitzero"`
}

// UnmarshalJSON accepts numbers sent as numeric strings and an empty date.
func (g *Gallery) UnmarshalJSON(b []byte) error {
	type plain Gallery
	w := struct {
		*plain
		TotalItems  flexInt   `json:"totalItems"`
		SortOrder   flexFloat `json:"sortOrder"`
		CreatedDate flexTime  `json:"createdDate"`
	}{plain: (*plain)(g)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	g.TotalItems = int(w.TotalItems)
	g.SortOrder = float64(w.SortOrder)
	g.CreatedDate = time.Time(w.CreatedDate)
	return nil
}

// flexTime is an RFC 3339 time that may also be null or "" (no time).
type flexTime time.Time

// UnmarshalJSON accepts "2022-02-08T10:59:29Z", "" and null.
func (t *flexTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("want an RFC 3339 time string")
	}
	if s == "" {
		*t = flexTime{}
		return nil
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("time %q: %w", s, err)
	}
	*t = flexTime(v)
	return nil
}
