package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// An intent is a hash with a PX TTL: its creation time in Unix nanoseconds
// ("created"), kept by the put script when a live intent is replaced, and the
// encoded intent without it ("data").
const (
	intentCreated = "created"
	intentData    = "data"
)

// PutIntent implements store.IntentStore.
func (s *Store) PutIntent(ctx context.Context, in *gsv1.Intent, ttl time.Duration) (*gsv1.Intent, error) {
	if err := first(store.CheckIntent(in), store.CheckTTL(ttl)); err != nil {
		return nil, err
	}
	next := proto.Clone(in).(*gsv1.Intent)
	next.CreatedAt = nil
	data, err := proto.Marshal(next)
	if err != nil {
		return nil, fmt.Errorf("put intent %s: %w", in.Key, err)
	}
	created, err := s.scripts.putIntent.Run(ctx, s.rdb, []string{keysOf(in.TenantId).intent(in.Key)},
		strconv.FormatInt(time.Now().UnixNano(), 10), data, millis(ttl)).Text()
	if err == nil {
		next.CreatedAt, err = parseCreated(created)
	}
	if err != nil {
		return nil, fmt.Errorf("put intent %s: %w", in.Key, err)
	}
	return next, nil
}

func parseCreated(v string) (*timestamppb.Timestamp, error) {
	ns, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("creation time %q: %w", v, err)
	}
	return timestamppb.New(time.Unix(0, ns)), nil
}

// GetIntent implements store.IntentStore.
func (s *Store) GetIntent(ctx context.Context, tenantID, key string) (*gsv1.Intent, error) {
	if err := first(store.CheckID("tenant_id", tenantID), store.CheckKey("key", key)); err != nil {
		return nil, err
	}
	vals, err := s.rdb.HMGet(ctx, keysOf(tenantID).intent(key), intentCreated, intentData).Result()
	if err != nil {
		return nil, fmt.Errorf("get intent %s: %w", key, err)
	}
	created, okCreated := vals[0].(string)
	data, okData := vals[1].(string)
	if !okCreated || !okData {
		return nil, fmt.Errorf("get intent %s: %w", key, store.ErrNotFound)
	}
	in := &gsv1.Intent{}
	err = proto.Unmarshal([]byte(data), in)
	if err == nil {
		in.CreatedAt, err = parseCreated(created)
	}
	if err != nil {
		return nil, fmt.Errorf("get intent %s: %w", key, err)
	}
	return in, nil
}

// DeleteIntent implements store.IntentStore.
func (s *Store) DeleteIntent(ctx context.Context, tenantID, key string) error {
	if err := first(store.CheckID("tenant_id", tenantID), store.CheckKey("key", key)); err != nil {
		return err
	}
	if err := s.rdb.Del(ctx, keysOf(tenantID).intent(key)).Err(); err != nil {
		return fmt.Errorf("delete intent %s: %w", key, err)
	}
	return nil
}
