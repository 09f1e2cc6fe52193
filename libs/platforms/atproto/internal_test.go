package atproto

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/libs/platforms"
)

func TestTIDFromKey(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i := range 1000 {
		k := tidFromKey("item", strings.Repeat("k", i%7)+string(rune('a'+i%26))+strings.Repeat("x", i))
		if len(k) != 13 || !strings.ContainsRune("234567abcdefghij", rune(k[0])) || checkRkey(k) != nil {
			t.Fatalf("%q is not a TID", k)
		}
		if seen[k] {
			t.Fatalf("two keys made %q", k)
		}
		seen[k] = true
		if again := tidFromKey("item", strings.Repeat("k", i%7)+string(rune('a'+i%26))+strings.Repeat("x", i)); again != k {
			t.Fatalf("the same key made %q and %q", k, again)
		}
	}
	// Its time reads as one between 2023 and 2032.
	var n uint64
	for _, c := range tidFromKey("item", "some key") {
		n = n<<5 | uint64(strings.IndexRune(tidAlphabet, c))
	}
	at := time.UnixMicro(int64(n >> 10)).UTC()
	if at.Year() < 2023 || at.Year() > 2032 {
		t.Fatalf("derived TID dates from %s", at)
	}
}

func TestCheckRkey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key string
		ok  bool
	}{
		{"3kabcdefghij2", true},
		{"self", true},
		{"a.b-c_d:e~f", true},
		{"", false},
		{".", false},
		{"..", false},
		{"a/b", false},
		{"a b", false},
		{strings.Repeat("a", 513), false},
	}
	for _, tc := range tests {
		if err := checkRkey(tc.key); (err == nil) != tc.ok {
			t.Errorf("checkRkey(%q) = %v, want ok %v", tc.key, err, tc.ok)
		}
	}
}

func TestPositionKeepsOrderAndDecimals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sort float64
		want int64
	}{
		{0, 0},
		{1, 1000},
		{1644317968.985, 1644317968985},
		{1717171717000, 1717171717000000},
		{-2.1e12, -2.1e15},
		{1e300, maxPosition},
		{math.Inf(-1), -maxPosition},
		{math.NaN(), 0},
	}
	for _, tc := range tests {
		if got := position(tc.sort); got != tc.want {
			t.Errorf("position(%v) = %d, want %d", tc.sort, got, tc.want)
		}
		if !math.IsNaN(tc.sort) && math.Abs(tc.sort) < 1e15 && sortOrder(position(tc.sort)) != tc.sort {
			t.Errorf("sortOrder(position(%v)) = %v", tc.sort, sortOrder(position(tc.sort)))
		}
	}
}

func TestExpectMatchesTheWatchersHash(t *testing.T) {
	t.Parallel()
	a := New(nil)
	c := platforms.Content{Title: " T ", Description: "D", LinkURL: "https://x.example/", AltText: "A", MediaURL: "https://m.example/1.png", SortOrder: 2.5}
	st := state{blob: blobRef{CID: "bafkrei", MimeType: "image/png", Size: 3}, aspect: aspect{1, 1}}
	photo, item := st.records("at://did:plc:x/social.grain.gallery/g", "at://did:plc:x/social.grain.photo/p", c)
	seen := observedHash(photo.text(), item.Position, photo.Photo.CID != "")
	if got := a.Expect("g", c); got != seen {
		t.Fatalf("Expect %s, the records hash to %s", got, seen)
	}
	moved := c
	moved.SortOrder = 3
	if a.Expect("g", moved) == a.Expect("g", c) {
		t.Fatal("Expect ignores the position")
	}
	otherSource := c
	otherSource.MediaURL = "https://m.example/2.png"
	if a.Expect("g", otherSource) != a.Expect("g", c) || a.Fingerprint("g", otherSource) == a.Fingerprint("g", c) {
		t.Fatal("the media source must change the fingerprint but not the observed hash")
	}
}

func TestFitImage(t *testing.T) {
	t.Parallel()
	small := encode(t, fill(40, 30))
	big := encode(t, noise(1600, 1000))
	transparent := encode(t, image.NewNRGBA(image.Rect(0, 0, 2400, 1200)))
	tests := []struct {
		name       string
		data       []byte
		limit      int64
		wantSame   bool
		wantAspect aspect
	}{
		{"small image kept", small, maxBlobBytes, true, aspect{40, 30}},
		{"large image scaled down", big, maxBlobBytes, false, aspect{1600, 1000}},
		{"tight limit", big, 60_000, false, aspect{1600, 1000}},
		{"transparent image", transparent, 1000, false, aspect{2400, 1200}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, mt, asp, err := fitImage(tc.data, "image/png", tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(out)) > tc.limit {
				t.Fatalf("%d bytes, limit %d", len(out), tc.limit)
			}
			if tc.wantSame {
				if !bytes.Equal(out, tc.data) || mt != "image/png" || asp != tc.wantAspect {
					t.Fatalf("changed a fitting image: %s %+v", mt, asp)
				}
				return
			}
			if mt != "image/jpeg" {
				t.Fatalf("type %s", mt)
			}
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			if asp != (aspect{int64(cfg.Width), int64(cfg.Height)}) || max(cfg.Width, cfg.Height) > maxEdge {
				t.Fatalf("aspect %+v for a %dx%d image", asp, cfg.Width, cfg.Height)
			}
			want := float64(tc.wantAspect.Width) / float64(tc.wantAspect.Height)
			if got := float64(cfg.Width) / float64(cfg.Height); math.Abs(got-want) > 0.01 {
				t.Fatalf("aspect %.3f, want %.3f", got, want)
			}
		})
	}
	if _, _, _, err := fitImage([]byte("not an image"), "image/png", maxBlobBytes); err == nil {
		t.Fatal("garbage accepted as an image")
	}
}

func fill(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{R: 200, G: 30, B: 30, A: 255})
		}
	}
	return img
}

func noise(w, h int) image.Image {
	r := rand.New(rand.NewPCG(3, 4))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.UintN(256))
	}
	return img
}

func encode(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestClassify(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	a := New(nil, WithClock(func() time.Time { return now }))
	tests := []struct {
		name      string
		status    int
		header    http.Header
		body      string
		wantName  string
		permanent bool
		notFound  bool
		retryable bool
		reset     time.Time
	}{
		{"rate limited with reset", 429, http.Header{"Ratelimit-Reset": {"1796032800"}}, `{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}`,
			"RateLimitExceeded", false, false, true, time.Unix(1796032800, 0)},
		{"rate limited with retry-after", 429, http.Header{"Retry-After": {"30"}}, `{"error":"RateLimitExceeded"}`,
			"RateLimitExceeded", false, false, true, now.Add(30 * time.Second)},
		{"record not found", 400, nil, `{"error":"RecordNotFound","message":"Could not locate record"}`, "RecordNotFound", false, true, false, time.Time{}},
		{"invalid swap", 400, nil, `{"error":"InvalidSwap","message":"Record was at bafy"}`, "InvalidSwap", true, false, false, time.Time{}},
		{"bad password", 401, nil, `{"error":"AuthenticationRequired","message":"Invalid identifier or password"}`, "AuthenticationRequired", true, false, false, time.Time{}},
		{"server error", 500, nil, `{"error":"InternalServerError","message":"Internal Server Error"}`, "InternalServerError", false, false, true, time.Time{}},
		{"proxy page", 502, nil, `<html>bad gateway</html>`, "Bad Gateway", false, false, true, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := a.classify("com.atproto.repo.putRecord", &http.Response{StatusCode: tc.status, Header: tc.header}, []byte(tc.body))
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Name != tc.wantName {
				t.Fatalf("%v: want an APIError named %s", err, tc.wantName)
			}
			if errors.Is(err, platforms.ErrPermanent) != tc.permanent || errors.Is(err, platforms.ErrNotFound) != tc.notFound ||
				platforms.IsRetryable(err) != tc.retryable {
				t.Fatalf("%v: permanent %v notFound %v retryable %v", err, errors.Is(err, platforms.ErrPermanent),
					errors.Is(err, platforms.ErrNotFound), platforms.IsRetryable(err))
			}
			var rl *platforms.RateLimitError
			if errors.As(err, &rl) && !rl.Reset.Equal(tc.reset) {
				t.Fatalf("reset %s, want %s", rl.Reset, tc.reset)
			}
		})
	}
}
