package writer

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// deleteItem removes the Wix item of a platform item deleted on the
// platform, and leaves a tombstone so that a late create or update of it
// does not bring it back.
func (w *Writer) deleteItem(ctx context.Context, j job, m *gsv1.ItemMapping) (string, error) {
	if m == nil {
		return w.deleteUnmapped(ctx, j)
	}
	if err := w.removeFromWix(ctx, j, m.GetWixItemId()); err != nil {
		return "", err
	}
	tomb := proto.Clone(m).(*gsv1.ItemMapping)
	tomb.UpdatedAt = nil
	tomb.State = gsv1.ItemState_ITEM_STATE_DELETED
	tomb.ExternalVersion = timestamppb.New(j.version)
	if _, err := w.putItem(ctx, tomb, m.GetRevision()); err != nil {
		return "", err
	}
	w.counters.add(ctx, w.counters.applied, j.platform(), opKey.String(opDelete))
	return opDelete, nil
}

// removeFromWix announces the delete to the platform-writer, then deletes
// the item; an item already gone is no error.
func (w *Writer) removeFromWix(ctx context.Context, j job, wixItemID string) error {
	if err := w.markEcho(ctx, j, wixItemID, deletedEchoHash); err != nil {
		return err
	}
	if err := w.wix.DeleteItem(ctx, j.tenant(), j.gallery(), wixItemID); err != nil {
		return w.remoteError(ctx, j, "delete item", err)
	}
	trace.SpanFromContext(ctx).SetAttributes(wixItemAttr.String(wixItemID))
	return nil
}

// deleteUnmapped handles the delete of a platform item with no mapping.
// If an interrupted create left an intent, the item it may have made is
// found and deleted, and its tombstone recorded under its Wix id. Without
// a Wix id there is no mapping to tombstone (mappings are keyed by it), so
// nothing is stored there; instead a short-lived mark (as long as dedup
// marks live) says the item is gone, so that a create reordered behind
// this delete does not make it on Wix.
func (w *Writer) deleteUnmapped(ctx context.Context, j job) (string, error) {
	op := opNoop
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
			if err := w.removeFromWix(ctx, j, found.ID); err != nil {
				return "", err
			}
			tomb := synced(j, nil, found, intent.GetContentHash(), intent.GetAttrs()[intentPlatformMedia], intent.GetAttrs()[intentFileID])
			tomb.State = gsv1.ItemState_ITEM_STATE_DELETED
			if _, err := w.putItem(ctx, tomb, 0); err != nil {
				return "", err
			}
			op = opDelete
		}
	}
	if _, err := w.mapping.MarkDedup(ctx, &gsv1.MarkDedupRequest{
		TenantId: j.tenant(), Key: j.goneKey(), Ttl: durationpb.New(w.cfg.DedupTTL),
	}); err != nil {
		return "", fmt.Errorf("mark deleted: %w", err)
	}
	if intent != nil {
		w.deleteIntent(ctx, j)
	}
	w.counters.add(ctx, w.counters.applied, j.platform(), opKey.String(op))
	return op, nil
}
