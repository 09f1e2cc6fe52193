package watchtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/libs/platforms"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/ingress/watch"
)

const hookSecret = "hook-secret"

// statusWebhook is an admin webhook body for a status of account on the
// harness's instance, as Mastodon serializes it.
func (h *harness) statusWebhook(event, id, account, text string, tags ...string) []byte {
	h.t.Helper()
	var tagList []map[string]string
	content := "<p>" + strings.ReplaceAll(text, "\n\n", "</p><p>") + "</p>"
	for _, tg := range tags {
		tagList = append(tagList, map[string]string{"name": tg, "url": h.api.URL + "/tags/" + tg})
		content += `<p><a href="` + h.api.URL + `/tags/` + tg + `" class="mention hashtag" rel="tag">#<span>` + tg + `</span></a></p>`
	}
	body, err := json.Marshal(map[string]any{
		"event": event, "created_at": "2025-06-01T12:00:00.000Z",
		"object": map[string]any{
			"id": id, "created_at": "2025-06-01T12:00:00.000Z", "edited_at": nil,
			"url": h.api.URL + "/@owner/" + id, "uri": h.api.URL + "/users/owner/statuses/" + id,
			"account": map[string]any{"id": account, "username": "owner"}, "content": content,
			"tags": tagList, "media_attachments": []any{}, "reblog": nil,
		},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return body
}

func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func (h *harness) hook() *watch.Hook {
	h.t.Helper()
	hk, err := watch.NewMastodonHook(watch.HookConfig{MastodonSecret: hookSecret, MaxBodyBytes: 64 << 10, TargetsTTL: time.Minute},
		watch.Deps{Mapping: h.client, Publisher: h.bus})
	if err != nil {
		h.t.Fatalf("NewMastodonHook: %v", err)
	}
	return hk
}

func deliver(hk http.Handler, body []byte, signature string) (int, string) {
	req := httptest.NewRequest(http.MethodPost, watch.MastodonHookPath, strings.NewReader(string(body)))
	if signature != "" {
		req.Header.Set("X-Hub-Signature", signature)
	}
	rec := httptest.NewRecorder()
	hk.ServeHTTP(rec, req)
	return rec.Code, strings.TrimSpace(rec.Body.String())
}

func TestMastodonWebhook(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	hk := h.hook()
	created := h.statusWebhook("status.created", "501", h.account, "Sunset\n\nOver the bay", album)
	foreign := h.statusWebhook("status.created", "502", "999", "Not ours", album)
	unlinked := h.statusWebhook("status.updated", "503", h.account, "At work", "work")
	tests := []struct {
		name     string
		body     []byte
		sig      string
		wantCode int
		wantText string
	}{
		{"bad signature", created, sign("other", created), http.StatusUnauthorized, "bad signature"},
		{"no signature", created, "", http.StatusUnauthorized, "bad signature"},
		{"signed but malformed", []byte(`{"event":`), sign(hookSecret, []byte(`{"event":`)), http.StatusBadRequest, "malformed event"},
		{"other event", []byte(`{"event":"account.created","object":{"id":"1"}}`),
			sign(hookSecret, []byte(`{"event":"account.created","object":{"id":"1"}}`)), http.StatusOK, "ignored"},
		{"another account", foreign, sign(hookSecret, foreign), http.StatusOK, "ignored"},
		{"no linked hashtag", unlinked, sign(hookSecret, unlinked), http.StatusOK, "ignored"},
		{"status created", created, sign(hookSecret, created), http.StatusOK, "ok"},
		{"delivered again", created, sign(hookSecret, created), http.StatusOK, "ok"},
		{"too large", append(created, make([]byte, 64<<10)...), "sha256=00", http.StatusRequestEntityTooLarge, "body too large"},
	}
	for _, tc := range tests {
		code, text := deliver(hk, tc.body, tc.sig)
		if code != tc.wantCode || text != tc.wantText {
			t.Fatalf("%s: %d %q, want %d %q", tc.name, code, text, tc.wantCode, tc.wantText)
		}
	}
	evs := h.events()
	if len(evs) != 1 {
		t.Fatalf("%d events published, want 1: %v", len(evs), evs)
	}
	ev := evs[0]
	want := h.adapter.Expect(album, platforms.Content{Title: "Sunset", Description: "Over the bay"})
	if ev.GetKind() != gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED || ev.GetAlbumId() != album || ev.GetConnectionId() != connection ||
		ev.GetItem().GetItemId() != "501" || ev.GetItem().GetTitle() != "Sunset" || ev.GetItem().GetContentHash() != want {
		t.Fatalf("event %v, want a created event of 501 with hash %s", ev, want)
	}

	// Mapped already: an update.
	h.mapping.SeedItem(&gsv1.ItemMapping{TenantId: tenant, LinkId: "link-1", WixItemId: "wix-501", ExternalId: "501",
		State: gsv1.ItemState_ITEM_STATE_SYNCED}, time.Now())
	edited := h.statusWebhook("status.updated", "501", h.account, "Sunset, edited", album)
	edited = []byte(strings.Replace(string(edited), `"edited_at":null`, `"edited_at":"2025-06-01T12:05:00.000Z"`, 1))
	if code, text := deliver(hk, edited, sign(hookSecret, edited)); code != http.StatusOK || text != "ok" {
		t.Fatalf("update: %d %q", code, text)
	}
	if ev := h.waitEvent("501", gsv1.ChangeKind_CHANGE_KIND_ITEM_UPDATED); ev.GetItem().GetTitle() != "Sunset, edited" {
		t.Fatalf("updated event %v", ev)
	}
}

func TestMastodonWebhookNeedsASecret(t *testing.T) {
	t.Parallel()
	if _, err := watch.NewMastodonHook(watch.HookConfig{}, watch.Deps{}); err == nil {
		t.Fatal("a receiver without a secret was built")
	}
}
