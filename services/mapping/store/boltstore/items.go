package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

func itemKey(tenantID, linkID, wixItemID string) []byte {
	return key([]string{tenantID, linkID}, wixItemID)
}

func externalKey(tenantID, linkID, externalID string) []byte {
	return key([]string{tenantID, linkID}, externalID)
}

// PutItem implements store.ItemStore. The item and its index entries change in
// one transaction.
func (s *Store) PutItem(ctx context.Context, item *gsv1.ItemMapping, expectedRevision int64) (*gsv1.ItemMapping, error) {
	if err := check(ctx, store.CheckItem(item, expectedRevision)); err != nil {
		return nil, err
	}
	next := proto.Clone(item).(*gsv1.ItemMapping)
	next.Revision = expectedRevision + 1
	next.UpdatedAt = timestamppb.New(time.Now())
	v, err := proto.Marshal(next)
	if err != nil {
		return nil, fmt.Errorf("put item %s: %w", item.WixItemId, err)
	}
	tenant, link, wix, ext := item.TenantId, item.LinkId, item.WixItemId, item.ExternalId
	err = s.db.Update(func(tx *bolt.Tx) error {
		items, index := bucket(tx, bucketItems), bucket(tx, bucketExternal)
		k := itemKey(tenant, link, wix)
		var cur *gsv1.ItemMapping
		if raw := items.Get(k); raw != nil {
			cur = &gsv1.ItemMapping{}
			if err := proto.Unmarshal(bytes.Clone(raw), cur); err != nil {
				return err
			}
		}
		if cur.GetRevision() != expectedRevision {
			return fmt.Errorf("revision is %d, expected %d: %w", cur.GetRevision(), expectedRevision, store.ErrConflict)
		}
		if ext != "" {
			if owner := index.Get(externalKey(tenant, link, ext)); owner != nil && string(owner) != wix {
				return fmt.Errorf("external id %s belongs to wix item %s: %w", ext, owner, store.ErrConflict)
			}
		}
		if old := cur.GetExternalId(); old != "" && old != ext {
			if err := deleteIndex(index, tenant, link, old, wix); err != nil {
				return err
			}
		}
		if ext != "" {
			if err := index.Put(externalKey(tenant, link, ext), []byte(wix)); err != nil {
				return err
			}
		}
		return items.Put(k, v)
	})
	if err != nil {
		return nil, fmt.Errorf("put item %s: %w", wix, err)
	}
	return next, nil
}

// deleteIndex removes an external-id entry if it still points at wix.
func deleteIndex(index *bolt.Bucket, tenant, link, ext, wix string) error {
	k := externalKey(tenant, link, ext)
	if string(index.Get(k)) != wix {
		return nil
	}
	return index.Delete(k)
}

// GetItemByWix implements store.ItemStore.
func (s *Store) GetItemByWix(ctx context.Context, tenantID, linkID, wixItemID string) (*gsv1.ItemMapping, error) {
	if err := check(ctx, store.CheckID("tenant_id", tenantID), store.CheckID("link_id", linkID),
		store.CheckID("wix_item_id", wixItemID)); err != nil {
		return nil, err
	}
	item := &gsv1.ItemMapping{}
	if err := s.get(bucketItems, itemKey(tenantID, linkID, wixItemID), item); err != nil {
		return nil, fmt.Errorf("get item %s: %w", wixItemID, err)
	}
	return item, nil
}

// GetItemByExternal implements store.ItemStore.
func (s *Store) GetItemByExternal(ctx context.Context, tenantID, linkID, externalID string) (*gsv1.ItemMapping, error) {
	if err := check(ctx, store.CheckID("tenant_id", tenantID), store.CheckID("link_id", linkID),
		store.CheckID("external_id", externalID)); err != nil {
		return nil, err
	}
	item := &gsv1.ItemMapping{}
	err := s.db.View(func(tx *bolt.Tx) error {
		wix := bucket(tx, bucketExternal).Get(externalKey(tenantID, linkID, externalID))
		if wix == nil {
			return store.ErrNotFound
		}
		return getIn(tx, bucketItems, itemKey(tenantID, linkID, string(wix)), item)
	})
	if err != nil {
		return nil, fmt.Errorf("get item by external id %s: %w", externalID, err)
	}
	return item, nil
}

// DeleteItem implements store.ItemStore.
func (s *Store) DeleteItem(ctx context.Context, tenantID, linkID, wixItemID string) error {
	if err := check(ctx, store.CheckID("tenant_id", tenantID), store.CheckID("link_id", linkID),
		store.CheckID("wix_item_id", wixItemID)); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		k := itemKey(tenantID, linkID, wixItemID)
		cur := &gsv1.ItemMapping{}
		if err := getIn(tx, bucketItems, k, cur); err != nil {
			return err
		}
		if ext := cur.ExternalId; ext != "" {
			if err := deleteIndex(bucket(tx, bucketExternal), tenantID, linkID, ext, wixItemID); err != nil {
				return err
			}
		}
		return bucket(tx, bucketItems).Delete(k)
	})
	if err != nil {
		return fmt.Errorf("delete item %s: %w", wixItemID, err)
	}
	return nil
}

// ListItems implements store.ItemStore.
func (s *Store) ListItems(ctx context.Context, tenantID, linkID string, pageSize int, pageToken string) ([]*gsv1.ItemMapping, string, error) {
	size, sizeErr := store.PageSize(pageSize)
	after, tokenErr := store.ParsePageToken(pageToken)
	if err := check(ctx, store.CheckID("tenant_id", tenantID), store.CheckID("link_id", linkID), sizeErr, tokenErr); err != nil {
		return nil, "", err
	}
	prefix := key([]string{tenantID, linkID}, "")
	var (
		items []*gsv1.ItemMapping
		more  bool
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := bucket(tx, bucketItems).Cursor()
		start := append(bytes.Clone(prefix), after...)
		k, v := c.Seek(start)
		if after != "" && bytes.Equal(k, start) {
			k, v = c.Next()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(items) == size {
				more = true
				return nil
			}
			item := &gsv1.ItemMapping{}
			if err := proto.Unmarshal(bytes.Clone(v), item); err != nil {
				return err
			}
			items = append(items, item)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list items of link %s: %w", linkID, err)
	}
	if !more {
		return items, "", nil
	}
	return items, store.PageToken(items[len(items)-1].WixItemId), nil
}
