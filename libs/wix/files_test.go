package wix

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// fastMediaPolling keeps WaitReady's waits short in tests.
func fastMediaPolling() ClientOption {
	return WithMediaPolling(time.Millisecond, 5*time.Millisecond, time.Minute)
}

func TestImportFileThenWaitReady(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	c := f.client(t, fastMediaPolling())
	fd, err := c.ImportFile(t.Context(), testInstance, ImportRequest{
		URL: "https://cdn.example.com/p/XYZ.jpg", MimeType: "image/jpeg", DisplayName: "ig_XYZ.jpg", ExternalIDs: []string{"ig:XYZ"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if fd.ID == "" || fd.OperationStatus != StatusPending || fd.Media != nil {
		t.Errorf("ImportFile = %+v, want a pending file", fd)
	}
	reqs := f.seen("POST /site-media/v1/files/import")
	if len(reqs) != 1 {
		t.Fatalf("%d import requests", len(reqs))
	}
	assertBodyJSON(t, reqs[0].body, `{"url":"https://cdn.example.com/p/XYZ.jpg","mimeType":"image/jpeg","displayName":"ig_XYZ.jpg",
		"externalInfo":{"origin":"`+testAppID+`","externalIds":["ig:XYZ"]}}`)

	ready, err := c.WaitReady(t.Context(), testInstance, fd.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ready.OperationStatus != StatusReady {
		t.Fatalf("WaitReady = %+v", ready)
	}
	got := ImageInfoOf(ready, "Sunset")
	want := ImageInfo{ID: fd.ID, Width: 6031, Height: 4456, Filename: "space.jpg", AltText: "Sunset"}
	if got != want {
		t.Errorf("ImageInfoOf = %+v, want %+v", got, want)
	}
	// The image is what a gallery item needs.
	item, err := c.CreateItem(t.Context(), testInstance, testGallery, Item{Title: "Sunset", Image: &Image{ImageInfo: &got}})
	if err != nil || item.ID == "" {
		t.Errorf("CreateItem with the imported image = %+v, %v", item, err)
	}
}

func TestImportFileRefusesBadURL(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	c := f.client(t)
	for _, u := range []string{"", "ftp://example.com/a.jpg", "/relative.jpg", "https://"} {
		if _, err := c.ImportFile(t.Context(), testInstance, ImportRequest{URL: u}); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("ImportFile(%q) = %v, want ErrInvalidRequest", u, err)
		}
	}
	if n := len(f.seen("")); n != 0 {
		t.Errorf("%d requests reached the API", n)
	}
}

func TestWaitReady(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		readyAfter int
		fail       bool
		bound      time.Duration
		want       OperationStatus
		err        error
	}{
		{name: "pending then ready", readyAfter: 3, bound: time.Minute, want: StatusReady},
		{name: "already ready", readyAfter: 0, bound: time.Minute, want: StatusReady},
		{name: "failed", readyAfter: 1, fail: true, bound: time.Minute, want: StatusFailed, err: ErrFileFailed},
		{name: "never ready", readyAfter: -1, bound: 30 * time.Millisecond, want: StatusPending, err: ErrFileTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeWix(t)
			id := "a1b2c3_wait~mv2.jpg"
			f.addFile(id, tc.readyAfter, tc.fail)
			c := f.client(t, WithMediaPolling(time.Millisecond, 4*time.Millisecond, tc.bound))
			fd, err := c.WaitReady(t.Context(), testInstance, id, nil)
			if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("WaitReady = %v, want %v", err, tc.err)
			}
			if fd.OperationStatus != tc.want || fd.ID != id {
				t.Errorf("WaitReady descriptor %+v, want status %s", fd, tc.want)
			}
			if tc.readyAfter > 0 && !tc.fail {
				if n := f.fileReads(id); n != tc.readyAfter+1 {
					t.Errorf("%d reads, want %d", n, tc.readyAfter+1)
				}
			}
		})
	}
}

func TestWaitReadyWakesOnSignal(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	id := "a1b2c3_wake~mv2.jpg"
	f.addFile(id, -1, false)
	// Timer polls an hour apart: only the wake can make the second poll.
	c := f.client(t, WithMediaPolling(time.Hour, time.Hour, 2*time.Hour))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	wake := make(chan struct{})
	type result struct {
		fd  FileDescriptor
		err error
	}
	done := make(chan result, 1)
	go func() {
		fd, err := c.WaitReady(ctx, testInstance, id, wake)
		done <- result{fd, err}
	}()
	pollUntil(t, func() bool { return f.fileReads(id) == 1 })
	f.setReady(id)
	select {
	case wake <- struct{}{}:
	case <-ctx.Done():
		t.Fatal("WaitReady did not take the wake signal")
	}
	r := <-done
	if r.err != nil || r.fd.OperationStatus != StatusReady {
		t.Errorf("WaitReady after wake = %+v, %v", r.fd, r.err)
	}
}

func TestWaitReadyEndsWithContext(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	id := "a1b2c3_ctx~mv2.jpg"
	f.addFile(id, -1, false)
	c := f.client(t, WithMediaPolling(time.Hour, time.Hour, 2*time.Hour))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := c.WaitReady(ctx, testInstance, id, nil)
		done <- err
	}()
	pollUntil(t, func() bool { return f.fileReads(id) == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("WaitReady after cancel = %v", err)
	}
}

// pollUntil polls cond until it holds or a generous deadline passes.
func pollUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestGetFiles(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	f.addFile("f1~mv2.jpg", 0, false)
	f.addFile("f2~mv2.jpg", 5, false)
	c := f.client(t)
	files, err := c.GetFiles(t.Context(), testInstance, []string{"f1~mv2.jpg", "f2~mv2.jpg"})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].OperationStatus != StatusReady || files[1].OperationStatus != StatusPending || files[1].SizeInBytes != 46489 {
		t.Errorf("GetFiles = %+v", files)
	}
	if _, err := c.GetFile(t.Context(), testInstance, "missing~mv2.jpg"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetFile(missing) = %v, want ErrNotFound", err)
	}
	if got, err := c.GetFiles(t.Context(), testInstance, nil); got != nil || err != nil {
		t.Errorf("GetFiles(nil) = %v, %v", got, err)
	}
}

func TestImageInfoOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fd   FileDescriptor
		want ImageInfo
	}{
		{
			name: "ready image",
			fd: FileDescriptor{ID: "a~mv2.jpg", DisplayName: "shown.jpg", Media: &FileMedia{Image: &ImageMedia{
				Image: &ImageInfo{ID: "a~mv2.jpg", Width: 640, Height: 480, Filename: "orig.jpg"}}}},
			want: ImageInfo{ID: "a~mv2.jpg", Width: 640, Height: 480, Filename: "orig.jpg", AltText: "alt"},
		},
		{
			name: "no media yet",
			fd:   FileDescriptor{ID: "b~mv2.jpg", DisplayName: "shown.jpg"},
			want: ImageInfo{ID: "b~mv2.jpg", Filename: "shown.jpg", AltText: "alt"},
		},
		{
			name: "media without id or name",
			fd:   FileDescriptor{ID: "c~mv2.png", DisplayName: "c.png", Media: &FileMedia{Image: &ImageMedia{Image: &ImageInfo{Width: 3, Height: 2}}}},
			want: ImageInfo{ID: "c~mv2.png", Width: 3, Height: 2, Filename: "c.png", AltText: "alt"},
		},
		{
			name: "vector",
			fd:   FileDescriptor{ID: "d.svg", Media: &FileMedia{Vector: &ImageMedia{Image: &ImageInfo{ID: "d.svg", Width: 30, Height: 20}}}},
			want: ImageInfo{ID: "d.svg", Width: 30, Height: 20, AltText: "alt"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ImageInfoOf(tc.fd, "alt"); got != tc.want {
				t.Errorf("ImageInfoOf = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestFileDescriptorFromReference decodes the shapes of Wix's own samples:
// sizes as strings, nulls, and a url given as a list.
func TestFileDescriptorFromReference(t *testing.T) {
	t.Parallel()
	raw := `{"file":{"createdDate":"2021-07-06T12:28:20.000Z","displayName":"space.jpg","hash":"6f9d","id":"6acbb8_7a~mv2.jpg",
		"media":{"image":{"colors":{"palette":[{"rgb":{"b":28,"g":28,"r":25}}]},"faces":[],
			"image":{"filename":"space.jpg","height":4456,"id":"6acbb8_7a~mv2.jpg","sizeInBytes":"2608831","url":"https://static.wixstatic.com/media/6acbb8_7a~mv2.jpg","width":6031},
			"previewImage":{"height":591,"id":"image.preview","url":"https://static.wixstatic.com/media/6acbb8_7a~mv2.jpg","width":800}}},
		"mediaType":"IMAGE","operationStatus":"READY","parentFolderId":"media-root","private":true,"sizeInBytes":"2608831",
		"sourceUrl":null,"thumbnailUrl":"https://static.wixstatic.com/media/6acbb8_7a~mv2.jpg","updatedDate":"2022-06-06T12:45:29.000Z",
		"url":["https://static.wixstatic.com/media/6acbb8_7a~mv2.jpg","https://static.wixstatic.com/media/6acbb8_7a~mv2.jpg"],"state":"OK"}}`
	var w wireFile
	if err := json.Unmarshal([]byte(raw), &w); err != nil {
		t.Fatal(err)
	}
	fd := w.File
	if fd.SizeInBytes != 2608831 || fd.URL != "https://static.wixstatic.com/media/6acbb8_7a~mv2.jpg" || fd.OperationStatus != StatusReady ||
		fd.CreatedDate.IsZero() || !fd.Private {
		t.Errorf("decoded %+v", fd)
	}
	if got := ImageInfoOf(fd, ""); got.Width != 6031 || got.Height != 4456 || got.ID != "6acbb8_7a~mv2.jpg" {
		t.Errorf("ImageInfoOf = %+v", got)
	}
}
