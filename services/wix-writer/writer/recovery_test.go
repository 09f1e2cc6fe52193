package writer_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/change"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

func TestCrashAfterCreateAdoptsTheItem(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var once sync.Once
	h.mapping.FailPutItem(func(m *gsv1.ItemMapping) error {
		var err error
		if m.GetState() == synced {
			once.Do(func() { err = status.Error(codes.Unavailable, "mapping went away") })
		}
		return err
	})
	h.run()
	h.publish(itemEvent("e1", created, "post-1", "Sunset", 1))
	m := h.waitState("post-1", synced)
	h.waitCounter(1, "gallerysync.writer.reconciled")
	h.wantWrites(1, 0, 0, 1)
	if it := h.onlyItem(); it.ID != m.GetWixItemId() {
		t.Fatalf("mapping names %s, gallery holds %s", m.GetWixItemId(), it.ID)
	}
	if in := h.mapping.Intent(tenant, "wix-create:"+linkID+":post-1"); in != nil {
		t.Fatalf("intent left after adoption: %v", in)
	}
}

func TestAdoptedItemWithOlderContentIsUpdated(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// Every mapping write of a synced item fails: the first create's
	// result is never recorded and the event is dead-lettered.
	h.mapping.FailPutItem(func(m *gsv1.ItemMapping) error {
		if m.GetState() == synced {
			return status.Error(codes.InvalidArgument, "refused")
		}
		return nil
	})
	h.run()
	h.publish(itemEvent("e1", created, "post-1", "Sunset", 1))
	h.deadLetter()
	h.mapping.FailPutItem(nil)

	// A later edit finds the intent, adopts the item the first attempt
	// made and brings it to the new content.
	h.publish(itemEvent("e2", updated, "post-1", "Sunrise", 2))
	h.waitCounter(1, "gallerysync.writer.applied", opAttr("update"))
	h.wantWrites(1, 1, 0, 1)
	if it := h.onlyItem(); it.Title != "Sunrise" {
		t.Fatalf("title %q after adoption and update", it.Title)
	}
	if n := h.counter("gallerysync.writer.reconciled"); n != 1 {
		t.Fatalf("reconciled = %d, want 1", n)
	}
}

func TestLostCreateAnswerAdoptsTheItem(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// Wix makes the item but the answer never arrives; a create has no
	// idempotency key, so only the intent stands between a retry and a
	// second item.
	h.wix.loseCreateAnswers(1)
	h.run()
	h.publish(itemEvent("e1", created, "post-1", "Sunset", 1))
	m := h.waitState("post-1", synced)
	h.wantWrites(1, 0, 0, 1)
	if it := h.onlyItem(); it.ID != m.GetWixItemId() {
		t.Fatalf("mapping names %s, gallery holds %s", m.GetWixItemId(), it.ID)
	}
	// The adoption is counted once the mapping is stored; wait for it.
	h.waitCounter(1, "gallerysync.writer.reconciled")
	if n := h.counter("gallerysync.writer.reconciled"); n != 1 {
		t.Fatalf("reconciled = %d, want 1", n)
	}
}

func TestRateLimitIsRetriedAfterItsWait(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	throttled := 0
	h.wix.setInject(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/items") || throttled == 2 {
			return false
		}
		// Both attempts the client makes are refused, so the writer has
		// to schedule the retry itself.
		throttled++
		w.Header().Set("Retry-After", "1")
		wixError(w, http.StatusTooManyRequests, "Resource exhausted")
		return true
	})
	h.run()
	h.publish(itemEvent("e1", created, "post-1", "Sunset", 1))
	h.waitState("post-1", synced)
	h.wantWrites(1, 0, 0, 1)
	if n := h.counter("gallerysync.writer.remote_errors", kindAttr("rate_limited")); n != 1 {
		t.Fatalf("rate_limited remote errors = %d, want 1", n)
	}
	reqs := h.wix.createRequests()
	if len(reqs) != 3 || reqs[2].Sub(reqs[1]) < time.Second {
		t.Fatalf("create requests at %v: want a third one at least the Retry-After after the second", reqs)
	}
}

func TestMediaFromUnlistedHostIsDeadLettered(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	ev := itemEvent("e1", created, "post-1", "Sunset", 1)
	ev.Item.MediaUrl = "http://169.254.169.254/latest/meta-data/"
	h.publish(rehash(ev))
	dl := h.deadLetter()
	got := &gsv1.ChangeEvent{}
	if err := proto.Unmarshal(dl.Data, got); err != nil || got.GetEventId() != ev.GetEventId() {
		t.Fatalf("dead letter holds %v (%v), want event %s", got, err, ev.GetEventId())
	}
	if e := dl.Header.Get(bus.HeaderError); !strings.Contains(e, "media host not allowed") {
		t.Fatalf("dead letter error header %q", e)
	}
	h.wantWrites(0, 0, 0, 0)
}

func TestFailedImportIsDeadLettered(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	ev := itemEvent("e1", created, "post-1", "Sunset", 1)
	ev.Item.MediaUrl = "https://" + mediaHost + "/media/broken.png"
	h.publish(rehash(ev))
	dl := h.deadLetter()
	if e := dl.Header.Get(bus.HeaderError); !strings.Contains(e, "media file failed") {
		t.Fatalf("dead letter error header %q", e)
	}
	h.wantWrites(0, 0, 0, 1)
	// The failed file is forgotten, so a replay imports the media afresh.
	in := h.mapping.Intent(tenant, "wix-create:"+linkID+":post-1")
	if in == nil || in.GetAttrs()["file_id"] != "" || in.GetAttrs()["link_url"] != ev.GetItem().GetPermalink() {
		t.Fatalf("intent after a failed import: %v", in)
	}
}

func TestMediaEventWakesTheWait(t *testing.T) {
	t.Parallel()
	// Polls so far apart that only the File Ready event can end the wait
	// within the test's deadline.
	h := newHarness(t, withMediaPolling(time.Hour, time.Hour, 2*time.Hour))
	h.wix.hold("post-1.png")
	h.run()
	h.publish(itemEvent("e1", created, "post-1", "Sunset", 1))
	h.waitFor("the first poll of the file", func() bool { return h.wix.fileReads("post-1.png") >= 1 })
	for _, id := range h.wix.release("post-1.png") {
		h.publish(&gsv1.ChangeEvent{
			EventId: change.EventID(gsv1.Origin_ORIGIN_WIX, "", "ready-"+id), TenantId: tenant, Origin: gsv1.Origin_ORIGIN_WIX,
			SourceEventId: "ready-" + id, OccurredAt: timestamppb.Now(), Kind: gsv1.ChangeKind_CHANGE_KIND_MEDIA_READY,
			Media: &gsv1.MediaFile{FileId: id, OperationStatus: "READY", ExternalIds: []string{"mastodon:post-1"}},
		})
	}
	h.waitState("post-1", synced)
	h.wantWrites(1, 0, 0, 1)
}

// deadLetter waits for this writer's latest dead letter and returns it.
func (h *harness) deadLetter() *jetstream.RawStreamMsg {
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
	var msg *jetstream.RawStreamMsg
	h.waitFor("a dead letter", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s, err := js.Stream(ctx, change.DeadLetterStream)
		if err != nil {
			return false
		}
		msg, err = s.GetLastMsgForSubject(ctx, change.DeadLetterSubject(h.cfg.Durable))
		return err == nil
	})
	return msg
}

func TestRetriedCreateReusesTheImportedFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// fileDeleted removes the first attempt's file before the retry.
		fileDeleted bool
		wantImports int
	}{
		{"file still there", false, 1},
		{"file deleted meanwhile", true, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			refused := false
			h.wix.setInject(func(w http.ResponseWriter, r *http.Request) bool {
				if refused || r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/items") {
					return false
				}
				refused = true
				wixError(w, http.StatusBadRequest, "item.title: too long")
				return true
			})
			h.run()
			h.publish(itemEvent("e1", created, "post-1", "Sunset", 1))
			h.deadLetter()
			if in := h.mapping.Intent(tenant, "wix-create:"+linkID+":post-1"); in.GetAttrs()["file_id"] == "" {
				t.Fatalf("intent after the refused create: %v", in)
			}
			if tc.fileDeleted {
				h.wix.removeFiles("post-1.png")
			}
			h.publish(itemEvent("e2", updated, "post-1", "Sunset again", 2))
			m := h.waitState("post-1", synced)
			h.wantWrites(1, 0, 0, tc.wantImports)
			if it := h.onlyItem(); it.Title != "Sunset again" || it.Image.ImageInfo.ID != m.GetExternalAttrs()["wix_file_id"] {
				t.Fatalf("item %+v, mapping %v", it, m)
			}
		})
	}
}
