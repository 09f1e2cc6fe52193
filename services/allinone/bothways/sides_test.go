package bothways

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/libs/media"
	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/atproto"
	"gallerysync.dev/libs/platforms/mastodon"
	"gallerysync.dev/libs/platforms/pinterest"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/allinone/stack"
	"gallerysync.dev/services/sandbox/sandbox"
)

// side is one platform account of the demo tenant with a fresh album, and
// the test's own client of that platform: someone posting from an app.
type side struct {
	// client is the adapter the test acts with on the platform; its Lister
	// is how the test looks at the album.
	client platforms.Adapter
	conn   platforms.Connection
	album  string
	// writes are the platform's write counters.
	writes func() counts
	// sync are the writes the platform-writer makes for one Wix change.
	sync writeCosts
	// own are the writes the client makes for its own changes.
	own writeCosts
}

// writeCosts are the platform writes of each kind of change. move is one
// item's new place: for the platform-writer one Wix item's new sort order,
// for the client one Reorder call (a swap of two items).
type writeCosts struct {
	create, update, move, remove counts
}

func (sd side) lister() platforms.Lister { return sd.client.(platforms.Lister) }

// reorderer is the client's Reorderer, nil when the platform has no order.
func (sd side) reorderer() platforms.Reorderer {
	if !sd.client.Capabilities().Reorder {
		return nil
	}
	return sd.client.(platforms.Reorderer)
}

// list is the album as the platform shows it.
func (sd side) list(ctx context.Context) ([]platforms.Observed, error) {
	return sd.lister().List(ctx, sd.conn, sd.album)
}

// newSide is how each adapter's side is set up on a running stack.
type newSide func(ctx context.Context, t *testing.T, s *stack.Stack, nonce string) side

// mastodonSide is the demo Mastodon account (on the sandbox's emulator)
// with a fresh hashtag as the album. Mastodon needs no album to be made.
// Each change is one status write; a new status uploads its photo first.
func mastodonSide(_ context.Context, t *testing.T, s *stack.Stack, nonce string) side {
	em := s.Sandbox().Mastodon()
	costs := writeCosts{
		create: counts{"media_uploaded": 1, "statuses_created": 1},
		update: counts{"statuses_edited": 1},
		remove: counts{"statuses_deleted": 1},
	}
	return side{
		client: mastodon.New(mediaFetcher(s), mastodon.WithHTTPClient(httpClient())),
		conn:   connection(t, s, s.Demo().ConnectionID),
		album:  "bothways" + nonce,
		writes: func() counts {
			st := em.Stats()
			return counts{"media_uploaded": st.MediaUploaded, "statuses_created": st.StatusesCreated,
				"statuses_edited": st.StatusesEdited, "statuses_deleted": st.StatusesDeleted}
		},
		sync: costs,
		own:  costs,
	}
}

// pinterestSide is the demo Pinterest account (on the sandbox's emulator)
// with a new board, made through the adapter as the dashboard makes it.
// Each change is one Pin call; boards have no order.
func pinterestSide(ctx context.Context, t *testing.T, s *stack.Stack, nonce string) side {
	em := s.Sandbox().Pinterest()
	client := pinterest.New(pinterest.WithHTTPClient(httpClient()))
	conn := connection(t, s, s.Demo().PinterestConnectionID)
	board, err := client.EnsureAlbum(ctx, conn, "Bothways "+nonce)
	if err != nil {
		t.Fatalf("make board: %v", err)
	}
	costs := writeCosts{
		create: counts{"pins/create": 1},
		update: counts{"pins/update": 1},
		remove: counts{"pins/delete": 1},
	}
	return side{
		client: client,
		conn:   conn,
		album:  board,
		writes: func() counts {
			calls := em.Stats().Calls
			return counts{"boards/create": calls["boards/create"], "pins/create": calls["pins/create"],
				"pins/update": calls["pins/update"], "pins/delete": calls["pins/delete"]}
		},
		sync: costs,
		own:  costs,
	}
}

// atprotoSide is the demo AT Protocol account (on the sandbox's PDS
// emulator) with a new Grain gallery, made through the adapter. The
// emulator counts commits and the records they create, update and delete.
func atprotoSide(ctx context.Context, t *testing.T, s *stack.Stack, nonce string) side {
	em := s.Sandbox().ATProto()
	client := atproto.New(mediaFetcher(s), atproto.WithHTTPClient(httpClient()))
	conn := connection(t, s, s.Demo().ATProtoConnectionID)
	album, err := client.EnsureAlbum(ctx, conn, "Bothways "+nonce)
	if err != nil {
		t.Fatalf("make gallery: %v", err)
	}
	return side{
		client: client,
		conn:   conn,
		album:  album,
		writes: func() counts {
			st := em.Stats()
			return counts{"blob_uploads": int64(st.BlobUploads), "commits": int64(st.Commits),
				"records_created": int64(st.RecordsCreated), "records_updated": int64(st.RecordsUpdated),
				"records_deleted": int64(st.RecordsDeleted)}
		},
		// Create: uploadBlob, then one applyWrites creating the photo and
		// its gallery item. A new text is one putRecord of the photo, a
		// new sort order one putRecord of the gallery item. Delete: one
		// applyWrites deleting both.
		sync: writeCosts{
			create: counts{"blob_uploads": 1, "commits": 1, "records_created": 2},
			update: counts{"commits": 1, "records_updated": 1},
			move:   counts{"commits": 1, "records_updated": 1},
			remove: counts{"commits": 1, "records_deleted": 2},
		},
		// The client's own: the same, and Reorder of two items is one
		// applyWrites updating both gallery items.
		own: writeCosts{
			create: counts{"blob_uploads": 1, "commits": 1, "records_created": 2},
			update: counts{"commits": 1, "records_updated": 1},
			move:   counts{"commits": 1, "records_updated": 2},
			remove: counts{"commits": 1, "records_deleted": 2},
		},
	}
}

// connection is a stored connection as the writers read it.
func connection(t *testing.T, s *stack.Stack, id string) platforms.Connection {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := s.Mapping().GetConnection(ctx, &gsv1.GetConnectionRequest{TenantId: s.Demo().InstanceID, ConnectionId: id})
	if err != nil {
		t.Fatalf("get connection %s: %v", id, err)
	}
	c := resp.GetConnection()
	return platforms.Connection{ID: c.GetConnectionId(), BaseURL: c.GetBaseUrl(), AccountID: c.GetAccountId(), Credentials: c.GetCredentials()}
}

// mediaFetcher fetches the photos the client posts: generated by the
// sandbox, as any public image host would serve them.
func mediaFetcher(s *stack.Stack) *media.Fetcher {
	return media.NewFetcher([]string{sandboxHost(s)}, media.WithHTTPClient(httpClient()))
}

func sandboxHost(s *stack.Stack) string { return strings.TrimPrefix(s.Demo().SandboxURL, "http://") }

// photoURL is a generated photo on the sandbox.
func photoURL(s *stack.Stack, name string) string {
	return s.Demo().SandboxURL + sandbox.WixPrefix + "/_sandbox/images/" + url.PathEscape(name) + ".png?w=640&h=480"
}

func httpClient() *http.Client { return &http.Client{Timeout: 30 * time.Second} }

// newNonce makes the test's names unique.
func newNonce() string { return fmt.Sprint(time.Now().UnixNano()) }
