package mastodonsim

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// streamWait bounds every wait for a stream event that should come.
const streamWait = 10 * time.Second

// streamReader reads a stream's lines in a goroutine the test owns.
type streamReader struct {
	lines  chan string
	done   chan struct{}
	resp   *http.Response
	cancel context.CancelFunc
}

// event is one server-sent event.
type event struct{ name, data string }

// openStream connects to a streaming path; token "" sends none.
func (in *instance) openStream(t *testing.T, path, token string) *streamReader {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, in.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream %s: status %d, content type %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sr := &streamReader{lines: make(chan string, 1024), done: make(chan struct{}), resp: resp, cancel: cancel}
	go func() {
		defer close(sr.done)
		defer close(sr.lines)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case sr.lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-sr.done
	})
	return sr
}

// next returns the next event, skipping comments; ok is false when the
// stream ended first.
func (sr *streamReader) next(t *testing.T) (ev event, ok bool) {
	t.Helper()
	timeout := time.After(streamWait)
	for {
		select {
		case line, open := <-sr.lines:
			switch {
			case !open:
				return event{}, false
			case strings.HasPrefix(line, ":"):
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			case line == "" && ev.name != "":
				return ev, true
			}
		case <-timeout:
			t.Fatal("no stream event in time")
		}
	}
}

// nextComment waits for a comment line (":...") and returns it.
func (sr *streamReader) nextComment(t *testing.T) string {
	t.Helper()
	timeout := time.After(streamWait)
	for {
		select {
		case line, open := <-sr.lines:
			if !open {
				t.Fatal("stream ended")
			}
			if strings.HasPrefix(line, ":") {
				return line
			}
		case <-timeout:
			t.Fatal("no comment in time")
		}
	}
}

// waitStreams waits until the server has n open streams.
func (in *instance) waitStreams(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(streamWait)
	for in.srv.Streams() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d open streams, want %d", in.srv.Streams(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func statusOf(t *testing.T, ev event) Status {
	t.Helper()
	var st Status
	if err := json.Unmarshal([]byte(ev.data), &st); err != nil {
		t.Fatalf("%s payload %q: %v", ev.name, ev.data, err)
	}
	return st
}

func TestUserStreamCarriesTheAccountsChanges(t *testing.T) {
	t.Parallel()
	in := startInstance(t, WithHeartbeat(10*time.Millisecond))
	sr := in.openStream(t, "/api/v1/streaming/user", aliceToken)
	if first := sr.nextComment(t); first != ":)" {
		t.Fatalf("first line %q, want the greeting comment", first)
	}
	if beat := sr.nextComment(t); beat != ":thump" {
		t.Fatalf("heartbeat %q, want :thump", beat)
	}

	in.postText(t, bobToken, "Bob's own #holiday") // another account: not on alice's stream
	m := in.upload(t, aliceToken, 2, 2, "Red sky")
	st := in.post(t, aliceToken, url.Values{"status": {"Sunset\n\n#holiday"}, "media_ids[]": {m.ID}, "visibility": {"private"}})
	ev, _ := sr.next(t)
	if got := statusOf(t, ev); ev.name != "update" || got.ID != st.ID || got.Content != st.Content ||
		len(got.MediaAttachments) != 1 || *got.MediaAttachments[0].Description != "Red sky" {
		t.Fatalf("event %s %+v, want update of %s", ev.name, got, st.ID)
	}

	in.form(t, http.MethodPut, "/api/v1/statuses/"+st.ID, aliceToken, url.Values{"status": {"Sunset, edited\n\n#holiday"}, "media_ids[]": {m.ID}}, nil)
	ev, _ = sr.next(t)
	if got := statusOf(t, ev); ev.name != "status.update" || got.ID != st.ID || got.EditedAt == nil || !strings.Contains(got.Content, "Sunset, edited") {
		t.Fatalf("event %s %+v, want status.update of %s", ev.name, got, st.ID)
	}

	in.request(t, http.MethodDelete, "/api/v1/statuses/"+st.ID, aliceToken, "", nil, nil)
	ev, _ = sr.next(t)
	if ev.name != "delete" || ev.data != st.ID {
		t.Fatalf("event %s %q, want delete %s", ev.name, ev.data, st.ID)
	}
}

func TestHashtagStreamCarriesPublicStatusesWithTheTag(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	anon := in.openStream(t, "/api/v1/streaming/hashtag?tag=Holiday", "")
	local := in.openStream(t, "/api/v1/streaming/hashtag/local?tag=holiday&access_token="+bobToken, "")
	in.waitStreams(t, 2)

	in.post(t, aliceToken, url.Values{"status": {"Private #holiday"}, "visibility": {"private"}})
	in.postText(t, aliceToken, "Untagged")
	in.postText(t, aliceToken, "Other #work")
	pub := in.postText(t, bobToken, "Public #HOLIDAY")
	for _, sr := range []*streamReader{anon, local} {
		ev, _ := sr.next(t)
		if got := statusOf(t, ev); ev.name != "update" || got.ID != pub.ID {
			t.Fatalf("event %s %s, want update of the public tagged status %s", ev.name, got.ID, pub.ID)
		}
	}
	in.request(t, http.MethodDelete, "/api/v1/statuses/"+pub.ID, bobToken, "", nil, nil)
	for _, sr := range []*streamReader{anon, local} {
		if ev, _ := sr.next(t); ev.name != "delete" || ev.data != pub.ID {
			t.Fatalf("event %s %q, want delete %s", ev.name, ev.data, pub.ID)
		}
	}
}

func TestStreamEventsOnlyForChanges(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	sr := in.openStream(t, "/api/v1/streaming/user", aliceToken)
	in.waitStreams(t, 1)
	key := map[string]string{"Idempotency-Key": "k1"}
	first := decode[Status](t, in.form(t, http.MethodPost, "/api/v1/statuses", aliceToken, url.Values{"status": {"Once"}}, key))
	in.form(t, http.MethodPost, "/api/v1/statuses", aliceToken, url.Values{"status": {"Once"}}, key)          // a replay
	in.form(t, http.MethodPut, "/api/v1/statuses/"+first.ID, aliceToken, url.Values{"status": {"Once"}}, nil) // no change
	marker := in.postText(t, aliceToken, "Marker")
	var names []string
	for {
		ev, _ := sr.next(t)
		names = append(names, ev.name+" "+statusOf(t, ev).ID)
		if statusOf(t, ev).ID == marker.ID {
			break
		}
	}
	if want := []string{"update " + first.ID, "update " + marker.ID}; strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("events %v, want %v (a replay and an edit that changes nothing send none)", names, want)
	}
}

func TestStreamRequests(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	tests := []struct {
		name, method, path, token string
		wantCode                  int
		wantError                 string
	}{
		{name: "user stream without a token", method: "GET", path: "/api/v1/streaming/user", wantCode: 401, wantError: "Missing access token"},
		{name: "bad bearer token", method: "GET", path: "/api/v1/streaming/user", token: "nope", wantCode: 401, wantError: "Invalid access token"},
		{name: "bad access_token", method: "GET", path: "/api/v1/streaming/hashtag?tag=x&access_token=nope", wantCode: 401, wantError: "Invalid access token"},
		{name: "unknown channel", method: "GET", path: "/api/v1/streaming/public:nope", token: aliceToken, wantCode: 400, wantError: "Unknown channel requested"},
		{name: "hashtag without tag", method: "GET", path: "/api/v1/streaming/hashtag", wantCode: 400, wantError: "No tag for stream provided"},
		{name: "same host", method: "GET", path: "/api/v1/streaming", token: aliceToken, wantCode: 404, wantError: "Record not found"},
		{name: "wrong method", method: "POST", path: "/api/v1/streaming/user", token: aliceToken, wantCode: 405, wantError: "Method not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := in.request(t, tc.method, tc.path, tc.token, "", nil, nil)
			if r.code != tc.wantCode || r.errorText(t) != tc.wantError {
				t.Fatalf("status %d %s, want %d %q", r.code, r.body, tc.wantCode, tc.wantError)
			}
		})
	}
	t.Run("health", func(t *testing.T) {
		t.Parallel()
		if r := in.get(t, "/api/v1/streaming/health", ""); r.code != 200 || string(r.body) != "OK" {
			t.Fatalf("health: %d %q", r.code, r.body)
		}
	})
	t.Run("not rate limited", func(t *testing.T) {
		t.Parallel()
		before := in.srv.Stats().Requests
		in.get(t, "/api/v1/streaming/health", "")
		if after := in.srv.Stats().Requests; after != before {
			t.Fatalf("streaming request counted: %d -> %d", before, after)
		}
	})
}

func TestStreamsEnd(t *testing.T) {
	t.Parallel()
	t.Run("when the client leaves", func(t *testing.T) {
		t.Parallel()
		in := startInstance(t)
		sr := in.openStream(t, "/api/v1/streaming/user", aliceToken)
		in.waitStreams(t, 1)
		sr.cancel()
		in.waitStreams(t, 0)
	})
	t.Run("when dropped", func(t *testing.T) {
		t.Parallel()
		in := startInstance(t)
		sr := in.openStream(t, "/api/v1/streaming/user", aliceToken)
		in.waitStreams(t, 1)
		in.srv.DropStreams()
		if ev, ok := sr.next(t); ok {
			t.Fatalf("got event %+v after DropStreams, want the stream to end", ev)
		}
		in.waitStreams(t, 0)
	})
}
