package redisstore

import (
	"context"
	"fmt"

	"gallerysync.dev/services/mapping/store"
)

// PutCursor implements store.CursorStore with a plain SET: no TTL, and
// written to the AOF like every other record.
func (s *Store) PutCursor(ctx context.Context, tenantID, key, value string) error {
	if err := store.CheckCursor(tenantID, key, value); err != nil {
		return err
	}
	if err := s.rdb.Set(ctx, keysOf(tenantID).cursor(key), value, 0).Err(); err != nil {
		return fmt.Errorf("put cursor %s: %w", key, err)
	}
	return nil
}

// GetCursor implements store.CursorStore.
func (s *Store) GetCursor(ctx context.Context, tenantID, key string) (string, error) {
	if err := first(store.CheckID("tenant_id", tenantID), store.CheckKey("key", key)); err != nil {
		return "", err
	}
	v, err := s.rdb.Get(ctx, keysOf(tenantID).cursor(key)).Result()
	if err != nil {
		return "", fmt.Errorf("get cursor %s: %w", key, notFound(err))
	}
	return v, nil
}
