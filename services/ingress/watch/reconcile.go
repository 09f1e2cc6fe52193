package watch

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"

	"gallerysync.dev/libs/platforms"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

const (
	// itemsPageSize is the page size of ListItems during a reconciliation.
	itemsPageSize = 500
	// maxItemPages bounds the listing of one link's items.
	maxItemPages = 1000
	// deleteGrace keeps a reconciliation from taking an item for deleted
	// when its mapping was written shortly before the album was listed (the
	// mapping and this replica may disagree a little about the time).
	deleteGrace = 5 * time.Second
)

// reconcileLoop reconciles the connection's albums at once (changes made
// while nobody watched) and then every ReconcileEvery.
func (c *connWatcher) reconcileLoop(ctx context.Context) {
	for {
		c.reconcile(ctx)
		if sleep(ctx, c.m.cfg.ReconcileEvery) != nil {
			return
		}
	}
}

// reconcile compares every album of the connection with the mapping.
func (c *connWatcher) reconcile(ctx context.Context) {
	src := c.source()
	cn, err := c.m.connection(ctx, c.key)
	if err != nil {
		c.reconcileFailed(ctx, "", err)
		return
	}
	for _, album := range albumsOf(src.links) {
		if err := c.reconcileAlbum(ctx, src, cn.Connection, album); err != nil {
			c.reconcileFailed(ctx, album, err)
		}
	}
}

func (c *connWatcher) reconcileFailed(ctx context.Context, album string, err error) {
	if ctx.Err() != nil {
		return
	}
	c.m.inst.errors.Add(ctx, 1, metric.WithAttributes(platformKey.String(c.platform), stageKey.String("reconcile")))
	c.m.log.Warn("watch: reconciliation failed", slog.String("tenant", c.key.tenant),
		slog.String("connection", c.key.connection), slog.String("album", album), slog.Any("error", err))
}

// reconcileAlbum lists the album and publishes what the mapping does not
// reflect: a created event for an item no link maps, an updated event for
// a synced item whose observed hash differs from the one recorded, and a
// deleted event for a synced item the album no longer holds. An album
// whose listing fails is left alone: a partial listing must never read as
// deletions.
func (c *connWatcher) reconcileAlbum(ctx context.Context, src source, cn platforms.Connection, album string) error {
	started := c.m.em.now()
	listed, err := c.lister.List(ctx, cn, album)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	mapped := map[string]*gsv1.ItemMapping{}
	for _, l := range src.links {
		if l.GetAlbumId() != album {
			continue
		}
		items, err := c.listItems(ctx, l.GetLinkId())
		if err != nil {
			return err
		}
		for _, it := range items {
			ext := it.GetExternalId()
			if prev, ok := mapped[ext]; ext == "" || (ok && prev.GetState() == gsv1.ItemState_ITEM_STATE_SYNCED) {
				continue
			}
			mapped[ext] = it
		}
	}
	onPlatform := map[string]bool{}
	for _, o := range listed {
		if o.Deleted || o.ID == "" {
			continue
		}
		onPlatform[o.ID] = true
		o.Album = album
		m, ok := mapped[o.ID]
		switch {
		case !ok:
			err = c.m.em.send(ctx, src, album, o, gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED, viaReconcile)
		case m.GetState() == gsv1.ItemState_ITEM_STATE_SYNCED && m.GetExternalHash() != o.Hash:
			err = c.m.em.send(ctx, src, album, o, gsv1.ChangeKind_CHANGE_KIND_ITEM_UPDATED, viaReconcile)
		}
		if err != nil {
			return err
		}
	}
	for _, ext := range sortedKeys(mapped) {
		m := mapped[ext]
		written := m.GetUpdatedAt()
		if onPlatform[ext] || m.GetState() != gsv1.ItemState_ITEM_STATE_SYNCED ||
			written == nil || !written.AsTime().Before(started.Add(-deleteGrace)) {
			continue
		}
		// The deletion is dated by the mapping's last write, so later
		// passes repeat the same event (deduplicated) until it is applied.
		gone := platforms.Observed{Remote: platforms.Remote{ID: ext}, Album: album, Deleted: true, UpdatedAt: written.AsTime()}
		if err := c.m.em.send(ctx, src, album, gone, gsv1.ChangeKind_CHANGE_KIND_ITEM_DELETED, viaReconcile); err != nil {
			return err
		}
	}
	return nil
}

// listItems pages through a link's item mappings.
func (c *connWatcher) listItems(ctx context.Context, link string) ([]*gsv1.ItemMapping, error) {
	var out []*gsv1.ItemMapping
	token := ""
	for range maxItemPages {
		resp, err := c.m.mapping.ListItems(ctx, &gsv1.ListItemsRequest{
			TenantId: c.key.tenant, LinkId: link, PageSize: itemsPageSize, PageToken: token,
		})
		if err != nil {
			return nil, fmt.Errorf("list items of link %s: %w", link, err)
		}
		out = append(out, resp.GetItems()...)
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
	return nil, fmt.Errorf("list items of link %s: more than %d pages", link, maxItemPages)
}
