package wixsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Item types, derived from which media field is set.
const (
	itemImage = "IMAGE"
	itemVideo = "VIDEO"
	itemText  = "TEXT"
)

// readOnlyItemFields are ignored when a client sends them.
var readOnlyItemFields = []string{"id", "type", "createdDate", "updatedDate"}

// newItem builds a fresh item from the JSON a client sent in field (for
// example "item"): read-only fields dropped, media checked against the
// site's files, defaults filled in. It does not store the item.
func (s *Server) newItem(st *site, g *gallery, raw json.RawMessage, field string, now time.Time) (Item, error) {
	if isNull(raw) {
		return Item{}, invalid(violation(field, "REQUIRED_FIELD", "must not be empty"))
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return Item{}, invalid(violation(field, "FORMAT", "must be an object: "+err.Error()))
	}
	var it Item
	if err := json.Unmarshal(raw, &it); err != nil {
		return Item{}, invalid(violation(field, "FORMAT", err.Error()))
	}
	if err := s.completeItem(st, &it, field); err != nil {
		return Item{}, err
	}
	it.ID = newUUID()
	it.CreatedDate = timestamp(now)
	it.UpdatedDate = it.CreatedDate
	if isNull(fields["sortOrder"]) {
		it.SortOrder = g.freeSortOrder(float64(now.UnixMilli()))
	}
	return it, nil
}

// patchItem applies a partial update: fields present in raw replace the
// stored ones (objects merge field by field, null leaves a field alone),
// everything else keeps its value.
func (s *Server) patchItem(st *site, cur Item, raw json.RawMessage, field string) (Item, error) {
	if isNull(raw) {
		return Item{}, invalid(violation(field, "REQUIRED_FIELD", "must not be empty"))
	}
	patch, err := decodeObject(raw)
	if err != nil {
		return Item{}, invalid(violation(field, "FORMAT", "must be an object: "+err.Error()))
	}
	curJSON, err := json.Marshal(cur)
	if err != nil {
		return Item{}, fmt.Errorf("encode item %s: %w", cur.ID, err)
	}
	base, err := decodeObject(curJSON)
	if err != nil {
		return Item{}, fmt.Errorf("decode item %s: %w", cur.ID, err)
	}
	for _, k := range readOnlyItemFields {
		delete(patch, k)
	}
	// Setting one kind of media replaces the other kinds.
	kinds := []string{"image", "video", "text"}
	for _, k := range kinds {
		if patch[k] != nil {
			for _, other := range kinds {
				if other != k {
					delete(base, other)
				}
			}
		}
	}
	// A new image file brings its own size unless the client gives one.
	if newID, ok := patchedImageID(patch); ok && cur.Image != nil && cur.Image.ImageInfo != nil && newID != cur.Image.ImageInfo.ID {
		if img, ok := base["image"].(map[string]any); ok {
			if info, ok := img["imageInfo"].(map[string]any); ok {
				delete(info, "width")
				delete(info, "height")
				delete(info, "filename")
			}
		}
	}
	merged := mergeObjects(base, patch)
	mergedJSON, err := json.Marshal(merged)
	if err != nil {
		return Item{}, fmt.Errorf("encode patched item %s: %w", cur.ID, err)
	}
	var it Item
	if err := json.Unmarshal(mergedJSON, &it); err != nil {
		return Item{}, invalid(violation(field, "FORMAT", err.Error()))
	}
	if err := s.completeItem(st, &it, field); err != nil {
		return Item{}, err
	}
	it.ID, it.CreatedDate = cur.ID, cur.CreatedDate
	return it, nil
}

// completeItem validates an item and fills in what Wix derives: the type,
// the image URL and the image size from the Media Manager file.
func (s *Server) completeItem(st *site, it *Item, field string) error {
	var v []FieldViolation
	kinds := 0
	for _, set := range []bool{it.Image != nil, it.Video != nil, it.Text != nil} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds == 0:
		v = append(v, violation(field+".image.imageInfo.id", "REQUIRED_FIELD",
			"an item needs image.imageInfo.id, video.videoInfo or text.html"))
	case kinds > 1:
		v = append(v, violation(field, "CUSTOM", "only one of image, video and text may be set"))
	}
	if it.Image != nil {
		v = append(v, s.completeImage(st, it.Image, field+".image")...)
		it.Type = itemImage
	}
	if it.Video != nil {
		if isNull(it.Video.VideoInfo) {
			v = append(v, violation(field+".video.videoInfo", "REQUIRED_FIELD", "must not be empty"))
		}
		if !oneOf(it.Video.Type, "", "UNDEFINED", "WIX_MEDIA", "YOUTUBE", "VIMEO") {
			v = append(v, violation(field+".video.type", "FORMAT", "must be one of UNDEFINED, WIX_MEDIA, YOUTUBE, VIMEO"))
		}
		it.Type = itemVideo
	}
	if it.Text != nil {
		if it.Text.HTML == "" {
			v = append(v, violation(field+".text.html", "REQUIRED_FIELD", "must not be empty"))
		}
		it.Type = itemText
	}
	if it.Link != nil {
		if !oneOf(it.Link.Target, "", "_blank", "_self") {
			v = append(v, violation(field+".link.target", "FORMAT", "must be _blank or _self"))
		}
		if !oneOf(it.Link.Type, "", "UNDEFINED", "EXTERNAL", "INTERNAL") {
			v = append(v, violation(field+".link.type", "FORMAT", "must be one of UNDEFINED, EXTERNAL, INTERNAL"))
		}
	}
	if len(v) > 0 {
		return invalid(v...)
	}
	return nil
}

// completeImage checks an item's image against the site's Media Manager.
func (s *Server) completeImage(st *site, img *ItemImage, field string) []FieldViolation {
	var v []FieldViolation
	if img.Type == "" {
		img.Type = "WIX_MEDIA"
	}
	if !oneOf(img.Type, "UNDEFINED", "WIX_MEDIA", "EXTERNAL") {
		v = append(v, violation(field+".type", "FORMAT", "must be one of UNDEFINED, WIX_MEDIA, EXTERNAL"))
	}
	info := img.ImageInfo
	switch {
	case info == nil || info.ID == "":
		v = append(v, violation(field+".imageInfo.id", "REQUIRED_FIELD", "must not be empty"))
	default:
		f, ok := s.files[info.ID]
		switch {
		case !ok || f.instanceID != st.instanceID:
			v = append(v, violation(field+".imageInfo.id", "CUSTOM",
				"must name a READY file of this site; there is no Media Manager file "+info.ID))
		case f.desc.OperationStatus != statusReady || f.desc.MediaType != mediaImage:
			v = append(v, violation(field+".imageInfo.id", "CUSTOM",
				"must name a READY file of this site; Media Manager file "+info.ID+" is "+f.desc.OperationStatus))
		default:
			info.URL = s.mediaURL(info.ID)
			if info.Width == 0 {
				info.Width = f.width
			}
			if info.Height == 0 {
				info.Height = f.height
			}
		}
		if info.Width < 0 {
			v = append(v, violation(field+".imageInfo.width", "MIN", "must not be negative"))
		}
		if info.Height < 0 {
			v = append(v, violation(field+".imageInfo.height", "MIN", "must not be negative"))
		}
	}
	if img.Quality != nil && (*img.Quality < 30 || *img.Quality > 100) {
		v = append(v, violation(field+".quality", "MAX", "must be between 30 and 100"))
	}
	if p := img.FocalPoint; p != nil && (p.X < 0 || p.X > 1 || p.Y < 0 || p.Y > 1) {
		v = append(v, violation(field+".focalPoint", "MAX", "x and y must be between 0 and 1"))
	}
	if u := img.UnsharpMasking; u != nil && (u.Amount < 0 || u.Amount > 5 || u.Threshold < 0 || u.Threshold > 1) {
		v = append(v, violation(field+".unsharpMasking", "MAX", "amount must be in 0..5 and threshold in 0..1"))
	}
	return v
}

// patchedImageID returns image.imageInfo.id when a patch sets it.
func patchedImageID(patch map[string]any) (string, bool) {
	img, ok := patch["image"].(map[string]any)
	if !ok {
		return "", false
	}
	info, ok := img["imageInfo"].(map[string]any)
	if !ok {
		return "", false
	}
	id, ok := info["id"].(string)
	return id, ok
}

// mergeObjects merges patch into base: nested objects field by field,
// other values replace, nulls are skipped.
func mergeObjects(base, patch map[string]any) map[string]any {
	for k, pv := range patch {
		if pv == nil {
			continue
		}
		pm, pIsObj := pv.(map[string]any)
		bm, bIsObj := base[k].(map[string]any)
		if pIsObj && bIsObj {
			base[k] = mergeObjects(bm, pm)
			continue
		}
		base[k] = pv
	}
	return base
}

// decodeObject decodes a JSON object keeping numbers exact.
func decodeObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

func oneOf(v string, allowed ...string) bool {
	return slices.Contains(allowed, v)
}
