package boltstore

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

func (s *Store) put(name string, k []byte, m proto.Message) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putIn(tx, name, k, m) })
}

func putIn(tx *bolt.Tx, name string, k []byte, m proto.Message) error {
	v, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	return bucket(tx, name).Put(k, v)
}

func (s *Store) get(name string, k []byte, m proto.Message) error {
	return s.db.View(func(tx *bolt.Tx) error { return getIn(tx, name, k, m) })
}

// getIn decodes a record inside a transaction; bbolt's bytes are only valid
// until it ends, so they are copied first.
func getIn(tx *bolt.Tx, name string, k []byte, m proto.Message) error {
	v := bucket(tx, name).Get(k)
	if v == nil {
		return store.ErrNotFound
	}
	return proto.Unmarshal(bytes.Clone(v), m)
}

// PutTenant implements store.TenantStore.
func (s *Store) PutTenant(ctx context.Context, t *gsv1.Tenant) error {
	if err := check(ctx, store.CheckTenant(t)); err != nil {
		return err
	}
	if err := s.put(bucketTenants, []byte(t.TenantId), t); err != nil {
		return fmt.Errorf("put tenant %s: %w", t.TenantId, err)
	}
	return nil
}

// GetTenant implements store.TenantStore.
func (s *Store) GetTenant(ctx context.Context, tenantID string) (*gsv1.Tenant, error) {
	if err := check(ctx, store.CheckID("tenant_id", tenantID)); err != nil {
		return nil, err
	}
	t := &gsv1.Tenant{}
	if err := s.get(bucketTenants, []byte(tenantID), t); err != nil {
		return nil, fmt.Errorf("get tenant %s: %w", tenantID, err)
	}
	return t, nil
}

// PutConnection implements store.ConnectionStore.
func (s *Store) PutConnection(ctx context.Context, c *gsv1.Connection) error {
	if err := check(ctx, store.CheckConnection(c)); err != nil {
		return err
	}
	if err := s.put(bucketConnections, key([]string{c.TenantId}, c.ConnectionId), c); err != nil {
		return fmt.Errorf("put connection %s: %w", c.ConnectionId, err)
	}
	return nil
}

// GetConnection implements store.ConnectionStore.
func (s *Store) GetConnection(ctx context.Context, tenantID, connectionID string) (*gsv1.Connection, error) {
	if err := check(ctx, store.CheckID("tenant_id", tenantID), store.CheckID("connection_id", connectionID)); err != nil {
		return nil, err
	}
	c := &gsv1.Connection{}
	if err := s.get(bucketConnections, key([]string{tenantID}, connectionID), c); err != nil {
		return nil, fmt.Errorf("get connection %s: %w", connectionID, err)
	}
	return c, nil
}

// ListConnections implements store.ConnectionStore. A tenant's keys share
// their prefix and end with the raw connection id, so they come in id order.
func (s *Store) ListConnections(ctx context.Context, tenantID string) ([]*gsv1.Connection, error) {
	if err := check(ctx, store.CheckID("tenant_id", tenantID)); err != nil {
		return nil, err
	}
	var conns []*gsv1.Connection
	err := s.db.View(func(tx *bolt.Tx) error {
		return forTenant(tx, bucketConnections, tenantID, func(_, v []byte) error {
			c := &gsv1.Connection{}
			if err := proto.Unmarshal(v, c); err != nil {
				return err
			}
			conns = append(conns, c)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	return conns, nil
}

// PutLink implements store.LinkStore. The tenant joins the index of
// tenants with links in the same transaction.
func (s *Store) PutLink(ctx context.Context, l *gsv1.Link) error {
	if err := check(ctx, store.CheckLink(l)); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := bucket(tx, bucketLinkTenants).Put([]byte(l.TenantId), nil); err != nil {
			return err
		}
		return putIn(tx, bucketLinks, key([]string{l.TenantId}, l.LinkId), l)
	})
	if err != nil {
		return fmt.Errorf("put link %s: %w", l.LinkId, err)
	}
	return nil
}

// GetLink implements store.LinkStore.
func (s *Store) GetLink(ctx context.Context, tenantID, linkID string) (*gsv1.Link, error) {
	if err := check(ctx, store.CheckID("tenant_id", tenantID), store.CheckID("link_id", linkID)); err != nil {
		return nil, err
	}
	l := &gsv1.Link{}
	if err := s.get(bucketLinks, key([]string{tenantID}, linkID), l); err != nil {
		return nil, fmt.Errorf("get link %s: %w", linkID, err)
	}
	return l, nil
}

// ListLinks implements store.LinkStore.
func (s *Store) ListLinks(ctx context.Context, tenantID string, filter store.LinkFilter) ([]*gsv1.Link, error) {
	if err := check(ctx, store.CheckID("tenant_id", tenantID), filter.Check()); err != nil {
		return nil, err
	}
	var links []*gsv1.Link
	err := s.db.View(func(tx *bolt.Tx) error {
		return forTenant(tx, bucketLinks, tenantID, func(_, v []byte) error {
			l := &gsv1.Link{}
			if err := proto.Unmarshal(v, l); err != nil {
				return err
			}
			if filter.Match(l) {
				links = append(links, l)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	return links, nil
}

// forTenant calls fn, in key order, with a copy of the key and value of
// every record of the tenant in bucket name. The copies stay valid after the
// transaction and while fn's caller changes the bucket.
func forTenant(tx *bolt.Tx, name, tenantID string, fn func(k, v []byte) error) error {
	prefix := key([]string{tenantID}, "")
	c := bucket(tx, name).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if err := fn(bytes.Clone(k), bytes.Clone(v)); err != nil {
			return err
		}
	}
	return nil
}
