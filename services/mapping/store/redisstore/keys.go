package redisstore

import (
	"strings"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// keys builds the Redis keys of one tenant. Each starts with gs:{tenant}:, so
// all of a tenant's keys hash to one Redis Cluster slot and a script may
// touch several of them. Ids are escaped, so no id can close the hash tag or
// forge a separator and reach another tenant's or record's key.
type keys struct{ prefix string }

// linkTenantsKey is a sorted set of the ids of every tenant that has links,
// all with score 0 so that Redis ranges over them in byte order; ScanLinks
// walks it. It is the one key outside every tenant's hash tag, because it
// spans tenants by design: in a Cluster it lives in a slot of its own, so
// only single-key commands touch it, never a script together with a
// tenant's keys.
const linkTenantsKey = "gs:link-tenants"

func keysOf(tenantID string) keys { return keys{prefix: "gs:{" + escape(tenantID) + "}:"} }

func (k keys) tenant() string      { return k.prefix + "tenant" }
func (k keys) connections() string { return k.prefix + "conns" }
func (k keys) links() string       { return k.prefix + "links" }
func (k keys) item(link, wix string) string {
	return k.prefix + "item:" + escape(link) + ":" + escape(wix)
}
func (k keys) order(link string) string    { return k.prefix + "order:" + escape(link) }
func (k keys) external(link string) string { return k.prefix + "ext:" + escape(link) }
func (k keys) dedup(key string) string     { return k.prefix + "dedup:" + escape(key) }
func (k keys) lock(key string) string      { return k.prefix + "lock:" + escape(key) }
func (k keys) intent(key string) string    { return k.prefix + "intent:" + escape(key) }
func (k keys) cursor(key string) string    { return k.prefix + "cursor:" + escape(key) }
func (k keys) log(link string) string      { return k.prefix + "log:" + escape(link) }
func (k keys) shareJobs() string           { return k.prefix + "sharejobs" }
func (k keys) shareJob(job string) string  { return k.prefix + "sharejob:" + escape(job) }
func (k keys) shareItems(job string) string {
	return k.prefix + "shareitems:" + escape(job)
}
func (k keys) throttle(bucket string) string {
	return k.prefix + "throttle:" + escape(bucket)
}

// echo is one marker per written content: several writes to one object may
// be in flight at once, and each one's echo must be recognised.
func (k keys) echo(side gsv1.Side, object, hash string) string {
	return k.prefix + "echo:" + side.String() + ":" + escape(object) + ":" + escape(hash)
}

// escape percent-encodes the characters that structure a key.
func escape(s string) string {
	if !strings.ContainsAny(s, "%:{}") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			b.WriteString("%25")
		case ':':
			b.WriteString("%3A")
		case '{':
			b.WriteString("%7B")
		case '}':
			b.WriteString("%7D")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
