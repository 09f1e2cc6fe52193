package boltstore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"gallerysync.dev/services/mapping/store"
)

// cursorFormat starts every stored cursor: bbolt may hand back an empty
// value as nil, the same as a missing key, and an empty cursor is a value.
const cursorFormat = 'c'

// PutCursor implements store.CursorStore.
func (s *Store) PutCursor(ctx context.Context, tenantID, cursorKey, value string) error {
	if err := check(ctx, store.CheckCursor(tenantID, cursorKey, value)); err != nil {
		return err
	}
	v := append([]byte{cursorFormat}, value...)
	err := s.db.Update(func(tx *bolt.Tx) error {
		return bucket(tx, bucketCursors).Put(key([]string{tenantID}, cursorKey), v)
	})
	if err != nil {
		return fmt.Errorf("put cursor %s: %w", cursorKey, err)
	}
	return nil
}

// GetCursor implements store.CursorStore.
func (s *Store) GetCursor(ctx context.Context, tenantID, cursorKey string) (string, error) {
	if err := check(ctx, store.CheckID("tenant_id", tenantID), store.CheckKey("key", cursorKey)); err != nil {
		return "", err
	}
	var value string
	err := s.db.View(func(tx *bolt.Tx) error {
		v := bucket(tx, bucketCursors).Get(key([]string{tenantID}, cursorKey))
		switch {
		case v == nil:
			return store.ErrNotFound
		case len(v) == 0 || v[0] != cursorFormat:
			return fmt.Errorf("stored cursor %q is of an unknown format", v)
		}
		value = string(v[1:]) // string() copies out of the transaction's memory
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("get cursor %s: %w", cursorKey, err)
	}
	return value, nil
}
