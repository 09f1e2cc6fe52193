package mastodonsim

import (
	"strconv"
	"time"
)

// idempotencyTTL is how long Mastodon keeps an Idempotency-Key.
const idempotencyTTL = time.Hour

// account is a seeded user and everything it owns.
type account struct {
	id        string
	username  string
	token     string
	createdAt time.Time
	statuses  []*status // creation order, so ids increase
	lastPost  *time.Time
	live      int // statuses not deleted
}

// status is the stored form of a post. Content is rendered on each read.
type status struct {
	id         uint64
	account    *account
	text       string
	spoiler    string
	sensitive  bool
	visibility string
	language   string
	inReplyTo  *status
	createdAt  time.Time
	editedAt   *time.Time
	media      []*media // in display order
	deleted    bool
	history    []snapshot
}

// snapshot is one version of a status as the history endpoint shows it.
type snapshot struct {
	at        time.Time
	text      string
	spoiler   string
	sensitive bool
	media     []mediaState
}

// mediaState is an attachment as it looked in one version.
type mediaState struct {
	media       *media
	description *string
	focus       *Focus
}

// media is an uploaded file.
type media struct {
	id          uint64
	account     *account
	status      *status // nil while unattached
	data        []byte
	contentType string
	ext         string
	width       int // 0 when the format cannot be decoded here
	height      int
	description *string
	focus       *Focus
	createdAt   time.Time
	deleted     bool
}

// idempotencyKey scopes a client key to the account that sent it.
type idempotencyKey struct {
	accountID string
	key       string
}

// idempotencyEntry remembers the status a key created.
type idempotencyEntry struct {
	status  *status
	expires time.Time
}

// snowflakes hands out Mastodon-style ids: milliseconds since the Unix epoch
// shifted left 16 bits, bumped so they strictly increase even when the
// clock stands still.
type snowflakes struct {
	last uint64
}

func (g *snowflakes) next(now time.Time) uint64 {
	id := uint64(now.UnixMilli()) << 16
	if id <= g.last {
		id = g.last + 1
	}
	g.last = id
	return id
}

func idString(id uint64) string { return strconv.FormatUint(id, 10) }

// parseID reads a path id; ids the emulator never issued simply miss.
func parseID(s string) (uint64, bool) {
	id, err := strconv.ParseUint(s, 10, 64)
	return id, err == nil
}
