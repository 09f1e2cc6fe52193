package web_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/change"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/console/web"
)

func failing(tenant, item string) *gsv1.ChangeEvent {
	return &gsv1.ChangeEvent{
		EventId: change.EventID(gsv1.Origin_ORIGIN_WIX, "", tenant+"-"+item), TenantId: tenant,
		Origin: gsv1.Origin_ORIGIN_WIX, SourceEventId: tenant + "-" + item, OccurredAt: timestamppb.New(time.Now()),
		Kind: gsv1.ChangeKind_CHANGE_KIND_ITEM_UPDATED, GalleryId: "g", Item: &gsv1.ItemSnapshot{ItemId: item},
	}
}

func TestFailuresOfTheSiteCanBeRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A writer that refuses every change until its cause is fixed.
	var fixed atomic.Bool
	applied := make(chan string, 8)
	c, err := e.bus.Consume(context.Background(), bus.ConsumerConfig{Durable: "platform-writer-test"},
		func(_ context.Context, ev *gsv1.ChangeEvent, _ bus.Delivery) error {
			if !fixed.Load() {
				return bus.Permanent(errors.New("platform: permanent error: 401 The access token is invalid"))
			}
			applied <- ev.GetTenantId() + "/" + ev.GetItem().GetItemId()
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	for _, ev := range []*gsv1.ChangeEvent{failing(siteA, "a1"), failing(siteB, "b1"), failing(siteA, "a2")} {
		if _, err := e.bus.Publish(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	a, b := e.signIn(t, siteA), e.signIn(t, siteB)
	var fa, fb struct{ Failures []web.FailureView }
	waitFor(t, "three dead letters", func() bool {
		a.json(http.MethodGet, "/api/failures", nil, http.StatusOK, &fa)
		b.json(http.MethodGet, "/api/failures", nil, http.StatusOK, &fb)
		return len(fa.Failures) == 2 && len(fb.Failures) == 1
	})
	f := fa.Failures[0]
	if f.ItemID != "a2" || f.Kind != "item updated" || !strings.Contains(f.Error, "401") || f.Deliveries != 1 || f.Subject != change.WixSubject(siteA) {
		t.Fatalf("newest failure of site A %+v", f)
	}
	_, page := a.page("/failures")
	if !strings.Contains(page, "access token is invalid") || strings.Contains(page, "b1") {
		t.Fatal("site A's failures page must show its errors and nothing of site B")
	}

	theirs := strconv.FormatUint(fb.Failures[0].Seq, 10)
	if code, _, _ := a.do(http.MethodPost, "/api/failures/"+theirs+"/retry", nil, ""); code != http.StatusNotFound {
		t.Fatalf("site A retrying site B's failure: status %d, want 404", code)
	}
	fixed.Store(true)
	code, loc, _ := a.form("/failures/"+strconv.FormatUint(f.Seq, 10)+"/retry", nil)
	if code != http.StatusSeeOther || loc != "/failures?ok=retried" {
		t.Fatalf("retry form: %d to %q", code, loc)
	}
	if got := <-applied; got != siteA+"/a2" {
		t.Fatalf("retried %s, want site A's a2", got)
	}
	var all map[string]int
	a.json(http.MethodPost, "/api/failures/retry-all", nil, http.StatusOK, &all)
	if all["replayed"] != 1 || <-applied != siteA+"/a1" {
		t.Fatalf("retry all replayed %v, want site A's one left", all)
	}
	a.json(http.MethodGet, "/api/failures", nil, http.StatusOK, &fa)
	b.json(http.MethodGet, "/api/failures", nil, http.StatusOK, &fb)
	if len(fa.Failures) != 0 || len(fb.Failures) != 1 {
		t.Fatalf("after the retries site A has %d failures and site B %d, want 0 and 1", len(fa.Failures), len(fb.Failures))
	}
}
