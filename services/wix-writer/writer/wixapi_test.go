package writer_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// tick is the time of the next write; Wix's dates only go forward.
func (f *wixFake) tick() string {
	f.clock = f.clock.Add(time.Second)
	return f.clock.Format(time.RFC3339Nano)
}

func (f *wixFake) token(w http.ResponseWriter, r *http.Request) {
	var req struct {
		GrantType    string `json:"grant_type"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		InstanceID   string `json:"instance_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.GrantType != "client_credentials" {
		wixError(w, http.StatusBadRequest, "bad token request")
		return
	}
	if req.ClientID != testAppID || req.ClientSecret != testAppSecret {
		wixError(w, http.StatusUnauthorized, "client_id or client_secret is wrong")
		return
	}
	f.nextID++
	tok := "OauthNG.JWS.test-" + strconv.Itoa(f.nextID)
	f.tokens[tok] = req.InstanceID
	writeJSON(w, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 14400})
}

// auth resolves the Authorization header (raw or Bearer) to an instance.
func (f *wixFake) auth(h func(w http.ResponseWriter, r *http.Request, instance string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		inst, ok := f.tokens[tok]
		if !ok || inst == "" {
			wixError(w, http.StatusUnauthorized, "invalid or missing access token")
			return
		}
		h(w, r, inst)
	}
}

func (f *wixFake) gallery(w http.ResponseWriter, r *http.Request, instance string) *fakeGallery {
	g := f.galleries[[2]string{instance, r.PathValue("gid")}]
	if g == nil {
		wixError(w, http.StatusNotFound, "gallery "+r.PathValue("gid")+" not found")
	}
	return g
}

func (f *wixFake) findItem(w http.ResponseWriter, r *http.Request, g *fakeGallery) (int, *fakeItem) {
	for i, it := range g.items {
		if it.ID == r.PathValue("iid") {
			return i, it
		}
	}
	wixError(w, http.StatusNotFound, "item "+r.PathValue("iid")+" not found")
	return -1, nil
}

func (f *wixFake) getGallery(w http.ResponseWriter, r *http.Request, instance string) {
	g := f.gallery(w, r, instance)
	if g == nil {
		return
	}
	offset, _ := strconv.Atoi(r.URL.Query().Get("itemOffset"))
	limit, err := strconv.Atoi(r.URL.Query().Get("itemLimit"))
	if err != nil || limit < 1 || limit > 100 || offset < 0 {
		wixError(w, http.StatusBadRequest, "itemLimit must be 1..100")
		return
	}
	page := []*fakeItem{}
	if offset < len(g.items) {
		page = g.items[offset:min(offset+limit, len(g.items))]
	}
	writeJSON(w, map[string]any{"gallery": map[string]any{
		"id": r.PathValue("gid"), "name": "Test gallery", "totalItems": len(g.items), "items": page,
	}})
}

func (f *wixFake) getItem(w http.ResponseWriter, r *http.Request, instance string) {
	g := f.gallery(w, r, instance)
	if g == nil {
		return
	}
	if _, it := f.findItem(w, r, g); it != nil {
		writeJSON(w, map[string]any{"item": it})
	}
}

func (f *wixFake) createItem(w http.ResponseWriter, r *http.Request, instance string) {
	g := f.gallery(w, r, instance)
	if g == nil {
		return
	}
	var req struct {
		Item fakeItem `json:"item"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		wixError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	it := req.Item
	if msg := f.checkImage(instance, it.Image); msg != "" {
		wixError(w, http.StatusBadRequest, msg)
		return
	}
	f.nextID++
	it.ID = "wixitem-" + strconv.Itoa(f.nextID)
	it.Type = "IMAGE"
	it.CreatedDate = f.tick()
	it.UpdatedDate = it.CreatedDate
	it.Image.ImageInfo.URL = "https://static.wixstatic.com/media/" + it.Image.ImageInfo.ID
	g.items = append(g.items, &it)
	f.creates++
	f.journal.add("wix create " + it.Title)
	if f.loseCreates > 0 {
		f.loseCreates--
		wixError(w, http.StatusServiceUnavailable, "")
		return
	}
	writeJSON(w, map[string]any{"item": it})
}

// checkImage enforces what Create/Update Gallery Item require of an image:
// a ready file of the site, with its size.
func (f *wixFake) checkImage(instance string, im *fakeImage) string {
	if im == nil || im.ImageInfo == nil || im.ImageInfo.ID == "" {
		return "item.image.imageInfo.id is required"
	}
	fl := f.files[[2]string{instance, im.ImageInfo.ID}]
	if fl == nil || fl.Status != "READY" {
		return "item.image.imageInfo.id must name a ready Media Manager file"
	}
	if im.ImageInfo.Width <= 0 || im.ImageInfo.Height <= 0 {
		return "item.image.imageInfo width and height are required"
	}
	return ""
}

func (f *wixFake) patchItem(w http.ResponseWriter, r *http.Request, instance string) {
	g := f.gallery(w, r, instance)
	if g == nil {
		return
	}
	_, it := f.findItem(w, r, g)
	if it == nil {
		return
	}
	var req struct {
		Item map[string]json.RawMessage `json:"item"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		wixError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	next := cloneItem(it)
	for k, v := range req.Item {
		var err error
		switch k {
		case "title":
			err = json.Unmarshal(v, &next.Title)
		case "description":
			err = json.Unmarshal(v, &next.Description)
		case "sortOrder":
			err = json.Unmarshal(v, &next.SortOrder)
		case "link":
			next.Link = nil
			err = json.Unmarshal(v, &next.Link)
		case "image":
			next.Image = nil
			if err = json.Unmarshal(v, &next.Image); err == nil {
				if msg := f.checkImage(instance, next.Image); msg != "" {
					wixError(w, http.StatusBadRequest, msg)
					return
				}
				next.Image.ImageInfo.URL = "https://static.wixstatic.com/media/" + next.Image.ImageInfo.ID
			}
		case "id", "type", "createdDate", "updatedDate":
		default:
			err = fmt.Errorf("field %s is not supported here", k)
		}
		if err != nil {
			wixError(w, http.StatusBadRequest, "item."+k+": "+err.Error())
			return
		}
	}
	next.UpdatedDate = f.tick()
	*it = next
	f.updates++
	f.journal.add("wix update " + it.ID)
	writeJSON(w, map[string]any{"item": it})
}

func (f *wixFake) deleteItem(w http.ResponseWriter, r *http.Request, instance string) {
	g := f.gallery(w, r, instance)
	if g == nil {
		return
	}
	i, it := f.findItem(w, r, g)
	if it == nil {
		return
	}
	g.items = append(g.items[:i], g.items[i+1:]...)
	f.deletes++
	f.journal.add("wix delete " + it.ID)
	writeJSON(w, map[string]any{"itemId": it.ID})
}

func (f *wixFake) importFile(w http.ResponseWriter, r *http.Request, instance string) {
	var req fakeImportRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		wixError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		wixError(w, http.StatusBadRequest, "url must be an absolute http or https URL")
		return
	}
	f.nextID++
	ext := strings.TrimPrefix(path.Ext(req.DisplayName), ".")
	fl := &fakeFile{
		ID:          fmt.Sprintf("f0%d_test~mv2.%s", f.nextID, ext),
		DisplayName: req.DisplayName,
		SizeInBytes: "46489",
		MediaType:   "IMAGE",
		Status:      "PENDING",
		SourceURL:   req.URL,
	}
	fl.URL = "https://static.wixstatic.com/media/" + fl.ID
	f.files[[2]string{instance, fl.ID}] = fl
	f.imports++
	f.importReqs = append(f.importReqs, req)
	writeJSON(w, map[string]any{"file": fl})
}

func (f *wixFake) getFile(w http.ResponseWriter, r *http.Request, instance string) {
	fl := f.files[[2]string{instance, r.PathValue("fid")}]
	if fl == nil {
		wixError(w, http.StatusNotFound, "file not found")
		return
	}
	fl.reads++
	held := false
	for suffix := range f.held {
		held = held || strings.HasSuffix(fl.SourceURL, suffix)
	}
	if fl.Status == "PENDING" && !held && fl.reads > f.readyAfter {
		if strings.Contains(fl.SourceURL, "broken") {
			fl.Status = "FAILED"
		} else {
			fl.Status = "READY"
			fl.Media = &struct {
				Image struct {
					Image fakeImageInfo `json:"image"`
				} `json:"image"`
			}{}
			fl.Media.Image.Image = fakeImageInfo{ID: fl.ID, URL: fl.URL, Width: 640, Height: 480, Filename: fl.DisplayName}
		}
	}
	writeJSON(w, map[string]any{"file": fl})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// wixError answers in Wix's error format (wix-api.md 5.2).
func wixError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"message": msg, "details": map[string]any{}})
}
