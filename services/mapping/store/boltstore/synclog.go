package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// A log entry's key is the prefix (tenant, link) and the bucket's next
// sequence number, big-endian, so a link's entries sort oldest to newest.
const logSeqLen = 8

func logPrefix(tenantID, linkID string) []byte { return key([]string{tenantID, linkID}, "") }

// AppendLog implements store.LogStore in one transaction.
func (s *Store) AppendLog(ctx context.Context, tenantID, linkID string, entry *gsv1.LogEntry) error {
	if err := check(ctx, store.CheckID("tenant_id", tenantID), store.CheckID("link_id", linkID),
		store.CheckLogEntry(entry)); err != nil {
		return err
	}
	e := proto.Clone(entry).(*gsv1.LogEntry)
	if e.At == nil {
		e.At = timestamppb.Now()
	}
	v, err := proto.Marshal(e)
	if err != nil {
		return fmt.Errorf("append log of link %s: %w", linkID, err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		if bucket(tx, bucketLinks).Get(key([]string{tenantID}, linkID)) == nil {
			return store.ErrNotFound
		}
		b := bucket(tx, bucketLog)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		prefix := logPrefix(tenantID, linkID)
		if err := b.Put(binary.BigEndian.AppendUint64(bytes.Clone(prefix), seq), v); err != nil {
			return err
		}
		return trimLog(b, prefix)
	})
	if err != nil {
		return fmt.Errorf("append log of link %s: %w", linkID, err)
	}
	return nil
}

// trimLog deletes the oldest entries of a log beyond store.MaxLogEntries.
// Each append adds one, so there is at most one to delete.
func trimLog(b *bolt.Bucket, prefix []byte) error {
	c := b.Cursor()
	n := 0
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	for ; n > store.MaxLogEntries; n-- {
		if k, _ := c.Seek(prefix); k == nil || !bytes.HasPrefix(k, prefix) {
			return nil
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// ListLog implements store.LogStore, reading the link's entries from the
// newest backwards until limit of them pass the filter.
func (s *Store) ListLog(ctx context.Context, tenantID, linkID, wixItemID string, limit int) ([]*gsv1.LogEntry, error) {
	n, err := store.CheckLogRead(tenantID, linkID, wixItemID, limit)
	if err := check(ctx, err); err != nil {
		return nil, err
	}
	var entries []*gsv1.LogEntry
	err = s.db.View(func(tx *bolt.Tx) error {
		c := bucket(tx, bucketLog).Cursor()
		prefix := logPrefix(tenantID, linkID)
		for k, v := lastWithPrefix(c, prefix); k != nil && bytes.HasPrefix(k, prefix) && len(entries) < n; k, v = c.Prev() {
			e := &gsv1.LogEntry{}
			if err := proto.Unmarshal(bytes.Clone(v), e); err != nil {
				return fmt.Errorf("entry %q: %w", k, err)
			}
			if wixItemID == "" || e.WixItemId == wixItemID {
				entries = append(entries, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list log of link %s: %w", linkID, err)
	}
	return entries, nil
}

// lastWithPrefix moves c to the last key of a log (prefix and a sequence
// number), or to a key outside it when the log is empty.
func lastWithPrefix(c *bolt.Cursor, prefix []byte) ([]byte, []byte) {
	end := append(bytes.Clone(prefix), bytes.Repeat([]byte{0xff}, logSeqLen)...)
	k, v := c.Seek(end)
	switch {
	case k == nil:
		return c.Last()
	case bytes.Equal(k, end):
		return k, v
	}
	return c.Prev()
}
