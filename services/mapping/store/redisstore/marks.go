package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// MarkEcho implements store.MarkStore.
func (s *Store) MarkEcho(ctx context.Context, tenantID string, side gsv1.Side, objectID, hash string, ttl time.Duration) error {
	if err := first(store.CheckID("tenant_id", tenantID), store.CheckSide(side), store.CheckID("object_id", objectID),
		store.CheckKey("content_hash", hash), store.CheckTTL(ttl)); err != nil {
		return err
	}
	err := s.rdb.Do(ctx, "SET", keysOf(tenantID).echo(side, objectID, hash), "1", "PX", millis(ttl)).Err()
	if err != nil {
		return fmt.Errorf("mark echo %s: %w", objectID, err)
	}
	return nil
}

// CheckEcho implements store.MarkStore.
func (s *Store) CheckEcho(ctx context.Context, tenantID string, side gsv1.Side, objectID, hash string) (bool, error) {
	if err := first(store.CheckID("tenant_id", tenantID), store.CheckSide(side), store.CheckID("object_id", objectID),
		store.CheckKey("content_hash", hash)); err != nil {
		return false, err
	}
	n, err := s.rdb.Exists(ctx, keysOf(tenantID).echo(side, objectID, hash)).Result()
	if err != nil {
		return false, fmt.Errorf("check echo %s: %w", objectID, err)
	}
	return n == 1, nil
}

// MarkDedup implements store.MarkStore with SET NX PX.
func (s *Store) MarkDedup(ctx context.Context, tenantID, key string, ttl time.Duration) (bool, error) {
	if err := first(store.CheckID("tenant_id", tenantID), store.CheckKey("key", key), store.CheckTTL(ttl)); err != nil {
		return false, err
	}
	err := s.rdb.Do(ctx, "SET", keysOf(tenantID).dedup(key), "1", "NX", "PX", millis(ttl)).Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mark dedup %s: %w", key, err)
	}
	return true, nil
}

// CheckDedup implements store.MarkStore.
func (s *Store) CheckDedup(ctx context.Context, tenantID, key string) (bool, error) {
	if err := first(store.CheckID("tenant_id", tenantID), store.CheckKey("key", key)); err != nil {
		return false, err
	}
	n, err := s.rdb.Exists(ctx, keysOf(tenantID).dedup(key)).Result()
	if err != nil {
		return false, fmt.Errorf("check dedup %s: %w", key, err)
	}
	return n == 1, nil
}

// AcquireLock implements store.LockStore.
func (s *Store) AcquireLock(ctx context.Context, tenantID, key, owner string, ttl time.Duration) (bool, error) {
	if err := first(store.CheckID("tenant_id", tenantID), store.CheckKey("key", key), store.CheckKey("owner", owner),
		store.CheckTTL(ttl)); err != nil {
		return false, err
	}
	n, err := s.scripts.acquireLock.Run(ctx, s.rdb, []string{keysOf(tenantID).lock(key)}, owner, millis(ttl)).Int()
	if err != nil {
		return false, fmt.Errorf("acquire lock %s: %w", key, err)
	}
	return n == 1, nil
}

// ReleaseLock implements store.LockStore.
func (s *Store) ReleaseLock(ctx context.Context, tenantID, key, owner string) (bool, error) {
	if err := first(store.CheckID("tenant_id", tenantID), store.CheckKey("key", key), store.CheckKey("owner", owner)); err != nil {
		return false, err
	}
	n, err := s.scripts.releaseLock.Run(ctx, s.rdb, []string{keysOf(tenantID).lock(key)}, owner).Int()
	if err != nil {
		return false, fmt.Errorf("release lock %s: %w", key, err)
	}
	return n == 1, nil
}
