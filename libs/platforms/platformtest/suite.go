package platformtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/libs/platforms"
)

// callTimeout bounds one adapter call or platform read; generous, since a
// real server shares two cores with the build.
const callTimeout = 2 * time.Minute

type suite struct {
	env Env
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

// album is the album a test writes to: its own one when the adapter makes
// albums, else the env's.
func (s *suite) album(t *testing.T) string {
	t.Helper()
	am, ok := s.env.Adapter.(platforms.AlbumMaker)
	if !ok {
		if s.env.Album == "" {
			t.Fatal("Env.Album is empty and the adapter makes no albums")
		}
		return s.env.Album
	}
	name := strings.Map(func(r rune) rune {
		if r < '0' || (r > '9' && r < 'A') || (r > 'Z' && r < 'a') || r > 'z' {
			return ' '
		}
		return r
	}, t.Name())
	id, err := am.EnsureAlbum(ctxFor(t), s.env.Conn, "conformance "+name)
	if err != nil {
		t.Fatalf("EnsureAlbum: %v", err)
	}
	return id
}

// content is an item's content with text derived from name and an image
// of a colour derived from name.
func (s *suite) content(t *testing.T, name string, sortOrder float64) platforms.Content {
	t.Helper()
	return platforms.Content{
		Title:       "Title of " + name,
		Description: "Description of " + name + ", with ümlauts and emoji 📷.",
		LinkURL:     "https://example.com/items/" + name,
		AltText:     "Alt text of " + name,
		MediaURL:    s.env.Serve(t, solidPNG(t, name), "image/png"),
		MimeType:    "image/png",
		SortOrder:   sortOrder,
	}
}

// solidPNG is a small PNG whose colour (and so bytes) depend on name.
func solidPNG(t *testing.T, name string) []byte {
	sum := sha256.Sum256([]byte(name))
	img := image.NewRGBA(image.Rect(0, 0, 12, 8))
	for y := range 8 {
		for x := range 12 {
			img.Set(x, y, color.RGBA{R: sum[0], G: sum[1], B: sum[2], A: 255})
		}
	}
	return encodePNG(t, img)
}

// noisePNG is a PNG of random pixels: it does not compress, so its size is
// about 3 bytes a pixel.
func noisePNG(t *testing.T, w, h int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(r.UintN(256)), uint8(r.UintN(256)), uint8(r.UintN(256)), 255
	}
	return encodePNG(t, img)
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		t.Fatalf("encode png: %v", err)
	}
	return buf.Bytes()
}

// key is a fresh idempotency key.
func key(t *testing.T, name string) string {
	sum := sha256.Sum256([]byte(t.Name() + "\x00" + name + "\x00" + time.Now().String()))
	return hex.EncodeToString(sum[:12])
}

// read is the album as the platform shows it.
func (s *suite) read(t *testing.T, album string) []Item {
	t.Helper()
	items, err := s.env.Read(ctxFor(t), album)
	if err != nil {
		t.Fatalf("read album %s: %v", album, err)
	}
	return items
}

// only is the one item the album holds.
func (s *suite) only(t *testing.T, album string) Item {
	t.Helper()
	items := s.read(t, album)
	if len(items) != 1 {
		t.Fatalf("album %s holds %d items, want 1: %+v", album, len(items), items)
	}
	return items[0]
}

// create makes an item and checks the answer.
func (s *suite) create(t *testing.T, album string, c platforms.Content) platforms.Remote {
	t.Helper()
	r, err := s.env.Adapter.Create(ctxFor(t), s.env.Conn, album, c, key(t, c.Title))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if r.ID == "" {
		t.Fatal("Create returned no id")
	}
	s.checkHash(t, "Create", album, c, r)
	return r
}

// checkHash: a write's Remote.Hash is what Expect predicted.
func (s *suite) checkHash(t *testing.T, call, album string, c platforms.Content, r platforms.Remote) {
	t.Helper()
	if want := s.env.Adapter.Expect(album, c); want != "" && r.Hash != want {
		t.Fatalf("%s: Remote.Hash %q, Expect %q", call, r.Hash, want)
	}
}

// checkShows: the item shows the content's texts (and its sort order where
// the platform keeps one).
func (s *suite) checkShows(t *testing.T, it Item, c platforms.Content) {
	t.Helper()
	got, want := it.Content, c
	type texts struct{ Title, Description, LinkURL, AltText string }
	g := texts{got.Title, got.Description, got.LinkURL, got.AltText}
	w := texts{want.Title, want.Description, want.LinkURL, want.AltText}
	if g != w {
		t.Fatalf("platform shows %+v, want %+v", g, w)
	}
	if s.env.Adapter.Capabilities().Reorder && got.SortOrder != want.SortOrder {
		t.Fatalf("platform shows sort order %v, want %v", got.SortOrder, want.SortOrder)
	}
}

// ids are the items' ids in the order given.
func ids(items []Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

// bySortOrder is the items ordered as the platform shows them.
func bySortOrder(items []Item) []Item {
	out := slices.Clone(items)
	slices.SortStableFunc(out, func(a, b Item) int {
		switch {
		case a.Content.SortOrder < b.Content.SortOrder:
			return -1
		case a.Content.SortOrder > b.Content.SortOrder:
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}
