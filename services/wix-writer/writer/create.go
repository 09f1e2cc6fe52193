package writer

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"gallerysync.dev/libs/wix"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Keys of Intent.attrs: what a retry needs to find or finish the create.
const (
	// intentFileID is the Media Manager file imported for the item.
	intentFileID = "file_id"
	// intentLinkURL is the link.url written on the item: the platform
	// item's permalink, which a retry looks for among the gallery's items.
	intentLinkURL = "link_url"
	// intentPlatformMedia is the platform media the file was imported from.
	intentPlatformMedia = "platform_media"
)

// createItem makes the Wix item of a platform item that has no mapping.
// Wix has no idempotency key, so the intent is recorded in the mapping
// service before anything is written; a retry that finds the intent first
// looks for the item an earlier attempt may have made, and adopts it.
func (w *Writer) createItem(ctx context.Context, j job) (string, error) {
	gone, err := w.mapping.CheckDedup(ctx, &gsv1.CheckDedupRequest{TenantId: j.tenant(), Key: j.goneKey()})
	if err != nil {
		return "", fmt.Errorf("check deleted mark: %w", err)
	}
	if gone.GetSeen() {
		// The platform deleted the item before this (late) event arrived.
		return w.skip(ctx, j, "deleted", "event for an item deleted before it was created")
	}
	intent, err := w.getIntent(ctx, j)
	if err != nil {
		return "", err
	}
	if intent != nil {
		found, ok, err := w.findCreated(ctx, j, intent)
		if err != nil {
			return "", err
		}
		if ok {
			return w.adopt(ctx, j, intent, found)
		}
	}
	if j.item().GetMediaUrl() == "" {
		// A Pro Gallery item needs media; a text-only post has none to show.
		w.counters.add(ctx, w.counters.ignored, j.platform(), kindKey.String("no_media"))
		trace.SpanFromContext(ctx).AddEvent("item without media")
		return "skip", nil
	}
	if mt := j.item().GetMimeType(); mt != "" && !strings.HasPrefix(mt, "image/") {
		// Only images become gallery items here; a video would need the
		// video field and a Media Manager video, which this writer does
		// not make.
		w.counters.add(ctx, w.counters.ignored, j.platform(), kindKey.String("not_image"))
		trace.SpanFromContext(ctx).AddEvent("media is not an image")
		return "skip", nil
	}
	linkURL := permalink(j.item())
	fd, err := w.readyFile(ctx, j, intent, linkURL)
	if err != nil {
		return "", err
	}

	item := newWixItem(j, fd, linkURL)
	hash := wixHash(item)
	// The webhook of this create may reach the platform-writer before the
	// mapping below exists; this marker tells it the item is ours.
	if err := w.markEcho(ctx, j, j.newEchoObject(hash), hash); err != nil {
		return "", err
	}
	created, err := w.wix.CreateItem(ctx, j.tenant(), j.gallery(), item)
	if err != nil {
		return "", w.remoteError(ctx, j, "create item", err)
	}
	if _, err := w.putItem(ctx, synced(j, nil, created, j.hash, mediaIdentity(j.item()), fd.ID), 0); err != nil {
		return "", err
	}
	w.deleteIntent(ctx, j)
	w.counters.add(ctx, w.counters.applied, j.platform(), opKey.String(opCreate))
	trace.SpanFromContext(ctx).SetAttributes(wixItemAttr.String(created.ID))
	return opCreate, nil
}

// readyFile imports the job's media, records the intent and waits until
// the file is ready. A file an earlier attempt imported from the same
// media is used instead of importing again, unless it turns out unusable.
// The intent is stored before the wait and the create that follow:
// whatever happens after it, the next attempt finds it and looks for the
// item before making one. Overwriting an earlier intent is safe here: the
// caller holds the item's lease and has just looked for that attempt's
// item in vain.
func (w *Writer) readyFile(ctx context.Context, j job, intent *gsv1.Intent, linkURL string) (wix.FileDescriptor, error) {
	media := mediaIdentity(j.item())
	if intent != nil && intent.GetAttrs()[intentPlatformMedia] == media && intent.GetAttrs()[intentFileID] != "" {
		fileID := intent.GetAttrs()[intentFileID]
		// Refreshed: the content about to be written and a full TTL.
		if err := w.putIntent(ctx, j, fileID, linkURL, media); err != nil {
			return wix.FileDescriptor{}, err
		}
		fd, err := w.waitFile(ctx, j, fileID)
		if err == nil || !fileGone(err) {
			return fd, err
		}
		w.log.InfoContext(ctx, "earlier import unusable; importing again", append(j.logAttrs(), slog.String("file_id", fileID), slog.Any("error", err))...)
	}
	fileID, err := w.importMedia(ctx, j)
	if err != nil {
		return wix.FileDescriptor{}, err
	}
	if err := w.putIntent(ctx, j, fileID, linkURL, media); err != nil {
		return wix.FileDescriptor{}, err
	}
	fd, err := w.waitFile(ctx, j, fileID)
	if err != nil && fileGone(err) {
		// The file cannot be used. Forget it, so that the next attempt (a
		// replay from the dead letters, say) imports the media again.
		if perr := w.putIntent(ctx, j, "", linkURL, media); perr != nil {
			w.log.WarnContext(ctx, "forget failed file", append(j.logAttrs(), slog.Any("error", perr))...)
		}
	}
	return fd, err
}

// newWixItem is the gallery item of a platform item whose media is the
// ready file fd. It always carries an explicit sort order, so that the
// content hash computed here is the one Wix's webhook will carry.
func newWixItem(j job, fd wix.FileDescriptor, linkURL string) wix.Item {
	s := j.item()
	info := wix.ImageInfoOf(fd, s.GetAltText())
	item := wix.Item{
		SortOrder:   s.GetSortOrder(),
		Title:       s.GetTitle(),
		Description: s.GetDescription(),
		Image:       &wix.Image{Type: "WIX_MEDIA", ImageInfo: &info},
	}
	if item.SortOrder == 0 {
		item.SortOrder = float64(j.version.UnixMilli())
	}
	if linkURL != "" {
		item.Link = &wix.Link{URL: linkURL, Target: "_blank", Type: "EXTERNAL"}
	}
	return item
}

// permalink is where the Wix item links back to: the platform item's page,
// else the link it carries.
func permalink(s *gsv1.ItemSnapshot) string {
	if p := s.GetPermalink(); p != "" {
		return p
	}
	return s.GetLinkUrl()
}

// findCreated looks through the gallery for the item an interrupted
// attempt made: it links to the permalink that attempt wrote, or shows the
// file that attempt imported.
func (w *Writer) findCreated(ctx context.Context, j job, intent *gsv1.Intent) (wix.Item, bool, error) {
	linkURL, fileID := intent.GetAttrs()[intentLinkURL], intent.GetAttrs()[intentFileID]
	if linkURL == "" && fileID == "" {
		return wix.Item{}, false, nil
	}
	for it, err := range w.wix.Items(ctx, j.tenant(), j.gallery()) {
		if err != nil {
			return wix.Item{}, false, w.remoteError(ctx, j, "list items", err)
		}
		if linkURL != "" && it.Link != nil && it.Link.URL == linkURL {
			return it, true, nil
		}
		if fileID != "" && it.Image != nil && it.Image.ImageInfo != nil && it.Image.ImageInfo.ID == fileID {
			return it, true, nil
		}
	}
	return wix.Item{}, false, nil
}

// adopt records the Wix item an interrupted attempt made instead of making
// another. If that item holds older content than the event, it is then
// updated like any synced item.
func (w *Writer) adopt(ctx context.Context, j job, intent *gsv1.Intent, found wix.Item) (string, error) {
	m := synced(j, nil, found, intent.GetContentHash(), intent.GetAttrs()[intentPlatformMedia], intent.GetAttrs()[intentFileID])
	stored, err := w.putItem(ctx, m, 0)
	if err != nil {
		return "", err
	}
	w.deleteIntent(ctx, j)
	w.counters.add(ctx, w.counters.reconciled, j.platform())
	w.counters.add(ctx, w.counters.applied, j.platform(), opKey.String(opAdopt))
	trace.SpanFromContext(ctx).SetAttributes(wixItemAttr.String(found.ID))
	w.log.InfoContext(ctx, "adopted the Wix item of an interrupted create", append(j.logAttrs(), slog.String("wix_item", found.ID))...)
	if intent.GetContentHash() == j.hash {
		return opAdopt, nil
	}
	return w.updateItem(ctx, j, stored)
}

func (w *Writer) getIntent(ctx context.Context, j job) (*gsv1.Intent, error) {
	resp, err := w.mapping.GetIntent(ctx, &gsv1.GetIntentRequest{TenantId: j.tenant(), Key: j.intentKey()})
	if status.Code(err) == codes.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get intent %s: %w", j.intentKey(), err)
	}
	return resp.GetIntent(), nil
}

func (w *Writer) putIntent(ctx context.Context, j job, fileID, linkURL, media string) error {
	attrs := map[string]string{intentPlatformMedia: media}
	if fileID != "" {
		attrs[intentFileID] = fileID
	}
	if linkURL != "" {
		attrs[intentLinkURL] = linkURL
	}
	_, err := w.mapping.PutIntent(ctx, &gsv1.PutIntentRequest{
		Intent: &gsv1.Intent{
			TenantId: j.tenant(), Key: j.intentKey(), LinkId: j.linkID(), ExternalId: j.externalID(),
			ContentHash: j.hash, Attrs: attrs,
		},
		Ttl: durationpb.New(w.cfg.IntentTTL),
	})
	if err != nil {
		return fmt.Errorf("put intent %s: %w", j.intentKey(), err)
	}
	return nil
}

// deleteIntent drops a settled intent. A failure is only logged: the
// mapping now names the item, so a leftover intent is never consulted, and
// it expires with its TTL.
func (w *Writer) deleteIntent(ctx context.Context, j job) {
	_, err := w.mapping.DeleteIntent(ctx, &gsv1.DeleteIntentRequest{TenantId: j.tenant(), Key: j.intentKey()})
	if err != nil && status.Code(err) != codes.NotFound {
		w.log.WarnContext(ctx, "delete intent", append(j.logAttrs(), slog.Any("error", err))...)
	}
}
