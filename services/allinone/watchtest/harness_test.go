package watchtest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/mastodon"
	"gallerysync.dev/libs/testkit"
	"gallerysync.dev/libs/testkit/mappingfake"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/ingress/watch"
	"gallerysync.dev/services/sandbox/mastodonsim"
)

// waitDeadline bounds every wait for something that should happen.
const waitDeadline = 30 * time.Second

const (
	tenant     = "9c1e2f4a-7b3d-4c5e-8f60-1a2b3c4d5e6f"
	connection = "conn-1"
	ownerToken = "owner-token"
	album      = "holiday"
)

// harness is a Mastodon emulator, a fake mapping service over gRPC, an
// embedded NATS server with the real bus, and watch managers on them.
type harness struct {
	t       *testing.T
	sim     *mastodonsim.Server
	api     *httptest.Server
	account string
	mapping *mappingfake.Fake
	client  gsv1.MappingServiceClient
	bus     *bus.Bus
	reader  jetstream.JetStream
	adapter *mastodon.Adapter

	mu       sync.Mutex
	requests []string // GET paths with query the emulator served
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t}
	h.api = httptest.NewUnstartedServer(nil)
	base := "http://" + h.api.Listener.Addr().String()
	h.sim = mastodonsim.New(mastodonsim.WithBaseURL(base), mastodonsim.WithLimits(mastodonsim.Unlimited()),
		mastodonsim.WithHeartbeat(50*time.Millisecond))
	h.api.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			h.mu.Lock()
			h.requests = append(h.requests, r.URL.RequestURI())
			h.mu.Unlock()
		}
		h.sim.Handler().ServeHTTP(w, r)
	})
	h.api.Start()
	t.Cleanup(h.api.Close)
	t.Cleanup(h.sim.DropStreams) // runs first: open streams would hold Close
	h.account = h.sim.AddAccount("owner", ownerToken).ID

	h.mapping, h.client = mappingfake.Start(t)
	h.mapping.SeedConnection(&gsv1.Connection{TenantId: tenant, ConnectionId: connection, Platform: mastodon.Name,
		BaseUrl: base, AccountId: h.account, Credentials: []byte(ownerToken)})
	h.link("link-1", album, gsv1.LinkState_LINK_STATE_ACTIVE)

	n := testkit.StartNATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), waitDeadline)
	defer cancel()
	b, err := bus.Connect(ctx, bus.Config{URL: n.URL(), PublishTimeout: 2 * time.Second, Replicas: 1, DuplicateWindow: 2 * time.Minute})
	if err != nil {
		t.Fatalf("bus: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.EnsureStreams(ctx); err != nil {
		t.Fatalf("streams: %v", err)
	}
	h.bus = b
	nc, err := nats.Connect(n.URL())
	if err != nil {
		t.Fatalf("reader connection: %v", err)
	}
	t.Cleanup(nc.Close)
	if h.reader, err = jetstream.New(nc); err != nil {
		t.Fatalf("reader: %v", err)
	}
	h.adapter = mastodon.New(nil, mastodon.WithStreamTiming(10*time.Second, 10*time.Millisecond, 200*time.Millisecond))
	return h
}

// link stores a two-way link of the test connection.
func (h *harness) link(id, albumID string, state gsv1.LinkState) {
	h.mapping.SeedLink(&gsv1.Link{TenantId: tenant, LinkId: id, GalleryId: "gallery-" + id, ConnectionId: connection,
		AlbumId: albumID, State: state, Direction: gsv1.Direction_DIRECTION_TWO_WAY})
}

// manager is one running replica.
type manager struct {
	m      *watch.Manager
	cancel context.CancelFunc
	done   chan error
}

// stop ends the replica's Run and waits for it.
func (r *manager) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	if err := <-r.done; err != nil {
		t.Errorf("Run: %v", err)
	}
	r.done <- nil // a later stop returns at once
}

// start runs a replica until the test ends (or stop).
func (h *harness) start(owner string, reconcileEvery time.Duration) *manager {
	h.t.Helper()
	m, err := watch.New(watch.Config{Interval: 50 * time.Millisecond, LeaseTTL: 1500 * time.Millisecond,
		ReconcileEvery: reconcileEvery, Owner: owner}, watch.Deps{
		Mapping: h.client, Publisher: h.bus, Adapters: map[string]platforms.Adapter{mastodon.Name: h.adapter},
	})
	if err != nil {
		h.t.Fatalf("watch.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &manager{m: m, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- m.Run(ctx) }()
	h.t.Cleanup(func() { r.stop(h.t) })
	return r
}

// waitWatching waits until one stream is open and owner holds the lease.
func (h *harness) waitWatching(owner string) {
	h.t.Helper()
	h.waitFor(owner+" to watch", func() bool {
		return h.mapping.Holder(tenant, "watch:"+connection) == owner && h.sim.Streams() == 1 && h.listed()
	})
}

// listed reports whether the watcher has taken its start (a listing
// follows the stream's opening).
func (h *harness) listed() bool { return h.served("/statuses?") }

func (h *harness) resetRequests() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests = nil
}

func (h *harness) served(substr string) bool { return len(h.requestsLike(substr)) > 0 }

func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(waitDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// postedStatus is the part of a Status the tests read.
type postedStatus struct {
	ID string `json:"id"`
}

// post, edit and remove act as the account owner in a Mastodon client.
func (h *harness) post(text string) string {
	h.t.Helper()
	return h.call(http.MethodPost, "/api/v1/statuses", url.Values{"status": {text}}).ID
}

func (h *harness) edit(id, text string) {
	h.t.Helper()
	h.call(http.MethodPut, "/api/v1/statuses/"+id, url.Values{"status": {text}})
}

func (h *harness) remove(id string) {
	h.t.Helper()
	h.call(http.MethodDelete, "/api/v1/statuses/"+id, nil)
}

func (h *harness) call(method, path string, form url.Values) postedStatus {
	h.t.Helper()
	req, err := http.NewRequest(method, h.api.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+ownerToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st postedStatus
	if err := decodeJSON(resp, &st); err != nil || resp.StatusCode != http.StatusOK {
		h.t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, err)
	}
	return st
}

// events returns the platform-origin events stored in the stream, in order.
func (h *harness) events() []*gsv1.ChangeEvent {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := h.reader.Stream(ctx, change.Stream)
	if err != nil {
		h.t.Fatalf("stream: %v", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		h.t.Fatalf("stream info: %v", err)
	}
	var out []*gsv1.ChangeEvent
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		msg, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			h.t.Fatalf("get %d: %v", seq, err)
		}
		if !strings.HasPrefix(msg.Subject, "changes.platform.") {
			continue
		}
		ev := &gsv1.ChangeEvent{}
		if err := proto.Unmarshal(msg.Data, ev); err != nil {
			h.t.Fatalf("decode %d: %v", seq, err)
		}
		out = append(out, ev)
	}
	return out
}

// eventsOf returns the stored events of one status.
func (h *harness) eventsOf(id string) []*gsv1.ChangeEvent {
	var out []*gsv1.ChangeEvent
	for _, ev := range h.events() {
		if ev.GetItem().GetItemId() == id {
			out = append(out, ev)
		}
	}
	return out
}

// waitEvent waits for an event of status id with the kind and returns it.
func (h *harness) waitEvent(id string, kind gsv1.ChangeKind) *gsv1.ChangeEvent {
	h.t.Helper()
	var found *gsv1.ChangeEvent
	h.waitFor("a "+kind.String()+" event of "+id, func() bool {
		for _, ev := range h.eventsOf(id) {
			if ev.GetKind() == kind {
				found = ev
				return true
			}
		}
		return false
	})
	return found
}

func decodeJSON(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }
