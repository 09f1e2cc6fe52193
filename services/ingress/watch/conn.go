package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"

	"gallerysync.dev/libs/platforms"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

const (
	// releaseTimeout bounds giving a lease back on the way out.
	releaseTimeout = 2 * time.Second
	// handOnFor is how long an emit keeps retrying to publish an event (and
	// store the cursor) before it fails, which restarts the watch from the
	// stored cursor.
	handOnFor = time.Minute
	// watchBackoff and watchMaxBackoff pace restarts of a failed watch.
	watchBackoff    = time.Second
	watchMaxBackoff = time.Minute
	// watchedLongEnough resets the restart pause.
	watchedLongEnough = time.Minute
)

// connWatcher watches one connection while this replica holds its lease.
type connWatcher struct {
	m        *Manager
	key      connKey
	platform string
	watcher  platforms.Watcher
	lister   platforms.Lister // nil when the adapter cannot list

	mu    sync.Mutex
	links []*gsv1.Link
	// restart ends the running Watch so it starts over with other albums.
	restart context.CancelFunc
	// stored is the cursor last stored.
	stored string

	cancel context.CancelFunc
	done   chan struct{}
}

func newConnWatcher(m *Manager, k connKey, platform string, w platforms.Watcher, l platforms.Lister, links []*gsv1.Link) *connWatcher {
	return &connWatcher{m: m, key: k, platform: platform, watcher: w, lister: l, links: links, done: make(chan struct{})}
}

// launch starts the watcher's goroutine, owned by the manager: stop ends
// it and wait waits for it.
func (c *connWatcher) launch(ctx context.Context) {
	ctx, c.cancel = context.WithCancel(ctx)
	go c.run(ctx)
}

func (c *connWatcher) stop() { c.cancel() }

func (c *connWatcher) wait() { <-c.done }

// finished reports whether the watcher has ended (stopped or lease lost).
func (c *connWatcher) finished() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// setLinks gives the watcher the connection's current links; a changed
// album set restarts the Watch with the new albums.
func (c *connWatcher) setLinks(links []*gsv1.Link) {
	c.mu.Lock()
	defer c.mu.Unlock()
	changed := !slices.Equal(albumsOf(c.links), albumsOf(links))
	c.links = links
	if changed && c.restart != nil {
		c.restart()
	}
}

// source is where the watcher's items are seen, with the current links.
func (c *connWatcher) source() source {
	c.mu.Lock()
	defer c.mu.Unlock()
	return source{tenant: c.key.tenant, connection: c.key.connection, platform: c.platform, links: slices.Clone(c.links)}
}

// run watches until stopped or the lease is lost, then releases the lease.
func (c *connWatcher) run(ctx context.Context) {
	defer close(c.done)
	ctx, lost := context.WithCancelCause(ctx)
	defer lost(nil)
	platformAttr := metric.WithAttributes(platformKey.String(c.platform))
	c.m.inst.watched.Add(ctx, 1, platformAttr)
	defer c.m.inst.watched.Add(context.WithoutCancel(ctx), -1, platformAttr)

	var wg sync.WaitGroup
	wg.Go(func() { c.keepLease(ctx, lost) })
	if c.lister != nil {
		wg.Go(func() { c.reconcileLoop(ctx) })
	}
	c.watchLoop(ctx)
	lost(nil)
	wg.Wait()

	result := "released"
	if errors.Is(context.Cause(ctx), errLeaseLost) {
		result = "lost"
	} else if err := c.m.release(c.key); err != nil {
		c.m.log.Warn("watch: cannot release lease", slog.String("tenant", c.key.tenant), slog.Any("error", err))
	}
	c.m.inst.leases.Add(context.WithoutCancel(ctx), 1, metric.WithAttributes(platformKey.String(c.platform), resultKey.String(result)))
	c.m.log.Info("stopped watching connection", slog.String("tenant", c.key.tenant),
		slog.String("connection", c.key.connection), slog.String("lease", result))
}

// keepLease renews the lease every third of its TTL. When another replica
// holds it, or it could not be renewed before it lapses, the watcher stops.
func (c *connWatcher) keepLease(ctx context.Context, lost context.CancelCauseFunc) {
	ttl := c.m.cfg.LeaseTTL
	every := ttl / 3
	tick := time.NewTicker(every)
	defer tick.Stop()
	renewed := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		ok, err := c.m.acquire(ctx, c.key)
		switch {
		case ctx.Err() != nil:
			return
		case err == nil && ok:
			renewed = time.Now()
		case err == nil:
			c.m.log.Warn("watch lease taken by another replica; stopping", slog.String("tenant", c.key.tenant),
				slog.String("connection", c.key.connection))
			lost(errLeaseLost)
			return
		case time.Since(renewed)+every >= ttl:
			c.m.log.Warn("watch lease not renewed in time; stopping", slog.String("tenant", c.key.tenant),
				slog.String("connection", c.key.connection), slog.Any("error", err))
			lost(errLeaseLost)
			return
		default:
			c.m.inst.errors.Add(ctx, 1, metric.WithAttributes(platformKey.String(c.platform), stageKey.String("lease")))
			c.m.log.Warn("watch lease not renewed; trying again", slog.String("tenant", c.key.tenant), slog.Any("error", err))
		}
	}
}

// watchLoop runs the platform's Watch, starting it over when the albums
// change and, after a pause, when it fails.
func (c *connWatcher) watchLoop(ctx context.Context) {
	for attempt := 0; ctx.Err() == nil; attempt++ {
		c.mu.Lock()
		albums := albumsOf(c.links)
		wctx, restart := context.WithCancel(ctx)
		c.restart = restart
		c.mu.Unlock()

		started := time.Now()
		err := c.watchOnce(wctx, albums)
		restarted := wctx.Err() != nil
		restart()
		c.mu.Lock()
		c.restart = nil
		c.mu.Unlock()
		switch {
		case ctx.Err() != nil:
			return
		case restarted:
			attempt = -1
			continue
		case time.Since(started) >= watchedLongEnough:
			attempt = 0
		}
		pause := jittered(backoff(attempt, watchBackoff, watchMaxBackoff))
		c.m.inst.errors.Add(ctx, 1, metric.WithAttributes(platformKey.String(c.platform), stageKey.String("watch")))
		c.m.log.Warn("watch ended; starting over", slog.String("tenant", c.key.tenant),
			slog.String("connection", c.key.connection), slog.Duration("pause", pause), slog.Any("error", err))
		if sleep(ctx, pause) != nil {
			return
		}
	}
}

// watchOnce reads the credentials and the cursor and runs Watch.
func (c *connWatcher) watchOnce(ctx context.Context, albums []string) error {
	cn, err := c.m.connection(ctx, c.key)
	if err != nil {
		return err
	}
	cursor, err := c.m.cursor(ctx, c.key)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.stored = cursor
	c.mu.Unlock()
	return c.watcher.Watch(ctx, cn.Connection, albums, cursor, c.emit)
}

// emit publishes one observed change and then stores the cursor, so the
// cursor never passes a change that is not on the bus.
func (c *connWatcher) emit(ctx context.Context, o platforms.Observed, cursor string) error {
	src := c.source()
	if err := retry(ctx, handOnFor, func() error { return c.m.em.publish(ctx, src, o, viaStream) }); err != nil {
		return err
	}
	c.mu.Lock()
	same := cursor == "" || cursor == c.stored
	c.mu.Unlock()
	if same {
		return nil
	}
	if err := retry(ctx, handOnFor, func() error { return c.m.putCursor(ctx, c.key, cursor) }); err != nil {
		c.m.inst.errors.Add(ctx, 1, metric.WithAttributes(platformKey.String(c.platform), stageKey.String("cursor")))
		return err
	}
	c.mu.Lock()
	c.stored = cursor
	c.mu.Unlock()
	return nil
}

// retry runs f until it succeeds, ctx ends or the time is up, pausing
// longer after each failure; it returns f's last error.
func retry(ctx context.Context, within time.Duration, f func() error) error {
	deadline := time.Now().Add(within)
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil {
			return nil
		}
		pause := jittered(backoff(attempt, 100*time.Millisecond, 5*time.Second))
		if ctx.Err() != nil || time.Now().Add(pause).After(deadline) {
			return err
		}
		if sleep(ctx, pause) != nil {
			return fmt.Errorf("%w (then %w)", err, ctx.Err())
		}
	}
}

// backoff is first doubled attempt times, at most most.
func backoff(attempt int, first, most time.Duration) time.Duration {
	d := first
	for i := 0; i < attempt && d < most; i++ {
		d *= 2
	}
	return min(d, most)
}

// jittered spreads d by up to a fifth either way, so replicas that failed
// together do not retry together.
func jittered(d time.Duration) time.Duration {
	spread := int64(d) / 5
	if spread <= 0 {
		return d
	}
	return d + time.Duration(rand.Int64N(2*spread+1)-spread)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
