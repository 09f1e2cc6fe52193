package wix

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// fakeFile is a Media Manager file of the fake Wix.
type fakeFile struct {
	desc map[string]any
	// readyAfter is how many more reads answer PENDING; -1 keeps it pending.
	readyAfter int
	fail       bool
	reads      int
}

// addFile adds a Media Manager image that turns READY after readyAfter
// reads (-1: never), or FAILED when fail is set.
func (f *fakeWix) addFile(id string, readyAfter int, fail bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[id] = &fakeFile{readyAfter: readyAfter, fail: fail, desc: map[string]any{
		"id": id, "displayName": "ig_" + id + ".jpg", "url": "https://static.wixstatic.com/media/" + id,
		"mediaType": "IMAGE", "operationStatus": "PENDING", "sizeInBytes": "46489", "state": "OK",
	}}
}

// setReady makes a file READY at its next read.
func (f *fakeWix) setReady(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[id].readyAfter = 0
}

func (f *fakeWix) fileReads(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.files[id].reads
}

func (f *fakeWix) importFile(_ *http.Request, body []byte) (int, any) {
	var req struct {
		URL         string `json:"url"`
		DisplayName string `json:"displayName"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.URL == "" {
		return http.StatusBadRequest, fakeErr{"url is required", "INVALID_ARGUMENT"}
	}
	id := fmt.Sprintf("a1b2c3_%032d~mv2.jpg", len(f.files)+1)
	f.files[id] = &fakeFile{readyAfter: 1, desc: map[string]any{
		"id": id, "displayName": req.DisplayName, "url": "https://static.wixstatic.com/media/" + id,
		"mediaType": "IMAGE", "operationStatus": "PENDING", "sourceUrl": req.URL, "state": "OK",
	}}
	return http.StatusOK, map[string]any{"file": f.files[id].desc}
}

// read advances a file's processing by one read and returns its descriptor.
func (ff *fakeFile) read() map[string]any {
	ff.reads++
	switch {
	case ff.fail:
		ff.desc["operationStatus"] = "FAILED"
	case ff.readyAfter == 0:
		ff.desc["operationStatus"] = "READY"
		id := ff.desc["id"].(string)
		ff.desc["media"] = map[string]any{"image": map[string]any{
			"image":        map[string]any{"id": id, "url": "https://static.wixstatic.com/media/" + id, "width": 6031, "height": 4456, "filename": "space.jpg", "sizeInBytes": "2608831"},
			"previewImage": map[string]any{"id": "image.preview", "width": 800, "height": 591},
		}}
	case ff.readyAfter > 0:
		ff.readyAfter--
	}
	return ff.desc
}

func (f *fakeWix) getFile(r *http.Request, _ []byte) (int, any) {
	ff := f.files[r.PathValue("fid")]
	if ff == nil {
		return fakeNotFound("file")
	}
	return http.StatusOK, map[string]any{"file": ff.read()}
}

func (f *fakeWix) getFiles(_ *http.Request, body []byte) (int, any) {
	var req struct {
		FileIDs []string `json:"fileIds"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return http.StatusBadRequest, fakeErr{"bad body", "INVALID_ARGUMENT"}
	}
	files := []any{}
	for _, id := range req.FileIDs {
		if ff := f.files[id]; ff != nil {
			files = append(files, ff.read())
		}
	}
	return http.StatusOK, map[string]any{"files": files}
}
