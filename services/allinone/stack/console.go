package stack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/atproto"
	"gallerysync.dev/libs/platforms/pinterest"
	"gallerysync.dev/libs/throttle"
	"gallerysync.dev/libs/wix"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	console "gallerysync.dev/services/console/server"
	"gallerysync.dev/services/sandbox/sandbox"
)

// startConsole runs the console against the stack's mapping, bus and
// sandbox Wix (unless ConsoleAddr is empty).
func (s *Stack) startConsole(ctx context.Context, mc gsv1.MappingServiceClient) error {
	if s.cfg.ConsoleAddr == "" {
		return nil
	}
	seed, err := s.sandbox.Seed()
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	// Sessions last until the next start; the dashboard link signs in again.
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("console session key: %w", err)
	}
	wixCfg := wix.ClientConfig{
		BaseURL:       s.sandbox.BaseURL() + sandbox.WixPrefix,
		GalleryPrefix: wix.DefaultGalleryPrefix,
		AppID:         seed.AppID,
		AppSecret:     seed.AppSecret,
		Timeout:       wix.DefaultTimeout,
		MaxAttempts:   wix.DefaultMaxAttempts,
	}
	httpClient := &http.Client{Transport: s.tel.HTTPTransport(nil), Timeout: time.Minute}
	limit, period := throttle.Wix()
	client, err := wix.NewClient(wixCfg, wix.WithHTTPClient(httpClient),
		wix.WithLimiter(throttle.NewShared(mc, throttle.BucketWix, limit, period)),
		wix.WithLogger(s.logger.With("component", "console-wix-client")))
	if err != nil {
		return fmt.Errorf("console wix client: %w", err)
	}
	c, err := console.New(console.Config{
		HTTPAddr:       s.cfg.ConsoleAddr,
		MappingAddr:    s.cfg.MappingAddr,
		SessionKey:     base64.StdEncoding.EncodeToString(key),
		SessionTTL:     12 * time.Hour,
		InstanceMaxAge: 24 * time.Hour,
		CheckTimeout:   10 * time.Second,
		// The sandbox's Mastodon listens on loopback.
		AllowPrivateHosts: true,
		ShareScanEvery:    time.Minute,
		ShutdownTimeout:   s.cfg.ShutdownTimeout,
		Wix:               wixCfg,
	}, console.Deps{
		Mapping: mc,
		Bus:     s.bus,
		Wix:     client,
		Albums: map[string]platforms.AlbumMaker{
			atproto.Name:   atproto.New(nil, atproto.WithHTTPClient(httpClient)),
			pinterest.Name: pinterest.New(pinterest.WithHTTPClient(httpClient)),
		},
		Logger: s.logger.With("component", "console"),
	})
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	s.group.start(ctx, "console", c.Run)
	s.demo.ConsoleURL = c.URL()
	s.demo.DashboardURL = dashboardLink(s.sandbox.BaseURL(), s.demo.InstanceID, c.URL()+"/")
	return nil
}

// dashboardLink is the sandbox endpoint standing in for the Wix dashboard:
// each visit signs a fresh instance and redirects to the console.
func dashboardLink(sandboxURL, instanceID, appURL string) string {
	q := url.Values{"instanceId": {instanceID}, "appUrl": {appURL}}
	return sandboxURL + sandbox.WixPrefix + "/_sandbox/dashboard?" + q.Encode()
}
