package boltstore

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"gallerysync.dev/services/mapping/store"
)

// DeleteLink implements store.LinkStore in one transaction. Item mappings,
// external-id index entries and log entries of a link all share the key
// prefix (tenant, link), so each goes with one prefix delete.
func (s *Store) DeleteLink(ctx context.Context, tenantID, linkID string) error {
	if err := check(ctx, store.CheckID("tenant_id", tenantID), store.CheckID("link_id", linkID)); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		links := bucket(tx, bucketLinks)
		k := key([]string{tenantID}, linkID)
		if links.Get(k) == nil {
			return store.ErrNotFound
		}
		if err := links.Delete(k); err != nil {
			return err
		}
		prefix := key([]string{tenantID, linkID}, "")
		for _, name := range []string{bucketItems, bucketExternal, bucketLog} {
			if err := deletePrefix(bucket(tx, name), prefix); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		tenantPrefix := key([]string{tenantID}, "")
		if k, _ := links.Cursor().Seek(tenantPrefix); k != nil && bytes.HasPrefix(k, tenantPrefix) {
			return nil
		}
		return bucket(tx, bucketLinkTenants).Delete([]byte(tenantID))
	})
	if err != nil {
		return fmt.Errorf("delete link %s: %w", linkID, err)
	}
	return nil
}

// deletePrefix deletes every key of b that starts with prefix. The keys are
// collected first: a bbolt cursor must not see its bucket change.
func deletePrefix(b *bolt.Bucket, prefix []byte) error {
	var doomed [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		doomed = append(doomed, bytes.Clone(k))
	}
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
