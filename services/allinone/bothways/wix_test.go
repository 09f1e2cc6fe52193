package bothways

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"gallerysync.dev/services/allinone/stack"
	"gallerysync.dev/services/sandbox/sandbox"
	"gallerysync.dev/services/sandbox/wixsim"
)

// wixWriteOps are the Wix calls that change a site, as the sandbox counts
// them; every other call only reads.
var wixWriteOps = []string{
	"CreateGallery", "UpdateGallery", "DeleteGallery",
	"CreateGalleryItem", "UpdateGalleryItem", "DeleteGalleryItem", "BulkDeleteGalleryItems",
	"ImportFile",
}

// wixWrites are the site's write counters (the owner's and the app's).
func wixWrites(s *stack.Stack) counts {
	calls := s.Sandbox().Wix().Stats(s.Demo().InstanceID).Calls
	out := counts{}
	for _, op := range wixWriteOps {
		out[op] = calls[op]
	}
	return out
}

// owner acts on the demo site as its owner does in the Wix editor: with
// the sandbox's site-owner token over the Wix REST API, so every change
// reaches ingress as a signed webhook, as on a real site.
type owner struct {
	hc       *http.Client
	base     string // the Wix API, e.g. http://127.0.0.1:8090/wix
	token    string
	instance string
}

func newOwner(t *testing.T, s *stack.Stack) *owner {
	t.Helper()
	d := s.Demo()
	tok, err := s.Sandbox().Wix().OwnerToken(d.InstanceID)
	if err != nil {
		t.Fatalf("site-owner token: %v", err)
	}
	return &owner{hc: &http.Client{Timeout: 10 * time.Second}, base: d.SandboxURL + sandbox.WixPrefix, token: tok, instance: d.InstanceID}
}

// importImage puts a generated photo into the Media Manager and waits
// until it is READY, as uploading a photo in the editor does.
func (o *owner) importImage(ctx context.Context, t *testing.T, name string) string {
	t.Helper()
	var imp struct {
		File wixsim.FileDescriptor `json:"file"`
	}
	src := o.base + "/_sandbox/images/" + url.PathEscape(name) + ".png?w=640&h=480"
	if err := o.do(ctx, http.MethodPost, "/site-media/v1/files/import", map[string]any{
		"url": src, "mimeType": "image/png", "displayName": name + ".png",
	}, &imp); err != nil {
		t.Fatalf("import image %s: %v", name, err)
	}
	id := imp.File.ID
	mustWaitFor(ctx, t, "image "+id+" READY", func() (bool, error) {
		if imp.File.OperationStatus == "READY" {
			return true, nil
		}
		err := o.do(ctx, http.MethodGet, "/site-media/v1/files/"+url.PathEscape(id), nil, &imp)
		return err == nil && imp.File.OperationStatus == "READY", err
	})
	return id
}

// createItem adds an image item to the gallery; Wix gives it the default
// sort order (its creation time), which puts it last.
func (o *owner) createItem(ctx context.Context, t *testing.T, gallery, title, description, fileID string) wixsim.Item {
	t.Helper()
	var out struct {
		Item wixsim.Item `json:"item"`
	}
	if err := o.do(ctx, http.MethodPost, itemsPath(gallery), map[string]any{"item": map[string]any{
		"title": title, "description": description,
		"image": map[string]any{"imageInfo": map[string]any{"id": fileID}},
	}}, &out); err != nil {
		t.Fatalf("create item %q: %v", title, err)
	}
	return out.Item
}

// updateItem changes the fields given (a partial update).
func (o *owner) updateItem(ctx context.Context, t *testing.T, gallery, id string, fields map[string]any) wixsim.Item {
	t.Helper()
	var out struct {
		Item wixsim.Item `json:"item"`
	}
	if err := o.do(ctx, http.MethodPatch, itemsPath(gallery)+"/"+url.PathEscape(id), map[string]any{"item": fields}, &out); err != nil {
		t.Fatalf("update item %s: %v", id, err)
	}
	return out.Item
}

func (o *owner) deleteItem(ctx context.Context, t *testing.T, gallery, id string) {
	t.Helper()
	if err := o.do(ctx, http.MethodDelete, itemsPath(gallery)+"/"+url.PathEscape(id), nil, nil); err != nil {
		t.Fatalf("delete item %s: %v", id, err)
	}
}

func itemsPath(gallery string) string {
	return "/pro-gallery/v2/galleries/" + url.PathEscape(gallery) + "/items"
}

func (o *owner) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, o.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", o.token)
	resp, err := o.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// galleryItems is the gallery as Wix shows it, in display order (read
// through the sandbox, so the reads count as no API call).
func galleryItems(s *stack.Stack, gallery string) ([]wixsim.Item, error) {
	return s.Sandbox().Wix().Items(s.Demo().InstanceID, gallery)
}
