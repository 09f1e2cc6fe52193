// Package smoke is the end-to-end check of a running stack, done the way a
// site owner would see it: change an item on the Wix site, then look at the
// Mastodon account. It is run by `make smoke` against `make run`, and by the
// stack's Go test against real engines.
package smoke

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Target is what the check needs to know of the running demo (demo.json).
type Target struct {
	SandboxURL        string `json:"sandbox_url"`
	InstanceID        string `json:"instance_id"`
	LinkedGalleryID   string `json:"linked_gallery_id"`
	Hashtag           string `json:"hashtag"`
	MastodonBaseURL   string `json:"mastodon_base_url"`
	MastodonAccountID string `json:"mastodon_account_id"`
	MastodonToken     string `json:"mastodon_token"`
	ConnectionID      string `json:"connection_id"`
	NATSURL           string `json:"nats_url"`
}

// Check is one observation with its verdict.
type Check struct {
	Name   string
	OK     bool
	Detail string
}

// Report is every check made, in order.
type Report struct{ Checks []Check }

// Passed reports whether every check passed (and at least one ran).
func (r Report) Passed() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return len(r.Checks) > 0
}

func (r *Report) add(name string, ok bool, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
}

// Options tune the check.
type Options struct {
	// Within is how long a change may take to show on Mastodon.
	Within time.Duration
	// Settle is how long to keep watching for late duplicate or echo writes.
	Settle time.Duration
	// Nonce makes the item's title unique.
	Nonce string
}

// mastodonStats mirrors the sandbox's write counters.
type mastodonStats struct {
	StatusesCreated int64 `json:"statuses_created"`
	StatusesEdited  int64 `json:"statuses_edited"`
	StatusesDeleted int64 `json:"statuses_deleted"`
	MediaUploaded   int64 `json:"media_uploaded"`
}

type status struct {
	ID      string `json:"id"`
	Content string `json:"content"`
}

// Run creates, renames and deletes one item of the linked gallery as the site
// owner and checks that each change reaches Mastodon once, in time, and that
// no other write happens. An error means the check could not be made at all.
func Run(ctx context.Context, t Target, opt Options) (Report, error) {
	var rep Report
	hc := &http.Client{Timeout: 10 * time.Second}
	wixBase := strings.TrimRight(t.SandboxURL, "/") + "/wix"
	masto := client{http: hc, auth: "Bearer " + t.MastodonToken}

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

	fileID, err := importImage(ctx, owner, wixBase, t.SandboxURL, opt.Nonce)
	if err != nil {
		return rep, err
	}

	title := "Smoke " + opt.Nonce
	var created struct {
		Item struct {
			ID string `json:"id"`
		} `json:"item"`
	}
	itemsURL := wixBase + "/pro-gallery/v2/galleries/" + url.PathEscape(t.LinkedGalleryID) + "/items"
	start := time.Now()
	if err := owner.do(ctx, http.MethodPost, itemsURL, map[string]any{"item": map[string]any{
		"title":       title,
		"description": "Made by the smoke check",
		"image":       map[string]any{"imageInfo": map[string]any{"id": fileID}},
	}}, &created); err != nil {
		return rep, fmt.Errorf("create item: %w", err)
	}
	itemURL := itemsURL + "/" + url.PathEscape(created.Item.ID)

	st, err := waitFor(ctx, opt.Within, func() (status, bool, error) {
		return findStatus(ctx, masto, t, title)
	})
	rep.add("create", err == nil, "item %s -> status %s after %s", created.Item.ID, st.ID, ms(time.Since(start)))
	if err != nil {
		return rep, nil
	}

	renamed := title + " renamed"
	start = time.Now()
	if err := owner.do(ctx, http.MethodPatch, itemURL, map[string]any{"item": map[string]any{"title": renamed}}, nil); err != nil {
		return rep, fmt.Errorf("rename item: %w", err)
	}
	_, err = waitFor(ctx, opt.Within, func() (status, bool, error) {
		var s status
		if err := masto.do(ctx, http.MethodGet, t.MastodonBaseURL+"/api/v1/statuses/"+st.ID, nil, &s); err != nil {
			return s, false, err
		}
		return s, strings.Contains(s.Content, renamed), nil
	})
	rep.add("rename", err == nil, "status %s shows the new title after %s", st.ID, ms(time.Since(start)))
	if err != nil {
		return rep, nil
	}

	start = time.Now()
	if err := owner.do(ctx, http.MethodDelete, itemURL, nil, nil); err != nil {
		return rep, fmt.Errorf("delete item: %w", err)
	}
	_, err = waitFor(ctx, opt.Within, func() (status, bool, error) {
		err := masto.do(ctx, http.MethodGet, t.MastodonBaseURL+"/api/v1/statuses/"+st.ID, nil, nil)
		if errors.Is(err, errNotFound) {
			return status{}, true, nil
		}
		return status{}, false, err
	})
	rep.add("delete", err == nil, "status %s gone after %s", st.ID, ms(time.Since(start)))
	if err != nil {
		return rep, nil
	}

	// Late duplicates or echoes would show up as extra writes after the fact.
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
	rep.add("one write per change",
		d == mastodonStats{StatusesCreated: 1, StatusesEdited: 1, StatusesDeleted: 1, MediaUploaded: 1},
		"Mastodon writes: %d created, %d edited, %d deleted, %d media uploaded (want 1 each)",
		d.StatusesCreated, d.StatusesEdited, d.StatusesDeleted, d.MediaUploaded)
	return rep, nil
}

// importImage puts a fresh generated photo into the site's Media Manager and
// waits until it is READY, as a site owner uploading a photo would.
func importImage(ctx context.Context, owner client, wixBase, sandboxURL, nonce string) (string, error) {
	var imp struct {
		File struct {
			ID              string `json:"id"`
			OperationStatus string `json:"operationStatus"`
		} `json:"file"`
	}
	src := wixBase + "/_sandbox/images/smoke-" + url.PathEscape(nonce) + ".png?w=800&h=600"
	if err := owner.do(ctx, http.MethodPost, wixBase+"/site-media/v1/files/import", map[string]any{
		"url": src, "mimeType": "image/png", "displayName": "smoke-" + nonce + ".png",
	}, &imp); err != nil {
		return "", fmt.Errorf("import image: %w", err)
	}
	_, err := waitFor(ctx, 30*time.Second, func() (string, bool, error) {
		if imp.File.OperationStatus == "READY" {
			return "", true, nil
		}
		err := owner.do(ctx, http.MethodGet, wixBase+"/site-media/v1/files/"+url.PathEscape(imp.File.ID), nil, &imp)
		return "", imp.File.OperationStatus == "READY", err
	})
	if err != nil {
		return "", fmt.Errorf("image %s not READY: %w", imp.File.ID, err)
	}
	return imp.File.ID, nil
}

// findStatus looks for the status of the linked album that carries title.
func findStatus(ctx context.Context, masto client, t Target, title string) (status, bool, error) {
	var list []status
	u := t.MastodonBaseURL + "/api/v1/accounts/" + url.PathEscape(t.MastodonAccountID) +
		"/statuses?limit=40&tagged=" + url.QueryEscape(t.Hashtag)
	if err := masto.do(ctx, http.MethodGet, u, nil, &list); err != nil {
		return status{}, false, err
	}
	for _, s := range list {
		if strings.Contains(s.Content, title) {
			return s, true, nil
		}
	}
	return status{}, false, nil
}

// waitFor polls fn until it reports done or within runs out.
func waitFor[T any](ctx context.Context, within time.Duration, fn func() (T, bool, error)) (T, error) {
	deadline := time.Now().Add(within)
	var lastErr error
	for {
		v, done, err := fn()
		if done {
			return v, nil
		}
		lastErr = err
		if time.Now().After(deadline) {
			if lastErr == nil {
				lastErr = errors.New("not seen")
			}
			return v, fmt.Errorf("within %s: %w", within, lastErr)
		}
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }
