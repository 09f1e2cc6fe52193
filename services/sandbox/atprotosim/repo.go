package atprotosim

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// errEmptyBody: a method that takes input got none.
var errEmptyBody = errors.New("empty body")

// repo is an account's repository: records by collection and key, blobs by
// cid, and the head commit.
type repo struct {
	collections map[string]map[string]stored
	blobs       map[string]blob
	rev         string
	commit      string
}

// stored is one record.
type stored struct {
	cid   string
	value json.RawMessage
}

// blob is uploaded media.
type blob struct {
	data     []byte
	mimeType string
}

func newRepo() *repo {
	return &repo{collections: map[string]map[string]stored{}, blobs: map[string]blob{}}
}

// get returns a record.
func (r *repo) get(collection, rkey string) (stored, bool) {
	rec, ok := r.collections[collection][rkey]
	return rec, ok
}

// staged is a set of writes to a repository, applied all at once.
type staged struct {
	r       *repo
	changed map[string]map[string]*stored // nil entry: deleted
}

func (r *repo) stage() *staged { return &staged{r: r, changed: map[string]map[string]*stored{}} }

func (st *staged) get(collection, rkey string) (stored, bool) {
	if c, ok := st.changed[collection]; ok {
		if rec, ok := c[rkey]; ok {
			if rec == nil {
				return stored{}, false
			}
			return *rec, true
		}
	}
	return st.r.get(collection, rkey)
}

func (st *staged) set(collection, rkey string, rec *stored) {
	if st.changed[collection] == nil {
		st.changed[collection] = map[string]*stored{}
	}
	st.changed[collection][rkey] = rec
}

// apply makes the staged writes the repository's content under a new
// commit revision.
func (st *staged) apply(rev string) commitRef {
	for collection, recs := range st.changed {
		if st.r.collections[collection] == nil {
			st.r.collections[collection] = map[string]stored{}
		}
		for rkey, rec := range recs {
			if rec == nil {
				delete(st.r.collections[collection], rkey)
			} else {
				st.r.collections[collection][rkey] = *rec
			}
		}
	}
	st.r.rev = rev
	// The commit's cid covers the revision and every record's cid, as a
	// real commit covers the repository's tree.
	var b strings.Builder
	b.WriteString(rev)
	for _, c := range sortedKeys(st.r.collections) {
		for _, k := range sortedKeys(st.r.collections[c]) {
			b.WriteString("\x00" + c + "/" + k + "=" + st.r.collections[c][k].cid)
		}
	}
	st.r.commit = cidOf(codecDagCBOR, []byte(b.String()))
	return commitRef{CID: st.r.commit, Rev: rev}
}

// commitRef is a commit as write answers name it.
type commitRef struct {
	CID string `json:"cid"`
	Rev string `json:"rev"`
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// tidClock makes strictly increasing TIDs (revisions and record keys)
// from the server's clock.
type tidClock struct {
	mu   sync.Mutex
	last int64
}

func (c *tidClock) next(now time.Time) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	us := now.UnixMicro()
	if us <= c.last {
		us = c.last + 1
	}
	c.last = us
	return encodeTID(uint64(us) << 10)
}

// encodeTID writes 64 bits as a TID: 13 characters of the sortable base32
// alphabet, the top bit zero.
func encodeTID(n uint64) string {
	const alphabet = "234567abcdefghijklmnopqrstuvwxyz"
	n &^= 1 << 63
	var b [13]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = alphabet[n&31]
		n >>= 5
	}
	return string(b[:])
}

// validRkey checks record-key syntax.
func validRkey(k string) bool {
	if k == "" || len(k) > 512 || k == "." || k == ".." {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '.' || c == '-' || c == '_' || c == ':' || c == '~'
		if !ok {
			return false
		}
	}
	return true
}

// validNSID checks the shape of a collection name: at least three
// dot-separated segments of letters, digits and hyphens.
func validNSID(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 3 || len(s) > 317 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		for i := 0; i < len(p); i++ {
			c := p[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
