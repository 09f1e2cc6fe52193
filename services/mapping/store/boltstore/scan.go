package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// ScanLinks implements store.LinkStore. One read transaction serves a page,
// so a page is a snapshot; between pages the token's position is all that
// carries over. Tenants come from the tenant index in id order, and each
// tenant's links from a cursor over its key prefix, which orders them by id.
func (s *Store) ScanLinks(ctx context.Context, pageSize int, pageToken string) ([]*gsv1.Link, string, error) {
	size, sizeErr := store.PageSize(pageSize)
	after, tokenErr := store.ParseScanToken(pageToken)
	if err := check(ctx, sizeErr, tokenErr); err != nil {
		return nil, "", err
	}
	// One link more than the page, so a full last page says it is the last.
	links := make([]*gsv1.Link, 0, size+1)
	err := s.db.View(func(tx *bolt.Tx) error {
		tenants := bucket(tx, bucketLinkTenants).Cursor()
		all := bucket(tx, bucketLinks).Cursor()
		tk, _ := tenants.First()
		if !after.Start() {
			tk, _ = tenants.Seek([]byte(after.TenantID))
		}
		for ; tk != nil && len(links) <= size; tk, _ = tenants.Next() {
			prefix := key([]string{string(tk)}, "")
			start, skip := prefix, []byte(nil)
			if string(tk) == after.TenantID {
				start = key([]string{after.TenantID}, after.LinkID)
				skip = start
			}
			for k, v := all.Seek(start); k != nil && bytes.HasPrefix(k, prefix) && len(links) <= size; k, v = all.Next() {
				if bytes.Equal(k, skip) {
					continue
				}
				l := &gsv1.Link{}
				if err := proto.Unmarshal(bytes.Clone(v), l); err != nil {
					return fmt.Errorf("link %q: %w", k, err)
				}
				links = append(links, l)
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("scan links: %w", err)
	}
	if len(links) <= size {
		return links, "", nil
	}
	links = links[:size]
	last := links[size-1]
	return links, store.ScanToken(last.TenantId, last.LinkId), nil
}

// indexLinkTenants fills the tenant index from the links bucket, for a file
// written before the index existed.
func indexLinkTenants(tx *bolt.Tx) error {
	index := bucket(tx, bucketLinkTenants)
	var tenants [][]byte
	err := bucket(tx, bucketLinks).ForEach(func(k, _ []byte) error {
		n, w := binary.Uvarint(k)
		if w <= 0 || uint64(len(k)-w) < n {
			return fmt.Errorf("index link tenants: malformed link key %q", k)
		}
		tenants = append(tenants, bytes.Clone(k[w:w+int(n)]))
		return nil
	})
	if err != nil {
		return err
	}
	for _, t := range tenants {
		if err := index.Put(t, nil); err != nil {
			return fmt.Errorf("index link tenants: %w", err)
		}
	}
	return nil
}
