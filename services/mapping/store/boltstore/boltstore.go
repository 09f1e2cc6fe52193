// Package boltstore is the embedded store of the single-process default: one
// bbolt file, a bucket per entity, every key starting with its tenant. Markers,
// leases and intents carry their expiry, count as absent once it passed, and
// are removed by a sweeper that the Store owns. Rate-limit buckets live in
// memory (see buckets).
package boltstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"gallerysync.dev/services/mapping/store"
)

// Bucket names, one per entity.
const (
	bucketTenants     = "tenants"
	bucketConnections = "connections"
	bucketLinks       = "links"
	bucketItems       = "items"
	bucketExternal    = "external"
	bucketEcho        = "echo"
	bucketDedup       = "dedup"
	bucketLocks       = "locks"
	bucketIntents     = "intents"
	bucketCursors     = "cursors"
	bucketShareJobs   = "share-jobs"
	// bucketShareItems holds the outcome of every counted item of a share
	// job ("d" done, "f" failed), so an item counts once.
	bucketShareItems = "share-items"
	// bucketLog holds the sync log entries of every link, keyed by a
	// sequence number so a link's entries sort oldest to newest.
	bucketLog = "sync-log"
	// bucketLinkTenants holds the id of every tenant with links, raw, so it
	// iterates in tenant id order (the links bucket's length-prefixed keys
	// do not); ScanLinks walks it.
	bucketLinkTenants = "link-tenants"
)

func allBuckets() []string {
	return []string{
		bucketTenants, bucketConnections, bucketLinks, bucketItems, bucketExternal, bucketEcho, bucketDedup, bucketLocks,
		bucketIntents, bucketCursors, bucketLinkTenants, bucketShareJobs, bucketShareItems, bucketLog,
	}
}

func ttlBuckets() []string { return []string{bucketEcho, bucketDedup, bucketLocks, bucketIntents} }

// bucket returns a bucket that Open created.
func bucket(tx *bolt.Tx, name string) *bolt.Bucket { return tx.Bucket([]byte(name)) }

// Store is a store.Store in one bbolt file. bbolt runs one writer at a time,
// which is what makes compare-and-set and lock updates atomic here.
type Store struct {
	db      *bolt.DB
	buckets *buckets
	logger  *slog.Logger
	stop    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

var _ store.Store = (*Store)(nil)

type options struct {
	sweepInterval time.Duration
	openTimeout   time.Duration
	logger        *slog.Logger
}

// Option changes a default of Open.
type Option func(*options)

// WithSweepInterval sets how often expired markers and leases are deleted
// (default one minute). Expired entries are invisible before that anyway.
func WithSweepInterval(d time.Duration) Option { return func(o *options) { o.sweepInterval = d } }

// WithOpenTimeout bounds the wait for the file lock when another process has
// the file open (default five seconds).
func WithOpenTimeout(d time.Duration) Option { return func(o *options) { o.openTimeout = d } }

// WithLogger receives sweeper errors (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Open opens or creates the store file at path and starts its sweeper.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{
		sweepInterval: time.Minute,
		openTimeout:   5 * time.Second,
		logger:        slog.New(slog.DiscardHandler),
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.sweepInterval <= 0 {
		return nil, fmt.Errorf("open %s: sweep interval %v is not positive", path, o.sweepInterval)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.openTimeout})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		indexed := tx.Bucket([]byte(bucketLinkTenants)) != nil
		for _, b := range allBuckets() {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return fmt.Errorf("bucket %s: %w", b, err)
			}
		}
		if !indexed {
			return indexLinkTenants(tx)
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{db: db, buckets: newBuckets(), logger: o.logger, stop: make(chan struct{})}
	s.wg.Go(func() { s.sweepLoop(o.sweepInterval) })
	return s, nil
}

// Close stops the sweeper and closes the file. Calling it again is harmless.
func (s *Store) Close() error {
	var err error
	s.once.Do(func() {
		close(s.stop)
		s.wg.Wait()
		err = s.db.Close()
	})
	return err
}

// Ping fails only once the store is closed: the file is local.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(*bolt.Tx) error { return nil })
}

func (s *Store) sweepLoop(interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
			if n, err := s.sweep(time.Now()); err != nil {
				s.logger.Error("sweep expired entries", "err", err)
			} else if n > 0 {
				s.logger.Debug("swept expired entries", "count", n)
			}
		}
	}
}

// sweep deletes the entries that expired before now, and forgets the
// rate-limit buckets that are full again, and returns how many.
func (s *Store) sweep(now time.Time) (int, error) {
	n := s.buckets.forget(now)
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range ttlBuckets() {
			b := bucket(tx, name)
			var expired [][]byte
			err := b.ForEach(func(k, v []byte) error {
				if !alive(v, now) {
					expired = append(expired, k)
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, k := range expired {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			n += len(expired)
		}
		return nil
	})
	return n, err
}

// key joins parts so that no two different part lists give the same bytes:
// each part is prefixed by its length. The last part is appended raw, so keys
// sharing the leading parts sort by it and can be scanned by prefix.
func key(leading []string, last string) []byte {
	var b []byte
	for _, p := range leading {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	return append(b, last...)
}

// Expiring values start with their expiry in Unix nanoseconds.
func expiring(expiry time.Time, payload string) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(expiry.UnixNano()))
	return append(b, payload...)
}

func alive(v []byte, now time.Time) bool {
	return len(v) >= 8 && int64(binary.BigEndian.Uint64(v[:8])) > now.UnixNano()
}

func payload(v []byte) string { return string(v[8:]) }

// check returns the context's error or the first validation error. bbolt
// does not watch contexts, so a cancelled call stops here before any work.
func check(ctx context.Context, errs ...error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
