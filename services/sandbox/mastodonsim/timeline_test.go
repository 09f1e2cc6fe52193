package mastodonsim

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// linkPattern reads one entry of a Link header.
var linkPattern = regexp.MustCompile(`<([^>]+)>;\s*rel="([a-z]+)"`)

// links parses a Link header into rel -> URL.
func links(t *testing.T, header string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range linkPattern.FindAllStringSubmatch(header, -1) {
		out[m[2]] = m[1]
	}
	return out
}

func numeric(t *testing.T, id string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		t.Fatalf("id %q is not numeric", id)
	}
	return n
}

func TestAccountStatusesPaging(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	var created []string // oldest first
	for i := range 100 {
		created = append(created, in.postText(t, aliceToken, "post "+strconv.Itoa(i)).ID)
	}
	newestFirst := slices.Clone(created)
	slices.Reverse(newestFirst)
	path := "/api/v1/accounts/" + in.alice.ID + "/statuses"

	t.Run("next links visit each status once, newest first", func(t *testing.T) {
		t.Parallel()
		var seen []string
		next := in.base + path + "?limit=7"
		for pages := 0; next != ""; pages++ {
			if pages > 20 {
				t.Fatal("paging does not end")
			}
			r := in.get(t, next, aliceToken)
			page := decode[[]Status](t, r)
			if len(page) > 7 {
				t.Fatalf("page of %d, limit was 7", len(page))
			}
			seen = append(seen, ids(page)...)
			l := links(t, r.header.Get("Link"))
			if l["next"] != "" && !strings.Contains(l["next"], "limit=7") {
				t.Fatalf("next link %q does not keep the limit", l["next"])
			}
			if len(page) > 0 && !strings.HasPrefix(l["next"]+l["prev"], in.base+path+"?") {
				t.Fatalf("links %v are not built from the base URL %s", l, in.base)
			}
			next = l["next"]
		}
		if !slices.Equal(seen, newestFirst) {
			t.Fatalf("paging saw %d statuses (first %v), want all 100 newest first", len(seen), seen[:min(3, len(seen))])
		}
	})
	t.Run("default and maximum page size", func(t *testing.T) {
		t.Parallel()
		if page := decode[[]Status](t, in.get(t, path, aliceToken)); !slices.Equal(ids(page), newestFirst[:20]) {
			t.Fatalf("default page %v, want the newest 20", ids(page))
		}
		if page := decode[[]Status](t, in.get(t, path+"?limit=1000", aliceToken)); len(page) != 40 {
			t.Fatalf("limit=1000 gave %d, want 40", len(page))
		}
	})
	t.Run("min_id returns the statuses immediately newer", func(t *testing.T) {
		t.Parallel()
		page := decode[[]Status](t, in.get(t, path+"?limit=5&min_id="+created[10], aliceToken))
		want := []string{created[15], created[14], created[13], created[12], created[11]}
		if !slices.Equal(ids(page), want) {
			t.Fatalf("min_id page %v, want %v", ids(page), want)
		}
	})
	t.Run("since_id returns the newest above it", func(t *testing.T) {
		t.Parallel()
		page := decode[[]Status](t, in.get(t, path+"?limit=5&since_id="+created[10], aliceToken))
		if !slices.Equal(ids(page), newestFirst[:5]) {
			t.Fatalf("since_id page %v, want %v", ids(page), newestFirst[:5])
		}
	})
	t.Run("max_id and min_id together bound both ends", func(t *testing.T) {
		t.Parallel()
		page := decode[[]Status](t, in.get(t, path+"?min_id="+created[3]+"&max_id="+created[7], aliceToken))
		want := []string{created[6], created[5], created[4]}
		if !slices.Equal(ids(page), want) {
			t.Fatalf("page %v, want %v", ids(page), want)
		}
	})
	t.Run("prev link walks back to newer statuses", func(t *testing.T) {
		t.Parallel()
		r := in.get(t, path+"?limit=10&max_id="+created[50], aliceToken)
		page := decode[[]Status](t, r)
		prev := links(t, r.header.Get("Link"))["prev"]
		if !strings.Contains(prev, "min_id="+page[0].ID) {
			t.Fatalf("prev link %q, want min_id=%s", prev, page[0].ID)
		}
		newer := decode[[]Status](t, in.get(t, prev, aliceToken))
		want := slices.Clone(created[50:60])
		slices.Reverse(want)
		if !slices.Equal(ids(newer), want) {
			t.Fatalf("prev page %v, want %v", ids(newer), want)
		}
		for i := 1; i < len(newer); i++ {
			if numeric(t, newer[i].ID) >= numeric(t, newer[i-1].ID) {
				t.Fatal("prev page is not newest first")
			}
		}
	})
	t.Run("past the end", func(t *testing.T) {
		t.Parallel()
		r := in.get(t, path+"?max_id="+created[0], aliceToken)
		if page := decode[[]Status](t, r); len(page) != 0 || r.header.Get("Link") != "" {
			t.Fatalf("page %v Link %q, want empty and no Link", ids(page), r.header.Get("Link"))
		}
	})
}

func TestAccountStatusesFilters(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	sunset := in.postText(t, aliceToken, "Evening #Sunset over the bay")
	plain := in.postText(t, aliceToken, "no tags here")
	media := in.upload(t, aliceToken, 2, 2, "")
	withMedia := in.post(t, aliceToken, url.Values{"status": {"#sunset again"}, "media_ids[]": {media.ID}})
	bobs := in.postText(t, bobToken, "bob's post")
	replyToBob := in.post(t, aliceToken, url.Values{"status": {"@bob nice"}, "in_reply_to_id": {bobs.ID}})
	selfReply := in.post(t, aliceToken, url.Values{"status": {"thread #Sunset"}, "in_reply_to_id": {sunset.ID}})
	private := in.post(t, aliceToken, url.Values{"status": {"secret #sunset"}, "visibility": {"private"}})
	path := "/api/v1/accounts/" + in.alice.ID + "/statuses"

	tests := []struct {
		name  string
		query string
		token string
		want  []string
	}{
		{name: "tagged", query: "?tagged=sunset", token: aliceToken, want: []string{private.ID, selfReply.ID, withMedia.ID, sunset.ID}},
		{name: "tagged ignores case", query: "?tagged=SUNSET", token: aliceToken, want: []string{private.ID, selfReply.ID, withMedia.ID, sunset.ID}},
		{name: "tagged with the hash sign", query: "?tagged=%23Sunset", token: aliceToken, want: []string{private.ID, selfReply.ID, withMedia.ID, sunset.ID}},
		{name: "tagged unknown", query: "?tagged=sunrise", token: aliceToken, want: []string{}},
		{name: "only_media", query: "?only_media=true", token: aliceToken, want: []string{withMedia.ID}},
		{name: "exclude_replies keeps self-replies", query: "?exclude_replies=true&tagged=sunset", token: aliceToken,
			want: []string{private.ID, selfReply.ID, withMedia.ID, sunset.ID}},
		{name: "exclude_replies drops replies to others", query: "?exclude_replies=1", token: aliceToken,
			want: []string{private.ID, selfReply.ID, withMedia.ID, plain.ID, sunset.ID}},
		{name: "anonymous sees no private statuses", query: "?tagged=sunset", want: []string{selfReply.ID, withMedia.ID, sunset.ID}},
		{name: "other accounts see no private statuses", query: "?only_media=false&tagged=sunset", token: bobToken,
			want: []string{selfReply.ID, withMedia.ID, sunset.ID}},
		{name: "all of them", query: "", token: aliceToken,
			want: []string{private.ID, selfReply.ID, replyToBob.ID, withMedia.ID, plain.ID, sunset.ID}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			page := decode[[]Status](t, in.get(t, path+tc.query, tc.token))
			if !slices.Equal(ids(page), tc.want) {
				t.Fatalf("got %v, want %v", ids(page), tc.want)
			}
		})
	}

	t.Run("links keep the filters", func(t *testing.T) {
		t.Parallel()
		r := in.get(t, path+"?tagged=sunset&limit=2", aliceToken)
		next := links(t, r.header.Get("Link"))["next"]
		if !strings.Contains(next, "tagged=sunset") {
			t.Fatalf("next link %q lost the tag filter", next)
		}
		rest := decode[[]Status](t, in.get(t, next, aliceToken))
		if !slices.Equal(ids(rest), []string{withMedia.ID, sunset.ID}) {
			t.Fatalf("second page %v", ids(rest))
		}
	})
	t.Run("unknown account", func(t *testing.T) {
		t.Parallel()
		if r := in.get(t, "/api/v1/accounts/999/statuses", aliceToken); r.code != 404 || r.errorText(t) != "Record not found" {
			t.Fatalf("status %d body %s, want 404", r.code, r.body)
		}
	})
	t.Run("tags listed lower-case with URLs", func(t *testing.T) {
		t.Parallel()
		st := decode[Status](t, in.get(t, "/api/v1/statuses/"+sunset.ID, aliceToken))
		if len(st.Tags) != 1 || st.Tags[0] != (Tag{Name: "sunset", URL: in.base + "/tags/sunset"}) {
			t.Fatalf("tags %+v", st.Tags)
		}
	})
}

func TestVerifyCredentials(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	tests := []struct {
		name     string
		header   string
		wantCode int
		wantUser string
	}{
		{name: "valid", header: "Bearer " + aliceToken, wantCode: 200, wantUser: "alice"},
		{name: "lower-case scheme", header: "bearer " + bobToken, wantCode: 200, wantUser: "bob"},
		{name: "missing", wantCode: 401},
		{name: "unknown token", header: "Bearer nope", wantCode: 401},
		{name: "basic auth", header: "Basic YWxpY2U6eA==", wantCode: 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hdr := map[string]string{}
			if tc.header != "" {
				hdr["Authorization"] = tc.header
			}
			r := in.request(t, "GET", "/api/v1/accounts/verify_credentials", "", "", nil, hdr)
			if r.code != tc.wantCode {
				t.Fatalf("status %d, want %d", r.code, tc.wantCode)
			}
			if tc.wantCode == 401 {
				if r.errorText(t) != "The access token is invalid" {
					t.Fatalf("error %q", r.errorText(t))
				}
				return
			}
			acc := decode[Account](t, r)
			if acc.Username != tc.wantUser || acc.Acct != tc.wantUser || acc.Source == nil || acc.URL != in.base+"/@"+tc.wantUser {
				t.Fatalf("account %+v, want %s with source", acc, tc.wantUser)
			}
		})
	}
}
