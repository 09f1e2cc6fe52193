// Package redisstore is the production store: Redis (standalone, Sentinel or
// Cluster) shared by every mapping replica. Multi-key writes are Lua scripts,
// compare-and-set happens inside them, and markers expire through PX TTLs.
// Every key belongs to one tenant's hash tag except linkTenantsKey, the
// cross-tenant index that ScanLinks walks.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// Store is a store.Store on a Redis client it does not own: closing the
// client is the caller's job.
type Store struct {
	rdb     redis.UniversalClient
	scripts scripts
}

var _ store.Store = (*Store)(nil)

// New returns a store on client.
func New(client redis.UniversalClient) *Store {
	return &Store{rdb: client, scripts: newScripts()}
}

// Ping sends PING.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

func first(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// millis rounds a TTL up to whole milliseconds, the unit of PX.
func millis(ttl time.Duration) int64 {
	return int64((ttl + time.Millisecond - 1) / time.Millisecond)
}

func notFound(err error) error {
	if errors.Is(err, redis.Nil) {
		return store.ErrNotFound
	}
	return err
}

func (s *Store) setProto(ctx context.Context, key string, m proto.Message) error {
	v, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	return s.rdb.Set(ctx, key, v, 0).Err()
}

func (s *Store) getProto(ctx context.Context, key string, m proto.Message) error {
	v, err := s.rdb.Get(ctx, key).Bytes()
	if err != nil {
		return notFound(err)
	}
	return proto.Unmarshal(v, m)
}

// PutTenant implements store.TenantStore.
func (s *Store) PutTenant(ctx context.Context, t *gsv1.Tenant) error {
	if err := store.CheckTenant(t); err != nil {
		return err
	}
	if err := s.setProto(ctx, keysOf(t.TenantId).tenant(), t); err != nil {
		return fmt.Errorf("put tenant %s: %w", t.TenantId, err)
	}
	return nil
}

// GetTenant implements store.TenantStore.
func (s *Store) GetTenant(ctx context.Context, tenantID string) (*gsv1.Tenant, error) {
	if err := store.CheckID("tenant_id", tenantID); err != nil {
		return nil, err
	}
	t := &gsv1.Tenant{}
	if err := s.getProto(ctx, keysOf(tenantID).tenant(), t); err != nil {
		return nil, fmt.Errorf("get tenant %s: %w", tenantID, err)
	}
	return t, nil
}

// PutConnection implements store.ConnectionStore. Like links, a tenant's
// connections live in one hash, so RemoveTenant reaches all of them in one
// script.
func (s *Store) PutConnection(ctx context.Context, c *gsv1.Connection) error {
	if err := store.CheckConnection(c); err != nil {
		return err
	}
	v, err := proto.Marshal(c)
	if err == nil {
		err = s.rdb.HSet(ctx, keysOf(c.TenantId).connections(), c.ConnectionId, v).Err()
	}
	if err != nil {
		return fmt.Errorf("put connection %s: %w", c.ConnectionId, err)
	}
	return nil
}

// GetConnection implements store.ConnectionStore.
func (s *Store) GetConnection(ctx context.Context, tenantID, connectionID string) (*gsv1.Connection, error) {
	if err := first(store.CheckID("tenant_id", tenantID), store.CheckID("connection_id", connectionID)); err != nil {
		return nil, err
	}
	v, err := s.rdb.HGet(ctx, keysOf(tenantID).connections(), connectionID).Bytes()
	c := &gsv1.Connection{}
	if err == nil {
		err = proto.Unmarshal(v, c)
	}
	if err != nil {
		return nil, fmt.Errorf("get connection %s: %w", connectionID, notFound(err))
	}
	return c, nil
}

// PutLink implements store.LinkStore. A tenant's links live in one hash:
// there are few of them and ListLinks reads them all.
//
// The tenant joins the index of tenants with links (linkTenantsKey) first.
// The index and the hash are in different Cluster slots, so no script can
// write both; in this order a failure between the two writes leaves at most
// an indexed tenant without the link, which ScanLinks passes over, never a
// link that ScanLinks cannot find. It joins again after the link is written,
// because a DeleteLink of the tenant's last other link may have taken it out
// in between (see DeleteLink).
func (s *Store) PutLink(ctx context.Context, l *gsv1.Link) error {
	if err := store.CheckLink(l); err != nil {
		return err
	}
	index := func() error { return s.rdb.ZAdd(ctx, linkTenantsKey, redis.Z{Member: l.TenantId}).Err() }
	v, err := proto.Marshal(l)
	if err == nil {
		err = index()
	}
	if err == nil {
		err = s.rdb.HSet(ctx, keysOf(l.TenantId).links(), l.LinkId, v).Err()
	}
	if err == nil {
		err = index()
	}
	if err != nil {
		return fmt.Errorf("put link %s: %w", l.LinkId, err)
	}
	return nil
}

// GetLink implements store.LinkStore.
func (s *Store) GetLink(ctx context.Context, tenantID, linkID string) (*gsv1.Link, error) {
	if err := first(store.CheckID("tenant_id", tenantID), store.CheckID("link_id", linkID)); err != nil {
		return nil, err
	}
	v, err := s.rdb.HGet(ctx, keysOf(tenantID).links(), linkID).Bytes()
	l := &gsv1.Link{}
	if err == nil {
		err = proto.Unmarshal(v, l)
	}
	if err != nil {
		return nil, fmt.Errorf("get link %s: %w", linkID, notFound(err))
	}
	return l, nil
}

// ListConnections implements store.ConnectionStore.
func (s *Store) ListConnections(ctx context.Context, tenantID string) ([]*gsv1.Connection, error) {
	if err := store.CheckID("tenant_id", tenantID); err != nil {
		return nil, err
	}
	all, err := s.rdb.HGetAll(ctx, keysOf(tenantID).connections()).Result()
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	conns := make([]*gsv1.Connection, 0, len(all))
	for id, v := range all {
		c := &gsv1.Connection{}
		if err := proto.Unmarshal([]byte(v), c); err != nil {
			return nil, fmt.Errorf("list connections: connection %s: %w", id, err)
		}
		conns = append(conns, c)
	}
	slices.SortFunc(conns, func(a, b *gsv1.Connection) int { return strings.Compare(a.ConnectionId, b.ConnectionId) })
	return conns, nil
}

// ListLinks implements store.LinkStore.
func (s *Store) ListLinks(ctx context.Context, tenantID string, filter store.LinkFilter) ([]*gsv1.Link, error) {
	if err := first(store.CheckID("tenant_id", tenantID), filter.Check()); err != nil {
		return nil, err
	}
	all, err := s.rdb.HGetAll(ctx, keysOf(tenantID).links()).Result()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var links []*gsv1.Link
	for id, v := range all {
		l := &gsv1.Link{}
		if err := proto.Unmarshal([]byte(v), l); err != nil {
			return nil, fmt.Errorf("list links: link %s: %w", id, err)
		}
		if filter.Match(l) {
			links = append(links, l)
		}
	}
	slices.SortFunc(links, func(a, b *gsv1.Link) int { return strings.Compare(a.LinkId, b.LinkId) })
	return links, nil
}
