package redisstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// tenantBatch is how many tenant ids one read of the index fetches.
const tenantBatch = 100

// ScanLinks implements store.LinkStore. It ranges over the tenant index
// (linkTenantsKey) in byte order, a batch of tenants at a time, and over
// each tenant's link ids in byte order. Every command touches one key, so
// it works the same on a Cluster. A page is not a snapshot: it is read with
// several commands, and the token's position is what makes the scan go on
// exactly where it stopped.
func (s *Store) ScanLinks(ctx context.Context, pageSize int, pageToken string) ([]*gsv1.Link, string, error) {
	size, sizeErr := store.PageSize(pageSize)
	after, tokenErr := store.ParseScanToken(pageToken)
	if err := first(sizeErr, tokenErr); err != nil {
		return nil, "", err
	}
	// One link more than the page, so a full last page says it is the last.
	links := make([]*gsv1.Link, 0, size+1)
	start := "-"
	if !after.Start() {
		start = "[" + after.TenantID
	}
	for len(links) <= size {
		tenants, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
			Key: linkTenantsKey, Start: start, Stop: "+", ByLex: true, Count: tenantBatch,
		}).Result()
		if err != nil {
			return nil, "", fmt.Errorf("scan links: tenant index: %w", err)
		}
		for _, tenant := range tenants {
			afterLink := ""
			if tenant == after.TenantID {
				afterLink = after.LinkID
			}
			got, err := s.tenantLinks(ctx, tenant, afterLink, size+1-len(links))
			if err != nil {
				return nil, "", fmt.Errorf("scan links of tenant %s: %w", tenant, err)
			}
			links = append(links, got...)
			if len(links) > size {
				break
			}
		}
		if len(tenants) < tenantBatch {
			break
		}
		start = "(" + tenants[len(tenants)-1]
	}
	if len(links) <= size {
		return links, "", nil
	}
	links = links[:size]
	last := links[size-1]
	return links, store.ScanToken(last.TenantId, last.LinkId), nil
}

// tenantLinks returns up to limit links of the tenant with ids after
// afterLink, in id order. A link deleted between reading the ids and the
// links is passed over, and the next ids are read in its place, so that a
// short answer always means the tenant has no more links.
func (s *Store) tenantLinks(ctx context.Context, tenantID, afterLink string, limit int) ([]*gsv1.Link, error) {
	key := keysOf(tenantID).links()
	ids, err := s.rdb.HKeys(ctx, key).Result()
	if err != nil {
		return nil, err
	}
	ids = slices.DeleteFunc(ids, func(id string) bool { return id <= afterLink })
	slices.Sort(ids)
	var links []*gsv1.Link
	for len(ids) > 0 && len(links) < limit {
		batch := ids[:min(len(ids), limit-len(links))]
		ids = ids[len(batch):]
		vals, err := s.rdb.HMGet(ctx, key, batch...).Result()
		if err != nil {
			return nil, err
		}
		for i, v := range vals {
			data, ok := v.(string)
			if !ok {
				continue // deleted since the ids were read
			}
			l := &gsv1.Link{}
			if err := proto.Unmarshal([]byte(data), l); err != nil {
				return nil, fmt.Errorf("link %s: %w", batch[i], err)
			}
			links = append(links, l)
		}
	}
	return links, nil
}
