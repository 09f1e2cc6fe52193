package pinterestsim_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"gallerysync.dev/services/sandbox/pinterestsim"
)

// TestEmulatorAnswers probes the emulator's API directly; every answer is
// validated against the contract (requests too, except the deliberately
// bad ones).
func TestEmulatorAnswers(t *testing.T) {
	t.Parallel()
	spec := loadContract(t)

	t.Run("errors carry the documented status and code", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		e.check.requestsUnchecked = true
		boardID := e.board(t, "Mine")
		pin := e.userPin(t, boardID, "Mine", mediaBase+"m.png")
		var bobs pinterestsim.Board
		e.must(t, http.StatusCreated, http.MethodPost, "/v5/boards", bobToken, map[string]any{"name": "Bob's"}, &bobs)
		pinBody := func(change func(map[string]any)) map[string]any {
			b := map[string]any{"board_id": boardID, "media_source": map[string]any{"source_type": "image_url", "url": mediaBase + "x.png"}}
			change(b)
			return b
		}
		tests := []struct {
			name     string
			method   string
			path     string
			token    string
			body     any
			wantCode int
			wantErr  int
			contains string
		}{
			{name: "no token", method: "GET", path: "/v5/boards", wantCode: 401, wantErr: 2},
			{name: "unknown token", method: "GET", path: "/v5/boards", token: "nope", wantCode: 401, wantErr: 2},
			{name: "unknown board", method: "GET", path: "/v5/boards/999", token: aliceToken, wantCode: 404, wantErr: 40},
			{name: "pins of an unknown board", method: "GET", path: "/v5/boards/999/pins", token: aliceToken, wantCode: 404, wantErr: 404},
			{name: "another user's board", method: "GET", path: "/v5/boards/" + bobs.ID, token: aliceToken, wantCode: 403, wantErr: 29},
			{name: "board id not a number", method: "GET", path: "/v5/boards/abc", token: aliceToken, wantCode: 400, wantErr: 1, contains: "pattern"},
			{name: "unknown pin", method: "GET", path: "/v5/pins/999", token: aliceToken, wantCode: 404, wantErr: 50},
			{name: "another user's pin", method: "DELETE", path: "/v5/pins/" + pin.ID, token: bobToken, wantCode: 403, wantErr: 29},
			{name: "page size too large", method: "GET", path: "/v5/boards?page_size=251", token: aliceToken, wantCode: 400, wantErr: 1},
			{name: "page size not numeric", method: "GET", path: "/v5/boards/" + boardID + "/pins?page_size=3e", token: aliceToken, wantCode: 400, wantErr: 1, contains: "not numeric"},
			{name: "bookmark never issued", method: "GET", path: "/v5/boards?bookmark=Zm9v", token: aliceToken, wantCode: 400, wantErr: 1},
			{name: "bookmark of another list", method: "GET", path: "/v5/boards/" + boardID + "/pins?bookmark=" + boardsBookmark(t, e), token: aliceToken, wantCode: 400, wantErr: 1},
			{name: "bad privacy filter", method: "GET", path: "/v5/boards?privacy=HIDDEN", token: aliceToken, wantCode: 400, wantErr: 1},
			{name: "board without name", method: "POST", path: "/v5/boards", token: aliceToken, body: map[string]any{"description": "x"}, wantCode: 400, wantErr: 1},
			{name: "board with bad privacy", method: "POST", path: "/v5/boards", token: aliceToken, body: map[string]any{"name": "x", "privacy": "HIDDEN"}, wantCode: 400, wantErr: 1},
			{name: "body not json", method: "POST", path: "/v5/boards", token: aliceToken, body: []byte("{"), wantCode: 400, wantErr: 1},
			{name: "pin without media", method: "POST", path: "/v5/pins", token: aliceToken, body: map[string]any{"board_id": boardID}, wantCode: 400, wantErr: 1},
			{name: "pin from base64", method: "POST", path: "/v5/pins", token: aliceToken,
				body: pinBody(func(b map[string]any) {
					b["media_source"] = map[string]any{"source_type": "image_base64", "content_type": "image/png", "data": "AA=="}
				}), wantCode: 400, wantErr: 1},
			{name: "pin with a bad link", method: "POST", path: "/v5/pins", token: aliceToken,
				body: pinBody(func(b map[string]any) { b["link"] = "javascript:alert(1)" }), wantCode: 400, wantErr: 1, contains: "valid URL"},
			{name: "pin title too long", method: "POST", path: "/v5/pins", token: aliceToken,
				body: pinBody(func(b map[string]any) { b["title"] = strings.Repeat("t", 101) }), wantCode: 400, wantErr: 1, contains: "100"},
			{name: "pin title not a string", method: "POST", path: "/v5/pins", token: aliceToken,
				body: pinBody(func(b map[string]any) { b["title"] = 7 }), wantCode: 400, wantErr: 1},
			{name: "pin on another user's board", method: "POST", path: "/v5/pins", token: aliceToken,
				body: pinBody(func(b map[string]any) { b["board_id"] = bobs.ID }), wantCode: 403, wantErr: 29},
			{name: "pin on an unknown board", method: "POST", path: "/v5/pins", token: aliceToken,
				body: pinBody(func(b map[string]any) { b["board_id"] = "999" }), wantCode: 404, wantErr: 40},
			{name: "pin in a board section", method: "POST", path: "/v5/pins", token: aliceToken,
				body: pinBody(func(b map[string]any) { b["board_section_id"] = "5" }), wantCode: 404, wantErr: 2031},
			{name: "move to an unknown board", method: "PATCH", path: "/v5/pins/" + pin.ID, token: aliceToken, body: map[string]any{"board_id": "999"}, wantCode: 404, wantErr: 40},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.call(t, tc.method, tc.path, tc.token, tc.body)
				code, msg := r.apiError(t)
				if r.code != tc.wantCode || code != tc.wantErr || !strings.Contains(msg, tc.contains) {
					t.Fatalf("answer %d code %d %q, want %d code %d containing %q", r.code, code, msg, tc.wantCode, tc.wantErr, tc.contains)
				}
			})
		}
		if len(e.pins(t, boardID)) != 1 {
			t.Fatal("a refused request changed the board")
		}
	})

	t.Run("paths and methods outside the emulated operations", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		for _, tc := range []struct {
			method, path string
			wantCode     int
			wantAllow    string
		}{
			{method: http.MethodPut, path: "/v5/pins/1", wantCode: http.StatusMethodNotAllowed, wantAllow: "DELETE, GET, PATCH"},
			{method: http.MethodDelete, path: "/v5/boards", wantCode: http.StatusMethodNotAllowed, wantAllow: "GET, POST"},
			{method: http.MethodGet, path: "/v5/user_account", wantCode: http.StatusNotFound},
			{method: http.MethodGet, path: "/elsewhere", wantCode: http.StatusNotFound},
		} {
			req, err := http.NewRequest(tc.method, e.srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+aliceToken)
			// Not operations of the emulator: sent around the checker.
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r := reply{code: resp.StatusCode}
			r.body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			r.apiError(t)
			if r.code != tc.wantCode || resp.Header.Get("Allow") != tc.wantAllow {
				t.Fatalf("%s %s: status %d, Allow %q; want %d, %q", tc.method, tc.path, r.code, resp.Header.Get("Allow"), tc.wantCode, tc.wantAllow)
			}
		}
	})

	t.Run("board pins page newest first with bookmarks", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		boardID := e.board(t, "Paged")
		var made []string
		for i := range 7 {
			made = append(made, e.userPin(t, boardID, fmt.Sprintf("pin %d", i), mediaBase+"p.png").ID)
		}
		var got []string
		bookmark, pages := "", 0
		for {
			path := "/v5/boards/" + boardID + "/pins?page_size=3"
			if bookmark != "" {
				path += "&bookmark=" + bookmark
			}
			var page struct {
				Items    []pinterestsim.Pin `json:"items"`
				Bookmark *string            `json:"bookmark"`
			}
			e.must(t, http.StatusOK, http.MethodGet, path, aliceToken, nil, &page)
			pages++
			for _, p := range page.Items {
				got = append(got, p.ID)
			}
			if page.Bookmark == nil {
				break
			}
			bookmark = *page.Bookmark
			if pages == 1 {
				// A Pin made between pages must not shift the next page.
				e.userPin(t, boardID, "late", mediaBase+"late.png")
			}
		}
		want := []string{made[6], made[5], made[4], made[3], made[2], made[1], made[0]}
		if pages != 3 || strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("%d pages listing %v, want 3 pages listing %v", pages, got, want)
		}
	})

	t.Run("boards page oldest first and filter by privacy", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		e.must(t, http.StatusCreated, http.MethodPost, "/v5/boards", aliceToken, map[string]any{"name": "secret", "privacy": "SECRET"}, nil)
		for i := range 4 {
			e.board(t, fmt.Sprintf("public %d", i))
		}
		var page struct {
			Items    []pinterestsim.Board `json:"items"`
			Bookmark *string              `json:"bookmark"`
		}
		e.must(t, http.StatusOK, http.MethodGet, "/v5/boards?page_size=2&privacy=PUBLIC", aliceToken, nil, &page)
		if len(page.Items) != 2 || page.Items[0].Name != "public 0" || page.Bookmark == nil {
			t.Fatalf("first page %+v", page)
		}
		e.must(t, http.StatusOK, http.MethodGet, "/v5/boards?page_size=2&privacy=PUBLIC&bookmark="+*page.Bookmark, aliceToken, nil, &page)
		if len(page.Items) != 2 || page.Items[1].Name != "public 3" || page.Bookmark != nil {
			t.Fatalf("last page %+v", page)
		}
		e.must(t, http.StatusOK, http.MethodGet, "/v5/boards", bobToken, nil, &page)
		if len(page.Items) != 0 {
			t.Fatalf("bob sees %d of alice's boards", len(page.Items))
		}
	})

	t.Run("board_pins_modified_at and pin_count follow the board's pins", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, []pinterestsim.Option{pinterestsim.WithClock(func() time.Time { return time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC) })})
		boardID, target := e.board(t, "Tracked"), e.board(t, "Target")
		get := func(id string) pinterestsim.Board {
			var b pinterestsim.Board
			e.must(t, http.StatusOK, http.MethodGet, "/v5/boards/"+id, aliceToken, nil, &b)
			return b
		}
		last := get(boardID)
		step := func(what string, wantCount int, do func()) {
			t.Helper()
			do()
			b := get(boardID)
			if b.BoardPinsModifiedAt <= last.BoardPinsModifiedAt || b.PinCount != wantCount {
				t.Fatalf("after %s: modified %s (was %s), %d pins (want %d)", what, b.BoardPinsModifiedAt, last.BoardPinsModifiedAt, b.PinCount, wantCount)
			}
			last = b
		}
		var p pinterestsim.Pin
		step("create", 1, func() { p = e.userPin(t, boardID, "One", mediaBase+"1.png") })
		step("edit", 1, func() {
			e.must(t, http.StatusOK, http.MethodPatch, "/v5/pins/"+p.ID, aliceToken, map[string]any{"alt_text": "alt"}, nil)
		})
		if get(boardID).Media.ImageCoverURL == nil {
			t.Fatal("board has no cover image")
		}
		step("move away", 0, func() {
			e.must(t, http.StatusOK, http.MethodPatch, "/v5/pins/"+p.ID, aliceToken, map[string]any{"board_id": target}, nil)
		})
		if b := get(target); b.PinCount != 1 {
			t.Fatalf("target board has %d pins", b.PinCount)
		}
		step("create again", 1, func() { p = e.userPin(t, boardID, "Two", mediaBase+"2.png") })
		step("delete", 0, func() { e.must(t, http.StatusNoContent, http.MethodDelete, "/v5/pins/"+p.ID, aliceToken, nil, nil) })
	})

	t.Run("patch changes the fields sent and clears those sent as null", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		boardID := e.board(t, "Patched")
		var p pinterestsim.Pin
		e.must(t, http.StatusCreated, http.MethodPost, "/v5/pins", aliceToken, map[string]any{
			"board_id": boardID, "title": "T", "description": "D", "link": "https://example.com/a", "alt_text": "A",
			"media_source": map[string]any{"source_type": "image_url", "url": mediaBase + "p.png"},
		}, &p)
		e.must(t, http.StatusOK, http.MethodPatch, "/v5/pins/"+p.ID, aliceToken, map[string]any{"title": "T2", "link": nil}, &p)
		if deref(p.Title) != "T2" || p.Link != nil || deref(p.Description) != "D" || deref(p.AltText) != "A" {
			t.Fatalf("after patch: %+v", p)
		}
		var got pinterestsim.Pin
		e.must(t, http.StatusOK, http.MethodGet, "/v5/pins/"+p.ID, aliceToken, nil, &got)
		if deref(got.Title) != "T2" || got.Link != nil {
			t.Fatalf("stored pin: %+v", got)
		}
	})

	t.Run("rate limits count per user and category, refused calls not", func(t *testing.T) {
		t.Parallel()
		var mu sync.Mutex
		now := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
		clock := func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		}
		e := newEnv(t, spec, []pinterestsim.Option{pinterestsim.WithClock(clock), pinterestsim.WithLimits(
			pinterestsim.Limit{Category: pinterestsim.CategoryOrgWrite, Requests: 2, Period: time.Minute},
			pinterestsim.Limit{Category: pinterestsim.CategoryAll, Requests: 6, Period: time.Hour},
		)})
		e.board(t, "w1")
		e.board(t, "w2")
		for range 2 {
			r := e.call(t, http.MethodPost, "/v5/boards", aliceToken, map[string]any{"name": "w3"})
			if code, _ := r.apiError(t); r.code != http.StatusTooManyRequests || code != 8 {
				t.Fatalf("third write: %d code %d", r.code, code)
			}
		}
		e.must(t, http.StatusOK, http.MethodGet, "/v5/boards", aliceToken, nil, nil)
		e.must(t, http.StatusCreated, http.MethodPost, "/v5/boards", bobToken, map[string]any{"name": "bob's"}, nil)
		mu.Lock()
		now = now.Add(time.Minute)
		mu.Unlock()
		e.board(t, "w3")
		e.must(t, http.StatusOK, http.MethodGet, "/v5/boards", aliceToken, nil, nil)
		e.must(t, http.StatusOK, http.MethodGet, "/v5/boards", aliceToken, nil, nil) // the 6th counted call
		if r := e.call(t, http.MethodGet, "/v5/boards", aliceToken, nil); r.code != http.StatusTooManyRequests {
			t.Fatalf("7th call of the hour: %d, want 429", r.code)
		}
		st := e.sim.Stats()
		if st.RateLimited != 3 || st.Calls["boards/create"] != 4 || st.Calls["boards/list"] != 3 {
			t.Fatalf("stats %+v", st)
		}
	})

	t.Run("stats are served as JSON", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, spec, nil)
		e.check.requestsUnchecked = true // one call goes without a token
		boardID := e.board(t, "Counted")
		e.userPin(t, boardID, "Counted", mediaBase+"c.png")
		e.call(t, http.MethodGet, "/v5/boards", "", nil)
		r := e.call(t, http.MethodGet, "/_sandbox/stats", "", nil)
		var raw struct {
			Requests    int64            `json:"requests"`
			RateLimited int64            `json:"rate_limited"`
			Calls       map[string]int64 `json:"calls"`
		}
		if err := json.Unmarshal(r.body, &raw); err != nil || r.code != http.StatusOK {
			t.Fatalf("stats answer %d %s: %v", r.code, r.body, err)
		}
		if raw.Requests != 3 || raw.Calls["boards/create"] != 1 || raw.Calls["pins/create"] != 1 || raw.Calls["boards/list"] != 0 {
			t.Fatalf("stats = %+v", raw)
		}
	})
}

// boardsBookmark is a valid bookmark of alice's board list.
func boardsBookmark(t *testing.T, e *env) string {
	t.Helper()
	e.board(t, "b1")
	e.board(t, "b2")
	var page struct {
		Bookmark *string `json:"bookmark"`
	}
	e.must(t, http.StatusOK, http.MethodGet, "/v5/boards?page_size=1", aliceToken, nil, &page)
	if page.Bookmark == nil {
		t.Fatal("no bookmark with more boards than the page")
	}
	return *page.Bookmark
}
