package writer_test

import (
	"context"
	"strings"
	"testing"

	"gallerysync.dev/libs/bus"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// TestMediaOnTheConnectionsHostIsImported: besides the listed hosts, Wix
// may import media from the host of the event's own connection, where an
// AT Protocol PDS (any host a tenant connects) serves the account's blobs.
// Any other host is refused as before, the same name on another port too.
func TestMediaOnTheConnectionsHostIsImported(t *testing.T) {
	t.Parallel()
	const blob = "/xrpc/com.atproto.sync.getBlob?did=did:plc:abc&cid=bafkreiexample"
	cases := []struct {
		name     string
		baseURL  string // the connection's; "" stores none
		media    string
		imported bool
	}{
		{"the connection's host", "https://pds.example:8443", "https://PDS.example:8443" + blob, true},
		{"the connection's host under a path", "http://127.0.0.1:8090/atproto", "http://127.0.0.1:8090/atproto" + blob, true},
		{"the connection's name on another port", "https://pds.example:8443", "https://pds.example" + blob, false},
		{"another host", "https://pds.example", "https://elsewhere.example/photo.png", false},
		{"no connection stored", "", "https://pds.example" + blob, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			if tc.baseURL != "" {
				if _, err := h.client.PutConnection(context.Background(), &gsv1.PutConnectionRequest{Connection: &gsv1.Connection{
					TenantId: tenant, ConnectionId: connection, Platform: "atproto", BaseUrl: tc.baseURL, AccountId: "me.example",
				}}); err != nil {
					t.Fatalf("put connection: %v", err)
				}
			}
			h.run()
			ev := itemEvent("e1", created, "post-1", "Sunset", 1)
			ev.Item.MediaUrl = tc.media
			h.publish(rehash(ev))
			if !tc.imported {
				dl := h.deadLetter()
				if e := dl.Header.Get(bus.HeaderError); !strings.Contains(e, "media host not allowed") {
					t.Fatalf("dead letter error header %q", e)
				}
				h.wantWrites(0, 0, 0, 0)
				return
			}
			h.waitState("post-1", synced)
			h.wantWrites(1, 0, 0, 1)
			if got := h.wix.imported(); len(got) != 1 || got[0].URL != tc.media {
				t.Fatalf("imports %+v, want one from %s", got, tc.media)
			}
		})
	}
}
