package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// An item is a hash: its revision and external id as plain fields, for the
// scripts to compare, and the whole encoded mapping in "data".
const itemData = "data"

// PutItem implements store.ItemStore.
func (s *Store) PutItem(ctx context.Context, item *gsv1.ItemMapping, expectedRevision int64) (*gsv1.ItemMapping, error) {
	if err := store.CheckItem(item, expectedRevision); err != nil {
		return nil, err
	}
	next := proto.Clone(item).(*gsv1.ItemMapping)
	next.Revision = expectedRevision + 1
	next.UpdatedAt = timestamppb.New(time.Now())
	data, err := proto.Marshal(next)
	if err != nil {
		return nil, fmt.Errorf("put item %s: %w", item.WixItemId, err)
	}
	k, link, wix := keysOf(item.TenantId), item.LinkId, item.WixItemId
	res, err := s.scripts.putItem.Run(ctx, s.rdb,
		[]string{k.item(link, wix), k.external(link), k.order(link)},
		expectedRevision, item.ExternalId, wix, data,
	).StringSlice()
	if err == nil && len(res) != 2 {
		err = fmt.Errorf("unexpected script reply %q", res)
	}
	if err != nil {
		return nil, fmt.Errorf("put item %s: %w", wix, err)
	}
	switch res[0] {
	case "ok":
		return next, nil
	case "rev":
		return nil, fmt.Errorf("put item %s: revision is %s, expected %d: %w", wix, res[1], expectedRevision, store.ErrConflict)
	default:
		return nil, fmt.Errorf("put item %s: external id %s belongs to wix item %s: %w", wix, item.ExternalId, res[1], store.ErrConflict)
	}
}

func (s *Store) getItem(ctx context.Context, k keys, link, wix string) (*gsv1.ItemMapping, error) {
	v, err := s.rdb.HGet(ctx, k.item(link, wix), itemData).Bytes()
	if err != nil {
		return nil, notFound(err)
	}
	item := &gsv1.ItemMapping{}
	if err := proto.Unmarshal(v, item); err != nil {
		return nil, err
	}
	return item, nil
}

// GetItemByWix implements store.ItemStore.
func (s *Store) GetItemByWix(ctx context.Context, tenantID, linkID, wixItemID string) (*gsv1.ItemMapping, error) {
	if err := first(store.CheckID("tenant_id", tenantID), store.CheckID("link_id", linkID),
		store.CheckID("wix_item_id", wixItemID)); err != nil {
		return nil, err
	}
	item, err := s.getItem(ctx, keysOf(tenantID), linkID, wixItemID)
	if err != nil {
		return nil, fmt.Errorf("get item %s: %w", wixItemID, err)
	}
	return item, nil
}

// GetItemByExternal implements store.ItemStore. The index and the item are
// read one after the other; when a concurrent write moved the external id in
// between, the item no longer carries it and the lookup starts over.
func (s *Store) GetItemByExternal(ctx context.Context, tenantID, linkID, externalID string) (*gsv1.ItemMapping, error) {
	if err := first(store.CheckID("tenant_id", tenantID), store.CheckID("link_id", linkID),
		store.CheckID("external_id", externalID)); err != nil {
		return nil, err
	}
	k := keysOf(tenantID)
	for range 3 {
		wix, err := s.rdb.HGet(ctx, k.external(linkID), externalID).Result()
		if err != nil {
			return nil, fmt.Errorf("get item by external id %s: %w", externalID, notFound(err))
		}
		item, err := s.getItem(ctx, k, linkID, wix)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get item by external id %s: %w", externalID, err)
		}
		if item.ExternalId == externalID {
			return item, nil
		}
	}
	return nil, fmt.Errorf("get item by external id %s: %w", externalID, store.ErrNotFound)
}

// DeleteItem implements store.ItemStore.
func (s *Store) DeleteItem(ctx context.Context, tenantID, linkID, wixItemID string) error {
	if err := first(store.CheckID("tenant_id", tenantID), store.CheckID("link_id", linkID),
		store.CheckID("wix_item_id", wixItemID)); err != nil {
		return err
	}
	k := keysOf(tenantID)
	deleted, err := s.scripts.deleteItem.Run(ctx, s.rdb,
		[]string{k.item(linkID, wixItemID), k.external(linkID), k.order(linkID)}, wixItemID).Int()
	if err == nil && deleted == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete item %s: %w", wixItemID, err)
	}
	return nil
}

// ListItems implements store.ItemStore. The order index is a sorted set with
// equal scores, which Redis ranges over in byte order of the Wix item ids.
func (s *Store) ListItems(ctx context.Context, tenantID, linkID string, pageSize int, pageToken string) ([]*gsv1.ItemMapping, string, error) {
	size, sizeErr := store.PageSize(pageSize)
	after, tokenErr := store.ParsePageToken(pageToken)
	if err := first(store.CheckID("tenant_id", tenantID), store.CheckID("link_id", linkID), sizeErr, tokenErr); err != nil {
		return nil, "", err
	}
	k := keysOf(tenantID)
	start := "-"
	if after != "" {
		start = "(" + after
	}
	ids, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: k.order(linkID), Start: start, Stop: "+", ByLex: true, Count: int64(size + 1),
	}).Result()
	if err != nil {
		return nil, "", fmt.Errorf("list items of link %s: %w", linkID, err)
	}
	more := len(ids) > size
	if more {
		ids = ids[:size]
	}
	cmds := make([]*redis.StringCmd, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, wix := range ids {
			cmds[i] = p.HGet(ctx, k.item(linkID, wix), itemData)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, "", fmt.Errorf("list items of link %s: %w", linkID, err)
	}
	items := make([]*gsv1.ItemMapping, 0, len(ids))
	for i, cmd := range cmds {
		v, err := cmd.Bytes()
		if errors.Is(err, redis.Nil) {
			continue // deleted since the range was read
		}
		item := &gsv1.ItemMapping{}
		if err == nil {
			err = proto.Unmarshal(v, item)
		}
		if err != nil {
			return nil, "", fmt.Errorf("list items of link %s: item %s: %w", linkID, ids[i], err)
		}
		items = append(items, item)
	}
	if !more {
		return items, "", nil
	}
	return items, store.PageToken(ids[len(ids)-1]), nil
}
