package smoke

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// postedStatus is the part of a Mastodon status the check reads.
type postedStatus struct {
	ID               string `json:"id"`
	URL              string `json:"url"`
	CreatedAt        string `json:"created_at"`
	MediaAttachments []struct {
		ID          string `json:"id"`
		URL         string `json:"url"`
		Description string `json:"description"`
	} `json:"media_attachments"`
}

// wixItem is the part of a Pro Gallery item the check reads.
type wixItem struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Link  struct {
		URL string `json:"url"`
	} `json:"link"`
	Image struct {
		ImageInfo struct {
			ID string `json:"id"`
		} `json:"imageInfo"`
	} `json:"image"`
}

// RunPlatformToWix posts a photo on the Mastodon account under the linked
// hashtag, as its owner would in a Mastodon app, and checks that the
// account's watcher and the wix-writer create the Pro Gallery item (image
// imported and READY), then rename and delete it the same way; and that none
// of the Wix webhooks our writes cause comes back to Mastodon as a write.
func RunPlatformToWix(ctx context.Context, t Target, opt Options) (Report, error) {
	var rep Report
	hc := &http.Client{Timeout: 10 * time.Second}
	masto := client{http: hc, auth: "Bearer " + t.MastodonToken}
	wixBase := strings.TrimRight(t.SandboxURL, "/") + "/wix"
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := (client{http: hc}).do(ctx, http.MethodPost, wixBase+"/_sandbox/owner-token",
		map[string]string{"instanceId": t.InstanceID}, &tok); err != nil {
		return rep, fmt.Errorf("site-owner token: %w", err)
	}
	owner := client{http: hc, auth: tok.AccessToken}

	var before mastodonStats
	if err := masto.do(ctx, http.MethodGet, t.MastodonBaseURL+"/_sandbox/stats", nil, &before); err != nil {
		return rep, fmt.Errorf("mastodon counters: %w", err)
	}

	title := "Posted on Mastodon " + opt.Nonce
	st, err := postPhoto(ctx, hc, t, title)
	if err != nil {
		return rep, err
	}
	start := time.Now()
	itemsURL := wixBase + "/pro-gallery/v2/galleries/" + url.PathEscape(t.LinkedGalleryID) + "/items?itemLimit=100"
	findItem := func() (wixItem, bool, error) {
		var page struct {
			Items []wixItem `json:"items"`
		}
		if err := owner.do(ctx, http.MethodGet, itemsURL, nil, &page); err != nil {
			return wixItem{}, false, err
		}
		for _, it := range page.Items {
			if it.Link.URL == st.URL {
				return it, true, nil
			}
		}
		return wixItem{}, false, nil
	}
	item, err := waitFor(ctx, opt.Within+5*time.Second, findItem)
	rep.add("platform create", err == nil && item.Title == title && item.Image.ImageInfo.ID != "",
		"status %s -> Wix item %s %q with image %s after %s", st.ID, item.ID, item.Title, item.Image.ImageInfo.ID, ms(time.Since(start)))
	if err != nil {
		return rep, nil
	}
	var file struct {
		File struct {
			OperationStatus string `json:"operationStatus"`
		} `json:"file"`
	}
	err = owner.do(ctx, http.MethodGet, wixBase+"/site-media/v1/files/"+url.PathEscape(item.Image.ImageInfo.ID), nil, &file)
	rep.add("image imported", err == nil && file.File.OperationStatus == "READY",
		"Media Manager file %s is %s", item.Image.ImageInfo.ID, file.File.OperationStatus)

	renamed := title + " renamed"
	start = time.Now()
	// An edit replaces the whole status: the photo stays only if named again.
	if err := masto.do(ctx, http.MethodPut, t.MastodonBaseURL+"/api/v1/statuses/"+st.ID, map[string]any{
		"status": renamed + "\n\n#" + t.Hashtag, "media_ids": []string{st.MediaAttachments[0].ID},
	}, nil); err != nil {
		return rep, fmt.Errorf("edit status: %w", err)
	}
	_, err = waitFor(ctx, opt.Within+5*time.Second, func() (wixItem, bool, error) {
		it, ok, err := findItem()
		return it, ok && it.Title == renamed, err
	})
	rep.add("platform rename", err == nil, "Wix item %s shows the new title after %s", item.ID, ms(time.Since(start)))

	start = time.Now()
	if err := masto.do(ctx, http.MethodDelete, t.MastodonBaseURL+"/api/v1/statuses/"+st.ID, nil, nil); err != nil {
		return rep, fmt.Errorf("delete status: %w", err)
	}
	_, err = waitFor(ctx, opt.Within+5*time.Second, func() (wixItem, bool, error) {
		_, ok, err := findItem()
		return wixItem{}, !ok && err == nil, err
	})
	rep.add("platform delete", err == nil, "Wix item %s gone after %s", item.ID, ms(time.Since(start)))

	select {
	case <-ctx.Done():
		return rep, ctx.Err()
	case <-time.After(opt.Settle):
	}
	var after mastodonStats
	if err := masto.do(ctx, http.MethodGet, t.MastodonBaseURL+"/_sandbox/stats", nil, &after); err != nil {
		return rep, fmt.Errorf("mastodon counters: %w", err)
	}
	d := mastodonStats{
		StatusesCreated: after.StatusesCreated - before.StatusesCreated,
		StatusesEdited:  after.StatusesEdited - before.StatusesEdited,
		StatusesDeleted: after.StatusesDeleted - before.StatusesDeleted,
		MediaUploaded:   after.MediaUploaded - before.MediaUploaded,
	}
	// Ours alone: the post, its edit and its delete. Anything more is an echo.
	rep.add("no echo to Mastodon",
		d == mastodonStats{StatusesCreated: 1, StatusesEdited: 1, StatusesDeleted: 1, MediaUploaded: 1},
		"Mastodon writes: %d created, %d edited, %d deleted, %d media uploaded (the owner's own: 1 each)",
		d.StatusesCreated, d.StatusesEdited, d.StatusesDeleted, d.MediaUploaded)
	return rep, nil
}

// postPhoto posts a generated photo with title under the linked hashtag, as
// the account's owner would in a Mastodon app.
func postPhoto(ctx context.Context, hc *http.Client, t Target, title string) (postedStatus, error) {
	var st postedStatus
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for y := range 240 {
		for x := range 320 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 160, 255})
		}
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "photo.png")
	if err != nil {
		return st, err
	}
	if err := png.Encode(fw, img); err != nil {
		return st, err
	}
	if err := mw.WriteField("description", title); err != nil {
		return st, err
	}
	if err := mw.Close(); err != nil {
		return st, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.MastodonBaseURL+"/api/v2/media", &body)
	if err != nil {
		return st, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+t.MastodonToken)
	resp, err := hc.Do(req)
	if err != nil {
		return st, fmt.Errorf("upload photo: %w", err)
	}
	defer resp.Body.Close()
	var m struct {
		ID string `json:"id"`
	}
	if resp.StatusCode/100 != 2 {
		return st, fmt.Errorf("upload photo: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return st, fmt.Errorf("upload photo: %w", err)
	}
	masto := client{http: hc, auth: "Bearer " + t.MastodonToken}
	if err := masto.do(ctx, http.MethodPost, t.MastodonBaseURL+"/api/v1/statuses", map[string]any{
		"status": title + "\n\n#" + t.Hashtag, "media_ids": []string{m.ID},
	}, &st); err != nil {
		return st, fmt.Errorf("post status: %w", err)
	}
	if len(st.MediaAttachments) == 0 {
		return st, errors.New("posted status has no media")
	}
	return st, nil
}
