package contract_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/services/sandbox/contract"
	"gallerysync.dev/services/sandbox/wixsim"
)

// response is one answer of the sandbox and the message it must match.
type response struct {
	name, message string
	schema        *contract.Schema
	body          []byte
}

// TestResponsesMatchTheSchemas drives every endpoint gallerysync uses and
// checks each answer against the response message Wix documents for it.
func TestResponsesMatchTheSchemas(t *testing.T) {
	t.Parallel()
	pro, media := schemas(t)
	s := startStack(t)
	tok := s.token(t, s.demo.InstanceID)
	gid := s.demo.Galleries[0].ID
	var got []response
	rec := func(name, msg string, schema *contract.Schema, body []byte) {
		got = append(got, response{name: name, message: msg, schema: schema, body: body})
	}

	for _, prefix := range []string{"/pro-gallery/v2", "/progallery/v2"} {
		g := prefix + "/galleries"
		rec(prefix+" list galleries", msgListGalleries, pro, s.ok(t, "GET", g+"?itemLimit=100", tok, nil, nil))
		rec(prefix+" get gallery", msgGetGallery, pro, s.ok(t, "GET", g+"/"+gid+"?itemOffset=1&itemLimit=2", tok, nil, nil))
		rec(prefix+" list items", msgListItems, pro, s.ok(t, "GET", g+"/"+gid+"/items", tok, nil, nil))
		rec(prefix+" get item", msgGetItem, pro, s.ok(t, "GET", g+"/"+gid+"/items/"+s.demo.Galleries[0].ItemIDs[0], tok, nil, nil))
	}

	// Media Manager: import (PENDING), then the settled file three ways.
	var imp struct {
		File wixsim.FileDescriptor `json:"file"`
	}
	raw := s.ok(t, "POST", "/site-media/v1/files/import", tok, map[string]any{
		"url": s.wix + "/_sandbox/images/contract.png?w=64&h=48", "mimeType": "image/png", "displayName": "contract.png",
		"externalInfo": map[string]any{"origin": s.demo.AppID, "externalIds": []string{"contract:1"}}, "labels": []string{"contract"},
	}, &imp)
	rec("import file", msgImportFile, media, raw)
	fileID := imp.File.ID
	s.waitFile(t, tok, fileID, "READY")
	rec("get file", msgGetFile, media, s.ok(t, "GET", "/site-media/v1/files/"+url.PathEscape(fileID), tok, nil, nil))
	rec("get file by id", msgGetFile, media, s.ok(t, "GET", "/site-media/v1/files/get-file-by-id?fileId="+url.QueryEscape(fileID), tok, nil, nil))
	rec("get files", msgGetFiles, media, s.ok(t, "POST", "/site-media/v1/files/get-files", tok, map[string]any{"fileIds": []string{fileID}}, nil))
	raw = s.ok(t, "POST", "/site-media/v1/files/import", tok, map[string]any{"url": s.wix + "/_sandbox/nothing-here.png"}, &imp)
	rec("import file that will fail", msgImportFile, media, raw)
	s.waitFile(t, tok, imp.File.ID, "FAILED")
	rec("get failed file", msgGetFile, media, s.ok(t, "GET", "/site-media/v1/files/"+url.PathEscape(imp.File.ID), tok, nil, nil))

	// Pro Gallery writes, with every item field gallerysync may send.
	var created struct {
		Gallery wixsim.Gallery `json:"gallery"`
	}
	rec("create gallery", msgCreateGallery, pro, s.ok(t, "POST", "/pro-gallery/v2/galleries", tok,
		map[string]any{"gallery": map[string]any{"name": "Contract"}}, &created))
	base := "/pro-gallery/v2/galleries/" + created.Gallery.ID
	items := map[string]map[string]any{
		"image": {
			"title": "Pier", "description": "At night", "sortOrder": 12.5,
			"link": map[string]any{"text": "see", "url": "https://example.org/p/1", "target": "_blank", "type": "EXTERNAL"},
			"tags": map[string]any{"values": []string{"pier", "night"}},
			"image": map[string]any{"type": "WIX_MEDIA", "imageInfo": map[string]any{"id": fileID, "altText": "pier", "filename": "contract.png"},
				"focalPoint": map[string]any{"x": 0.25, "y": 0.75}, "quality": 90,
				"unsharpMasking": map[string]any{"amount": 1.2, "radius": 0.5, "threshold": 0.1}, "exif": map[string]any{"iso": 100}},
		},
		"video": {
			"title": "Clip",
			"video": map[string]any{"type": "YOUTUBE", "durationInMillis": 20000, "videoInfo": map[string]any{
				"url": "https://www.youtube.com/watch?v=x", "resolutions": []any{map[string]any{"url": "https://v.example/x.mp4", "height": 720, "width": 1280, "format": "mp4", "quality": "720p"}}}},
		},
		"text": {"title": "Note", "text": map[string]any{"html": "<p>hi</p>", "css": map[string]any{"color": "red"}}},
	}
	var ids []string
	for _, kind := range []string{"image", "video", "text"} {
		var it struct {
			Item wixsim.Item `json:"item"`
		}
		rec("create "+kind+" item", msgCreateItem, pro, s.ok(t, "POST", base+"/items", tok, map[string]any{"item": items[kind]}, &it))
		ids = append(ids, it.Item.ID)
	}
	rec("update item", msgUpdateItem, pro, s.ok(t, "PATCH", base+"/items/"+ids[0], tok,
		map[string]any{"item": map[string]any{"title": "Pier, later", "link": map[string]any{"target": "_self"}}}, nil))
	rec("update gallery", msgUpdateGallery, pro, s.ok(t, "PATCH", base, tok, map[string]any{"gallery": map[string]any{"name": "Contract 2"}}, nil))
	rec("get gallery with every item kind", msgGetGallery, pro, s.ok(t, "GET", base, tok, nil, nil))
	rec("delete item", msgDeleteItem, pro, s.ok(t, "DELETE", base+"/items/"+ids[0], tok, nil, nil))
	rec("bulk delete items", msgBulkDelete, pro, s.ok(t, "POST", base+"/items/delete", tok, map[string]any{"itemIds": ids[1:2]}, nil))
	rec("delete gallery", msgDeleteGallery, pro, s.ok(t, "DELETE", base, tok, nil, nil))

	for _, r := range got {
		t.Run(r.name, func(t *testing.T) {
			if err := r.schema.Validate(r.message, r.body); err != nil {
				t.Fatalf("%s\nbody: %s", err, r.body)
			}
		})
	}
}

// waitFile polls a file until it has the wanted status.
func (s *stack) waitFile(t *testing.T, tok, id, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var f struct {
			File wixsim.FileDescriptor `json:"file"`
		}
		s.ok(t, "GET", "/site-media/v1/files/"+url.PathEscape(id), tok, nil, &f)
		if f.File.OperationStatus == want {
			return
		}
		if f.File.OperationStatus != "PENDING" || time.Now().After(deadline) {
			t.Fatalf("file %s is %s, want %s", id, f.File.OperationStatus, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWebhooksMatchTheSchemas makes every kind of change and checks each
// webhook's DomainEvent against the event message Wix documents for it.
func TestWebhooksMatchTheSchemas(t *testing.T) {
	t.Parallel()
	pro, media := schemas(t)
	s := startStack(t)
	const fresh = "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"
	s.ok(t, "POST", "/_sandbox/apps/install", "", map[string]string{"instanceId": fresh, "originInstanceId": s.demo.InstanceID}, nil)
	tok := s.token(t, fresh)

	var imp struct {
		File wixsim.FileDescriptor `json:"file"`
	}
	s.ok(t, "POST", "/site-media/v1/files/import", tok, map[string]any{
		"url": s.wix + "/_sandbox/images/hooks.png", "externalInfo": map[string]any{"origin": s.demo.AppID, "externalIds": []string{"m:1"}},
	}, &imp)
	s.waitFile(t, tok, imp.File.ID, "READY")
	var failed struct {
		File wixsim.FileDescriptor `json:"file"`
	}
	s.ok(t, "POST", "/site-media/v1/files/import", tok, map[string]any{
		"url": s.wix + "/_sandbox/missing.png", "externalInfo": map[string]any{"origin": s.demo.AppID, "externalIds": []string{"m:2"}},
	}, &failed)
	s.waitFile(t, tok, failed.File.ID, "FAILED")

	var g struct {
		Gallery wixsim.Gallery `json:"gallery"`
	}
	s.ok(t, "POST", "/pro-gallery/v2/galleries", tok, map[string]any{"gallery": map[string]any{"name": "Hooks"}}, &g)
	base := "/pro-gallery/v2/galleries/" + g.Gallery.ID
	var ids []string
	for _, title := range []string{"one", "two", "three"} {
		var it struct {
			Item wixsim.Item `json:"item"`
		}
		s.ok(t, "POST", base+"/items", tok, map[string]any{"item": map[string]any{
			"title": title, "link": map[string]any{"url": "https://example.org/" + title, "target": "_blank"},
			"image": map[string]any{"imageInfo": map[string]any{"id": imp.File.ID}, "focalPoint": map[string]any{"x": 0.5, "y": 0.5}},
		}}, &it)
		ids = append(ids, it.Item.ID)
	}
	s.ok(t, "PATCH", base+"/items/"+ids[0], tok, map[string]any{"item": map[string]any{"description": "changed"}}, nil)
	s.ok(t, "PATCH", base, tok, map[string]any{"gallery": map[string]any{"name": "Hooks 2"}}, nil)
	s.ok(t, "DELETE", base+"/items/"+ids[0], tok, nil, nil)
	s.ok(t, "POST", base+"/items/delete", tok, map[string]any{"itemIds": ids[1:2]}, nil)
	s.ok(t, "DELETE", base, tok, nil, nil) // cascades to the last item
	s.ok(t, "POST", "/_sandbox/apps/remove", "", map[string]string{"instanceId": fresh}, nil)
	s.drain(t)

	// The sandbox names gallery events with the current docs' FQDN; the
	// description uses the older spelling of the same entity (both are
	// documented), so events are matched by slug within the entity.
	fqdns := map[string]string{wixsim.EntityFQDN: "wix.pro_gallery.v2.gallery", wixsim.FileFQDN: wixsim.FileFQDN}
	seen := map[string]int{}
	for i, h := range s.webhooks(t) {
		if h.instanceID != fresh {
			t.Fatalf("webhook %d for instance %s, want %s", i, h.instanceID, fresh)
		}
		if h.eventType == wixsim.EventAppInstalled || h.eventType == wixsim.EventAppRemoved {
			checkLifecycle(t, h, s.demo.AppID, s.demo.InstanceID)
			seen[h.eventType]++
			continue
		}
		var head struct {
			EntityFqdn string `json:"entityFqdn"`
			Slug       string `json:"slug"`
		}
		if err := json.Unmarshal([]byte(h.data), &head); err != nil {
			t.Fatalf("webhook %d: data is not a DomainEvent: %v", i, err)
		}
		if h.eventType != head.EntityFqdn+"_"+head.Slug {
			t.Fatalf("webhook %d: eventType %s, entityFqdn %s, slug %s", i, h.eventType, head.EntityFqdn, head.Slug)
		}
		schema := pro
		if head.EntityFqdn == wixsim.FileFQDN {
			schema = media
		}
		ev, ok := schema.Event(fqdns[head.EntityFqdn], head.Slug)
		if !ok {
			t.Fatalf("webhook %d: %s is not a documented event", i, h.eventType)
		}
		if err := schema.Validate(ev.Message, []byte(h.data)); err != nil {
			t.Fatalf("webhook %d (%s): %v\ndata: %s", i, h.eventType, err, h.data)
		}
		seen[head.Slug]++
	}
	want := map[string]int{
		wixsim.EventAppInstalled: 1, wixsim.EventAppRemoved: 1, "file_ready": 1, "file_failed": 1,
		"created": 1, "updated": 1, "deleted": 1, "gallery_item_created": 3, "gallery_item_updated": 1, "gallery_item_deleted": 3,
	}
	for k, n := range want {
		if seen[k] != n {
			t.Fatalf("saw %v, want %v", seen, want)
		}
	}
}

// checkLifecycle checks an AppInstalled/AppRemoved envelope: no schema
// describes it in testdata, so its data is held to the documented keys.
func checkLifecycle(t *testing.T, h webhook, appID, origin string) {
	t.Helper()
	var data map[string]any
	if err := json.Unmarshal([]byte(h.data), &data); err != nil {
		t.Fatalf("%s: data %q is not a JSON object string: %v", h.eventType, h.data, err)
	}
	allowed := []string{"appId"}
	if h.eventType == wixsim.EventAppInstalled {
		allowed = append(allowed, "originInstanceId")
		if data["originInstanceId"] != origin {
			t.Fatalf("AppInstalled data %v, want originInstanceId %s", data, origin)
		}
	}
	for k := range data {
		if !slices.Contains(allowed, k) {
			t.Fatalf("%s data has undocumented key %q", h.eventType, k)
		}
	}
	if data["appId"] != appID {
		t.Fatalf("%s data %v, want appId %s", h.eventType, data, appID)
	}
	if !strings.Contains(h.identity, `"identityType":"WIX_USER"`) || h.iat == 0 {
		t.Fatalf("%s identity %s iat %d", h.eventType, h.identity, h.iat)
	}
}

// TestErrorsAreWixFormat checks the error bodies gallerysync reads, which
// the descriptions do not model, against the documented error format.
func TestErrorsAreWixFormat(t *testing.T) {
	t.Parallel()
	s := startStack(t, withRateLimit(2)) // the third counted call is refused
	tok := s.token(t, s.demo.InstanceID)
	gid := s.demo.Galleries[0].ID
	tests := []struct {
		name, method, path, token string
		body                      any
		status                    int
		kind                      string
	}{
		{"bad token", "GET", "/pro-gallery/v2/galleries", "nope", nil, http.StatusUnauthorized, "applicationError"},
		{"missing gallery", "GET", "/pro-gallery/v2/galleries/none", tok, nil, http.StatusNotFound, "applicationError"},
		{"item without media", "POST", "/pro-gallery/v2/galleries/" + gid + "/items", tok, map[string]any{"item": map[string]any{"title": "x"}}, http.StatusBadRequest, "validationError"},
		{"rate limited", "GET", "/pro-gallery/v2/galleries", tok, nil, http.StatusTooManyRequests, "applicationError"},
	}
	for _, tt := range tests {
		status, raw := s.call(t, tt.method, tt.path, tt.token, tt.body)
		if status != tt.status {
			t.Fatalf("%s: status %d, want %d: %s", tt.name, status, tt.status, raw)
		}
		var body map[string]json.RawMessage
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatalf("%s: %s", tt.name, raw)
		}
		var details map[string]json.RawMessage
		_ = json.Unmarshal(body["details"], &details)
		if len(body) != 2 || body["message"] == nil || len(details) != 1 || details[tt.kind] == nil {
			t.Fatalf("%s: body %s, want {message, details: {%s}}", tt.name, raw, tt.kind)
		}
	}
}
