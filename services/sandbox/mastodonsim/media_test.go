package mastodonsim

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestUploadMedia(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	pngData := pngImage(t, 64, 48)

	var jpegBuf, gifBuf bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 30, 10))
	if err := jpeg.Encode(&jpegBuf, img, nil); err != nil {
		t.Fatal(err)
	}
	pal := image.NewPaletted(image.Rect(0, 0, 8, 16), []color.Color{color.Black, color.White})
	if err := gif.Encode(&gifBuf, pal, nil); err != nil {
		t.Fatal(err)
	}
	tooBig := append(append([]byte{}, pngData...), make([]byte, maxFileSize)...)

	tests := []struct {
		name      string
		token     string
		file      []byte
		fields    map[string]string
		wantCode  int
		wantError string
		wantW     int
		wantH     int
		wantExt   string
		wantDesc  string
		wantFocus *Focus
	}{
		{name: "png with description and focus", token: aliceToken, file: pngData,
			fields:   map[string]string{"description": "A red barn", "focus": "-0.5,0.25"},
			wantCode: 200, wantW: 64, wantH: 48, wantExt: ".png", wantDesc: "A red barn", wantFocus: &Focus{X: -0.5, Y: 0.25}},
		{name: "jpeg", token: aliceToken, file: jpegBuf.Bytes(), wantCode: 200, wantW: 30, wantH: 10, wantExt: ".jpeg"},
		{name: "gif", token: aliceToken, file: gifBuf.Bytes(), wantCode: 200, wantW: 8, wantH: 16, wantExt: ".gif"},
		{name: "no token", file: pngData, wantCode: 401, wantError: "The access token is invalid"},
		{name: "unknown token", token: "nope", file: pngData, wantCode: 401, wantError: "The access token is invalid"},
		{name: "missing file", token: aliceToken, fields: map[string]string{"description": "x"},
			wantCode: 422, wantError: "Validation failed: File can't be blank"},
		{name: "not an image", token: aliceToken, file: []byte("just some text, not a picture"),
			wantCode: 422, wantError: "Validation failed: File content type is invalid, File is invalid"},
		{name: "png signature with a broken header", token: aliceToken, file: append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 40)...),
			wantCode: 422, wantError: "Validation failed: File content type is invalid, File is invalid"},
		{name: "over 16 MiB", token: aliceToken, file: tooBig,
			wantCode: 422, wantError: "Validation failed: File file size must be less than 16 MB"},
		{name: "focus not a pair", token: aliceToken, file: pngData, fields: map[string]string{"focus": "0.5"},
			wantCode: 422, wantError: "Validation failed: Focus is invalid"},
		{name: "focus out of range", token: aliceToken, file: pngData, fields: map[string]string{"focus": "1.5,0"},
			wantCode: 422, wantError: "Validation failed: Focus is invalid"},
		{name: "focus not numbers", token: aliceToken, file: pngData, fields: map[string]string{"focus": "left,top"},
			wantCode: 422, wantError: "Validation failed: Focus is invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := in.uploadRaw(t, tc.token, tc.file, tc.fields)
			if r.code != tc.wantCode {
				t.Fatalf("status %d, want %d; body %s", r.code, tc.wantCode, r.body)
			}
			if tc.wantCode != 200 {
				if got := r.errorText(t); got != tc.wantError {
					t.Fatalf("error %q, want %q", got, tc.wantError)
				}
				return
			}
			m := decode[MediaAttachment](t, r)
			if m.Type != "image" || m.URL == nil || m.PreviewURL == nil {
				t.Fatalf("attachment %+v: want an image with url and preview_url", m)
			}
			if !strings.HasPrefix(*m.URL, in.base+"/media/") || !strings.HasSuffix(*m.URL, tc.wantExt) {
				t.Fatalf("url %q, want %s/media/<id>%s", *m.URL, in.base, tc.wantExt)
			}
			orig := m.Meta.Original
			if orig == nil || orig.Width != tc.wantW || orig.Height != tc.wantH {
				t.Fatalf("meta.original %+v, want %dx%d", orig, tc.wantW, tc.wantH)
			}
			if want := float64(tc.wantW) / float64(tc.wantH); orig.Aspect != want {
				t.Fatalf("aspect %v, want %v", orig.Aspect, want)
			}
			if tc.wantDesc != "" && (m.Description == nil || *m.Description != tc.wantDesc) {
				t.Fatalf("description %v, want %q", m.Description, tc.wantDesc)
			}
			if tc.wantDesc == "" && m.Description != nil {
				t.Fatalf("description %q, want null", *m.Description)
			}
			if tc.wantFocus != nil && (m.Meta.Focus == nil || *m.Meta.Focus != *tc.wantFocus) {
				t.Fatalf("focus %+v, want %+v", m.Meta.Focus, tc.wantFocus)
			}

			file := in.get(t, *m.URL, "")
			if file.code != 200 || !bytes.Equal(file.body, tc.file) {
				t.Fatalf("GET %s: status %d, %d bytes; want the %d uploaded bytes", *m.URL, file.code, len(file.body), len(tc.file))
			}
			if ct := file.header.Get("Content-Type"); !strings.HasPrefix(ct, "image/") {
				t.Fatalf("file content type %q, want image/*", ct)
			}
			if preview := in.get(t, *m.PreviewURL, ""); preview.code != 200 {
				t.Fatalf("GET preview: status %d", preview.code)
			}
		})
	}
}

func TestUploadCountsOnlyAcceptedFiles(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	in.upload(t, aliceToken, 4, 4, "")
	if r := in.uploadRaw(t, aliceToken, []byte("not an image"), nil); r.code != 422 {
		t.Fatalf("status %d, want 422", r.code)
	}
	if got := in.srv.Stats().MediaUploaded; got != 1 {
		t.Fatalf("MediaUploaded = %d, want 1", got)
	}
}

func TestMediaLifecycle(t *testing.T) {
	t.Parallel()
	in := startInstance(t)

	t.Run("get own unattached", func(t *testing.T) {
		t.Parallel()
		m := in.upload(t, aliceToken, 8, 8, "first")
		got := decode[MediaAttachment](t, in.get(t, "/api/v1/media/"+m.ID, aliceToken))
		if got.ID != m.ID || got.Description == nil || *got.Description != "first" {
			t.Fatalf("got %+v, want the uploaded attachment", got)
		}
	})
	t.Run("another account cannot see it", func(t *testing.T) {
		t.Parallel()
		m := in.upload(t, aliceToken, 8, 8, "")
		r := in.get(t, "/api/v1/media/"+m.ID, bobToken)
		if r.code != 404 || r.errorText(t) != "Record not found" {
			t.Fatalf("status %d body %s, want 404 Record not found", r.code, r.body)
		}
	})
	t.Run("unknown id", func(t *testing.T) {
		t.Parallel()
		if r := in.get(t, "/api/v1/media/12345", aliceToken); r.code != 404 {
			t.Fatalf("status %d, want 404", r.code)
		}
	})
	t.Run("update description and focus while unattached", func(t *testing.T) {
		t.Parallel()
		m := in.upload(t, aliceToken, 8, 8, "before")
		r := in.form(t, http.MethodPut, "/api/v1/media/"+m.ID, aliceToken,
			url.Values{"description": {"after"}, "focus": {"0.1,-0.2"}}, nil)
		got := decode[MediaAttachment](t, r)
		if got.Description == nil || *got.Description != "after" || got.Meta.Focus == nil || *got.Meta.Focus != (Focus{X: 0.1, Y: -0.2}) {
			t.Fatalf("got description %v focus %+v, want after and 0.1,-0.2", got.Description, got.Meta.Focus)
		}
	})
	t.Run("update with malformed focus changes nothing", func(t *testing.T) {
		t.Parallel()
		m := in.upload(t, aliceToken, 8, 8, "kept")
		r := in.form(t, http.MethodPut, "/api/v1/media/"+m.ID, aliceToken,
			url.Values{"description": {"lost"}, "focus": {"2,2"}}, nil)
		if r.code != 422 {
			t.Fatalf("status %d, want 422", r.code)
		}
		got := decode[MediaAttachment](t, in.get(t, "/api/v1/media/"+m.ID, aliceToken))
		if *got.Description != "kept" {
			t.Fatalf("description %q after a rejected update, want kept", *got.Description)
		}
	})
	t.Run("attached media can no longer be read or changed here", func(t *testing.T) {
		t.Parallel()
		m := in.upload(t, aliceToken, 8, 8, "")
		in.post(t, aliceToken, url.Values{"media_ids[]": {m.ID}})
		if r := in.get(t, "/api/v1/media/"+m.ID, aliceToken); r.code != 404 {
			t.Fatalf("GET attached: status %d, want 404", r.code)
		}
		r := in.form(t, http.MethodPut, "/api/v1/media/"+m.ID, aliceToken, url.Values{"description": {"late"}}, nil)
		if r.code != 404 {
			t.Fatalf("PUT attached: status %d, want 404", r.code)
		}
		if r := in.request(t, http.MethodDelete, "/api/v1/media/"+m.ID, aliceToken, "", nil, nil); r.code != 422 ||
			r.errorText(t) != "Media attachment is currently used by a status" {
			t.Fatalf("DELETE attached: status %d body %s, want 422", r.code, r.body)
		}
	})
	t.Run("delete unattached removes the file", func(t *testing.T) {
		t.Parallel()
		m := in.upload(t, aliceToken, 8, 8, "")
		if r := in.request(t, http.MethodDelete, "/api/v1/media/"+m.ID, aliceToken, "", nil, nil); r.code != 200 {
			t.Fatalf("DELETE: status %d, want 200", r.code)
		}
		if r := in.get(t, *m.URL, ""); r.code != 404 {
			t.Fatalf("file after delete: status %d, want 404", r.code)
		}
		if r := in.get(t, "/api/v1/media/"+m.ID, aliceToken); r.code != 404 {
			t.Fatalf("media after delete: status %d, want 404", r.code)
		}
	})
}
