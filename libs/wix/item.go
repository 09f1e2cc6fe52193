package wix

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gallerysync.dev/libs/change"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// wixItem is the REST Item object (wix-api.md 1.4), reduced to what sync
// carries.
type wixItem struct {
	ID          string    `json:"id"`
	SortOrder   flexFloat `json:"sortOrder"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Link        *struct {
		URL string `json:"url"`
	} `json:"link"`
	UpdatedDate string `json:"updatedDate"`
	Image       *struct {
		// An object in REST; a "wix:image://v1/..." string in SDK-shaped payloads.
		ImageInfo json.RawMessage `json:"imageInfo"`
	} `json:"image"`
	Video *struct {
		VideoInfo *videoInfo `json:"videoInfo"`
	} `json:"video"`
}

type imageInfo struct {
	ID       string  `json:"id"`
	URL      string  `json:"url"`
	Filename string  `json:"filename"`
	Width    flexInt `json:"width"`
	Height   flexInt `json:"height"`
}

type videoInfo struct {
	ID          string            `json:"id"`
	URL         string            `json:"url"`
	Filename    string            `json:"filename"`
	Resolutions []videoResolution `json:"resolutions"`
}

type videoResolution struct {
	URL      string  `json:"url"`
	Width    flexInt `json:"width"`
	Height   flexInt `json:"height"`
	Format   string  `json:"format"`
	Filename string  `json:"filename"`
}

// snapshot maps a Wix item to the item snapshot sync carries.
func snapshot(raw json.RawMessage, eventTime time.Time) (*gsv1.ItemSnapshot, error) {
	obj, err := objectJSON(raw)
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, errors.New("body carries no item")
	}
	var it wixItem
	if err := json.Unmarshal(obj, &it); err != nil {
		return nil, err
	}
	s := &gsv1.ItemSnapshot{
		ItemId:      it.ID,
		Title:       it.Title,
		Description: it.Description,
		SortOrder:   float64(it.SortOrder),
	}
	if it.Link != nil {
		s.LinkUrl = it.Link.URL
	}
	switch {
	case it.Image != nil:
		if err := setImage(s, it.Image.ImageInfo); err != nil {
			return nil, fmt.Errorf("image: %w", err)
		}
	case it.Video != nil && it.Video.VideoInfo != nil:
		setVideo(s, it.Video.VideoInfo)
	}
	at, err := updatedAt(it.UpdatedDate, eventTime)
	if err != nil {
		return nil, err
	}
	s.UpdatedAt = timestamppb.New(at)
	s.ContentHash = change.Hash(s)
	return s, nil
}

func setImage(s *gsv1.ItemSnapshot, raw json.RawMessage) error {
	if len(raw) > 0 && raw[0] == '"' {
		var ref string
		if err := json.Unmarshal(raw, &ref); err != nil {
			return err
		}
		m, err := parseMediaRef(ref)
		if err != nil {
			return err
		}
		s.MediaId, s.MediaUrl, s.Width, s.Height = m.id, m.url, m.width, m.height
		s.MimeType = mimeType(m.filename, m.id, m.url)
		return nil
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var info imageInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return err
	}
	s.MediaId, s.MediaUrl = info.ID, info.URL
	s.Width, s.Height = int32(info.Width), int32(info.Height)
	s.MimeType = mimeType(info.Filename, info.ID, info.URL)
	return nil
}

// setVideo takes the video's own URL (YouTube, Vimeo) or, for Wix-hosted
// video, the largest rendition; dimensions come from the largest rendition.
func setVideo(s *gsv1.ItemSnapshot, v *videoInfo) {
	var best *videoResolution
	for i := range v.Resolutions {
		r := &v.Resolutions[i]
		if r.URL == "" {
			continue
		}
		if best == nil || int64(r.Width)*int64(r.Height) > int64(best.Width)*int64(best.Height) {
			best = r
		}
	}
	s.MediaId, s.MediaUrl = v.ID, v.URL
	s.MimeType = mimeType(v.Filename, v.ID, v.URL)
	if best == nil {
		return
	}
	s.Width, s.Height = int32(best.Width), int32(best.Height)
	if s.MediaUrl == "" {
		s.MediaUrl = best.URL
		s.MimeType = mimeType(best.Filename, best.URL, "."+best.Format)
	}
}
