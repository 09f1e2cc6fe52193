package atprotosim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"gallerysync.dev/libs/testkit"
	"gallerysync.dev/services/sandbox/atprotosim"
)

// target is one server under comparison, with an account on it.
type target struct {
	name, base, did, handle, password string
	access, refresh, photoCID         string
}

// answer is what a server answered to one request.
type answer struct {
	status int
	header http.Header
	body   []byte
	json   any
}

func (tg *target) do(t *testing.T, method, nsid string, query url.Values, body any, token, contentType string) answer {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
		contentType = "application/json"
	}
	u := tg.base + "/xrpc/" + nsid
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", tg.name, nsid, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, body: data}
	_ = json.Unmarshal(data, &a.json)
	return a
}

// shape is the structure of a JSON value: object keys (sorted) with their
// shapes, the shape of an array's first element, and scalar kinds.
func shape(v any) string {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			if k != "email" { // the emulator's accounts have no e-mail address
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + shape(x[k])
		}
		return "{" + strings.Join(parts, ",") + "}"
	case []any:
		if len(x) == 0 {
			return "[]"
		}
		return "[" + shape(x[0]) + "]"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// TestAnswersMatchARealPDS sends the same requests to a real PDS and to the
// emulator and compares the answers: status, error name and message (the
// account's DID written as <did>), the JSON structure, the RateLimit
// headers, and the cids of identical records and blobs.
func TestAnswersMatchARealPDS(t *testing.T) {
	t.Parallel()
	pds := testkit.StartPDS(t)
	did, handle, password := pds.CreateAccount(t, "parity")
	sim := atprotosim.New()
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	acct := sim.AddAccount("parity.test", "parity-pass")
	targets := []*target{
		{name: "pds", base: pds.URL(), did: did, handle: handle, password: password},
		{name: "emulator", base: srv.URL, did: acct.DID, handle: acct.Handle, password: "parity-pass"},
	}
	png, err := os.ReadFile("testdata/red-4x3.png")
	if err != nil {
		t.Fatal(err)
	}
	const created = "2026-11-30T09:00:00.000Z"
	gallery := map[string]any{"$type": "social.grain.gallery", "title": "Parity", "createdAt": created}
	photo := func(alt string) map[string]any {
		return map[string]any{
			"$type": "social.grain.photo", "alt": alt, "aspectRatio": map[string]int{"width": 4, "height": 3}, "createdAt": created,
			"photo": map[string]any{"$type": "blob", "ref": map[string]string{"$link": "bafkreiajtvwjxetc63v2ydojbmmty5lznspuachsy64ft5mt6a7gd7qngu"}, "mimeType": "image/png", "size": len(png)},
		}
	}
	type step struct {
		name        string
		method      string
		nsid        string
		query       func(tg *target) url.Values
		body        func(tg *target) any
		contentType string
		token       func(tg *target) string
		// sameCID: the answer's "cid" must be equal on both (the record holds no DID).
		sameCID bool
		// after reads the answer (e.g. tokens) for later steps.
		after func(tg *target, a answer)
	}
	access := func(tg *target) string { return tg.access }
	repoQuery := func(collection string, extra ...string) func(tg *target) url.Values {
		return func(tg *target) url.Values {
			q := url.Values{"repo": {tg.did}, "collection": {collection}}
			for i := 0; i+1 < len(extra); i += 2 {
				q.Set(extra[i], extra[i+1])
			}
			return q
		}
	}
	steps := []step{
		{name: "login with a wrong password", method: "POST", nsid: "com.atproto.server.createSession",
			body: func(tg *target) any { return map[string]string{"identifier": tg.handle, "password": "wrong"} }},
		{name: "login", method: "POST", nsid: "com.atproto.server.createSession",
			body: func(tg *target) any { return map[string]string{"identifier": tg.handle, "password": tg.password} },
			after: func(tg *target, a answer) {
				m, _ := a.json.(map[string]any)
				tg.access, _ = m["accessJwt"].(string)
				tg.refresh, _ = m["refreshJwt"].(string)
			}},
		{name: "refresh with a body", method: "POST", nsid: "com.atproto.server.refreshSession",
			body: func(*target) any { return map[string]any{} }, token: func(tg *target) string { return tg.refresh }},
		{name: "refresh", method: "POST", nsid: "com.atproto.server.refreshSession", token: func(tg *target) string { return tg.refresh },
			after: func(tg *target, a answer) {
				m, _ := a.json.(map[string]any)
				tg.access, _ = m["accessJwt"].(string)
				tg.refresh, _ = m["refreshJwt"].(string)
			}},
		{name: "write without a token", method: "POST", nsid: "com.atproto.repo.deleteRecord",
			body: func(tg *target) any {
				return map[string]string{"repo": tg.did, "collection": "social.grain.photo", "rkey": "3kabcdefghij2"}
			}},
		{name: "write with a bad token", method: "POST", nsid: "com.atproto.repo.deleteRecord", token: func(*target) string { return "not-a-token" },
			body: func(tg *target) any {
				return map[string]string{"repo": tg.did, "collection": "social.grain.photo", "rkey": "3kabcdefghij2"}
			}},
		{name: "upload a blob", method: "POST", nsid: "com.atproto.repo.uploadBlob", token: access, contentType: "image/jpeg",
			body: func(*target) any { return png }},
		{name: "create a gallery", method: "POST", nsid: "com.atproto.repo.createRecord", token: access, sameCID: true,
			body: func(tg *target) any {
				return map[string]any{"repo": tg.did, "collection": "social.grain.gallery", "rkey": "3kabcdefghij7", "record": gallery}
			}},
		{name: "create it again", method: "POST", nsid: "com.atproto.repo.createRecord", token: access,
			body: func(tg *target) any {
				return map[string]any{"repo": tg.did, "collection": "social.grain.gallery", "rkey": "3kabcdefghij7", "record": gallery}
			}},
		{name: "create photo and item", method: "POST", nsid: "com.atproto.repo.applyWrites", token: access,
			body: func(tg *target) any {
				return map[string]any{"repo": tg.did, "writes": []any{
					map[string]any{"$type": "com.atproto.repo.applyWrites#create", "collection": "social.grain.photo", "rkey": "3kabcdefghij2", "value": photo("red")},
					map[string]any{"$type": "com.atproto.repo.applyWrites#create", "collection": "social.grain.gallery.item", "rkey": "3kabcdefghij2",
						"value": map[string]any{"$type": "social.grain.gallery.item", "gallery": "at://" + tg.did + "/social.grain.gallery/3kabcdefghij7",
							"item": "at://" + tg.did + "/social.grain.photo/3kabcdefghij2", "position": 1000, "createdAt": created}},
				}}
			}},
		{name: "create the photo again", method: "POST", nsid: "com.atproto.repo.applyWrites", token: access,
			body: func(tg *target) any {
				return map[string]any{"repo": tg.did, "writes": []any{
					map[string]any{"$type": "com.atproto.repo.applyWrites#create", "collection": "social.grain.photo", "rkey": "3kabcdefghij2", "value": photo("red")},
				}}
			}},
		{name: "read the photo", method: "GET", nsid: "com.atproto.repo.getRecord", sameCID: true,
			query: repoQuery("social.grain.photo", "rkey", "3kabcdefghij2"),
			after: func(tg *target, a answer) {
				m, _ := a.json.(map[string]any)
				tg.photoCID, _ = m["cid"].(string)
			}},
		{name: "read a missing record", method: "GET", nsid: "com.atproto.repo.getRecord",
			query: repoQuery("social.grain.photo", "rkey", "3kzzzzzzzzzz2")},
		{name: "put with a stale swap", method: "POST", nsid: "com.atproto.repo.putRecord", token: access,
			body: func(tg *target) any {
				return map[string]any{"repo": tg.did, "collection": "social.grain.photo", "rkey": "3kabcdefghij2", "record": photo("blue"),
					"swapRecord": "bafyreihjkcz5ddequmkkgfiprv6bhm6nkd3zlk5aqe3izhxutz36jzguja"}
			}},
		{name: "put a missing record with a swap", method: "POST", nsid: "com.atproto.repo.putRecord", token: access,
			body: func(tg *target) any {
				return map[string]any{"repo": tg.did, "collection": "social.grain.photo", "rkey": "3kzzzzzzzzzz2", "record": photo("blue"),
					"swapRecord": "bafyreihjkcz5ddequmkkgfiprv6bhm6nkd3zlk5aqe3izhxutz36jzguja"}
			}},
		{name: "put with the right swap", method: "POST", nsid: "com.atproto.repo.putRecord", token: access, sameCID: true,
			body: func(tg *target) any {
				return map[string]any{"repo": tg.did, "collection": "social.grain.photo", "rkey": "3kabcdefghij2", "record": photo("blue"),
					"swapRecord": tg.photoCID}
			}},
		{name: "put with a bad record key", method: "POST", nsid: "com.atproto.repo.putRecord", token: access,
			body: func(tg *target) any {
				return map[string]any{"repo": tg.did, "collection": "social.grain.photo", "rkey": "bad/key", "record": photo("blue")}
			}},
		{name: "list a page", method: "GET", nsid: "com.atproto.repo.listRecords", query: repoQuery("social.grain.photo", "limit", "1")},
		{name: "list an empty collection", method: "GET", nsid: "com.atproto.repo.listRecords", query: repoQuery("social.grain.nothing")},
		{name: "update and delete", method: "POST", nsid: "com.atproto.repo.applyWrites", token: access,
			body: func(tg *target) any {
				return map[string]any{"repo": tg.did, "writes": []any{
					map[string]any{"$type": "com.atproto.repo.applyWrites#update", "collection": "social.grain.photo", "rkey": "3kabcdefghij2", "value": photo("green")},
					map[string]any{"$type": "com.atproto.repo.applyWrites#delete", "collection": "social.grain.gallery.item", "rkey": "3kabcdefghij2"},
				}}
			}},
		{name: "delete a missing record in applyWrites", method: "POST", nsid: "com.atproto.repo.applyWrites", token: access,
			body: func(tg *target) any {
				return map[string]any{"repo": tg.did, "writes": []any{
					map[string]any{"$type": "com.atproto.repo.applyWrites#delete", "collection": "social.grain.gallery.item", "rkey": "3kabcdefghij2"},
				}}
			}},
		{name: "delete a record", method: "POST", nsid: "com.atproto.repo.deleteRecord", token: access,
			body: func(tg *target) any {
				return map[string]string{"repo": tg.did, "collection": "social.grain.photo", "rkey": "3kabcdefghij2"}
			}},
		{name: "delete a missing record", method: "POST", nsid: "com.atproto.repo.deleteRecord", token: access,
			body: func(tg *target) any {
				return map[string]string{"repo": tg.did, "collection": "social.grain.photo", "rkey": "3kabcdefghij2"}
			}},
		{name: "latest commit", method: "GET", nsid: "com.atproto.sync.getLatestCommit",
			query: func(tg *target) url.Values { return url.Values{"did": {tg.did}} }},
	}
	for _, st := range steps {
		var got [2]answer
		for i, tg := range targets {
			var q url.Values
			if st.query != nil {
				q = st.query(tg)
			}
			var body any
			if st.body != nil {
				body = st.body(tg)
			}
			token := ""
			if st.token != nil {
				token = st.token(tg)
			}
			got[i] = tg.do(t, st.method, st.nsid, q, body, token, st.contentType)
			if st.after != nil {
				st.after(tg, got[i])
			}
		}
		compare(t, st.name, targets, got, st.sameCID)
	}
}

// compare fails the test where the emulator's answer differs from the PDS's.
func compare(t *testing.T, step string, targets []*target, got [2]answer, sameCID bool) {
	t.Helper()
	pds, sim := got[0], got[1]
	if pds.status != sim.status {
		t.Errorf("%s: status %d from the PDS (%s), %d from the emulator (%s)", step, pds.status, pds.body, sim.status, sim.body)
		return
	}
	norm := func(i int, v any) any {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		msg, _ := m["message"].(string)
		return [2]any{m["error"], strings.ReplaceAll(msg, targets[i].did, "<did>")}
	}
	if pds.status != http.StatusOK {
		if p, s := norm(0, pds.json), norm(1, sim.json); p != s {
			t.Errorf("%s: the PDS answered %v, the emulator %v", step, p, s)
		}
	} else if p, s := shape(pds.json), shape(sim.json); p != s {
		t.Errorf("%s: answer shaped\n  %s by the PDS,\n  %s by the emulator", step, p, s)
	}
	for _, h := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy"} {
		if (pds.header.Get(h) == "") != (sim.header.Get(h) == "") {
			t.Errorf("%s: header %s is %q from the PDS, %q from the emulator", step, h, pds.header.Get(h), sim.header.Get(h))
		}
	}
	if p, s := pds.header.Get("RateLimit-Policy"), sim.header.Get("RateLimit-Policy"); p != s {
		t.Errorf("%s: RateLimit-Policy %q from the PDS, %q from the emulator", step, p, s)
	}
	if sameCID {
		pc, _ := pds.json.(map[string]any)["cid"].(string)
		sc, _ := sim.json.(map[string]any)["cid"].(string)
		if pc == "" || pc != sc {
			t.Errorf("%s: cid %q from the PDS, %q from the emulator", step, pc, sc)
		}
	}
	if step == "upload a blob" && shapeOf(pds.json, "blob") != shapeOf(sim.json, "blob") {
		t.Errorf("%s: blob %v from the PDS, %v from the emulator", step, shapeOf(pds.json, "blob"), shapeOf(sim.json, "blob"))
	}
}

// shapeOf is the JSON text of one field of an object answer.
func shapeOf(v any, key string) string {
	m, _ := v.(map[string]any)
	b, _ := json.Marshal(m[key])
	return string(b)
}
