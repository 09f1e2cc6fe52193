package atproto

import (
	"context"
	"fmt"
	"slices"

	"gallerysync.dev/libs/platforms"
)

// Reorder implements platforms.Reorderer: the album's gallery items get
// positions that follow the order given, in one applyWrites (one per 200
// items). Positions already in that order are left alone; otherwise the
// items take the positions they hold, sorted, so an item whose place does
// not change keeps its position (and its Observed.Hash), or 0, 1000,
// 2000... when positions repeat. Items of the order that are no longer in
// the album are passed over; items of the album not named keep theirs.
func (a *Adapter) Reorder(ctx context.Context, conn platforms.Connection, album string, order []platforms.Remote) error {
	if err := checkRkey(album); err != nil {
		return err
	}
	s, err := a.session(ctx, conn)
	if err != nil {
		return err
	}
	snap, err := a.snapshot(ctx, s, []string{album})
	if err != nil {
		return fmt.Errorf("reorder %s: %w", album, err)
	}
	var seq []entry
	seen := map[string]bool{}
	for _, r := range order {
		if e, ok := snap[album][r.ID]; ok && !seen[r.ID] {
			seq = append(seq, e)
			seen[r.ID] = true
		}
	}
	current := make([]int64, len(seq))
	for i, e := range seq {
		current[i] = e.item.Position
	}
	if increasing(current) {
		return nil
	}
	next := slices.Clone(current)
	slices.Sort(next)
	if !increasing(next) {
		for i := range next {
			next[i] = int64(i) * positionScale
		}
	}
	var writes []write
	for i, e := range seq {
		if e.item.Position == next[i] {
			continue
		}
		it := e.item
		it.Position = next[i]
		writes = append(writes, write{op: opUpdate, collection: CollectionGalleryItem, rkey: e.itemRkey, value: it})
	}
	for len(writes) > 0 {
		n := min(len(writes), maxWritesPerCall)
		if _, err := s.applyWrites(ctx, writes[:n]); err != nil {
			return fmt.Errorf("reorder %s: %w", album, err)
		}
		writes = writes[n:]
	}
	return nil
}

// increasing reports whether every position is above the one before.
func increasing(p []int64) bool {
	for i := 1; i < len(p); i++ {
		if p[i] <= p[i-1] {
			return false
		}
	}
	return true
}
