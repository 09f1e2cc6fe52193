package wix

import (
	"encoding/json"
	"errors"
	"math"
	"time"

	"gallerysync.dev/libs/change"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Snapshot maps a Wix item to the item snapshot sync carries, content hash
// included. UpdatedAt is left nil when the item has no updatedDate.
func Snapshot(it Item) *gsv1.ItemSnapshot {
	s := &gsv1.ItemSnapshot{
		ItemId:      it.ID,
		Title:       it.Title,
		Description: it.Description,
		SortOrder:   it.SortOrder,
	}
	if it.Link != nil {
		s.LinkUrl = it.Link.URL
	}
	switch {
	case it.Image != nil && it.Image.ImageInfo != nil:
		setImage(s, it.Image.ImageInfo)
	case it.Video != nil && it.Video.VideoInfo != nil:
		setVideo(s, it.Video.VideoInfo)
	}
	if !it.UpdatedDate.IsZero() {
		s.UpdatedAt = timestamppb.New(it.UpdatedDate)
	}
	s.ContentHash = change.Hash(s)
	return s
}

// snapshot decodes an item from an event body (an object or a JSON string)
// and maps it; the event time stands in for a missing updatedDate, since the
// item's own version time orders versions of one item better.
func snapshot(raw json.RawMessage, eventTime time.Time) (*gsv1.ItemSnapshot, error) {
	obj, err := objectJSON(raw)
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, errors.New("body carries no item")
	}
	var it Item
	if err := json.Unmarshal(obj, &it); err != nil {
		return nil, err
	}
	s := Snapshot(it)
	if s.UpdatedAt == nil {
		s.UpdatedAt = timestamppb.New(eventTime)
	}
	return s, nil
}

func setImage(s *gsv1.ItemSnapshot, info *ImageInfo) {
	s.MediaId, s.MediaUrl = info.ID, info.URL
	if s.MediaUrl == "" && info.ID != "" {
		s.MediaUrl = wixMediaBase + info.ID
	}
	s.Width, s.Height = dim32(info.Width), dim32(info.Height)
	s.AltText = info.AltText
	s.MimeType = mimeType(info.Filename, info.ID, info.URL)
}

// setVideo takes the video's own URL (YouTube, Vimeo) or, for Wix-hosted
// video, the largest rendition; dimensions come from the largest rendition.
func setVideo(s *gsv1.ItemSnapshot, v *VideoInfo) {
	var best *VideoResolution
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
	s.Width, s.Height = dim32(best.Width), dim32(best.Height)
	if s.MediaUrl == "" {
		s.MediaUrl = best.URL
		s.MimeType = mimeType(best.Filename, best.URL, "."+best.Format)
	}
}

// dim32 fits a dimension into the snapshot's int32; values a caller built by
// hand may be out of range, decoded ones never are.
func dim32(n int) int32 {
	return int32(max(0, min(n, math.MaxInt32)))
}
