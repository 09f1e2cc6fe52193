package redisstore

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// A link's sync log is a list of encoded entries, newest at the head.

// AppendLog implements store.LogStore with appendLogScript: LPUSH and LTRIM
// in one script, after checking the link in the same tenant's link hash.
func (s *Store) AppendLog(ctx context.Context, tenantID, linkID string, entry *gsv1.LogEntry) error {
	if err := first(store.CheckID("tenant_id", tenantID), store.CheckID("link_id", linkID),
		store.CheckLogEntry(entry)); err != nil {
		return err
	}
	e := proto.Clone(entry).(*gsv1.LogEntry)
	if e.At == nil {
		e.At = timestamppb.Now()
	}
	data, err := proto.Marshal(e)
	if err != nil {
		return fmt.Errorf("append log of link %s: %w", linkID, err)
	}
	k := keysOf(tenantID)
	written, err := s.scripts.appendLog.Run(ctx, s.rdb, []string{k.links(), k.log(linkID)},
		linkID, data, store.MaxLogEntries).Int()
	if err == nil && written == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("append log of link %s: %w", linkID, err)
	}
	return nil
}

// ListLog implements store.LogStore. Without a filter it reads only the
// entries it returns; with one, the whole log (at most MaxLogEntries).
func (s *Store) ListLog(ctx context.Context, tenantID, linkID, wixItemID string, limit int) ([]*gsv1.LogEntry, error) {
	n, err := store.CheckLogRead(tenantID, linkID, wixItemID, limit)
	if err != nil {
		return nil, err
	}
	stop := int64(n - 1)
	if wixItemID != "" {
		stop = store.MaxLogEntries - 1
	}
	raw, err := s.rdb.LRange(ctx, keysOf(tenantID).log(linkID), 0, stop).Result()
	if err != nil {
		return nil, fmt.Errorf("list log of link %s: %w", linkID, err)
	}
	var entries []*gsv1.LogEntry
	for i, v := range raw {
		if len(entries) == n {
			break
		}
		e := &gsv1.LogEntry{}
		if err := proto.Unmarshal([]byte(v), e); err != nil {
			return nil, fmt.Errorf("list log of link %s: entry %d: %w", linkID, i, err)
		}
		if wixItemID == "" || e.WixItemId == wixItemID {
			entries = append(entries, e)
		}
	}
	return entries, nil
}
