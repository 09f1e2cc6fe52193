package writer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"gallerysync.dev/libs/change"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// shareEvent is one item of a share job, as the console's planner publishes it.
func (h *harness) shareEvent(job, itemID string) *gsv1.ChangeEvent {
	ev := h.itemEvent("share:"+job+":"+itemID, created, itemID, "Shared "+itemID, 1)
	ev.ShareJobId = job
	ev.LinkId = linkID
	ev.Platform = "mastodon"
	return ev
}

func TestShareJobUploadsEachItemOnceAndCounts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mapping.SeedShareJob(&gsv1.ShareJob{TenantId: tenant, JobId: "job-1", LinkId: linkID, Total: 3, State: gsv1.ShareState_SHARE_STATE_RUNNING})
	h.run()
	for i := range 3 {
		h.publish(h.shareEvent("job-1", fmt.Sprintf("item-%d", i)))
	}
	// A second planning pass publishes the same work again.
	h.publish(h.shareEvent("job-1", "item-0"))
	h.waitFor("job done", func() bool { return h.mapping.ShareJob(tenant, "job-1").GetState() == gsv1.ShareState_SHARE_STATE_DONE })
	if j := h.mapping.ShareJob(tenant, "job-1"); j.GetDone() != 3 || j.GetFailed() != 0 {
		t.Fatalf("job counts: done %d failed %d, want 3 and 0", j.GetDone(), j.GetFailed())
	}
	time.Sleep(200 * time.Millisecond)
	h.wantWrites(3, 0, 0)
}

func TestPausedShareWaitsForResume(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mapping.SeedShareJob(&gsv1.ShareJob{TenantId: tenant, JobId: "job-1", LinkId: linkID, Total: 1, State: gsv1.ShareState_SHARE_STATE_PAUSED})
	h.run()
	h.publish(h.shareEvent("job-1", "item-0"))
	time.Sleep(500 * time.Millisecond)
	h.wantWrites(0, 0, 0)
	h.mapping.SeedShareJob(&gsv1.ShareJob{TenantId: tenant, JobId: "job-1", LinkId: linkID, Total: 1, State: gsv1.ShareState_SHARE_STATE_RUNNING})
	h.waitFor("job done", func() bool { return h.mapping.ShareJob(tenant, "job-1").GetState() == gsv1.ShareState_SHARE_STATE_DONE })
	h.wantWrites(1, 0, 0)
}

func TestCancelledShareWritesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mapping.SeedShareJob(&gsv1.ShareJob{TenantId: tenant, JobId: "job-1", LinkId: linkID, Total: 2, State: gsv1.ShareState_SHARE_STATE_CANCELLED})
	h.run()
	h.publish(h.shareEvent("job-1", "item-0"))
	h.publish(h.shareEvent("job-1", "item-1"))
	h.waitFor("work settled", func() bool { return h.settled() })
	h.wantWrites(0, 0, 0)
}

// settled reports whether the share consumer has nothing left to do.
func (h *harness) settled() bool {
	h.t.Helper()
	nc, err := nats.Connect(h.nats.URL())
	if err != nil {
		h.t.Fatalf("nats: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		h.t.Fatalf("jetstream: %v", err)
	}
	c, err := js.Consumer(context.Background(), change.Stream, h.cfg.ShareDurable())
	if err != nil {
		return false
	}
	info, err := c.Info(context.Background())
	return err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.Delivered.Consumer > 0
}

// TestRetriedItemOfADoneJobIsUploaded: a job whose remaining items all
// failed is DONE; a replayed dead letter of one of them must still upload
// it and count it as done.
func TestRetriedItemOfADoneJobIsUploaded(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mapping.SeedShareJob(&gsv1.ShareJob{TenantId: tenant, JobId: "job-1", LinkId: linkID, Total: 1, Failed: 1, State: gsv1.ShareState_SHARE_STATE_DONE})
	h.mapping.SeedShareCount(tenant, "job-1", "item-0", true)
	h.run()
	h.publish(h.shareEvent("job-1", "item-0"))
	h.waitFor("item counted done", func() bool { j := h.mapping.ShareJob(tenant, "job-1"); return j.GetDone() == 1 && j.GetFailed() == 0 })
	h.wantWrites(1, 0, 0)
}
