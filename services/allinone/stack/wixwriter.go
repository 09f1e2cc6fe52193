package stack

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"gallerysync.dev/libs/throttle"
	"gallerysync.dev/libs/wix"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/sandbox/sandbox"
	wixwriter "gallerysync.dev/services/wix-writer/writer"
)

// startWixWriter runs the writer of platform changes into the sandbox's Wix,
// paced by the shared per-instance Wix limit as in production.
func (s *Stack) startWixWriter(ctx context.Context, mc gsv1.MappingServiceClient, sandboxHost string,
	httpClient *http.Client, seed sandbox.Demo) error {
	limit, period := throttle.Wix()
	wixCfg := wix.ClientConfig{
		BaseURL:       s.sandbox.BaseURL() + sandbox.WixPrefix,
		GalleryPrefix: wix.DefaultGalleryPrefix,
		AppID:         seed.AppID,
		AppSecret:     seed.AppSecret,
		Timeout:       wix.DefaultTimeout,
		MaxAttempts:   wix.DefaultMaxAttempts,
	}
	client, err := wix.NewClient(wixCfg,
		wix.WithHTTPClient(httpClient),
		wix.WithLimiter(throttle.NewShared(mc, throttle.BucketWix, limit, period)),
		wix.WithLogger(s.logger.With("component", "wix-client")))
	if err != nil {
		return fmt.Errorf("wix client: %w", err)
	}
	w, err := wixwriter.New(wixwriter.Config{
		Durable:           "wix-writer",
		MaxDeliver:        8,
		Concurrency:       8,
		LockTTL:           30 * time.Second,
		DedupTTL:          72 * time.Hour,
		IntentTTL:         24 * time.Hour,
		MediaAllowedHosts: sandboxHost,
		MappingAddr:       s.cfg.MappingAddr,
		ShutdownTimeout:   s.cfg.ShutdownTimeout,
		Wix:               wixCfg,
	}, wixwriter.Deps{
		Bus:     s.bus,
		Mapping: mc,
		Wix:     client,
		Logger:  s.logger.With("component", "wix-writer"),
		Meter:   s.tel.MeterProvider(),
		Tracer:  s.tel.TracerProvider(),
	})
	if err != nil {
		return fmt.Errorf("wix-writer: %w", err)
	}
	s.group.start(ctx, "wix-writer", w.Run)
	return nil
}
