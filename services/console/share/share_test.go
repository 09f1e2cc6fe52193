package share_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/testkit"
	"gallerysync.dev/libs/testkit/mappingfake"
	"gallerysync.dev/libs/wix"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/console/internal/fake"
	"gallerysync.dev/services/console/share"
)

const (
	tenant  = "site-1"
	gallery = "gal-1"
	connID  = "conn-1"
	linkID  = "link-1"
	jobID   = "job-1"
	waitMax = 20 * time.Second
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// world is a tenant with a Mastodon connection, a gallery of three photos
// and a text item, and a link of the gallery to a hashtag.
type world struct {
	mapping *mappingfake.Fake
	client  gsv1.MappingServiceClient
	wix     *fake.Wix
	bus     *bus.Bus
}

func newWorld(t *testing.T) *world {
	t.Helper()
	m, mc := mappingfake.Start(t)
	w := fake.NewWix()
	w.AddGallery(tenant, wix.Gallery{ID: gallery, Name: "Harbour at dawn", Items: []wix.Item{
		fake.ImageItem("i1", "Boats", "http://media.test/i1.png"),
		fake.ImageItem("i2", "Gulls", "http://media.test/i2.png"),
		{ID: "t1", Title: "Words only", Type: wix.ItemTypeText, Text: &wix.Text{HTML: "<p>hi</p>"}},
		fake.ImageItem("i3", "Lighthouse", "http://media.test/i3.png"),
	}})
	n := testkit.StartNATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), waitMax)
	defer cancel()
	b, err := bus.Connect(ctx, bus.Config{URL: n.URL(), PublishTimeout: 2 * time.Second, Replicas: 1, DuplicateWindow: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	if err := b.EnsureStreams(ctx); err != nil {
		t.Fatal(err)
	}
	must(t, func() error {
		_, err := mc.PutConnection(ctx, &gsv1.PutConnectionRequest{Connection: &gsv1.Connection{
			TenantId: tenant, ConnectionId: connID, Platform: "mastodon", Credentials: []byte("tok"),
		}})
		return err
	})
	must(t, func() error {
		_, err := mc.PutLink(ctx, &gsv1.PutLinkRequest{Link: &gsv1.Link{
			TenantId: tenant, LinkId: linkID, GalleryId: gallery, ConnectionId: connID, AlbumId: "harbouratdawn",
			State: gsv1.LinkState_LINK_STATE_ACTIVE, Direction: gsv1.Direction_DIRECTION_ONE_WAY,
		}})
		return err
	})
	return &world{mapping: m, client: mc, wix: w, bus: b}
}

func must(t *testing.T, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
}

// putJob records a PLANNING job and returns it.
func (w *world) putJob(t *testing.T, id string) *gsv1.ShareJob {
	t.Helper()
	resp, err := w.client.PutShareJob(context.Background(), &gsv1.PutShareJobRequest{Job: &gsv1.ShareJob{
		TenantId: tenant, JobId: id, LinkId: linkID, State: gsv1.ShareState_SHARE_STATE_PLANNING,
	}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetJob()
}

func (w *world) job(t *testing.T, id string) *gsv1.ShareJob {
	t.Helper()
	resp, err := w.client.GetShareJob(context.Background(), &gsv1.GetShareJobRequest{TenantId: tenant, JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetJob()
}

// shareEvents collects what arrives on the share subject of Mastodon.
type shareEvents struct {
	mu  sync.Mutex
	evs map[string]*gsv1.ChangeEvent
	n   int
}

func (w *world) consumeShares(t *testing.T) *shareEvents {
	t.Helper()
	se := &shareEvents{evs: map[string]*gsv1.ChangeEvent{}}
	c, err := w.bus.Consume(context.Background(), bus.ConsumerConfig{Durable: "test-shares", FilterSubjects: []string{change.ShareFilter("mastodon")}},
		func(_ context.Context, ev *gsv1.ChangeEvent, _ bus.Delivery) error {
			se.mu.Lock()
			defer se.mu.Unlock()
			se.evs[ev.GetEventId()] = ev
			se.n++
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	return se
}

func (se *shareEvents) snapshot() (map[string]*gsv1.ChangeEvent, int) {
	se.mu.Lock()
	defer se.mu.Unlock()
	out := map[string]*gsv1.ChangeEvent{}
	for k, v := range se.evs {
		out[k] = v
	}
	return out, se.n
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitMax)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPlanMapsEveryPhotoBeforePublishing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	// i1 was synced by a live change before the share: it keeps its mapping.
	synced := &gsv1.ItemMapping{TenantId: tenant, LinkId: linkID, WixItemId: "i1", ExternalId: "109", State: gsv1.ItemState_ITEM_STATE_SYNCED}
	must(t, func() error { _, err := w.client.PutItem(ctx, &gsv1.PutItemRequest{Item: synced}); return err })
	se := w.consumeShares(t)
	p := share.NewPlanner(w.client, w.wix, w.bus, quiet)

	if err := p.Plan(ctx, w.putJob(t, jobID)); err != nil {
		t.Fatalf("Plan: %v", err)
	}
	items := w.mapping.Items(tenant, linkID)
	keys := map[string]string{}
	for _, it := range items {
		keys[it.GetWixItemId()] = it.GetIntentKey()
	}
	if len(items) != 3 || keys["i1"] != "" || keys["i2"] == "" || keys["i3"] == "" || keys["i2"] == keys["i3"] {
		t.Fatalf("mappings %v: want i1 kept as synced, i2 and i3 pending with their own intent keys, no text item", items)
	}
	for _, it := range items {
		if it.GetWixItemId() != "i1" && it.GetState() != gsv1.ItemState_ITEM_STATE_PENDING_CREATE {
			t.Fatalf("%s is %v, want PENDING_CREATE", it.GetWixItemId(), it.GetState())
		}
	}
	if j := w.job(t, jobID); j.GetState() != gsv1.ShareState_SHARE_STATE_RUNNING || j.GetTotal() != 3 {
		t.Fatalf("job %v total %d, want RUNNING with 3", j.GetState(), j.GetTotal())
	}
	waitFor(t, "three share events", func() bool { evs, _ := se.snapshot(); return len(evs) == 3 })
	evs, _ := se.snapshot()
	for _, id := range []string{"i1", "i2", "i3"} {
		ev := evs["share:"+jobID+":"+id]
		if ev == nil || ev.GetShareJobId() != jobID || ev.GetLinkId() != linkID || ev.GetPlatform() != "mastodon" ||
			ev.GetGalleryId() != gallery || ev.GetKind() != gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED ||
			ev.GetOrigin() != gsv1.Origin_ORIGIN_WIX || ev.GetItem().GetMediaUrl() != "http://media.test/"+id+".png" ||
			ev.GetItem().GetContentHash() == "" {
			t.Fatalf("event of %s: %v", id, ev)
		}
	}

	// Planned again (a restart mid-way): nothing new is mapped or stored.
	job := w.job(t, jobID)
	if err := p.Plan(ctx, job); err != nil {
		t.Fatalf("second Plan: %v", err)
	}
	for _, it := range w.mapping.Items(tenant, linkID) {
		if it.GetIntentKey() != keys[it.GetWixItemId()] {
			t.Fatalf("replanning changed the intent key of %s", it.GetWixItemId())
		}
	}
	time.Sleep(200 * time.Millisecond) // a duplicate, were one stored, would arrive by now
	if _, n := se.snapshot(); n != 3 {
		t.Fatalf("%d deliveries after replanning, want the 3 of the first plan", n)
	}
}

func TestPlanSettlesAndCancels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("items counted while planning", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		job := w.putJob(t, jobID)
		for _, id := range []string{"i1", "i2", "i3"} {
			must(t, func() error {
				_, err := w.client.CountShareItem(ctx, &gsv1.CountShareItemRequest{TenantId: tenant, JobId: jobID, ItemId: id})
				return err
			})
		}
		if err := share.NewPlanner(w.client, w.wix, w.bus, quiet).Plan(ctx, job); err != nil {
			t.Fatal(err)
		}
		if j := w.job(t, jobID); j.GetState() != gsv1.ShareState_SHARE_STATE_DONE || j.GetDone() != 3 {
			t.Fatalf("job %v done %d, want DONE with 3", j.GetState(), j.GetDone())
		}
	})
	t.Run("link removed", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		job := w.putJob(t, jobID)
		must(t, func() error {
			_, err := w.client.DeleteLink(ctx, &gsv1.DeleteLinkRequest{TenantId: tenant, LinkId: linkID})
			return err
		})
		if err := share.NewPlanner(w.client, w.wix, w.bus, quiet).Plan(ctx, job); err != nil {
			t.Fatal(err)
		}
		if j := w.job(t, jobID); j.GetState() != gsv1.ShareState_SHARE_STATE_CANCELLED || j.GetError() == "" {
			t.Fatalf("job %v (%q), want CANCELLED with a reason", j.GetState(), j.GetError())
		}
	})
	t.Run("wix fails", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		job := w.putJob(t, jobID)
		w.wix.Fail = errors.New("wix: 503")
		if err := share.NewPlanner(w.client, w.wix, w.bus, quiet).Plan(ctx, job); err == nil {
			t.Fatal("Plan succeeded while Wix failed")
		}
		if j := w.job(t, jobID); j.GetState() != gsv1.ShareState_SHARE_STATE_PLANNING {
			t.Fatalf("job %v, want still PLANNING for a retry", j.GetState())
		}
	})
}

func TestRunnerPlansLeftOverJobs(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.putJob(t, jobID)
	r := share.NewRunner(w.client, share.NewPlanner(w.client, w.wix, w.bus, quiet), quiet, share.WithScanEvery(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	waitFor(t, "the job found at start to run", func() bool { return w.job(t, jobID).GetState() == gsv1.ShareState_SHARE_STATE_RUNNING })

	w.putJob(t, "job-2")
	r.Submit(tenant, "job-2")
	waitFor(t, "the submitted job to run", func() bool { return w.job(t, "job-2").GetState() == gsv1.ShareState_SHARE_STATE_RUNNING })
}

func TestTransition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name    string
		from    gsv1.ShareState
		action  share.Action
		want    gsv1.ShareState
		wantErr error
	}{
		{"pause running", gsv1.ShareState_SHARE_STATE_RUNNING, share.Pause, gsv1.ShareState_SHARE_STATE_PAUSED, nil},
		{"resume paused", gsv1.ShareState_SHARE_STATE_PAUSED, share.Resume, gsv1.ShareState_SHARE_STATE_RUNNING, nil},
		{"cancel paused", gsv1.ShareState_SHARE_STATE_PAUSED, share.Cancel, gsv1.ShareState_SHARE_STATE_CANCELLED, nil},
		{"cancel planning", gsv1.ShareState_SHARE_STATE_PLANNING, share.Cancel, gsv1.ShareState_SHARE_STATE_CANCELLED, nil},
		{"pause paused", gsv1.ShareState_SHARE_STATE_PAUSED, share.Pause, gsv1.ShareState_SHARE_STATE_PAUSED, nil},
		{"pause planning", gsv1.ShareState_SHARE_STATE_PLANNING, share.Pause, gsv1.ShareState_SHARE_STATE_PLANNING, share.ErrTransition},
		{"resume cancelled", gsv1.ShareState_SHARE_STATE_CANCELLED, share.Resume, gsv1.ShareState_SHARE_STATE_CANCELLED, share.ErrTransition},
		{"unknown", gsv1.ShareState_SHARE_STATE_RUNNING, share.Action("explode"), gsv1.ShareState_SHARE_STATE_RUNNING, share.ErrUnknownAction},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, mc := mappingfake.Start(t)
			_, err := mc.PutShareJob(ctx, &gsv1.PutShareJobRequest{Job: &gsv1.ShareJob{
				TenantId: tenant, JobId: jobID, LinkId: linkID, State: tt.from, Total: 10,
			}})
			if err != nil {
				t.Fatal(err)
			}
			got, err := share.Transition(ctx, mc, tenant, jobID, tt.action)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			stored, _ := mc.GetShareJob(ctx, &gsv1.GetShareJobRequest{TenantId: tenant, JobId: jobID})
			if stored.GetJob().GetState() != tt.want || (err == nil && got.GetState() != tt.want) {
				t.Fatalf("stored %v, returned %v; want %v", stored.GetJob().GetState(), got.GetState(), tt.want)
			}
		})
	}
	_, mc := mappingfake.Start(t)
	if _, err := share.Transition(ctx, mc, tenant, "nope", share.Pause); err == nil {
		t.Fatal("a job that does not exist was paused")
	}
}

func TestHashtag(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Harbour at dawn":    "harbouratdawn",
		"Été à Paris!":       "étéàparis",
		"2024":               "gallery2024",
		"  ---  ":            "gallery",
		"snake_case Photos ": "snake_casephotos",
	} {
		if got := share.Hashtag(in); got != want {
			t.Errorf("Hashtag(%q) = %q, want %q", in, got, want)
		}
	}
}
