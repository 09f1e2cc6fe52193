package redisstore

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"gallerysync.dev/services/mapping/store"
)

// deleteLinkAttempts bounds how often DeleteLink reads a link's items again
// because writes to the link kept changing them.
const deleteLinkAttempts = 5

// DeleteLink implements store.LinkStore. The link, its items, their
// external-id index and its log go in one script over the tenant's keys.
// The script must be given every item key, so the item ids are read first
// from the order index; the script checks that the index still holds
// exactly those ids, else nothing is deleted and they are read again.
//
// The index of tenants with links (linkTenantsKey) sits in another Cluster
// slot, so it is updated afterwards, on its own: when the script left the
// tenant without links, the tenant leaves the index, and when the tenant has
// links again by then (a PutLink ran in between), it goes back. PutLink
// indexes the tenant before and after writing its link, so whichever of
// the two calls runs last leaves the tenant indexed while it has links.
// A failure after the script leaves at worst an indexed tenant without
// links, which ScanLinks passes over.
func (s *Store) DeleteLink(ctx context.Context, tenantID, linkID string) error {
	if err := first(store.CheckID("tenant_id", tenantID), store.CheckID("link_id", linkID)); err != nil {
		return err
	}
	k := keysOf(tenantID)
	for range deleteLinkAttempts {
		ids, err := s.rdb.ZRange(ctx, k.order(linkID), 0, -1).Result()
		if err != nil {
			return fmt.Errorf("delete link %s: %w", linkID, err)
		}
		keys := make([]string, 0, 4+len(ids))
		keys = append(keys, k.links(), k.order(linkID), k.external(linkID), k.log(linkID))
		args := make([]any, 0, 1+len(ids))
		args = append(args, linkID)
		for _, id := range ids {
			keys = append(keys, k.item(linkID, id))
			args = append(args, id)
		}
		res, err := s.scripts.deleteLink.Run(ctx, s.rdb, keys, args...).StringSlice()
		if err == nil && len(res) == 0 {
			err = fmt.Errorf("unexpected script reply %q", res)
		}
		if err != nil {
			return fmt.Errorf("delete link %s: %w", linkID, err)
		}
		switch res[0] {
		case "missing":
			return fmt.Errorf("delete link %s: %w", linkID, store.ErrNotFound)
		case "changed":
			continue
		}
		if len(res) == 2 && res[1] == "0" {
			if err := s.unindexTenant(ctx, tenantID); err != nil {
				return fmt.Errorf("delete link %s: %w", linkID, err)
			}
		}
		return nil
	}
	return fmt.Errorf("delete link %s: its items kept changing: %w", linkID, store.ErrConflict)
}

// unindexTenant takes a tenant without links out of linkTenantsKey and puts
// it back if a link was written meanwhile.
func (s *Store) unindexTenant(ctx context.Context, tenantID string) error {
	if err := s.rdb.ZRem(ctx, linkTenantsKey, tenantID).Err(); err != nil {
		return fmt.Errorf("tenant index: %w", err)
	}
	n, err := s.rdb.HLen(ctx, keysOf(tenantID).links()).Result()
	if err == nil && n > 0 {
		err = s.rdb.ZAdd(ctx, linkTenantsKey, redis.Z{Member: tenantID}).Err()
	}
	if err != nil {
		return fmt.Errorf("tenant index: %w", err)
	}
	return nil
}
