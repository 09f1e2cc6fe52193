package sandbox

import (
	"fmt"
	"io"
	"net/http"
	"strings"
)

// serveIndex is GET /: a plain-text map of what is served where.
func (s *Sandbox) serveIndex(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, s.index())
}

func (s *Sandbox) index() string {
	wix, masto := s.base+WixPrefix, s.base+MastodonPrefix
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("gallerysync sandbox")
	line("")
	line("Wix emulator                %s", wix)
	line("  OAuth token               POST %s/oauth2/token", wix)
	line("  Pro Gallery v2            %s/pro-gallery/v2/galleries  (also %s/progallery/v2/...)", wix, wix)
	line("  Media Manager             %s/site-media/v1/files/...", wix)
	line("  Static media              GET  %s/media/<fileId>", wix)
	line("  Act as the site owner     POST %s/_sandbox/owner-token  {\"instanceId\": \"...\"}", wix)
	line("  Install / remove the app  POST %s/_sandbox/apps/install  {\"instanceId\": \"...\", \"originInstanceId\": \"...\"}", wix)
	line("                            POST %s/_sandbox/apps/remove   {\"instanceId\": \"...\"}", wix)
	line("  Webhook delivery faults   GET|POST %s/_sandbox/faults  {\"duplicate\": 0, \"reorder\": false, \"delay\": \"0s\", \"failFirst\": 0}", wix)
	line("  Generated photos          GET  %s/_sandbox/images/<name>.png?w=640&h=480", wix)
	line("  Counters                  GET  %s/_sandbox/stats?instanceId=...", wix)
	line("  Webhook public key        GET  %s%s", s.base, publicKeyPath)
	if s.cfg.WebhookURL != "" {
		line("  Webhooks are sent to      %s", s.cfg.WebhookURL)
	} else {
		line("  Webhooks                  off (no -webhook-url)")
	}
	line("")
	line("Mastodon emulator           %s", masto)
	line("  API                       %s/api/v1/...", masto)
	line("  Counters                  GET  %s/_sandbox/stats", masto)
	pin := s.base + PinterestPrefix
	line("")
	line("Pinterest emulator          %s", pin)
	line("  API (v5)                  %s/v5/...", pin)
	line("  Counters                  GET  %s/_sandbox/stats", pin)
	at := s.base + ATProtoPrefix
	line("")
	line("AT Protocol (PDS) emulator  %s", at)
	line("  XRPC                      %s/xrpc/com.atproto....", at)
	line("  Counters                  GET  %s/_sandbox/stats", at)
	if d, ok := s.seeded(); ok {
		line("")
		line("Demo site")
		line("  instanceId                %s", d.InstanceID)
		line("  app id                    %s", d.AppID)
		line("  owner user id             %s", d.OwnerUserID)
		for _, g := range d.Galleries {
			line("  gallery                   %s  %q (%d items)", g.ID, g.Name, len(g.ItemIDs))
		}
		line("  Mastodon account          %s  @%s", d.MastodonAccountID, d.MastodonUsername)
		line("  Pinterest account         %s", d.PinterestUsername)
		line("  AT Protocol account       %s  %s", d.ATProtoHandle, d.ATProtoDID)
	}
	return b.String()
}
