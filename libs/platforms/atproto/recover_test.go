package atproto_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/atproto"
	"gallerysync.dev/libs/platforms/atproto/atprototest"
	"gallerysync.dev/libs/testkit"
)

// TestRealPDSOtherClients: changes another client makes to our records on a
// real PDS (as a Grain user would) are undone or reported as what they are.
func TestRealPDSOtherClients(t *testing.T) {
	t.Parallel()
	pds := testkit.StartPDS(t)
	did, handle, password := pds.CreateAccount(t, "grainuser")
	env := atprototest.NewEnv(t, pds.URL(), atprototest.Account{DID: did, Handle: handle, Password: password})
	ctx := t.Context()
	a := env.Adapter.(*atproto.Adapter)
	album, err := a.EnsureAlbum(ctx, env.Conn, "Shared")
	if err != nil {
		t.Fatal(err)
	}
	c := platforms.Content{Title: "Mine", AltText: "alt", MediaURL: env.Serve(t, []byte(redPNG), "image/png"), SortOrder: 1}
	r, err := a.Create(ctx, env.Conn, album, c, "key-1")
	if err != nil {
		t.Fatal(err)
	}
	raw := &atprototest.Reader{Base: pds.URL()}
	var sess struct {
		AccessJwt string `json:"accessJwt"`
	}
	if err := raw.Call(ctx, http.MethodPost, "com.atproto.server.createSession", "", map[string]string{"identifier": handle, "password": password}, &sess); err != nil {
		t.Fatal(err)
	}

	t.Run("removed from the gallery, then updated", func(t *testing.T) {
		if err := raw.Call(ctx, http.MethodPost, "com.atproto.repo.deleteRecord", sess.AccessJwt, map[string]string{
			"repo": did, "collection": atproto.CollectionGalleryItem, "rkey": r.Attrs[atproto.AttrItemRkey],
		}, &struct{}{}); err != nil {
			t.Fatal(err)
		}
		c.Title = "Mine, edited"
		if r, err = a.Update(ctx, env.Conn, album, r, c); err != nil {
			t.Fatalf("Update of a photo taken out of its gallery: %v", err)
		}
		items, err := env.Read(ctx, album)
		if err != nil || len(items) != 1 || items[0].Content.Title != c.Title {
			t.Fatalf("album after the update: %+v, %v", items, err)
		}
	})

	t.Run("edited by another client", func(t *testing.T) {
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		seen := make(chan platforms.Observed, 16)
		done := make(chan error, 1)
		go func() {
			// The replay cursor reports the album first, so our write below
			// is seen whether it lands before or after the first listing.
			done <- a.Watch(wctx, env.Conn, []string{album}, env.ReplayCursor, func(ctx context.Context, o platforms.Observed, _ string) error {
				select {
				case seen <- o:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
		}()
		defer func() {
			cancel()
			<-done
		}()
		// Our own write first: once it is reported (with our hash), the
		// watcher has its listing and the foreign edit follows it.
		c.Title = "Ours again"
		if r, err = a.Update(ctx, env.Conn, album, r, c); err != nil {
			t.Fatal(err)
		}
		var rec struct {
			CID   string         `json:"cid"`
			Value map[string]any `json:"value"`
		}
		next := func() platforms.Observed {
			t.Helper()
			select {
			case o := <-seen:
				return o
			case err := <-done:
				t.Fatalf("Watch ended: %v", err)
			case <-wctx.Done():
				t.Fatal("no change reported in time")
			}
			return platforms.Observed{}
		}
		for o := next(); o.ID != r.ID || o.Hash != r.Hash; o = next() {
		}
		if err := raw.Call(ctx, http.MethodGet, "com.atproto.repo.getRecord?repo="+did+"&collection="+atproto.CollectionPhoto+"&rkey="+r.ID, "", nil, &rec); err != nil {
			t.Fatal(err)
		}
		rec.Value["alt"] = "alt written in Grain"
		if err := raw.Call(ctx, http.MethodPost, "com.atproto.repo.putRecord", sess.AccessJwt, map[string]any{
			"repo": did, "collection": atproto.CollectionPhoto, "rkey": r.ID, "record": rec.Value, "swapRecord": rec.CID,
		}, &json.RawMessage{}); err != nil {
			t.Fatal(err)
		}
		o := next()
		if o.ID != r.ID || o.Content.AltText != "alt written in Grain" || o.Hash == r.Hash || o.Content.Title != "Ours again" {
			t.Fatalf("foreign edit reported as %+v (our hash %s)", o, r.Hash)
		}
	})
}

// redPNG is a 1×1 red PNG.
const redPNG = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
