// Package store defines the durable state of the mapping service and the
// contract every storage backend keeps. All data is keyed by tenant: no
// operation given one tenant's id can see or change another tenant's records.
package store

import (
	"context"
	"errors"
	"time"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Errors a backend returns, wrapped with context; callers test them with errors.Is.
var (
	// ErrNotFound means the record does not exist (or its TTL ran out).
	ErrNotFound = errors.New("not found")
	// ErrConflict means a PutItem lost a compare-and-set: the stored revision
	// differs from the expected one, or its external id already belongs to
	// another item of the link. Re-read and decide again.
	ErrConflict = errors.New("conflict")
	// ErrInvalid means the request can never succeed as given.
	ErrInvalid = errors.New("invalid")
)

// Store is everything the mapping service keeps. Implementations are safe for
// concurrent use by many goroutines and, for shared backends, many processes.
type Store interface {
	TenantStore
	ConnectionStore
	LinkStore
	ItemStore
	MarkStore
	LockStore
	IntentStore
	CursorStore
	ThrottleStore
	ShareJobStore
	LogStore
	// Ping reports whether the backend answers; health checks call it.
	Ping(ctx context.Context) error
}

// TenantStore keeps tenants (Wix app instances).
type TenantStore interface {
	// PutTenant creates or replaces the tenant named by t.TenantId.
	PutTenant(ctx context.Context, t *gsv1.Tenant) error
	// GetTenant returns the tenant or ErrNotFound.
	GetTenant(ctx context.Context, tenantID string) (*gsv1.Tenant, error)
	// RemoveTenant is what happens when the app is removed from a site, in
	// one atomic write: the tenant's state becomes REMOVED (a tenant record
	// is created if there was none, with created_at now), every link of the
	// tenant is set to LINK_STATE_PAUSED and every connection loses its
	// credentials (the connection record itself stays). Calling it again
	// changes nothing. It returns the tenant as stored. A later PutTenant
	// may make the tenant active again; its links stay paused until their
	// owner resumes them.
	RemoveTenant(ctx context.Context, tenantID string) (*gsv1.Tenant, error)
}

// ConnectionStore keeps platform connections. Credentials are stored exactly
// as given: sealing them is the caller's job, so a backend never sees clear secrets.
type ConnectionStore interface {
	// PutConnection creates or replaces the connection (c.TenantId, c.ConnectionId).
	PutConnection(ctx context.Context, c *gsv1.Connection) error
	// GetConnection returns the connection or ErrNotFound.
	GetConnection(ctx context.Context, tenantID, connectionID string) (*gsv1.Connection, error)
	// ListConnections returns every connection of the tenant in connection id
	// order, credentials as stored: leaving them out of an answer is the
	// caller's job.
	ListConnections(ctx context.Context, tenantID string) ([]*gsv1.Connection, error)
}

// LinkStore keeps gallery <-> album links.
type LinkStore interface {
	// PutLink creates or replaces the link (l.TenantId, l.LinkId).
	PutLink(ctx context.Context, l *gsv1.Link) error
	// GetLink returns the link or ErrNotFound.
	GetLink(ctx context.Context, tenantID, linkID string) (*gsv1.Link, error)
	// ListLinks returns the tenant's links that match filter, in link id order.
	ListLinks(ctx context.Context, tenantID string, filter LinkFilter) ([]*gsv1.Link, error)
	// DeleteLink removes the link, every item mapping of it (with their
	// external-id index entries) and its sync log, and takes the tenant out
	// of the scan index when it was the tenant's last link; ErrNotFound when
	// there is no such link. Share jobs of the link stay: they are history.
	DeleteLink(ctx context.Context, tenantID, linkID string) error
	// ScanLinks returns up to pageSize links of every tenant, ordered by the
	// bytes of the tenant id and then of the link id, starting after
	// pageToken, and the token of the next page ("" at the end). A scan
	// visits every link that exists throughout it exactly once; a link added
	// while it runs may or may not be visited. pageSize 0 means
	// DefaultPageSize; larger than MaxPageSize is capped. It is the one read
	// across tenants, for the platform watchers; nothing facing a tenant may
	// expose it.
	ScanLinks(ctx context.Context, pageSize int, pageToken string) ([]*gsv1.Link, string, error)
}

// LinkFilter selects links. Every non-empty field must match; the zero
// filter selects all links.
type LinkFilter struct {
	GalleryID    string
	ConnectionID string
	AlbumID      string
}

// Check returns an ErrInvalid error unless every field is empty or a usable id.
func (f LinkFilter) Check() error {
	return firstErr(
		CheckOptionalID("gallery_id", f.GalleryID),
		CheckOptionalID("connection_id", f.ConnectionID),
		CheckOptionalID("album_id", f.AlbumID),
	)
}

// Match reports whether l passes the filter.
func (f LinkFilter) Match(l *gsv1.Link) bool {
	return (f.GalleryID == "" || l.GetGalleryId() == f.GalleryID) &&
		(f.ConnectionID == "" || l.GetConnectionId() == f.ConnectionID) &&
		(f.AlbumID == "" || l.GetAlbumId() == f.AlbumID)
}

// ItemStore keeps item mappings of a link, indexed by Wix item id and by
// external id.
type ItemStore interface {
	// PutItem writes item if the stored revision equals expectedRevision (0:
	// the item must not exist) and returns what was stored: revision
	// expectedRevision+1 and updated_at set to now. It keeps the external-id
	// index in step in the same atomic write, and fails with ErrConflict when
	// the revision differs or the external id belongs to another item.
	PutItem(ctx context.Context, item *gsv1.ItemMapping, expectedRevision int64) (*gsv1.ItemMapping, error)
	// GetItemByWix returns the mapping of a Wix item or ErrNotFound.
	GetItemByWix(ctx context.Context, tenantID, linkID, wixItemID string) (*gsv1.ItemMapping, error)
	// GetItemByExternal returns the mapping holding an external id or ErrNotFound.
	GetItemByExternal(ctx context.Context, tenantID, linkID, externalID string) (*gsv1.ItemMapping, error)
	// DeleteItem removes the mapping and its external-id index entry, or
	// returns ErrNotFound.
	DeleteItem(ctx context.Context, tenantID, linkID, wixItemID string) error
	// ListItems returns up to pageSize mappings of a link in Wix item id order,
	// starting after pageToken, and the token of the next page ("" at the
	// end). pageSize 0 means DefaultPageSize; larger than MaxPageSize is capped.
	ListItems(ctx context.Context, tenantID, linkID string, pageSize int, pageToken string) ([]*gsv1.ItemMapping, string, error)
}

// MarkStore keeps short-lived markers: echo markers (content we wrote to a
// side, so its change event is recognized as our own) and dedup marks
// (source events already processed). Markers vanish when their TTL ends.
type MarkStore interface {
	// MarkEcho records that content with hash was written to objectID on side,
	// replacing an earlier marker of that object.
	MarkEcho(ctx context.Context, tenantID string, side gsv1.Side, objectID, hash string, ttl time.Duration) error
	// CheckEcho reports whether a live marker of (side, objectID) holds hash.
	CheckEcho(ctx context.Context, tenantID string, side gsv1.Side, objectID, hash string) (bool, error)
	// MarkDedup sets the mark if it is absent; first is false if a live mark
	// already existed (then its TTL is left alone).
	MarkDedup(ctx context.Context, tenantID, key string, ttl time.Duration) (first bool, err error)
	// CheckDedup reports whether a live mark exists.
	CheckDedup(ctx context.Context, tenantID, key string) (bool, error)
}

// LockStore keeps leases that serialize work on one key across replicas.
type LockStore interface {
	// AcquireLock takes the lease when it is free or expired, or extends it to
	// ttl from now when owner already holds it; it reports whether owner holds it now.
	AcquireLock(ctx context.Context, tenantID, key, owner string, ttl time.Duration) (bool, error)
	// ReleaseLock frees the lease if owner holds it and reports whether it did.
	ReleaseLock(ctx context.Context, tenantID, key, owner string) (bool, error)
}

// IntentStore keeps intents: remote writes that were decided but whose
// result is not recorded yet. An intent lives until it is deleted or its
// TTL ends, so a crashed writer's intent is still there for the next attempt
// to reconcile, and a forgotten one does not stay forever.
type IntentStore interface {
	// PutIntent creates or replaces the intent (in.TenantId, in.Key), live
	// for ttl from now, and returns what was stored. created_at is assigned
	// here: the time of the first put, kept when a live intent is replaced
	// (whatever the caller sends).
	PutIntent(ctx context.Context, in *gsv1.Intent, ttl time.Duration) (*gsv1.Intent, error)
	// GetIntent returns a live intent or ErrNotFound.
	GetIntent(ctx context.Context, tenantID, key string) (*gsv1.Intent, error)
	// DeleteIntent removes the intent; removing an absent one is no error.
	DeleteIntent(ctx context.Context, tenantID, key string) error
}

// CursorStore keeps watcher cursors: where a watcher is in a platform's
// change feed, so a restarted watcher resumes there. Cursors have no TTL: a
// lost cursor would make a watcher miss or replay changes.
type CursorStore interface {
	// PutCursor creates or replaces the tenant's cursor under key.
	PutCursor(ctx context.Context, tenantID, key, value string) error
	// GetCursor returns the tenant's cursor under key or ErrNotFound.
	GetCursor(ctx context.Context, tenantID, key string) (string, error)
}

// ThrottleStore keeps rate-limit buckets shared by every caller of the store.
type ThrottleStore interface {
	// Throttle takes cost tokens from the tenant's bucket, or nothing when
	// they do not fit; see Rate for the algorithm. rate and cost are checked
	// and defaulted by CheckThrottle first.
	Throttle(ctx context.Context, tenantID, bucket string, rate Rate, cost int) (ThrottleResult, error)
}

// ShareJobStore keeps share jobs: the one-time uploads of a gallery to a
// linked album, with exactly-once counts of their items.
//
// The store owns revision, created_at, updated_at, done, failed and
// finished_at: whatever a caller sends in those fields is ignored. done and
// failed change only through CountShareItem, so a PutShareJob (say, to pause
// a job) never undoes counts; every write that changes a job raises its
// revision, so a PutShareJob based on a job read before a count fails its
// compare-and-set. Both writes keep one rule (see SettleShareJob): a RUNNING
// or PAUSED job whose items are all counted is DONE.
type ShareJobStore interface {
	// PutShareJob writes job if the stored revision equals expectedRevision
	// (0: the job must not exist), else fails with ErrConflict, and returns
	// what was stored: revision expectedRevision+1, created_at of the first
	// put, updated_at now, the stored counts, and state and finished_at
	// settled.
	PutShareJob(ctx context.Context, job *gsv1.ShareJob, expectedRevision int64) (*gsv1.ShareJob, error)
	// GetShareJob returns the job or ErrNotFound.
	GetShareJob(ctx context.Context, tenantID, jobID string) (*gsv1.ShareJob, error)
	// ListShareJobs returns the tenant's jobs, of one link when linkID is not
	// empty, newest first (see NewestFirst).
	ListShareJobs(ctx context.Context, tenantID, linkID string) ([]*gsv1.ShareJob, error)
	// CountShareItem records the outcome of one item of the job in one
	// atomic write and returns the job as stored; ErrNotFound when there is
	// no such job. Each item counts at most once: counting it again with the
	// same outcome changes nothing, a success after a failure moves it from
	// failed to done, and a failure after a success is ignored (the success
	// stands). A count that changes the job raises its revision and settles it.
	CountShareItem(ctx context.Context, tenantID, jobID, itemID string, failed bool) (*gsv1.ShareJob, error)
}

// LogStore keeps the sync log of every link: what the writers did to its
// items, capped at MaxLogEntries per link.
type LogStore interface {
	// AppendLog adds entry at the head of the link's log and drops the
	// oldest entries beyond MaxLogEntries, in one atomic write. at is set
	// to now when it is missing. It fails with ErrNotFound when the link
	// does not exist, so that a late writer cannot bring back the log of
	// a deleted link.
	AppendLog(ctx context.Context, tenantID, linkID string, entry *gsv1.LogEntry) error
	// ListLog returns up to limit entries of the link's log, newest (most
	// recently appended) first; only those of wixItemID when it is not
	// empty, filtered before the limit applies. limit 0 means
	// DefaultLogLimit; larger than MaxLogEntries is capped. An unknown link
	// has an empty log.
	ListLog(ctx context.Context, tenantID, linkID, wixItemID string, limit int) ([]*gsv1.LogEntry, error)
}
