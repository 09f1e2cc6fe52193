package writer

import (
	"context"
	"errors"
	"log/slog"

	"go.opentelemetry.io/otel/trace"

	"gallerysync.dev/libs/wix"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// updateItem brings a synced Wix item to the platform item's content. The
// patch is worked out against the item as Wix has it now, and when it would
// change nothing Wix shows, nothing is written: only the mapping records
// the platform's new state.
func (w *Writer) updateItem(ctx context.Context, j job, m *gsv1.ItemMapping) (string, error) {
	cur, err := w.wix.GetItem(ctx, j.tenant(), j.gallery(), m.GetWixItemId())
	if errors.Is(err, wix.ErrNotFound) {
		return w.goneOnWix(ctx, j, m)
	}
	if err != nil {
		return "", w.remoteError(ctx, j, "get item", err)
	}
	s := j.item()
	media := mediaIdentity(s)
	patch := textPatch(s)
	fileID := ""
	if mediaChanged(m, s) {
		if fileID, err = w.importMedia(ctx, j); err != nil {
			return "", err
		}
		fd, err := w.waitFile(ctx, j, fileID)
		if err != nil {
			return "", err
		}
		info := wix.ImageInfoOf(fd, s.GetAltText())
		patch.Image = &wix.Image{Type: "WIX_MEDIA", ImageInfo: &info}
	} else if cur.Image != nil && cur.Image.ImageInfo != nil && cur.Image.ImageInfo.AltText != s.GetAltText() {
		// Alt text lives in imageInfo; the image is sent whole so that
		// nothing else of it changes.
		img := *cur.Image
		info := *cur.Image.ImageInfo
		info.AltText = s.GetAltText()
		img.ImageInfo = &info
		patch.Image = &img
	}

	next := merge(cur, patch)
	hash := wixHash(next)
	if hash == wixHash(cur) {
		// Wix already shows this content (the platform-writer's own post
		// coming back in other words, or a change Wix cannot show).
		if _, err := w.putItem(ctx, synced(j, m, cur, j.hash, media, ""), m.GetRevision()); err != nil {
			return "", err
		}
		w.counters.add(ctx, w.counters.applied, j.platform(), opKey.String(opNoop))
		return opNoop, nil
	}
	// The platform-writer checks this marker when the update's webhook
	// arrives, which may be before the mapping below is written.
	if err := w.markEcho(ctx, j, m.GetWixItemId(), hash); err != nil {
		return "", err
	}
	updated, err := w.wix.UpdateItem(ctx, j.tenant(), j.gallery(), m.GetWixItemId(), patch)
	if errors.Is(err, wix.ErrNotFound) {
		return w.goneOnWix(ctx, j, m)
	}
	if err != nil {
		return "", w.remoteError(ctx, j, "update item", err)
	}
	if _, err := w.putItem(ctx, synced(j, m, updated, j.hash, media, fileID), m.GetRevision()); err != nil {
		return "", err
	}
	w.counters.add(ctx, w.counters.applied, j.platform(), opKey.String(opUpdate))
	trace.SpanFromContext(ctx).SetAttributes(wixItemAttr.String(m.GetWixItemId()))
	return opUpdate, nil
}

// goneOnWix handles a synced item that Wix no longer has: it was deleted
// on Wix, and a delete wins, so it is not made again. The mapping is left
// as it is: the Wix delete's own webhook takes the platform-writer to it,
// which deletes the platform item and leaves the tombstone. Writing the
// tombstone here would make that delete find nothing to do.
func (w *Writer) goneOnWix(ctx context.Context, j job, m *gsv1.ItemMapping) (string, error) {
	w.log.InfoContext(ctx, "Wix item deleted on Wix; not recreating it", append(j.logAttrs(), slog.String("wix_item", m.GetWixItemId()))...)
	return w.skip(ctx, j, "deleted_on_wix", "item deleted on Wix")
}

// textPatch sets what the platform item says: title, description, the
// link back to it, and its place when the platform orders its items.
func textPatch(s *gsv1.ItemSnapshot) wix.ItemPatch {
	title, description := s.GetTitle(), s.GetDescription()
	p := wix.ItemPatch{Title: &title, Description: &description}
	if u := permalink(s); u != "" {
		p.Link = &wix.Link{URL: u, Target: "_blank", Type: "EXTERNAL"}
	}
	if so := s.GetSortOrder(); so != 0 {
		p.SortOrder = &so
	}
	return p
}

// mediaChanged reports whether the platform item's media differs from the
// one the Wix image was made from. Without any record of that (an item
// first made on Wix, before either writer noted its platform media) the
// media is taken as unchanged: the platform's copy was made from the Wix
// image, and re-importing it would only replace the image with itself.
func mediaChanged(m *gsv1.ItemMapping, s *gsv1.ItemSnapshot) bool {
	if s.GetMediaUrl() == "" {
		return false
	}
	known := m.GetExternalAttrs()[attrPlatformMedia]
	if known == "" {
		known = m.GetExternalAttrs()[attrPlatformMediaID]
	}
	return known != "" && known != mediaIdentity(s)
}

// merge is the item Wix will hold after the patch: the fields the patch
// sets replace the current ones.
func merge(cur wix.Item, p wix.ItemPatch) wix.Item {
	next := cur
	if p.SortOrder != nil {
		next.SortOrder = *p.SortOrder
	}
	if p.Title != nil {
		next.Title = *p.Title
	}
	if p.Description != nil {
		next.Description = *p.Description
	}
	if p.Link != nil {
		next.Link = p.Link
	}
	if p.Image != nil {
		next.Image, next.Video, next.Text = p.Image, nil, nil
	}
	return next
}
