package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"gallerysync.dev/libs/testkit"
	"gallerysync.dev/services/sandbox/wixsim"
)

// withConsole runs the console on a free port, with the sandbox's
// Mastodon limits "documented" or "unlimited".
func withConsole(t *testing.T, limits string) func(*Config) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(testkit.FreePort(t)))
	return func(c *Config) {
		c.ConsoleAddr = addr
		c.MastodonLimits = limits
	}
}

// addGallery makes a gallery of n photos through the sandbox's Go API
// (no webhooks: as if it had been there before the app came).
func addGallery(t *testing.T, s *Stack, instance, name string, n int) wixsim.Gallery {
	t.Helper()
	w := s.Sandbox().Wix()
	g, err := w.CreateGallery(instance, name)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		title := fmt.Sprintf("%s, photo %d", name, i+1)
		f, err := w.AddImage(instance, title, 96, 64)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.AddItem(instance, g.ID, wixsim.Item{Title: title, Image: &wixsim.ItemImage{ImageInfo: &wixsim.ImageInfo{ID: f.ID}}}); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// addItemAsOwner adds a photo to a gallery the way the site owner does in
// the Wix dashboard: through the API, so Wix sends the webhook.
func addItemAsOwner(t *testing.T, s *Stack, instance, galleryID, title string) {
	t.Helper()
	w := s.Sandbox().Wix()
	f, err := w.AddImage(instance, title, 96, 64)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := w.OwnerToken(instance)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"item": map[string]any{"title": title, "image": map[string]any{"imageInfo": map[string]any{"id": f.ID}}}})
	req, _ := http.NewRequest(http.MethodPost, s.Sandbox().BaseURL()+"/wix/pro-gallery/v2/galleries/"+galleryID+"/items", bytes.NewReader(body))
	req.Header.Set("Authorization", tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create item as owner: status %d", resp.StatusCode)
	}
}

// owner is the site owner's API client of the console, signed in through
// the sandbox's dashboard link like the browser.
type owner struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

func signIn(t *testing.T, dashboardURL string) *owner {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := hc.Get(dashboardURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("dashboard link: status %d at %s", resp.StatusCode, resp.Request.URL)
	}
	o := &owner{t: t, base: resp.Request.URL.Scheme + "://" + resp.Request.URL.Host, hc: hc}
	var sess struct{ CSRF string }
	o.call(http.MethodGet, "/api/session", nil, &sess)
	o.csrf = sess.CSRF
	return o
}

// call calls the console API and returns the status; out gets a 2xx body.
func (o *owner) call(method, path string, in, out any) int {
	o.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, o.base+path, body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", o.csrf)
	resp, err := o.hc.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(raw, out); err != nil {
			o.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode
}

// connectionID finds a connection of the owner by its display name.
func (o *owner) connectionID(display string) string {
	o.t.Helper()
	var list struct {
		Connections []struct {
			ID          string `json:"id"`
			DisplayName string `json:"display_name"`
		} `json:"connections"`
	}
	o.call(http.MethodGet, "/api/connections", nil, &list)
	for _, c := range list.Connections {
		if c.DisplayName == display {
			return c.ID
		}
	}
	return ""
}

// job reads a share job's progress.
func (o *owner) job(id string) (state string, done, total int) {
	o.t.Helper()
	var j struct {
		State string `json:"state"`
		Done  int    `json:"done"`
		Total int    `json:"total"`
	}
	o.call(http.MethodGet, "/api/shares/"+id, nil, &j)
	return j.State, j.Done, j.Total
}

func poll(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// jobFromPath is the job id of a /shares/<id> URL.
func jobFromPath(t *testing.T, loc string) string {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(u.Path, "/shares/") {
		t.Fatalf("after starting a share the page is %s, want /shares/<job>", loc)
	}
	return strings.TrimPrefix(u.Path, "/shares/")
}

// TestConsoleShareInBrowser is the site owner's whole visit: open the
// dashboard from Wix, see the galleries with their covers, connect a
// Mastodon account, share a gallery of 50 photos and watch it reach 100%,
// look at the link and an item's history, fix a failure and retry it.
func TestConsoleShareInBrowser(t *testing.T) {
	s := startStack(t, withConsole(t, "unlimited"))
	consoleURL, dashboardURL, err := s.Demo().ConsoleURL, s.Demo().DashboardURL, error(nil)
	if err != nil || consoleURL == "" || !strings.Contains(dashboardURL, "/_sandbox/dashboard?") {
		t.Fatalf("demo.json console %q dashboard %q (%v): want both", consoleURL, dashboardURL, err)
	}
	demo := s.Demo()
	fifty := addGallery(t, s, demo.InstanceID, "Fifty photos", 50)
	masto := s.Sandbox().Mastodon()
	acct := masto.AddAccount("sharetest", "share-token-1")
	b := openBrowser(t)

	b.do("open the dashboard from Wix", chromedp.Navigate(dashboardURL), chromedp.WaitVisible(chromedp.CSS("ul.cards")))
	if loc := b.location(); loc != consoleURL+"/" {
		t.Fatalf("the dashboard link ends at %s, want %s/ without the instance", loc, consoleURL)
	}
	b.waitTrue("every cover image to load", `(() => { const imgs = [...document.querySelectorAll("img.cover")];
		return imgs.length >= 3 && imgs.every(i => i.complete && i.naturalWidth > 0); })()`, 30*time.Second)
	if names := b.eval("gallery names", `[...document.querySelectorAll(".card h2")].map(h => h.textContent).join("|")`); !strings.Contains(names, "Harbour at dawn") || !strings.Contains(names, "Fifty photos") {
		t.Fatalf("galleries shown: %s", names)
	}
	b.shot("galleries")
	b.do("narrow the window to a phone's width", chromedp.EmulateViewport(375, 812))
	const widths = `document.documentElement.scrollWidth + "px of " + document.documentElement.clientWidth + "px"`
	if fits := b.eval("page width at 375px", `String(document.documentElement.scrollWidth <= document.documentElement.clientWidth)`); fits != "true" {
		t.Fatalf("at 375px the galleries page needs %s, want no sideways scrolling", b.eval("widths", widths))
	}
	b.shotOf("galleries-375px", chromedp.CaptureScreenshot())
	b.do("widen the window again", chromedp.EmulateViewport(1280, 900))

	// Connect: a wrong token is refused and nothing is saved; the right one connects.
	b.do("try a wrong token", chromedp.Navigate(consoleURL+"/connections"),
		chromedp.SetValue(chromedp.ID("mastodon-url"), demo.MastodonBaseURL),
		chromedp.SetValue(chromedp.ID("mastodon-token"), "not-the-token"),
		chromedp.Submit(chromedp.ID("mastodon-token")),
		chromedp.WaitVisible(chromedp.ID("connect-error")))
	if msg := b.text("#connect-error"); !strings.Contains(msg, "Nothing was saved") || !strings.Contains(msg, "401") {
		t.Fatalf("wrong token: %q", msg)
	}
	b.do("connect with the right token",
		chromedp.SetValue(chromedp.ID("mastodon-url"), demo.MastodonBaseURL),
		chromedp.SetValue(chromedp.ID("mastodon-token"), "share-token-1"),
		chromedp.Submit(chromedp.ID("mastodon-token")),
		chromedp.WaitVisible(chromedp.CSS("p.flash")))
	api := signIn(t, dashboardURL)
	display := "@sharetest@" + strings.TrimPrefix(s.Sandbox().BaseURL(), "http://")
	connID := api.connectionID(display)
	if connID == "" {
		t.Fatalf("no connection %s after connecting", display)
	}

	// Share the 50 photos and watch the page reach 100%.
	b.shot("connections")
	b.do("pick the gallery and the account", chromedp.Navigate(consoleURL+"/share?gallery="+fifty.ID),
		chromedp.SetValue(chromedp.ID("connection"), connID))
	b.shot("share-form")
	b.do("start sharing", chromedp.Submit(chromedp.ID("album-name")),
		chromedp.WaitVisible(chromedp.CSS("[data-job]")))
	jobID := jobFromPath(t, b.location())
	b.waitTrue("the progress to reach 100%", `document.querySelector('[data-field="percent"]').textContent === "100" &&
		document.querySelector('[data-field="done"]').textContent === "50"`, 2*time.Minute)
	b.shot("share-progress")
	poll(t, "50 statuses on Mastodon", time.Minute, func() bool { return len(masto.Statuses(acct.ID)) == 50 })
	if state, done, total := api.job(jobID); state != "done" || done != 50 || total != 50 {
		t.Fatalf("job %s: %d of %d, want done with 50 of 50", state, done, total)
	}

	// The link and an item's history.
	b.do("open the links", chromedp.Navigate(consoleURL+"/links"), chromedp.WaitVisible(chromedp.CSS("table")))
	b.shot("links")
	linkHref := b.eval("the link of the share", `[...document.querySelectorAll('a[href^="/links/"]')].find(a => a.textContent === "Fifty photos").getAttribute("href")`)
	b.do("open the link", chromedp.Navigate(consoleURL+linkHref), chromedp.WaitVisible(chromedp.CSS(`a[href*="/items/"]`)))
	itemHref := b.eval("an item", `document.querySelector('a[href*="/items/"]').getAttribute("href")`)
	b.do("open the item", chromedp.Navigate(consoleURL+itemHref), chromedp.WaitVisible(chromedp.ID("sides")))
	if sides := b.text("table"); !strings.Contains(sides, "Content hash") || strings.Contains(sides, "not created yet") {
		t.Fatalf("item page shows %q: want both ids and hashes", sides)
	}
	b.shot("item-history")

	// The account's token changes on Mastodon: the next change fails for
	// good. Reconnecting with the new token and retrying applies it.
	masto.AddAccount("sharetest", "share-token-2")
	addItemAsOwner(t, s, demo.InstanceID, fifty.ID, "Photo after the token changed")
	var failures struct {
		Failures []struct {
			Seq   uint64 `json:"seq"`
			Error string `json:"error"`
		} `json:"failures"`
	}
	poll(t, "the failed change on the Failures page", time.Minute, func() bool {
		api.call(http.MethodGet, "/api/failures", nil, &failures)
		return len(failures.Failures) == 1
	})
	b.do("open the failures", chromedp.Navigate(consoleURL+"/failures"), chromedp.WaitVisible(chromedp.ID("retry-all")))
	if row := b.text("tbody tr"); !strings.Contains(row, "401") {
		t.Fatalf("failure row %q: want the platform's 401", row)
	}
	b.shot("failures")
	b.do("reconnect with the new token", chromedp.Navigate(consoleURL+"/connections"),
		chromedp.SetValue(chromedp.ID("mastodon-url"), demo.MastodonBaseURL),
		chromedp.SetValue(chromedp.ID("mastodon-token"), "share-token-2"),
		chromedp.Submit(chromedp.ID("mastodon-token")),
		chromedp.WaitVisible(chromedp.CSS("p.flash")))
	if again := api.connectionID(display); again != connID {
		t.Fatalf("reconnecting made connection %s, want %s again", again, connID)
	}
	b.do("retry the failure", chromedp.Navigate(consoleURL+"/failures"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[data-seq="%d"]`, failures.Failures[0].Seq))),
		chromedp.WaitVisible(chromedp.CSS("p.flash")))
	poll(t, "the retried photo on Mastodon", time.Minute, func() bool { return len(masto.Statuses(acct.ID)) == 51 })
	api.call(http.MethodGet, "/api/failures", nil, &failures)
	if len(failures.Failures) != 0 {
		t.Fatalf("%d failures left after the retry", len(failures.Failures))
	}

	// Unlink asks first (the browser's confirmation, accepted here).
	b.do("unlink", chromedp.Navigate(consoleURL+linkHref),
		chromedp.Click(chromedp.CSS(`form[action$="/unlink"] button`)),
		chromedp.WaitVisible(chromedp.CSS("p.flash")))
	if loc := b.location(); loc != consoleURL+"/links?ok=unlinked" {
		t.Fatalf("after unlinking the page is %s", loc)
	}
	if code := api.call(http.MethodGet, "/api"+linkHref, nil, nil); code != http.StatusNotFound {
		t.Fatalf("the unlinked link answers %d, want 404", code)
	}
	if n := len(masto.Statuses(acct.ID)); n != 51 {
		t.Fatalf("unlinking changed the account's statuses to %d, want the 51 to stay", n)
	}
}

// TestConsolePauseResume pauses a share that Mastodon's documented upload
// limit (30 per 30 minutes, which the writer paces itself below) holds
// back after its first few photos, then resumes it.
func TestConsolePauseResume(t *testing.T) {
	s := startStack(t, withConsole(t, "documented"))
	consoleURL, dashboardURL, err := s.Demo().ConsoleURL, s.Demo().DashboardURL, error(nil)
	if err != nil {
		t.Fatal(err)
	}
	demo := s.Demo()
	g := addGallery(t, s, demo.InstanceID, "Thirty-five photos", 35)
	s.Sandbox().Mastodon().AddAccount("pausetest", "pause-token")
	api := signIn(t, dashboardURL)
	var conn struct{ ID string }
	if code := api.call(http.MethodPost, "/api/connections", map[string]string{"platform": "mastodon", "base_url": demo.MastodonBaseURL, "secret": "pause-token"}, &conn); code != http.StatusCreated {
		t.Fatalf("connect: status %d", code)
	}
	var job struct{ ID string }
	if code := api.call(http.MethodPost, "/api/shares", map[string]any{"gallery_id": g.ID, "connection_id": conn.ID, "new_album": true}, &job); code != http.StatusCreated {
		t.Fatalf("share: status %d", code)
	}
	poll(t, "the upload limit to hold the share back", 2*time.Minute, func() bool {
		state, done, total := api.job(job.ID)
		return state == "running" && done > 0 && done < total
	})

	b := openBrowser(t)
	b.do("open the share", chromedp.Navigate(dashboardURL), chromedp.WaitVisible(chromedp.CSS("ul.cards")),
		chromedp.Navigate(consoleURL+"/shares/"+job.ID), chromedp.WaitVisible(chromedp.ID("pause")))
	b.do("pause", chromedp.Click(chromedp.ID("pause")), chromedp.WaitVisible(chromedp.ID("resume")))
	b.waitTrue("the page to say paused", `document.querySelector('[data-field="state"]').textContent === "paused"`, 10*time.Second)
	b.shot("share-paused")
	if state, _, _ := api.job(job.ID); state != "paused" {
		t.Fatalf("job %s after pause, want paused", state)
	}
	b.do("resume", chromedp.Click(chromedp.ID("resume")), chromedp.WaitVisible(chromedp.ID("pause")))
	b.waitTrue("the page to say running", `document.querySelector('[data-field="state"]').textContent === "running"`, 10*time.Second)
	if state, done, total := api.job(job.ID); state != "running" || done >= total {
		t.Fatalf("job %s with %d of %d after resume, want running with items left", state, done, total)
	}
}

// TestConsoleKeepsSitesApart opens the dashboard of a second site: it sees
// its own gallery only and cannot read the first site's link.
func TestConsoleKeepsSitesApart(t *testing.T) {
	s := startStack(t, withConsole(t, "unlimited"))
	dashboardURL, err := s.Demo().DashboardURL, error(nil)
	if err != nil {
		t.Fatal(err)
	}
	const second = "5d2f8c3a-1e4b-4a7c-9b6d-0f1e2d3c4b5a"
	s.Sandbox().Wix().AddSite(second, "7e6d5c4b-3a29-4817-9605-f4e3d2c1b0a9")
	addGallery(t, s, second, "Second site's gallery", 2)
	first := signIn(t, dashboardURL)
	other := signIn(t, strings.Replace(dashboardURL, "instanceId="+s.Demo().InstanceID, "instanceId="+second, 1))

	var link map[string]any
	if code := first.call(http.MethodGet, "/api/links/"+s.Demo().LinkID, nil, &link); code != http.StatusOK {
		t.Fatalf("the first site reads its own link: status %d", code)
	}
	for _, path := range []string{"/api/links/" + s.Demo().LinkID, "/api/links/" + s.Demo().LinkID + "/items", "/links/" + s.Demo().LinkID} {
		if code := other.call(http.MethodGet, path, nil, nil); code != http.StatusNotFound {
			t.Errorf("second site GET %s: status %d, want 404", path, code)
		}
	}
	if code := other.call(http.MethodPost, "/api/links/"+s.Demo().LinkID+"/pause", nil, nil); code != http.StatusNotFound {
		t.Errorf("second site pausing the first's link: status %d, want 404", code)
	}
	var galleries struct {
		Galleries []struct{ Name string } `json:"galleries"`
	}
	other.call(http.MethodGet, "/api/galleries", nil, &galleries)
	if len(galleries.Galleries) != 1 || galleries.Galleries[0].Name != "Second site's gallery" {
		t.Fatalf("second site sees galleries %+v, want only its own", galleries.Galleries)
	}
	var links struct{ Links []any }
	other.call(http.MethodGet, "/api/links", nil, &links)
	if len(links.Links) != 0 {
		t.Fatalf("second site lists %d links, want none", len(links.Links))
	}
	if code := first.call(http.MethodGet, "/api/links/"+s.Demo().LinkID, nil, &link); code != http.StatusOK || link["state"] != "active" {
		t.Fatalf("the first site's link after the second site's tries: %d %v", code, link["state"])
	}
}

// browser is one tab of a real headless Chromium.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string
}

// openBrowser starts Chromium with a fresh profile; it accepts every
// confirmation dialog, as a site owner clicking OK would. Without
// Chromium the test skips, and fails in CI.
func openBrowser(t *testing.T) *browser {
	t.Helper()
	path := testkit.RequireBinary(t, "chromium")
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	if err := chromedp.Do(ctx); err != nil { // starts the browser, bound to ctx alone
		cancel()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	})
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		wg.Wait()
	})
	shots := os.Getenv("GALLERYSYNC_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, ctx: ctx, shots: shots}
}

// browserWait bounds one step in the browser.
const browserWait = 60 * time.Second

// do runs steps, failing the test with what when they fail.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// text is the text of the first element matching a CSS selector.
func (b *browser) text(css string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", css, err)
	}
	return s
}

// eval evaluates a JavaScript expression that yields a string.
func (b *browser) eval(what, js string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return s
}

// waitTrue waits until a JavaScript expression is true in the page.
func (b *browser) waitTrue(what, js string, within time.Duration) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, within+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(within))); err != nil {
		b.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// location is the page's URL.
func (b *browser) location() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

// shot writes a screenshot of the whole page for review.
func (b *browser) shot(name string) {
	b.t.Helper()
	b.shotOf(name, chromedp.FullScreenshot(100))
}

// shotOf writes the screenshot an action takes.
func (b *browser) shotOf(name string, take chromedp.Action[[]byte]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	png, err := chromedp.Run(ctx, take)
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", path)
}
