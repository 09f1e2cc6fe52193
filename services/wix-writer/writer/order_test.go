package writer_test

import (
	"testing"
	"time"
)

func TestStaleEventWritesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	h.publish(itemEvent("e2", created, "post-1", "Newer", 2))
	h.waitState("post-1", synced)
	h.publish(itemEvent("e1", updated, "post-1", "Older", 1))
	h.waitCounter(1, "gallerysync.writer.stale", reasonAttr("older"))
	h.wantWrites(1, 0, 0, 1)
	if it := h.onlyItem(); it.Title != "Newer" {
		t.Fatalf("title %q, want the newer one", it.Title)
	}
}

func TestDeleteBeforeCreateDoesNotCreate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	h.publish(itemEvent("e-del", deleted, "post-1", "", 5))
	h.waitCounter(1, "gallerysync.writer.applied", opAttr("noop"))
	h.publish(itemEvent("e-create", created, "post-1", "Late", 1))
	h.waitCounter(1, "gallerysync.writer.stale", reasonAttr("deleted"))
	h.wantWrites(0, 0, 0, 0)
}

func TestLateEventForDeletedItemDoesNotRevive(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	h.publish(itemEvent("e1", created, "post-1", "Sunset", 1))
	h.waitState("post-1", synced)
	h.publish(itemEvent("e3", deleted, "post-1", "", 3))
	h.waitState("post-1", gone)
	h.publish(itemEvent("e2", updated, "post-1", "Sunrise", 2))
	h.waitCounter(1, "gallerysync.writer.stale", reasonAttr("deleted"))
	h.wantWrites(1, 0, 1, 1)
}

func TestItemDeletedOnWixIsNotRecreated(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	h.publish(itemEvent("e1", created, "post-1", "Sunset", 1))
	m := h.waitState("post-1", synced)
	h.wix.removeItem(tenant, gallery, m.GetWixItemId())

	h.publish(itemEvent("e2", updated, "post-1", "Sunrise", 2))
	h.waitCounter(1, "gallerysync.writer.stale", reasonAttr("deleted_on_wix"))
	h.wantWrites(1, 0, 0, 1)
	if items := h.wix.items(tenant, gallery); len(items) != 0 {
		t.Fatalf("item recreated: %+v", items)
	}
	// The Wix delete's own webhook takes the platform-writer to this
	// mapping; it must still find the item synced to delete the post.
	if got := h.mapping.ItemByExternal(tenant, linkID, "post-1"); got.GetState() != synced || got.GetRevision() != m.GetRevision() {
		t.Fatalf("mapping changed: %v", got)
	}
}

func TestBusyItemWaitsForTheOtherWriter(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// Another writer works on this (unmapped) item for a while.
	h.mapping.HoldLock(tenant, "item:"+linkID+":x:post-1", "someone-else", 3*time.Second)
	h.run()
	h.publish(itemEvent("e1", created, "post-1", "Sunset", 1))
	h.waitState("post-1", synced)
	h.wantWrites(1, 0, 0, 1)
}
