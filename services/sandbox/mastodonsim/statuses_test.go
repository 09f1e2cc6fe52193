package mastodonsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCreateStatus(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	long := strings.Repeat("a", 470) + " https://example.com/" + strings.Repeat("p", 200)

	tests := []struct {
		name      string
		token     string
		values    func(t *testing.T) url.Values
		wantCode  int
		wantError string
		check     func(t *testing.T, st Status)
	}{
		{
			name: "text only", token: aliceToken,
			values:   func(*testing.T) url.Values { return url.Values{"status": {"Hello world"}} },
			wantCode: 200,
			check: func(t *testing.T, st Status) {
				if st.Content != "<p>Hello world</p>" || st.Visibility != "public" || st.Account.ID != in.alice.ID {
					t.Fatalf("got content %q visibility %q account %q", st.Content, st.Visibility, st.Account.ID)
				}
				if st.EditedAt != nil || st.Language == nil || *st.Language != "en" {
					t.Fatalf("edited_at %v language %v, want null and en", st.EditedAt, st.Language)
				}
				if st.URL == nil || *st.URL != in.base+"/@alice/"+st.ID || st.URI != in.base+"/users/alice/statuses/"+st.ID {
					t.Fatalf("url %v uri %q", st.URL, st.URI)
				}
				if _, err := time.Parse(time.RFC3339, st.CreatedAt); err != nil {
					t.Fatalf("created_at %q: %v", st.CreatedAt, err)
				}
			},
		},
		{
			name: "media only, in the order given", token: aliceToken,
			values: func(t *testing.T) url.Values {
				a, b := in.upload(t, aliceToken, 4, 4, "one"), in.upload(t, aliceToken, 6, 6, "two")
				return url.Values{"media_ids[]": {b.ID, a.ID}, "visibility": {"unlisted"}, "sensitive": {"true"}, "language": {"de"}}
			},
			wantCode: 200,
			check: func(t *testing.T, st Status) {
				if st.Content != "" || len(st.MediaAttachments) != 2 || *st.MediaAttachments[0].Description != "two" {
					t.Fatalf("content %q media %+v, want empty content and [two one]", st.Content, st.MediaAttachments)
				}
				if st.Visibility != "unlisted" || !st.Sensitive || *st.Language != "de" {
					t.Fatalf("visibility %q sensitive %v language %q", st.Visibility, st.Sensitive, *st.Language)
				}
			},
		},
		{
			name: "spoiler marks it sensitive", token: aliceToken,
			values:   func(*testing.T) url.Values { return url.Values{"status": {"body"}, "spoiler_text": {"cw"}} },
			wantCode: 200,
			check: func(t *testing.T, st Status) {
				if !st.Sensitive || st.SpoilerText != "cw" {
					t.Fatalf("sensitive %v spoiler %q, want true and cw", st.Sensitive, st.SpoilerText)
				}
			},
		},
		{
			name: "exactly 500 characters", token: aliceToken,
			values:   func(*testing.T) url.Values { return url.Values{"status": {strings.Repeat("é", 500)}} },
			wantCode: 200,
		},
		{
			name: "a URL counts as 23 characters", token: aliceToken,
			values:   func(*testing.T) url.Values { return url.Values{"status": {long}} },
			wantCode: 200,
		},
		{
			name: "no token", values: func(*testing.T) url.Values { return url.Values{"status": {"x"}} },
			wantCode: 401, wantError: "The access token is invalid",
		},
		{
			name: "blank text without media", token: aliceToken,
			values:   func(*testing.T) url.Values { return url.Values{"status": {"   "}} },
			wantCode: 422, wantError: "Validation failed: Text can't be blank",
		},
		{
			name: "501 characters", token: aliceToken,
			values:   func(*testing.T) url.Values { return url.Values{"status": {strings.Repeat("x", 501)}} },
			wantCode: 422, wantError: "Validation failed: Text character limit of 500 exceeded",
		},
		{
			name: "five media", token: aliceToken,
			values: func(t *testing.T) url.Values {
				v := url.Values{}
				for range 5 {
					v.Add("media_ids[]", in.upload(t, aliceToken, 2, 2, "").ID)
				}
				return v
			},
			wantCode: 422, wantError: "Cannot attach more than 4 files",
		},
		{
			name: "another account's media", token: aliceToken,
			values: func(t *testing.T) url.Values {
				m := in.upload(t, bobToken, 2, 2, "")
				return url.Values{"status": {"x"}, "media_ids[]": {m.ID}}
			},
			wantCode: 422, wantError: "not found or already attached to another post",
		},
		{
			name: "media already attached", token: aliceToken,
			values: func(t *testing.T) url.Values {
				m := in.upload(t, aliceToken, 2, 2, "")
				in.post(t, aliceToken, url.Values{"media_ids[]": {m.ID}})
				return url.Values{"status": {"again"}, "media_ids[]": {m.ID}}
			},
			wantCode: 422, wantError: "not found or already attached to another post",
		},
		{
			name: "unknown visibility", token: aliceToken,
			values:   func(*testing.T) url.Values { return url.Values{"status": {"x"}, "visibility": {"everyone"}} },
			wantCode: 422, wantError: "Validation failed: Visibility is not included in the list",
		},
		{
			name: "reply to a missing status", token: aliceToken,
			values:   func(*testing.T) url.Values { return url.Values{"status": {"x"}, "in_reply_to_id": {"999"}} },
			wantCode: 404, wantError: "The post you are trying to reply to does not appear to exist.",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := in.form(t, http.MethodPost, "/api/v1/statuses", tc.token, tc.values(t), nil)
			if r.code != tc.wantCode {
				t.Fatalf("status %d, want %d; body %s", r.code, tc.wantCode, r.body)
			}
			if tc.wantCode != 200 {
				if got := r.errorText(t); !strings.Contains(got, tc.wantError) {
					t.Fatalf("error %q, want it to contain %q", got, tc.wantError)
				}
				return
			}
			st := decode[Status](t, r)
			if _, err := strconv.ParseUint(st.ID, 10, 64); err != nil {
				t.Fatalf("id %q is not numeric", st.ID)
			}
			if tc.check != nil {
				tc.check(t, st)
			}
		})
	}
}

func TestCreateStatusRejectedWritesNothing(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	m := in.upload(t, aliceToken, 2, 2, "")
	r := in.form(t, http.MethodPost, "/api/v1/statuses", aliceToken,
		url.Values{"status": {strings.Repeat("x", 501)}, "media_ids[]": {m.ID}}, nil)
	if r.code != 422 {
		t.Fatalf("status %d, want 422", r.code)
	}
	if n := in.srv.Stats().StatusesCreated; n != 0 {
		t.Fatalf("StatusesCreated = %d after a rejected post", n)
	}
	// The media stayed unattached, so it can still be posted.
	st := in.post(t, aliceToken, url.Values{"media_ids[]": {m.ID}})
	if !slices.Equal(mediaIDs(st), []string{m.ID}) {
		t.Fatalf("media %v, want [%s]", mediaIDs(st), m.ID)
	}
}

func TestCreateStatusBodies(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	tests := []struct {
		name string
		send func(t *testing.T, a, b string) reply
	}{
		{name: "json", send: func(t *testing.T, a, b string) reply {
			return in.sendJSON(t, http.MethodPost, "/api/v1/statuses", aliceToken,
				map[string]any{"status": "via json", "media_ids": []string{a, b}, "sensitive": true})
		}},
		{name: "multipart", send: func(t *testing.T, a, b string) reply {
			// Repeated fields in a fixed order, so the body is written out.
			raw := "--X\r\nContent-Disposition: form-data; name=\"status\"\r\n\r\nvia multipart\r\n" +
				"--X\r\nContent-Disposition: form-data; name=\"media_ids[]\"\r\n\r\n" + a + "\r\n" +
				"--X\r\nContent-Disposition: form-data; name=\"media_ids[]\"\r\n\r\n" + b + "\r\n" +
				"--X\r\nContent-Disposition: form-data; name=\"sensitive\"\r\n\r\ntrue\r\n--X--\r\n"
			return in.request(t, http.MethodPost, "/api/v1/statuses", aliceToken, "multipart/form-data; boundary=X", strings.NewReader(raw), nil)
		}},
		{name: "plain media_ids", send: func(t *testing.T, a, b string) reply {
			return in.form(t, http.MethodPost, "/api/v1/statuses", aliceToken,
				url.Values{"status": {"plain"}, "media_ids": {a, b}, "sensitive": {"true"}}, nil)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, b := in.upload(t, aliceToken, 3, 3, ""), in.upload(t, aliceToken, 5, 5, "")
			st := decode[Status](t, tc.send(t, a.ID, b.ID))
			if !slices.Equal(mediaIDs(st), []string{a.ID, b.ID}) || !st.Sensitive {
				t.Fatalf("media %v sensitive %v, want [%s %s] and true", mediaIDs(st), st.Sensitive, a.ID, b.ID)
			}
		})
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	in := startInstance(t, WithClock(clock.Now))
	create := func(token, key, text string) Status {
		return decode[Status](t, in.form(t, http.MethodPost, "/api/v1/statuses", token,
			url.Values{"status": {text}}, map[string]string{"Idempotency-Key": key}))
	}

	first := create(aliceToken, "k1", "first")
	replay := create(aliceToken, "k1", "a different text is ignored")
	if replay.ID != first.ID || replay.Content != "<p>first</p>" {
		t.Fatalf("replay id %s content %q, want %s and the first content", replay.ID, replay.Content, first.ID)
	}
	if got := in.srv.Stats().StatusesCreated; got != 1 {
		t.Fatalf("StatusesCreated = %d after a replay, want 1", got)
	}
	if other := create(bobToken, "k1", "bob's"); other.ID == first.ID {
		t.Fatal("the same key from another account returned alice's status")
	}
	if fresh := create(aliceToken, "k2", "second"); fresh.ID == first.ID {
		t.Fatal("a new key returned the old status")
	}
	clock.Advance(time.Hour)
	if late := create(aliceToken, "k1", "after an hour"); late.ID == first.ID {
		t.Fatal("a key older than an hour still replayed")
	}
	if got := in.srv.Stats().StatusesCreated; got != 4 {
		t.Fatalf("StatusesCreated = %d, want 4", got)
	}
	if n := len(in.srv.Statuses(in.alice.ID)); n != 3 {
		t.Fatalf("alice has %d statuses, want 3", n)
	}
}

func TestIdempotencyKeyOfDeletedStatus(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	hdr := map[string]string{"Idempotency-Key": "gone"}
	st := decode[Status](t, in.form(t, http.MethodPost, "/api/v1/statuses", aliceToken, url.Values{"status": {"x"}}, hdr))
	in.request(t, http.MethodDelete, "/api/v1/statuses/"+st.ID, aliceToken, "", nil, nil)
	r := in.form(t, http.MethodPost, "/api/v1/statuses", aliceToken, url.Values{"status": {"x"}}, hdr)
	if r.code != 404 {
		t.Fatalf("replay of a deleted status: status %d, want 404", r.code)
	}
}

func TestStatusIDsIncrease(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	in := startInstance(t, WithClock(clock.Now))
	var last uint64
	for i := range 5 {
		st := in.postText(t, aliceToken, "n"+strconv.Itoa(i))
		id, err := strconv.ParseUint(st.ID, 10, 64)
		if err != nil || id <= last {
			t.Fatalf("id %s after %d: want a larger number", st.ID, last)
		}
		last = id
	}
}

func TestGetStatus(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	public := in.postText(t, aliceToken, "public")
	private := in.post(t, aliceToken, url.Values{"status": {"private"}, "visibility": {"private"}})

	tests := []struct {
		name     string
		id       string
		token    string
		wantCode int
	}{
		{name: "own", id: public.ID, token: aliceToken, wantCode: 200},
		{name: "public, anonymous", id: public.ID, wantCode: 200},
		{name: "public, another account", id: public.ID, token: bobToken, wantCode: 200},
		{name: "private, author", id: private.ID, token: aliceToken, wantCode: 200},
		{name: "private, another account", id: private.ID, token: bobToken, wantCode: 404},
		{name: "private, anonymous", id: private.ID, wantCode: 404},
		{name: "invalid token", id: public.ID, token: "bad", wantCode: 401},
		{name: "missing", id: "424242", token: aliceToken, wantCode: 404},
		{name: "not a number", id: "abc", token: aliceToken, wantCode: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := in.get(t, "/api/v1/statuses/"+tc.id, tc.token)
			if r.code != tc.wantCode {
				t.Fatalf("status %d, want %d; body %s", r.code, tc.wantCode, r.body)
			}
			if tc.wantCode == 404 && r.errorText(t) != "Record not found" {
				t.Fatalf("error %q, want Record not found", r.errorText(t))
			}
			if tc.wantCode == 200 {
				if st := decode[Status](t, r); st.ID != tc.id {
					t.Fatalf("id %s, want %s", st.ID, tc.id)
				}
			}
		})
	}
}

func TestDeleteStatus(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	del := func(id, token, query string) reply {
		return in.request(t, http.MethodDelete, "/api/v1/statuses/"+id+query, token, "", nil, nil)
	}

	t.Run("returns the source and frees the media", func(t *testing.T) {
		t.Parallel()
		m := in.upload(t, aliceToken, 2, 2, "")
		st := in.post(t, aliceToken, url.Values{"status": {"bye #now"}, "media_ids[]": {m.ID}})
		r := del(st.ID, aliceToken, "")
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(decodeBody(t, r), &raw); err != nil {
			t.Fatal(err)
		}
		if _, has := raw["content"]; has {
			t.Fatal("delete response has content, want text instead")
		}
		got := decode[Status](t, r)
		if got.Text == nil || *got.Text != "bye #now" || !slices.Equal(mediaIDs(got), []string{m.ID}) {
			t.Fatalf("text %v media %v, want the source text and the media", got.Text, mediaIDs(got))
		}
		if r := in.get(t, "/api/v1/statuses/"+st.ID, aliceToken); r.code != 404 {
			t.Fatalf("GET after delete: %d, want 404", r.code)
		}
		if r := del(st.ID, aliceToken, ""); r.code != 404 || r.errorText(t) != "Record not found" {
			t.Fatalf("second delete: %d %s, want 404", r.code, r.body)
		}
		again := in.post(t, aliceToken, url.Values{"media_ids[]": {m.ID}})
		if !slices.Equal(mediaIDs(again), []string{m.ID}) {
			t.Fatal("media of a deleted status could not be reused")
		}
	})
	t.Run("delete_media removes the files", func(t *testing.T) {
		t.Parallel()
		m := in.upload(t, aliceToken, 2, 2, "")
		st := in.post(t, aliceToken, url.Values{"media_ids[]": {m.ID}})
		if r := del(st.ID, aliceToken, "?delete_media=true"); r.code != 200 {
			t.Fatalf("delete: %d", r.code)
		}
		if r := in.get(t, *m.URL, ""); r.code != 404 {
			t.Fatalf("file after delete_media: %d, want 404", r.code)
		}
		r := in.form(t, http.MethodPost, "/api/v1/statuses", aliceToken, url.Values{"media_ids[]": {m.ID}}, nil)
		if r.code != 422 {
			t.Fatalf("reuse after delete_media: %d, want 422", r.code)
		}
	})
	t.Run("another account's status", func(t *testing.T) {
		t.Parallel()
		st := in.postText(t, aliceToken, "mine")
		if r := del(st.ID, bobToken, ""); r.code != 404 {
			t.Fatalf("status %d, want 404", r.code)
		}
		if r := in.get(t, "/api/v1/statuses/"+st.ID, aliceToken); r.code != 200 {
			t.Fatalf("status gone after a refused delete: %d", r.code)
		}
	})
	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		if r := del("777", aliceToken, ""); r.code != 404 {
			t.Fatalf("status %d, want 404", r.code)
		}
	})
}

func TestDeleteCounts(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	st := in.postText(t, aliceToken, "x")
	in.request(t, http.MethodDelete, "/api/v1/statuses/"+st.ID, aliceToken, "", nil, nil)
	in.request(t, http.MethodDelete, "/api/v1/statuses/"+st.ID, aliceToken, "", nil, nil)
	if got := in.srv.Stats(); got.StatusesDeleted != 1 || got.StatusesCreated != 1 {
		t.Fatalf("stats %+v, want one create and one delete", got)
	}
	if n := len(in.srv.Statuses(in.alice.ID)); n != 0 {
		t.Fatalf("%d statuses left, want 0", n)
	}
}

// decodeBody returns the body of a 200 response.
func decodeBody(t *testing.T, r reply) []byte {
	t.Helper()
	if r.code != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", r.code, r.body)
	}
	return r.body
}
