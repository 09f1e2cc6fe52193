package boltstore

import (
	"context"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// RemoveTenant implements store.TenantStore in one transaction.
func (s *Store) RemoveTenant(ctx context.Context, tenantID string) (*gsv1.Tenant, error) {
	if err := check(ctx, store.CheckID("tenant_id", tenantID)); err != nil {
		return nil, err
	}
	var t *gsv1.Tenant
	err := s.db.Update(func(tx *bolt.Tx) error {
		t = &gsv1.Tenant{}
		err := getIn(tx, bucketTenants, []byte(tenantID), t)
		if errors.Is(err, store.ErrNotFound) {
			t = &gsv1.Tenant{TenantId: tenantID, CreatedAt: timestamppb.Now()}
		} else if err != nil {
			return err
		}
		t.State = gsv1.TenantState_TENANT_STATE_REMOVED
		if err := putIn(tx, bucketTenants, []byte(tenantID), t); err != nil {
			return err
		}
		err = rewriteOfTenant(tx, bucketLinks, tenantID, &gsv1.Link{}, func(l *gsv1.Link) {
			l.State = gsv1.LinkState_LINK_STATE_PAUSED
		})
		if err != nil {
			return fmt.Errorf("pause links: %w", err)
		}
		err = rewriteOfTenant(tx, bucketConnections, tenantID, &gsv1.Connection{}, func(c *gsv1.Connection) {
			c.Credentials = nil
		})
		if err != nil {
			return fmt.Errorf("delete credentials: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("remove tenant %s: %w", tenantID, err)
	}
	return t, nil
}

// rewriteOfTenant applies change to every record of the tenant in bucket
// name and writes back those it changed. m is a scratch message of the
// bucket's type.
func rewriteOfTenant[M proto.Message](tx *bolt.Tx, name, tenantID string, m M, change func(M)) error {
	type write struct{ k, v []byte }
	var writes []write
	err := forTenant(tx, name, tenantID, func(k, v []byte) error {
		if err := proto.Unmarshal(v, m); err != nil {
			return fmt.Errorf("record %q: %w", k, err)
		}
		before := proto.Clone(m)
		change(m)
		if proto.Equal(before, m) {
			return nil
		}
		nv, err := proto.Marshal(m)
		if err != nil {
			return err
		}
		writes = append(writes, write{k, nv})
		return nil
	})
	if err != nil {
		return err
	}
	// Written after the scan: a bbolt cursor must not see its bucket change.
	b := bucket(tx, name)
	for _, w := range writes {
		if err := b.Put(w.k, w.v); err != nil {
			return err
		}
	}
	return nil
}
