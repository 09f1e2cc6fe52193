package boltstore

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// echoKey is one marker per written content: several writes to one object
// may be in flight at once, and each one's echo must be recognised.
func echoKey(tenantID string, side gsv1.Side, objectID, hash string) []byte {
	return key([]string{tenantID, side.String(), objectID}, hash)
}

// MarkEcho implements store.MarkStore.
func (s *Store) MarkEcho(ctx context.Context, tenantID string, side gsv1.Side, objectID, hash string, ttl time.Duration) error {
	if err := check(ctx, store.CheckID("tenant_id", tenantID), store.CheckSide(side), store.CheckID("object_id", objectID),
		store.CheckKey("content_hash", hash), store.CheckTTL(ttl)); err != nil {
		return err
	}
	v := expiring(time.Now().Add(ttl), hash)
	err := s.db.Update(func(tx *bolt.Tx) error {
		return bucket(tx, bucketEcho).Put(echoKey(tenantID, side, objectID, hash), v)
	})
	if err != nil {
		return fmt.Errorf("mark echo %s: %w", objectID, err)
	}
	return nil
}

// CheckEcho implements store.MarkStore.
func (s *Store) CheckEcho(ctx context.Context, tenantID string, side gsv1.Side, objectID, hash string) (bool, error) {
	if err := check(ctx, store.CheckID("tenant_id", tenantID), store.CheckSide(side), store.CheckID("object_id", objectID),
		store.CheckKey("content_hash", hash)); err != nil {
		return false, err
	}
	var echo bool
	err := s.db.View(func(tx *bolt.Tx) error {
		v := bucket(tx, bucketEcho).Get(echoKey(tenantID, side, objectID, hash))
		echo = alive(v, time.Now())
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("check echo %s: %w", objectID, err)
	}
	return echo, nil
}

// MarkDedup implements store.MarkStore.
func (s *Store) MarkDedup(ctx context.Context, tenantID, dedupKey string, ttl time.Duration) (bool, error) {
	if err := check(ctx, store.CheckID("tenant_id", tenantID), store.CheckKey("key", dedupKey), store.CheckTTL(ttl)); err != nil {
		return false, err
	}
	var first bool
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, k, now := bucket(tx, bucketDedup), key([]string{tenantID}, dedupKey), time.Now()
		if alive(b.Get(k), now) {
			return nil
		}
		first = true
		return b.Put(k, expiring(now.Add(ttl), ""))
	})
	if err != nil {
		return false, fmt.Errorf("mark dedup %s: %w", dedupKey, err)
	}
	return first, nil
}

// CheckDedup implements store.MarkStore.
func (s *Store) CheckDedup(ctx context.Context, tenantID, dedupKey string) (bool, error) {
	if err := check(ctx, store.CheckID("tenant_id", tenantID), store.CheckKey("key", dedupKey)); err != nil {
		return false, err
	}
	var seen bool
	err := s.db.View(func(tx *bolt.Tx) error {
		seen = alive(bucket(tx, bucketDedup).Get(key([]string{tenantID}, dedupKey)), time.Now())
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("check dedup %s: %w", dedupKey, err)
	}
	return seen, nil
}

// AcquireLock implements store.LockStore.
func (s *Store) AcquireLock(ctx context.Context, tenantID, lockKey, owner string, ttl time.Duration) (bool, error) {
	if err := check(ctx, store.CheckID("tenant_id", tenantID), store.CheckKey("key", lockKey),
		store.CheckKey("owner", owner), store.CheckTTL(ttl)); err != nil {
		return false, err
	}
	var acquired bool
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, k, now := bucket(tx, bucketLocks), key([]string{tenantID}, lockKey), time.Now()
		if v := b.Get(k); alive(v, now) && payload(v) != owner {
			return nil
		}
		acquired = true
		return b.Put(k, expiring(now.Add(ttl), owner))
	})
	if err != nil {
		return false, fmt.Errorf("acquire lock %s: %w", lockKey, err)
	}
	return acquired, nil
}

// ReleaseLock implements store.LockStore.
func (s *Store) ReleaseLock(ctx context.Context, tenantID, lockKey, owner string) (bool, error) {
	if err := check(ctx, store.CheckID("tenant_id", tenantID), store.CheckKey("key", lockKey), store.CheckKey("owner", owner)); err != nil {
		return false, err
	}
	var released bool
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, k := bucket(tx, bucketLocks), key([]string{tenantID}, lockKey)
		if v := b.Get(k); !alive(v, time.Now()) || payload(v) != owner {
			return nil
		}
		released = true
		return b.Delete(k)
	})
	if err != nil {
		return false, fmt.Errorf("release lock %s: %w", lockKey, err)
	}
	return released, nil
}
