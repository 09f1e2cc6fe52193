package watch

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"

	"gallerysync.dev/libs/platforms/mastodon"
)

// MastodonHookPath is where Mastodon's admin webhooks are received.
const MastodonHookPath = "/webhooks/mastodon"

// defaultTargetsTTL is how long the receiver reuses the links and
// connection accounts it looked up.
const defaultTargetsTTL = 30 * time.Second

// HookConfig configures the receiver of Mastodon's admin webhooks.
type HookConfig struct {
	// MastodonSecret is the secret of the webhook set up in the instance's
	// Administration > Webhooks; empty turns the receiver off.
	MastodonSecret string
	// MaxBodyBytes bounds a webhook body (default 1 MiB).
	MaxBodyBytes int64
	// TargetsTTL is how long scanned links and connection accounts are
	// reused (default 30s).
	TargetsTTL time.Duration
}

// RegisterFlags binds the secret to fs.
func (c *HookConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.MastodonSecret, "mastodon-webhook-secret", "", "secret of the Mastodon admin webhook (status.created, status.updated) posted to "+MastodonHookPath+"; empty disables the route")
}

// Validate reports the first problem with c; zero limits take defaults.
func (c HookConfig) Validate() error {
	switch {
	case c.MaxBodyBytes < 0:
		return fmt.Errorf("%w: webhook body limit %d must not be negative", ErrConfig, c.MaxBodyBytes)
	case c.TargetsTTL < 0:
		return fmt.Errorf("%w: webhook targets ttl %s must not be negative", ErrConfig, c.TargetsTTL)
	}
	return nil
}

// Enabled reports whether the receiver is to be served.
func (c HookConfig) Enabled() bool { return c.MastodonSecret != "" }

// Hook receives Mastodon admin webhooks: status.created and status.updated
// of a connection's account carrying a linked album's hashtag are
// published like the watcher's changes.
type Hook struct {
	secret  []byte
	maxBody int64
	ttl     time.Duration
	em      *emitter
	log     *slog.Logger
	inst    instruments

	mu        sync.Mutex
	targets   []hookTarget
	refreshed time.Time
}

// hookTarget is one Mastodon connection with watched links.
type hookTarget struct {
	src     source
	account string
	host    string
}

// NewMastodonHook builds the receiver; the secret must be set.
func NewMastodonHook(cfg HookConfig, deps Deps) (*Hook, error) {
	if cfg.MastodonSecret == "" {
		return nil, fmt.Errorf("%w: no mastodon webhook secret", ErrConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.TargetsTTL <= 0 {
		cfg.TargetsTTL = defaultTargetsTTL
	}
	em, log, inst, err := newEmitter(deps)
	if err != nil {
		return nil, err
	}
	return &Hook{secret: []byte(cfg.MastodonSecret), maxBody: cfg.MaxBodyBytes, ttl: cfg.TargetsTTL, em: em, log: log, inst: inst}, nil
}

// ServeHTTP verifies the signature on the raw body before reading anything
// of it, then publishes the status for every matching link: 200 "ok" when
// published, 200 "ignored" for other events and statuses of no link, 400
// for a signed body that is not an event, 401 for a bad signature, 413 for
// a body over the limit, 503 when the bus or the mapping service failed
// (Mastodon retries).
func (h *Hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			h.answer(w, r, http.StatusRequestEntityTooLarge, "too_large", "body too large")
			return
		}
		h.answer(w, r, http.StatusBadRequest, "read", "cannot read body")
		return
	}
	if err := mastodon.VerifyWebhook(h.secret, body, r.Header.Get("X-Hub-Signature")); err != nil {
		h.log.WarnContext(ctx, "mastodon webhook refused", slog.Any("error", err))
		h.answer(w, r, http.StatusUnauthorized, "signature", "bad signature")
		return
	}
	wh, err := mastodon.ParseWebhook(body)
	if err != nil {
		h.log.WarnContext(ctx, "mastodon webhook malformed", slog.Any("error", err))
		h.answer(w, r, http.StatusBadRequest, "malformed", "malformed event")
		return
	}
	if !wh.IsStatus() {
		h.answer(w, r, http.StatusOK, "ignored", "ignored")
		return
	}
	targets, err := h.lookup(r)
	if err != nil {
		h.log.WarnContext(ctx, "mastodon webhook: cannot find links", slog.Any("error", err))
		h.answer(w, r, http.StatusServiceUnavailable, "unavailable", "try again later")
		return
	}
	published := 0
	for _, t := range targets {
		if t.account != wh.AccountID() || (t.host != "" && wh.Host() != "" && t.host != wh.Host()) {
			continue
		}
		for _, album := range albumsOf(t.src.links) {
			if !wh.HasTag(album) {
				continue
			}
			if err := h.em.publish(ctx, t.src, wh.Observed(album), viaWebhook); err != nil {
				h.log.WarnContext(ctx, "mastodon webhook: cannot publish", slog.String("tenant", t.src.tenant), slog.Any("error", err))
				h.answer(w, r, http.StatusServiceUnavailable, "unavailable", "try again later")
				return
			}
			published++
		}
	}
	if published == 0 {
		h.answer(w, r, http.StatusOK, "ignored", "ignored")
		return
	}
	h.answer(w, r, http.StatusOK, "published", "ok")
}

func (h *Hook) answer(w http.ResponseWriter, r *http.Request, code int, result, text string) {
	h.inst.webhooks.Add(r.Context(), 1, metric.WithAttributes(platformKey.String(mastodon.Name), resultKey.String(result)))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, text+"\n")
}

// lookup returns the Mastodon connections with watched links, scanned
// again once the cached ones are older than the TTL.
func (h *Hook) lookup(r *http.Request) ([]hookTarget, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.targets != nil && time.Since(h.refreshed) < h.ttl {
		return h.targets, nil
	}
	ctx := r.Context()
	links, err := scanLinks(ctx, h.em.mapping)
	if err != nil {
		return nil, err
	}
	groups := watchedLinks(links)
	targets := []hookTarget{}
	for _, k := range sortedConnKeys(groups) {
		c, err := getConnection(ctx, h.em.mapping, k)
		if err != nil {
			return nil, err
		}
		if c.platform != mastodon.Name {
			continue
		}
		host := ""
		if u, err := url.Parse(strings.TrimSpace(c.BaseURL)); err == nil {
			host = strings.ToLower(u.Host)
		}
		targets = append(targets, hookTarget{
			src:     source{tenant: k.tenant, connection: k.connection, platform: mastodon.Name, links: groups[k]},
			account: c.AccountID,
			host:    host,
		})
	}
	h.targets, h.refreshed = targets, time.Now()
	return targets, nil
}
