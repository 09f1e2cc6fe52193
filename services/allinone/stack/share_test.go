package stack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/services/sandbox/wixsim"
)

// shareProgress is the console's view of a share job.
type shareProgress struct {
	ID        string  `json:"id"`
	State     string  `json:"state"`
	Total     int     `json:"total"`
	Done      int     `json:"done"`
	Failed    int     `json:"failed"`
	Percent   int     `json:"percent"`
	PerSecond float64 `json:"items_per_second"`
}

// TestShareAThousandItems shares a 1,000-item gallery to Mastodon through
// the console's API, as the dashboard does, and follows its progress to the
// end: it only ever grows, never passes the total, ends at 1,000 done, and
// the account then holds exactly 1,000 statuses of the new album. The
// sandbox runs unlimited, so the time it took is the system's own pace.
func TestShareAThousandItems(t *testing.T) {
	s := startStack(t, withConsole(t, "unlimited"))
	d := s.Demo()
	const n = 1000
	w := s.Sandbox().Wix()
	g, err := w.CreateGallery(d.InstanceID, "A thousand photos")
	if err != nil {
		t.Fatal(err)
	}
	f, err := w.AddImage(d.InstanceID, "thousand", 320, 240)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := w.AddItem(d.InstanceID, g.ID, wixsim.Item{
			Title: fmt.Sprintf("Photo %04d", i), Image: &wixsim.ItemImage{ImageInfo: &wixsim.ImageInfo{ID: f.ID}},
		}); err != nil {
			t.Fatal(err)
		}
	}

	var tok string // the session's CSRF token
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	call := func(method, path string, body, out any) {
		t.Helper()
		var rd *bytes.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		} else {
			rd = bytes.NewReader(nil)
		}
		req, _ := http.NewRequest(method, d.ConsoleURL+path, rd)
		req.Header.Set("Content-Type", "application/json")
		if tok != "" {
			req.Header.Set("X-CSRF-Token", tok)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			t.Fatalf("%s %s: %s %s", method, path, resp.Status, strings.TrimSpace(b.String()))
		}
		if out != nil {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
	}
	// Signed in as the site owner, as the Wix dashboard opens the page.
	resp, err := hc.Get(d.DashboardURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session struct {
		CSRF string `json:"csrf"`
	}
	call(http.MethodGet, "/api/session", nil, &session)
	tok = session.CSRF

	var job shareProgress
	start := time.Now()
	call(http.MethodPost, "/api/shares", map[string]any{
		"gallery_id": g.ID, "connection_id": d.ConnectionID, "new_album": true, "album_name": "thousand", "direction": "one_way",
	}, &job)
	last := -1
	deadline := time.Now().Add(5 * time.Minute)
	for job.State != "done" {
		if time.Now().After(deadline) {
			t.Fatalf("share not done after 5 minutes: %+v", job)
		}
		time.Sleep(100 * time.Millisecond)
		call(http.MethodGet, "/api/shares/"+job.ID, nil, &job)
		if job.Done < last || (job.Total > 0 && job.Done+job.Failed > job.Total) {
			t.Fatalf("progress went wrong: %+v after %d done", job, last)
		}
		last = job.Done
	}
	took := time.Since(start)
	if job.Total != n || job.Done != n || job.Failed != 0 || job.Percent != 100 {
		t.Fatalf("finished share %+v, want %d of %d done, none failed, 100%%", job, n, n)
	}
	tagged := 0
	for _, st := range s.Sandbox().Mastodon().Statuses(d.MastodonAccountID) {
		if strings.Contains(st.Content, "thousand") {
			tagged++
		}
	}
	if tagged != n {
		t.Fatalf("%d statuses in the album, want %d", tagged, n)
	}
	t.Logf("shared %d items in %s (%.0f items/s)", n, took.Round(time.Millisecond), float64(n)/took.Seconds())
}
