// Package watch runs the platform watchers of ingress: it finds every
// connection with an active two-way link, makes sure exactly one replica
// watches each (a lease in the mapping service), turns what the platform
// reports into platform-origin ChangeEvents on the bus, stores the watch's
// cursor once an event is acknowledged, and from time to time lists each
// album to find what no stream reported (changes made while nobody
// watched). It also holds the receiver of Mastodon's admin webhooks, which
// publishes through the same path.
package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"gallerysync.dev/libs/platforms"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Manager runs the watchers of the connections this replica holds.
type Manager struct {
	cfg      Config
	mapping  gsv1.MappingServiceClient
	adapters map[string]platforms.Adapter
	log      *slog.Logger
	inst     instruments
	em       *emitter

	// Only Run's goroutine touches these.
	watchers  map[connKey]*connWatcher
	platforms map[connKey]string
}

// New checks the configuration and dependencies; Run starts the work.
func New(cfg Config, deps Deps) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	em, log, inst, err := newEmitter(deps)
	if err != nil {
		return nil, err
	}
	if len(deps.Adapters) == 0 {
		return nil, fmt.Errorf("%w: no platform adapters", ErrConfig)
	}
	return &Manager{
		cfg:       cfg,
		mapping:   deps.Mapping,
		adapters:  deps.Adapters,
		log:       log,
		inst:      inst,
		em:        em,
		watchers:  map[connKey]*connWatcher{},
		platforms: map[connKey]string{},
	}, nil
}

// newEmitter checks the dependencies every user of the publish path needs.
func newEmitter(deps Deps) (*emitter, *slog.Logger, instruments, error) {
	if deps.Mapping == nil || deps.Publisher == nil {
		return nil, nil, instruments{}, fmt.Errorf("%w: mapping client and publisher are required", ErrConfig)
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var meter metric.MeterProvider = deps.Meter
	if meter == nil {
		meter = metricnoop.NewMeterProvider()
	}
	inst, err := newInstruments(meter.Meter(instrumentationName))
	if err != nil {
		return nil, nil, instruments{}, err
	}
	em := &emitter{mapping: deps.Mapping, pub: deps.Publisher, log: log, inst: inst, now: time.Now}
	return em, log, inst, nil
}

// Run scans the links every Interval and starts, adjusts and stops
// watchers, until ctx ends; then it stops every watcher, releases their
// leases and returns nil.
func (m *Manager) Run(ctx context.Context) error {
	defer m.stopAll()
	m.log.Info("platform watchers running", slog.String("owner", m.cfg.Owner),
		slog.Duration("interval", m.cfg.Interval), slog.Duration("lease_ttl", m.cfg.LeaseTTL))
	tick := time.NewTicker(m.cfg.Interval)
	defer tick.Stop()
	for {
		m.scan(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// scan brings the set of watchers in line with the links: watchers of
// connections without watched links stop, the others get the current
// links, and connections nobody here watches are taken if their lease is free.
func (m *Manager) scan(ctx context.Context) {
	links, err := scanLinks(ctx, m.mapping)
	if err != nil {
		if ctx.Err() == nil {
			m.inst.errors.Add(ctx, 1, metric.WithAttributes(stageKey.String("scan")))
			m.log.Warn("watch: cannot scan links; keeping the current watchers", slog.Any("error", err))
		}
		return
	}
	groups := watchedLinks(links)
	for k, w := range m.watchers {
		if w.finished() {
			delete(m.watchers, k)
			continue
		}
		if ls, ok := groups[k]; ok {
			w.setLinks(ls)
		} else {
			w.stop()
		}
	}
	for k := range m.platforms {
		if _, ok := groups[k]; !ok {
			delete(m.platforms, k)
		}
	}
	for _, k := range sortedConnKeys(groups) {
		if _, ok := m.watchers[k]; ok || ctx.Err() != nil {
			continue
		}
		if err := m.start(ctx, k, groups[k]); err != nil {
			m.log.Warn("watch: cannot start watching", slog.String("tenant", k.tenant),
				slog.String("connection", k.connection), slog.Any("error", err))
		}
	}
}

// start takes a connection's lease and starts its watcher, unless its
// platform has no watcher here or another replica holds the lease.
func (m *Manager) start(ctx context.Context, k connKey, links []*gsv1.Link) error {
	platform, err := m.platformOf(ctx, k)
	if err != nil {
		m.inst.errors.Add(ctx, 1, metric.WithAttributes(stageKey.String("connection")))
		return err
	}
	adapter := m.adapters[platform]
	watcher, ok := adapter.(platforms.Watcher)
	if !ok {
		return nil
	}
	acquired, err := m.acquire(ctx, k)
	if err != nil {
		m.inst.errors.Add(ctx, 1, metric.WithAttributes(platformKey.String(platform), stageKey.String("lease")))
		return err
	}
	if !acquired {
		return nil
	}
	m.inst.leases.Add(ctx, 1, metric.WithAttributes(platformKey.String(platform), resultKey.String("acquired")))
	lister, _ := adapter.(platforms.Lister)
	w := newConnWatcher(m, k, platform, watcher, lister, links)
	m.watchers[k] = w
	w.launch(ctx)
	m.log.Info("watching connection", slog.String("tenant", k.tenant), slog.String("connection", k.connection),
		slog.String("platform", platform), slog.Int("links", len(links)))
	return nil
}

// stopAll stops every watcher and waits for them (they release their leases).
func (m *Manager) stopAll() {
	for _, w := range m.watchers {
		w.stop()
	}
	for k, w := range m.watchers {
		w.wait()
		delete(m.watchers, k)
	}
}

// platformOf is the connection's platform, asked of the mapping service
// once while the connection has watched links.
func (m *Manager) platformOf(ctx context.Context, k connKey) (string, error) {
	if p, ok := m.platforms[k]; ok {
		return p, nil
	}
	c, err := m.connection(ctx, k)
	if err != nil {
		return "", err
	}
	m.platforms[k] = c.platform
	return c.platform, nil
}

// conn is a connection as the watchers need it.
type conn struct {
	platform string
	platforms.Connection
}

// connection reads a connection with its credentials.
func (m *Manager) connection(ctx context.Context, k connKey) (conn, error) {
	return getConnection(ctx, m.mapping, k)
}

func getConnection(ctx context.Context, mapping gsv1.MappingServiceClient, k connKey) (conn, error) {
	resp, err := mapping.GetConnection(ctx, &gsv1.GetConnectionRequest{TenantId: k.tenant, ConnectionId: k.connection})
	if err != nil {
		return conn{}, fmt.Errorf("get connection %s: %w", k, err)
	}
	c := resp.GetConnection()
	return conn{platform: c.GetPlatform(), Connection: platforms.Connection{
		ID: c.GetConnectionId(), BaseURL: c.GetBaseUrl(), AccountID: c.GetAccountId(), Credentials: c.GetCredentials(),
	}}, nil
}

// acquire takes or renews the connection's lease for this replica.
func (m *Manager) acquire(ctx context.Context, k connKey) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, max(m.cfg.LeaseTTL/3, time.Second))
	defer cancel()
	resp, err := m.mapping.AcquireLock(ctx, &gsv1.AcquireLockRequest{
		TenantId: k.tenant, Key: k.leaseKey(), Owner: m.cfg.Owner, Ttl: durationpb.New(m.cfg.LeaseTTL),
	})
	if err != nil {
		return false, fmt.Errorf("acquire lease %s: %w", k, err)
	}
	return resp.GetAcquired(), nil
}

// release gives the lease back (a no-op when another replica took it).
func (m *Manager) release(k connKey) error {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	_, err := m.mapping.ReleaseLock(ctx, &gsv1.ReleaseLockRequest{TenantId: k.tenant, Key: k.leaseKey(), Owner: m.cfg.Owner})
	if err != nil {
		return fmt.Errorf("release lease %s: %w", k, err)
	}
	return nil
}

// cursor reads the connection's stored cursor ("" when none).
func (m *Manager) cursor(ctx context.Context, k connKey) (string, error) {
	resp, err := m.mapping.GetCursor(ctx, &gsv1.GetCursorRequest{TenantId: k.tenant, Key: k.leaseKey()})
	if status.Code(err) == codes.NotFound {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get cursor %s: %w", k, err)
	}
	return resp.GetValue(), nil
}

// putCursor stores the connection's cursor.
func (m *Manager) putCursor(ctx context.Context, k connKey, cursor string) error {
	_, err := m.mapping.PutCursor(ctx, &gsv1.PutCursorRequest{TenantId: k.tenant, Key: k.leaseKey(), Value: cursor})
	if err != nil {
		return fmt.Errorf("put cursor %s: %w", k, err)
	}
	return nil
}

// errLeaseLost ends a watcher whose lease another replica holds now, or
// that could not be renewed before it lapsed.
var errLeaseLost = errors.New("watch lease lost")

func sortedConnKeys(m map[connKey][]*gsv1.Link) []connKey {
	keys := make([]connKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b connKey) int { return strings.Compare(a.String(), b.String()) })
	return keys
}
