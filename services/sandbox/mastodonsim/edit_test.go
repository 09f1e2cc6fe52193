package mastodonsim

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEditStatusHistory(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	in := startInstance(t, WithClock(clock.Now))
	st := in.postText(t, aliceToken, "version one")
	edit := func(text string) Status {
		clock.Advance(time.Minute)
		return decode[Status](t, in.form(t, http.MethodPut, "/api/v1/statuses/"+st.ID, aliceToken, url.Values{"status": {text}}, nil))
	}
	history := func() []StatusEdit {
		return decode[[]StatusEdit](t, in.get(t, "/api/v1/statuses/"+st.ID+"/history", aliceToken))
	}

	if h := history(); len(h) != 1 || h[0].Content != "<p>version one</p>" || h[0].CreatedAt != st.CreatedAt {
		t.Fatalf("history before any edit: %+v, want the one original version", h)
	}
	second := edit("version two")
	if second.ID != st.ID || second.EditedAt == nil || second.Content != "<p>version two</p>" {
		t.Fatalf("after edit: id %s edited_at %v content %q", second.ID, second.EditedAt, second.Content)
	}
	edited1, err := time.Parse(time.RFC3339, *second.EditedAt)
	if err != nil || !edited1.Equal(clock.Now()) {
		t.Fatalf("edited_at %q, want %v", *second.EditedAt, clock.Now())
	}
	third := edit("version three")
	unchanged := edit("version three")
	if *unchanged.EditedAt != *third.EditedAt {
		t.Fatalf("an edit that changed nothing moved edited_at from %s to %s", *third.EditedAt, *unchanged.EditedAt)
	}

	h := history()
	var contents []string
	for _, e := range h {
		contents = append(contents, e.Content)
	}
	want := []string{"<p>version one</p>", "<p>version two</p>", "<p>version three</p>"}
	if !slices.Equal(contents, want) {
		t.Fatalf("history %v, want %v (oldest first, no entry for the empty edit)", contents, want)
	}
	if h[0].CreatedAt != st.CreatedAt || h[2].CreatedAt != *third.EditedAt {
		t.Fatalf("history times %s..%s, want %s..%s", h[0].CreatedAt, h[2].CreatedAt, st.CreatedAt, *third.EditedAt)
	}
	if got := in.srv.Stats().StatusesEdited; got != 3 {
		t.Fatalf("StatusesEdited = %d, want 3 accepted edit requests", got)
	}
	if got := in.srv.Stats().StatusesCreated; got != 1 {
		t.Fatalf("StatusesCreated = %d, want 1", got)
	}
}

func TestEditStatusMedia(t *testing.T) {
	t.Parallel()
	in := startInstance(t)

	t.Run("reorder and caption with form media_attributes", func(t *testing.T) {
		t.Parallel()
		a, b := in.upload(t, aliceToken, 2, 2, "a"), in.upload(t, aliceToken, 3, 3, "b")
		st := in.post(t, aliceToken, url.Values{"status": {"album"}, "media_ids[]": {a.ID, b.ID}})
		body := "status=album&media_ids[]=" + b.ID + "&media_ids[]=" + a.ID +
			"&media_attributes[][id]=" + a.ID + "&media_attributes[][description]=new+a" +
			"&media_attributes[][id]=" + b.ID + "&media_attributes[][focus]=0.5,0.5"
		got := decode[Status](t, in.request(t, http.MethodPut, "/api/v1/statuses/"+st.ID, aliceToken,
			"application/x-www-form-urlencoded", strings.NewReader(body), nil))
		if !slices.Equal(mediaIDs(got), []string{b.ID, a.ID}) {
			t.Fatalf("media %v, want [%s %s]", mediaIDs(got), b.ID, a.ID)
		}
		if d := got.MediaAttachments[1].Description; d == nil || *d != "new a" {
			t.Fatalf("description of %s = %v, want new a", a.ID, d)
		}
		if d := got.MediaAttachments[0].Description; d == nil || *d != "b" {
			t.Fatalf("description of %s = %v, want b unchanged", b.ID, d)
		}
		if f := got.MediaAttachments[0].Meta.Focus; f == nil || *f != (Focus{X: 0.5, Y: 0.5}) {
			t.Fatalf("focus of %s = %+v, want 0.5,0.5", b.ID, f)
		}
		h := decode[[]StatusEdit](t, in.get(t, "/api/v1/statuses/"+st.ID+"/history", aliceToken))
		if len(h) != 2 || *h[0].MediaAttachments[0].Description != "a" || *h[1].MediaAttachments[1].Description != "new a" {
			t.Fatalf("history does not keep each version's captions: %+v", h)
		}
	})
	t.Run("caption with JSON media_attributes", func(t *testing.T) {
		t.Parallel()
		a := in.upload(t, aliceToken, 2, 2, "old")
		st := in.post(t, aliceToken, url.Values{"status": {"one"}, "media_ids[]": {a.ID}})
		got := decode[Status](t, in.sendJSON(t, http.MethodPut, "/api/v1/statuses/"+st.ID, aliceToken, map[string]any{
			"status":           "one",
			"media_ids":        []string{a.ID},
			"media_attributes": []map[string]string{{"id": a.ID, "description": "fresh"}},
		}))
		if d := got.MediaAttachments[0].Description; d == nil || *d != "fresh" || got.EditedAt == nil {
			t.Fatalf("description %v edited_at %v, want fresh and set", d, got.EditedAt)
		}
	})
	t.Run("add new media", func(t *testing.T) {
		t.Parallel()
		a, b := in.upload(t, aliceToken, 2, 2, ""), in.upload(t, aliceToken, 2, 2, "")
		st := in.post(t, aliceToken, url.Values{"status": {"grow"}, "media_ids[]": {a.ID}})
		got := decode[Status](t, in.form(t, http.MethodPut, "/api/v1/statuses/"+st.ID, aliceToken,
			url.Values{"status": {"grow"}, "media_ids[]": {a.ID, b.ID}}, nil))
		if !slices.Equal(mediaIDs(got), []string{a.ID, b.ID}) {
			t.Fatalf("media %v, want [%s %s]", mediaIDs(got), a.ID, b.ID)
		}
	})
	t.Run("omitting media_ids removes the media", func(t *testing.T) {
		t.Parallel()
		a := in.upload(t, aliceToken, 2, 2, "")
		st := in.post(t, aliceToken, url.Values{"status": {"text stays"}, "media_ids[]": {a.ID}})
		got := decode[Status](t, in.form(t, http.MethodPut, "/api/v1/statuses/"+st.ID, aliceToken,
			url.Values{"status": {"text stays"}}, nil))
		if len(got.MediaAttachments) != 0 {
			t.Fatalf("media %v, want none", mediaIDs(got))
		}
	})
}

func TestEditStatusErrors(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	tests := []struct {
		name      string
		token     string
		values    func(t *testing.T) url.Values
		wantCode  int
		wantError string
	}{
		{name: "another account's status", token: bobToken,
			values: func(*testing.T) url.Values { return url.Values{"status": {"hijack"}} }, wantCode: 404, wantError: "Record not found"},
		{name: "no token",
			values: func(*testing.T) url.Values { return url.Values{"status": {"x"}} }, wantCode: 401, wantError: "The access token is invalid"},
		{name: "blank text and no media", token: aliceToken,
			values: func(*testing.T) url.Values { return url.Values{"status": {""}} }, wantCode: 422, wantError: "Validation failed: Text can't be blank"},
		{name: "too long", token: aliceToken,
			values: func(*testing.T) url.Values { return url.Values{"status": {strings.Repeat("y", 501)}} }, wantCode: 422},
		{name: "another account's media", token: aliceToken,
			values: func(t *testing.T) url.Values {
				return url.Values{"status": {"x"}, "media_ids[]": {in.upload(t, bobToken, 2, 2, "").ID}}
			}, wantCode: 422},
		{name: "five media", token: aliceToken,
			values: func(t *testing.T) url.Values {
				v := url.Values{"status": {"x"}}
				for range 5 {
					v.Add("media_ids[]", in.upload(t, aliceToken, 2, 2, "").ID)
				}
				return v
			}, wantCode: 422, wantError: "Cannot attach more than 4 files"},
		{name: "malformed focus", token: aliceToken,
			values: func(t *testing.T) url.Values {
				m := in.upload(t, aliceToken, 2, 2, "")
				return url.Values{"status": {"x"}, "media_ids[]": {m.ID}, "media_attributes[][id]": {m.ID}, "media_attributes[][focus]": {"9,9"}}
			}, wantCode: 422, wantError: "Validation failed: Focus is invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := in.postText(t, aliceToken, "original")
			r := in.form(t, http.MethodPut, "/api/v1/statuses/"+st.ID, tc.token, tc.values(t), nil)
			if r.code != tc.wantCode {
				t.Fatalf("status %d, want %d; body %s", r.code, tc.wantCode, r.body)
			}
			if tc.wantError != "" && r.errorText(t) != tc.wantError {
				t.Fatalf("error %q, want %q", r.errorText(t), tc.wantError)
			}
			after := decode[Status](t, in.get(t, "/api/v1/statuses/"+st.ID, aliceToken))
			if after.Content != "<p>original</p>" || after.EditedAt != nil {
				t.Fatalf("a refused edit changed the status: %q edited_at %v", after.Content, after.EditedAt)
			}
		})
	}
}

func TestEditMissingStatus(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	r := in.form(t, http.MethodPut, "/api/v1/statuses/31337", aliceToken, url.Values{"status": {"x"}}, nil)
	if r.code != 404 {
		t.Fatalf("status %d, want 404", r.code)
	}
	if got := in.srv.Stats().StatusesEdited; got != 0 {
		t.Fatalf("StatusesEdited = %d after a failed edit", got)
	}
}
