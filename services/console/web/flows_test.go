package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/console/web"
)

// connect connects the owner's Mastodon account and returns it.
func (o *owner) connect(token string) web.ConnectionView {
	o.t.Helper()
	var c web.ConnectionView
	o.json(http.MethodPost, "/api/connections", map[string]string{"platform": "mastodon", "base_url": "http://masto.test/", "secret": token}, http.StatusCreated, &c)
	return c
}

// startShare shares gal-a (or another gallery) to a new hashtag.
func (o *owner) startShare(gallery, conn string) web.JobView {
	o.t.Helper()
	var j web.JobView
	o.json(http.MethodPost, "/api/shares", map[string]any{"gallery_id": gallery, "connection_id": conn, "new_album": true, "direction": "one_way"}, http.StatusCreated, &j)
	return j
}

func (o *owner) share(id string) web.JobView {
	o.t.Helper()
	var j web.JobView
	o.json(http.MethodGet, "/api/shares/"+id, nil, http.StatusOK, &j)
	return j
}

func TestConnectStoresOnlyCheckedCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := e.signIn(t, siteA)
	code, raw, _ := o.do(http.MethodPost, "/api/connections", strings.NewReader(`{"platform":"mastodon","base_url":"http://masto.test","secret":"bad"}`), "application/json")
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(raw), "refused") {
		t.Fatalf("wrong token: status %d %s, want 422 saying the platform refused it", code, raw)
	}
	code, _, page := o.form("/connections", url.Values{"platform": {"mastodon"}, "base_url": {"http://masto.test"}, "secret": {"bad-secret-text"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "Nothing was saved") || strings.Contains(page, "bad-secret-text") {
		t.Fatalf("form with a wrong token: status %d; want 422 with the reason and without the secret", code)
	}
	if code, _, _ := o.do(http.MethodPost, "/api/connections", strings.NewReader(`{"platform":"myspace","secret":"x"}`), "application/json"); code != http.StatusUnprocessableEntity {
		t.Fatalf("unknown platform: status %d, want 422", code)
	}
	var list struct{ Connections []web.ConnectionView }
	o.json(http.MethodGet, "/api/connections", nil, http.StatusOK, &list)
	if len(list.Connections) != 0 {
		t.Fatalf("refused credentials stored %d connections", len(list.Connections))
	}

	c := o.connect("good-token")
	if c.Platform != "mastodon" || c.AccountID != "42" || c.BaseURL != "http://masto.test" || string(e.mapping.Credentials(siteA, c.ID)) != "good-token" {
		t.Fatalf("connection %+v: want the checked account with its token sealed by the mapping", c)
	}
	// The same account connected again keeps its connection.
	again := o.connect("good-token")
	o.json(http.MethodGet, "/api/connections", nil, http.StatusOK, &list)
	if again.ID != c.ID || len(list.Connections) != 1 {
		t.Fatalf("reconnecting made %d connections (%s, %s), want the one", len(list.Connections), c.ID, again.ID)
	}
}

func TestShareProgressPauseResume(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := e.signIn(t, siteA)
	c := o.connect("good-token")
	j := o.startShare("gal-a", c.ID)
	waitFor(t, "the share to be planned", func() bool { return o.share(j.ID).State == "running" })
	if got := o.share(j.ID); got.Total != 3 || got.Percent != 0 || !got.CanPause || got.CanResume {
		t.Fatalf("planned share %+v: want 3 items, nothing done, pausable", got)
	}
	items := e.mapping.Items(siteA, j.LinkID)
	if len(items) != 3 || items[0].GetState() != gsv1.ItemState_ITEM_STATE_PENDING_CREATE {
		t.Fatalf("mappings %v: want the 3 items pending before any upload", items)
	}

	var paused web.JobView
	o.json(http.MethodPost, "/api/shares/"+j.ID+"/pause", nil, http.StatusOK, &paused)
	if paused.State != "paused" || !paused.CanResume {
		t.Fatalf("after pause: %+v", paused)
	}
	o.json(http.MethodPost, "/api/shares/"+j.ID+"/pause", nil, http.StatusOK, &paused)
	code, loc, _ := o.form("/shares/"+j.ID+"/resume", nil)
	if code != http.StatusSeeOther || loc != "/shares/"+j.ID || o.share(j.ID).State != "running" {
		t.Fatalf("resume form: %d to %q, state %s", code, loc, o.share(j.ID).State)
	}
	if code, _, _ := o.do(http.MethodPost, "/api/shares/"+j.ID+"/explode", nil, ""); code != http.StatusNotFound {
		t.Fatalf("unknown action: status %d, want 404", code)
	}

	// The platform writer counts each item as it is uploaded.
	ctx := context.Background()
	for i, it := range items {
		if _, err := e.mc.CountShareItem(ctx, &gsv1.CountShareItemRequest{TenantId: siteA, JobId: j.ID, ItemId: it.GetWixItemId(), Failed: i == 2}); err != nil {
			t.Fatal(err)
		}
	}
	done := o.share(j.ID)
	if done.State != "done" || done.Percent != 100 || done.Done != 2 || done.Failed != 1 || done.CanCancel {
		t.Fatalf("finished share %+v: want done, 100%%, 2 done and 1 failed", done)
	}
	if code, _, _ := o.do(http.MethodPost, "/api/shares/"+j.ID+"/resume", nil, ""); code != http.StatusConflict {
		t.Fatalf("resuming a finished share: status %d, want 409", code)
	}
	_, page := o.page("/shares/" + j.ID)
	if !strings.Contains(page, `data-job="`+j.ID+`"`) || !strings.Contains(page, "Harbour at dawn") || !strings.Contains(page, "#harbouratdawn") {
		t.Fatal("the progress page does not name the job, gallery and album")
	}
	again := o.startShare("gal-a", c.ID)
	if again.ID == j.ID || again.LinkID != j.LinkID {
		t.Fatalf("sharing again after the job finished: job %s on link %s, want a new job on the same link", again.ID, again.LinkID)
	}
}

func TestOneSiteCannotReachAnothersRecords(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.signIn(t, siteA)
	j := a.startShare("gal-a", a.connect("good-token").ID)
	waitFor(t, "the share to be planned", func() bool { return a.share(j.ID).State == "running" })
	item := e.mapping.Items(siteA, j.LinkID)[0].GetWixItemId()

	b := e.signIn(t, siteB)
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/api/links/" + j.LinkID},
		{http.MethodGet, "/api/links/" + j.LinkID + "/items"},
		{http.MethodGet, "/api/links/" + j.LinkID + "/items/" + item},
		{http.MethodGet, "/api/shares/" + j.ID},
		{http.MethodPost, "/api/shares/" + j.ID + "/pause"},
		{http.MethodPost, "/api/links/" + j.LinkID + "/pause"},
		{http.MethodDelete, "/api/links/" + j.LinkID},
		{http.MethodGet, "/links/" + j.LinkID},
		{http.MethodGet, "/shares/" + j.ID},
	} {
		if code, body, _ := b.do(req.method, req.path, nil, ""); code != http.StatusNotFound {
			t.Errorf("site B %s %s: status %d, want 404: %s", req.method, req.path, code, body)
		}
	}
	var links struct{ Links []web.LinkView }
	b.json(http.MethodGet, "/api/links", nil, http.StatusOK, &links)
	if len(links.Links) != 0 {
		t.Fatalf("site B lists %d links, want none", len(links.Links))
	}
	code, raw, _ := b.do(http.MethodPost, "/api/shares", strings.NewReader(`{"gallery_id":"gal-a","connection_id":"x","new_album":true}`), "application/json")
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("site B sharing site A's gallery: status %d %s, want 422", code, raw)
	}
	var view web.LinkView
	a.json(http.MethodGet, "/api/links/"+j.LinkID, nil, http.StatusOK, &view)
	if view.State != "active" || a.share(j.ID).State != "running" {
		t.Fatal("site B's requests changed site A's link or share")
	}
}

func TestLinkPagesPauseAndUnlink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := e.signIn(t, siteA)
	j := o.startShare("gal-a", o.connect("good-token").ID)
	waitFor(t, "the share to be planned", func() bool { return o.share(j.ID).State == "running" })
	ctx := context.Background()
	for _, entry := range []*gsv1.LogEntry{
		{WixItemId: "a1", ExternalId: "109", Target: gsv1.Side_SIDE_PLATFORM, Action: "create", EventId: "share:x"},
		{WixItemId: "a2", Target: gsv1.Side_SIDE_WIX, Action: "update", Detail: "caption edited on the platform"},
		{WixItemId: "a1", ExternalId: "109", Target: gsv1.Side_SIDE_PLATFORM, Action: "update"},
	} {
		if _, err := e.mc.AppendLog(ctx, &gsv1.AppendLogRequest{TenantId: siteA, LinkId: j.LinkID, Entry: entry}); err != nil {
			t.Fatal(err)
		}
	}
	var view web.LinkView
	o.json(http.MethodGet, "/api/links/"+j.LinkID, nil, http.StatusOK, &view)
	if view.Counts.Pending != 3 || view.LastToPlatform == nil || view.LastToWix == nil ||
		view.LastToPlatform.Action != "update" || view.LastToWix.Action != "update" || view.LastToWix.WixItemID != "a2" {
		t.Fatalf("link view %+v: want 3 pending, the newest change each way", view)
	}
	var hist web.ItemHistory
	o.json(http.MethodGet, "/api/links/"+j.LinkID+"/items/a1", nil, http.StatusOK, &hist)
	if hist.Item.WixItemID != "a1" || hist.Item.State != "pending" || len(hist.History) != 2 || hist.History[0].Action != "update" {
		t.Fatalf("item history %+v: want a1's two entries, newest first", hist)
	}
	if code, page := o.page("/links/" + j.LinkID + "/items/a1"); code != http.StatusOK || !strings.Contains(page, "History") || !strings.Contains(page, "109") {
		t.Fatalf("item page: status %d", code)
	}

	if code, loc, _ := o.form("/links/"+j.LinkID+"/pause", nil); code != http.StatusSeeOther || loc != "/links/"+j.LinkID+"?ok=paused" {
		t.Fatalf("pause: %d to %q", code, loc)
	}
	o.json(http.MethodGet, "/api/links/"+j.LinkID, nil, http.StatusOK, &view)
	if view.State != "paused" {
		t.Fatalf("link %s after pause, want paused", view.State)
	}
	code, loc, page := o.form("/links/"+j.LinkID+"/unlink", nil)
	if code != http.StatusOK || loc != "" || !strings.Contains(page, "Yes, unlink") {
		t.Fatalf("unlink without confirmation: %d to %q, want the confirmation page", code, loc)
	}
	o.json(http.MethodGet, "/api/links/"+j.LinkID, nil, http.StatusOK, &view)
	if code, loc, _ := o.form("/links/"+j.LinkID+"/unlink", url.Values{"confirm": {"yes"}}); code != http.StatusSeeOther || loc != "/links?ok=unlinked" {
		t.Fatalf("confirmed unlink: %d to %q", code, loc)
	}
	if code, _, _ := o.do(http.MethodGet, "/api/links/"+j.LinkID, nil, ""); code != http.StatusNotFound {
		t.Fatalf("unlinked link: status %d, want 404", code)
	}
	if n := len(e.mapping.Items(siteA, j.LinkID)); n != 0 {
		t.Fatalf("%d item mappings left after unlink", n)
	}
}
