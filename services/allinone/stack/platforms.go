package stack

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"gallerysync.dev/libs/media"
	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/atproto"
	"gallerysync.dev/libs/platforms/mastodon"
	"gallerysync.dev/libs/platforms/pinterest"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/ingress/watch"
	"gallerysync.dev/services/platform-writer/writer"
)

// startPlatformWriters runs one platform-writer per adapter, as production
// runs one Deployment per adapter, each with its own consumers.
func (s *Stack) startPlatformWriters(ctx context.Context, mc gsv1.MappingServiceClient, sandboxHost string, httpClient *http.Client) error {
	fetcher := media.NewFetcher([]string{sandboxHost}, media.WithHTTPClient(httpClient))
	adapters := []platforms.Adapter{
		mastodon.New(fetcher, mastodon.WithHTTPClient(httpClient)),
		pinterest.New(pinterest.WithHTTPClient(httpClient)),
		atproto.New(fetcher, atproto.WithHTTPClient(httpClient)),
	}
	for _, a := range adapters {
		name := "platform-writer-" + a.Name()
		w, err := writer.New(writer.Config{
			Platform:         a.Name(),
			Durable:          name,
			MaxDeliver:       8,
			Concurrency:      32,
			ShareConcurrency: 128,
			// The sandbox's platforms enforce their documented limits
			// unless run unlimited; pace exactly when they do.
			Pace:              s.cfg.MastodonLimits == "documented",
			LockTTL:           30 * time.Second,
			DedupTTL:          72 * time.Hour,
			MediaAllowedHosts: sandboxHost,
			MappingAddr:       s.cfg.MappingAddr,
			ShutdownTimeout:   s.cfg.ShutdownTimeout,
		}, writer.Deps{
			Bus:     s.bus,
			Mapping: mc,
			Adapter: a,
			Logger:  s.logger.With("component", name),
			Meter:   s.tel.MeterProvider(),
			Tracer:  s.tel.TracerProvider(),
		})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		s.group.start(ctx, name, w.Run)
	}
	return nil
}

// startWatchers runs the platform watchers ingress runs in production: each
// linked connection's changes become platform-origin events.
func (s *Stack) startWatchers(ctx context.Context, mc gsv1.MappingServiceClient, httpClient *http.Client) error {
	m, err := watch.New(watch.Config{
		Enabled:        true,
		Interval:       time.Second,
		LeaseTTL:       watch.DefaultLeaseTTL,
		ReconcileEvery: watch.DefaultReconcileEvery,
		Owner:          "allinone",
	}, watch.Deps{
		Mapping:   mc,
		Publisher: s.bus,
		Adapters: map[string]platforms.Adapter{
			mastodon.Name:  mastodon.New(nil, mastodon.WithHTTPClient(httpClient), mastodon.WithLogger(s.logger.With("component", "watch-mastodon"))),
			pinterest.Name: pinterest.New(pinterest.WithHTTPClient(httpClient), pinterest.WithPollInterval(2*time.Second)),
			atproto.Name:   atproto.New(nil, atproto.WithHTTPClient(httpClient), atproto.WithPollInterval(time.Second)),
		},
		Logger: s.logger.With("component", "watch"),
		Meter:  s.tel.MeterProvider(),
	})
	if err != nil {
		return fmt.Errorf("watchers: %w", err)
	}
	s.group.start(ctx, "watch", m.Run)
	return nil
}
