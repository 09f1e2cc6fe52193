package mappingfake

import (
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// The methods below let a test arrange state the code under test would
// meet in production (another replica's lease, a job the console planned)
// and look at what it stored, without going through the RPCs.

// FailPutItem installs fn to run before every PutItem is applied; an error
// it returns is the call's answer and nothing is stored. nil removes it.
// fn must not call the fake.
func (f *Fake) FailPutItem(fn func(*gsv1.ItemMapping) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failPut = fn
}

// KeepLeases makes ReleaseLock give nothing back while keep is true, as
// when a replica dies holding its leases; they then only expire.
func (f *Fake) KeepLeases(keep bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keepLeases = keep
}

// HoldLock gives the lease on key to owner for ttl, as another replica
// working on the same thing would hold it.
func (f *Fake) HoldLock(tenant, key, owner string, ttl time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.locks[pair{tenant, key}] = expiring[string]{owner, f.now().Add(ttl)}
}

// SeedConnection stores a connection as it is, credentials included.
func (f *Fake) SeedConnection(c *gsv1.Connection) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.conns[pair{c.GetTenantId(), c.GetConnectionId()}] = clone(c)
}

// SeedLink stores a link as it is.
func (f *Fake) SeedLink(l *gsv1.Link) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.links[pair{l.GetTenantId(), l.GetLinkId()}] = clone(l)
}

// SeedItem stores a mapping as if PutItem had written it at written: its
// revision is the one it carries plus one.
func (f *Fake) SeedItem(it *gsv1.ItemMapping, written time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := clone(it)
	c.Revision++
	c.UpdatedAt = timestamppb.New(written)
	f.items[triple{c.GetTenantId(), c.GetLinkId(), c.GetWixItemId()}] = c
}

// SeedShareJob stores a share job as it is, counts and state included,
// as the console would have left it.
func (f *Fake) SeedShareJob(j *gsv1.ShareJob) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobs[pair{j.GetTenantId(), j.GetJobId()}] = clone(j)
}

// SeedShareCount records an item's outcome as CountShareItem would have,
// without touching the job's counts.
func (f *Fake) SeedShareCount(tenant, jobID, itemID string, failed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counted[triple{tenant, jobID, itemID}] = failed
}

// Tenant returns a copy of a tenant, or nil.
func (f *Fake) Tenant(id string) *gsv1.Tenant {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.tenants[id]; ok {
		return clone(t)
	}
	return nil
}

// Credentials returns a stored connection's credentials (nil when none).
func (f *Fake) Credentials(tenant, connectionID string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.conns[pair{tenant, connectionID}].GetCredentials())
}

// Item returns a copy of the mapping of a Wix item, or nil.
func (f *Fake) Item(tenant, link, wixItemID string) *gsv1.ItemMapping {
	f.mu.Lock()
	defer f.mu.Unlock()
	if it, ok := f.items[triple{tenant, link, wixItemID}]; ok {
		return clone(it)
	}
	return nil
}

// ItemByExternal returns a copy of the mapping holding an external id, or nil.
func (f *Fake) ItemByExternal(tenant, link, externalID string) *gsv1.ItemMapping {
	f.mu.Lock()
	defer f.mu.Unlock()
	if it, ok := f.byExternal(tenant, link, externalID); ok {
		return clone(it)
	}
	return nil
}

// Items returns copies of a link's mappings in Wix item id order.
func (f *Fake) Items(tenant, link string) []*gsv1.ItemMapping {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*gsv1.ItemMapping
	for k, it := range f.items {
		if k.tenant == tenant && k.a == link {
			out = append(out, clone(it))
		}
	}
	slices.SortFunc(out, func(a, b *gsv1.ItemMapping) int { return strings.Compare(a.GetWixItemId(), b.GetWixItemId()) })
	return out
}

// Echoed reports whether an object has a live echo marker with this hash.
func (f *Fake) Echoed(tenant string, side gsv1.Side, objectID, hash string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	expires, ok := f.echoes[echoKey(tenant, side, objectID, hash)]
	return ok && f.now().Before(expires)
}

// EchoMarks returns every accepted MarkEcho request, in order.
func (f *Fake) EchoMarks() []*gsv1.MarkEchoRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*gsv1.MarkEchoRequest, len(f.marks))
	for i, r := range f.marks {
		out[i] = clone(r)
	}
	return out
}

// Intent returns a copy of a live intent, or nil.
func (f *Fake) Intent(tenant, key string) *gsv1.Intent {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e, ok := f.intents[pair{tenant, key}]; ok && e.live(f.now()) {
		return clone(e.value)
	}
	return nil
}

// Holder returns the owner of a live lease, "" when it is free.
func (f *Fake) Holder(tenant, key string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l, ok := f.locks[pair{tenant, key}]; ok && l.live(f.now()) {
		return l.value
	}
	return ""
}

// Cursor returns a stored cursor, "" when none.
func (f *Fake) Cursor(tenant, key string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cursors[pair{tenant, key}]
}

// ThrottleCalls is how many valid Throttle calls were made.
func (f *Fake) ThrottleCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.throttle
}

// ShareJob returns a copy of a share job, or nil.
func (f *Fake) ShareJob(tenant, jobID string) *gsv1.ShareJob {
	f.mu.Lock()
	defer f.mu.Unlock()
	if j, ok := f.jobs[pair{tenant, jobID}]; ok {
		return clone(j)
	}
	return nil
}

// Log returns copies of a link's sync log entries, oldest first (the
// order the writes happened in; ListLog answers newest first).
func (f *Fake) Log(tenant, link string) []*gsv1.LogEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	entries := f.logs[pair{tenant, link}]
	out := make([]*gsv1.LogEntry, 0, len(entries))
	for i := len(entries) - 1; i >= 0; i-- {
		out = append(out, clone(entries[i]))
	}
	return out
}
