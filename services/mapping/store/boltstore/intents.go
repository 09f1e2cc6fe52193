package boltstore

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// An intent is an expiring value whose payload is the encoded intent.

// PutIntent implements store.IntentStore.
func (s *Store) PutIntent(ctx context.Context, in *gsv1.Intent, ttl time.Duration) (*gsv1.Intent, error) {
	if err := check(ctx, store.CheckIntent(in), store.CheckTTL(ttl)); err != nil {
		return nil, err
	}
	next := proto.Clone(in).(*gsv1.Intent)
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, k, now := bucket(tx, bucketIntents), key([]string{in.TenantId}, in.Key), time.Now()
		next.CreatedAt = timestamppb.New(now)
		if v := b.Get(k); alive(v, now) {
			old := &gsv1.Intent{}
			if err := proto.Unmarshal([]byte(payload(v)), old); err != nil {
				return fmt.Errorf("stored intent: %w", err)
			}
			next.CreatedAt = old.CreatedAt
		}
		v, err := proto.Marshal(next)
		if err != nil {
			return err
		}
		return b.Put(k, expiring(now.Add(ttl), string(v)))
	})
	if err != nil {
		return nil, fmt.Errorf("put intent %s: %w", in.Key, err)
	}
	return next, nil
}

// GetIntent implements store.IntentStore.
func (s *Store) GetIntent(ctx context.Context, tenantID, intentKey string) (*gsv1.Intent, error) {
	if err := check(ctx, store.CheckID("tenant_id", tenantID), store.CheckKey("key", intentKey)); err != nil {
		return nil, err
	}
	in := &gsv1.Intent{}
	err := s.db.View(func(tx *bolt.Tx) error {
		v := bucket(tx, bucketIntents).Get(key([]string{tenantID}, intentKey))
		if !alive(v, time.Now()) {
			return store.ErrNotFound
		}
		return proto.Unmarshal([]byte(payload(v)), in)
	})
	if err != nil {
		return nil, fmt.Errorf("get intent %s: %w", intentKey, err)
	}
	return in, nil
}

// DeleteIntent implements store.IntentStore.
func (s *Store) DeleteIntent(ctx context.Context, tenantID, intentKey string) error {
	if err := check(ctx, store.CheckID("tenant_id", tenantID), store.CheckKey("key", intentKey)); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		return bucket(tx, bucketIntents).Delete(key([]string{tenantID}, intentKey))
	})
	if err != nil {
		return fmt.Errorf("delete intent %s: %w", intentKey, err)
	}
	return nil
}
