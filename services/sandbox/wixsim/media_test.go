package wixsim_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gallerysync.dev/services/sandbox/wixsim"
)

type fileResp struct {
	File wixsim.FileDescriptor `json:"file"`
}

// source serves test files for import.
func source(t *testing.T) *httptest.Server {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 123, 45))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	img.Set(0, 0, color.White)
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, img, nil); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/photo.jpg", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Need") != "" && r.Header.Get("X-Need") != r.URL.Query().Get("token") {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(jpg.Bytes())
	})
	mux.HandleFunc("/text.txt", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "not an image") })
	mux.HandleFunc("/huge.png", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.Copy(w, io.LimitReader(zeroes{}, 25<<20+10))
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

type zeroes struct{}

func (zeroes) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// waitSettled polls the file until it is no longer PENDING.
func (e *env) waitSettled(t *testing.T, tok, id string) wixsim.FileDescriptor {
	t.Helper()
	var got fileResp
	waitFor(t, "file "+id+" to leave PENDING", func() bool {
		e.mustDo(t, "GET", "/site-media/v1/files/"+id, tok, nil, &got)
		return got.File.OperationStatus != "PENDING"
	})
	return got.File
}

// importPending imports url and checks the answer is PENDING without media.
func (e *env) importPending(t *testing.T, tok string, body map[string]any) wixsim.FileDescriptor {
	t.Helper()
	var r fileResp
	e.mustDo(t, "POST", "/site-media/v1/files/import", tok, body, &r)
	if r.File.OperationStatus != "PENDING" || r.File.Media != nil || r.File.ID == "" {
		t.Fatalf("import answered %+v, want PENDING without media", r.File)
	}
	return r.File
}

func TestImportFile(t *testing.T) {
	t.Parallel()
	e := start(t)
	src := source(t)
	tok := e.appToken(t, siteA)
	idPattern := regexp.MustCompile(`^[0-9a-f]{6}_[0-9a-f]{32}~mv2\.(png|jpg)$`)

	tests := []struct {
		name          string
		url           string
		displayName   string
		width, height int
		wantName      string
	}{
		{name: "jpeg from a remote host", url: src.URL + "/photo.jpg", width: 123, height: 45, wantName: "photo.jpg"},
		{name: "generated sandbox picture", url: e.base + "/_sandbox/images/harbour.png?w=321&h=123", displayName: "Harbour", width: 321, height: 123, wantName: "Harbour.png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pending := e.importPending(t, tok, map[string]any{"url": tt.url, "displayName": tt.displayName,
				"externalInfo": map[string]any{"origin": testAppID, "externalIds": []string{"mastodon:1"}}})
			if !idPattern.MatchString(pending.ID) {
				t.Fatalf("id %q does not look like a Wix media id", pending.ID)
			}
			if pending.DisplayName != tt.wantName || pending.SourceURL != tt.url || pending.SiteID == "" {
				t.Fatalf("pending file = %+v, want displayName %q", pending, tt.wantName)
			}
			f := e.waitSettled(t, tok, pending.ID)
			if f.OperationStatus != "READY" || f.MediaType != "IMAGE" || f.State != "OK" || f.SourceURL != tt.url {
				t.Fatalf("file = %+v", f)
			}
			if f.Media == nil || f.Media.Image == nil {
				t.Fatalf("READY file without media: %+v", f)
			}
			img := f.Media.Image.Image
			if img.Width != tt.width || img.Height != tt.height || img.ID != f.ID || img.URL != f.URL {
				t.Fatalf("media.image.image = %+v", img)
			}
			if f.URL != e.base+"/media/"+f.ID {
				t.Fatalf("url = %s", f.URL)
			}

			resp, err := http.Get(f.URL)
			if err != nil {
				t.Fatal(err)
			}
			served, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			orig, err := http.Get(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := io.ReadAll(orig.Body)
			orig.Body.Close()
			if !bytes.Equal(served, want) {
				t.Fatal("media URL does not serve the imported bytes")
			}
			sum := md5.Sum(want)
			if f.SizeInBytes != strconv.Itoa(len(want)) || f.Hash != hex.EncodeToString(sum[:]) {
				t.Fatalf("size %s hash %s, want %d bytes %x", f.SizeInBytes, f.Hash, len(want), sum)
			}

			var got fileResp
			e.mustDo(t, "GET", "/site-media/v1/files/get-file-by-id?fileId="+f.ID, tok, nil, &got)
			if got.File.ID != f.ID || got.File.OperationStatus != "READY" {
				t.Fatalf("get-file-by-id = %+v", got.File)
			}
		})
	}

	t.Run("url params and headers reach the source", func(t *testing.T) {
		t.Parallel()
		f := e.importPending(t, tok, map[string]any{
			"url": src.URL + "/photo.jpg", "urlParams": map[string]string{"token": "s3"}, "urlHeaders": map[string]string{"X-Need": "s3"},
		})
		if got := e.waitSettled(t, tok, f.ID); got.OperationStatus != "READY" {
			t.Fatalf("file = %+v", got)
		}
	})

	failing := []struct{ name, url string }{
		{"not an image", src.URL + "/text.txt"},
		{"missing source", src.URL + "/gone.png"},
		{"over 25 MiB", src.URL + "/huge.png"},
		{"refused by the source", src.URL + "/photo.jpg?token=wrong"},
		{"unreachable host", "http://127.0.0.1:1/photo.png"},
	}
	g, _ := e.seedGallery(t, "import-target", 0)
	for _, tt := range failing {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := map[string]any{"url": tt.url}
			if tt.name == "refused by the source" {
				body["urlHeaders"] = map[string]string{"X-Need": "right"}
			}
			pending := e.importPending(t, tok, body)
			f := e.waitSettled(t, tok, pending.ID)
			if f.OperationStatus != "FAILED" || f.Media != nil {
				t.Fatalf("file = %+v, want FAILED without media", f)
			}
			we := e.expectError(t, "POST", "/pro-gallery/v2/galleries/"+g.ID+"/items", tok, imageItem(f.ID, "x"), http.StatusBadRequest)
			if !hasViolation(we, "item.image.imageInfo.id") {
				t.Fatalf("a FAILED file was accepted in an item: %+v", we)
			}
		})
	}

	bad := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"missing url", map[string]any{"displayName": "x"}, "url"},
		{"ftp url", map[string]any{"url": "ftp://example.org/a.png"}, "url"},
		{"relative url", map[string]any{"url": "/a.png"}, "url"},
		{"unknown media type", map[string]any{"url": src.URL + "/photo.jpg", "mediaType": "HOLOGRAM"}, "mediaType"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			we := e.expectError(t, "POST", "/site-media/v1/files/import", tok, tt.body, http.StatusBadRequest)
			if !hasViolation(we, tt.field) {
				t.Fatalf("violations = %+v, want %s", we.Details.ValidationError, tt.field)
			}
		})
	}
}

func TestGetFiles(t *testing.T) {
	t.Parallel()
	e := start(t)
	tok := e.appToken(t, siteA)
	a, err := e.srv.AddImage(siteA, "one", 10, 20)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.srv.AddImage(siteA, "two", 30, 40)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.srv.AddImage(siteA, "one", 10, 20)
	if err != nil || again.ID != a.ID {
		t.Fatalf("AddImage is not repeatable: %s then %s (%v)", a.ID, again.ID, err)
	}
	foreign, err := e.srv.AddImage(siteB, "one", 10, 20)
	if err != nil || foreign.ID == a.ID {
		t.Fatalf("two sites share file id %s (%v)", a.ID, err)
	}

	var r struct {
		Files []wixsim.FileDescriptor `json:"files"`
	}
	e.mustDo(t, "POST", "/site-media/v1/files/get-files", tok, map[string]any{"fileIds": []string{b.ID, a.ID}}, &r)
	if len(r.Files) != 2 || r.Files[0].ID != b.ID || r.Files[1].ID != a.ID {
		t.Fatalf("files = %+v", r.Files)
	}
	if r.Files[0].Media.Image.Image.Width != 30 || r.Files[0].SiteID == "" {
		t.Fatalf("file = %+v", r.Files[0])
	}

	we := e.expectError(t, "POST", "/site-media/v1/files/get-files", tok, map[string]any{"fileIds": []string{a.ID, foreign.ID}}, http.StatusNotFound)
	if we.Details.ApplicationError == nil || we.Details.ApplicationError.Code != "FILE_NOT_FOUND" {
		t.Fatalf("error = %+v", we)
	}
	e.expectError(t, "POST", "/site-media/v1/files/get-files", tok, map[string]any{}, http.StatusBadRequest)
	e.expectError(t, "GET", "/site-media/v1/files/"+foreign.ID, tok, nil, http.StatusNotFound)
	e.expectError(t, "GET", "/site-media/v1/files/get-file-by-id", tok, nil, http.StatusBadRequest)

	resp, err := http.Get(e.base + "/media/nope~mv2.png")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown media: status %d", resp.StatusCode)
	}
	resp, err = http.Get(a.URL + "/v1/fill/w_100,h_100/one.png")
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := image.DecodeConfig(resp.Body)
	resp.Body.Close()
	if err != nil || cfg.Width != 10 || cfg.Height != 20 {
		t.Fatalf("transform URL: %v %+v", err, cfg)
	}
}

func TestGeneratedPictures(t *testing.T) {
	t.Parallel()
	e := start(t)
	get := func(t *testing.T, path string) (int, []byte) {
		t.Helper()
		resp, err := http.Get(e.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	_, first := get(t, "/_sandbox/images/boat.png")
	_, again := get(t, "/_sandbox/images/boat.png")
	_, other := get(t, "/_sandbox/images/tree.png")
	if !bytes.Equal(first, again) {
		t.Fatal("the same name gave different bytes")
	}
	if bytes.Equal(first, other) {
		t.Fatal("different names gave the same picture")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(first))
	if err != nil || format != "png" || cfg.Width != 640 || cfg.Height != 480 {
		t.Fatalf("default picture: %s %+v %v", format, cfg, err)
	}
	_, sized := get(t, "/_sandbox/images/boat.png?w=17&h=9")
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(sized)); err != nil || cfg.Width != 17 || cfg.Height != 9 {
		t.Fatalf("sized picture: %+v %v", cfg, err)
	}
	for _, q := range []string{"w=0", "h=4001", "w=abc"} {
		if status, body := get(t, "/_sandbox/images/boat.png?"+q); status != http.StatusBadRequest || !strings.Contains(string(body), "validationError") {
			t.Fatalf("%s: status %d %s", q, status, body)
		}
	}
	if status, _ := get(t, "/_sandbox/images/boat.jpg"); status != http.StatusNotFound {
		t.Fatalf("non-png name: status %d", status)
	}
}
