package atprotosim

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Option configures a Server built by New.
type Option func(*options)

type options struct {
	limits    Limits
	now       func() time.Time
	blobLimit int64
}

// WithLimits replaces the rate limits (DefaultLimits by default).
func WithLimits(l Limits) Option { return func(o *options) { o.limits = l } }

// WithClock replaces the time source (token lifetimes, rate-limit windows,
// revisions).
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithBlobLimit sets the largest blob uploadBlob takes (default 5 MiB, the
// PDS's default).
func WithBlobLimit(n int64) Option { return func(o *options) { o.blobLimit = n } }

// defaultBlobLimit is the PDS's default blobUploadLimit.
const defaultBlobLimit = 5 << 20

// Limit is one fixed-window limit; a zero Points disables it.
type Limit struct {
	Points int
	Window time.Duration
}

// Limits are the PDS's rate limits. Every call counts one point against
// Global per client IP; createSession also against Sessions per identifier
// and IP; uploadBlob also against Blobs per account; writes also against
// WritesHour and WritesDay per account, a created record costing 3 points,
// an updated one 2 and a deleted one 1.
type Limits struct {
	Global     Limit
	Sessions   Limit
	Blobs      Limit
	WritesHour Limit
	WritesDay  Limit
}

// DefaultLimits are a PDS's: 3,000 calls per 5 minutes per IP, 30 logins per
// 5 minutes, 1,000 uploads a day, 5,000 write points an hour and 35,000 a day.
func DefaultLimits() Limits {
	return Limits{
		Global:     Limit{Points: 3000, Window: 5 * time.Minute},
		Sessions:   Limit{Points: 30, Window: 5 * time.Minute},
		Blobs:      Limit{Points: 1000, Window: 24 * time.Hour},
		WritesHour: Limit{Points: 5000, Window: time.Hour},
		WritesDay:  Limit{Points: 35000, Window: 24 * time.Hour},
	}
}

// Unlimited returns limits that never throttle and add no headers.
func Unlimited() Limits { return Limits{} }

// Stats are the emulator's counters.
type Stats struct {
	Logins         int `json:"logins"`
	Refreshes      int `json:"refreshes"`
	BlobUploads    int `json:"blobUploads"`
	Commits        int `json:"commits"`
	RecordsCreated int `json:"recordsCreated"`
	RecordsUpdated int `json:"recordsUpdated"`
	RecordsDeleted int `json:"recordsDeleted"`
	Throttled      int `json:"throttled"`
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// limiter counts points per key in fixed windows.
type limiter struct {
	mu      sync.Mutex
	windows map[string]*window
}

type window struct {
	start time.Time
	used  int
}

func newLimiter() *limiter { return &limiter{windows: map[string]*window{}} }

// usage is one limit's state after a charge.
type usage struct {
	limit     Limit
	remaining int
	reset     time.Time
	exceeded  bool
}

// charge takes points from key's window of l unless that would exceed it.
func (lm *limiter) charge(key string, l Limit, points int, now time.Time) usage {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	w := lm.windows[key]
	if w == nil || !now.Before(w.start.Add(l.Window)) {
		w = &window{start: now}
		lm.windows[key] = w
	}
	u := usage{limit: l, reset: w.start.Add(l.Window)}
	if w.used+points > l.Points {
		u.exceeded = true
		return u
	}
	w.used += points
	u.remaining = l.Points - w.used
	return u
}

// throttle charges the call against its limits and sets the RateLimit-*
// headers of the tightest one, as the PDS does; past a limit it answers 429.
func (s *Server) throttle(c *call) *xrpcError {
	now := s.opts.now()
	l := s.opts.limits
	type charge struct {
		key    string
		limit  Limit
		points int
	}
	charges := []charge{{key: "global\x00" + c.ip, limit: l.Global, points: 1}}
	switch c.nsid {
	case "com.atproto.server.createSession":
		charges = append(charges, charge{key: "session\x00" + loginIdentifier(c.body) + "\x00" + c.ip, limit: l.Sessions, points: 1})
	}
	var tightest *usage
	for _, ch := range charges {
		if ch.limit.Points <= 0 {
			continue
		}
		u := s.limiter.charge(ch.key+"\x00"+ch.limit.Window.String(), ch.limit, ch.points, now)
		if tightest == nil || u.exceeded || (!tightest.exceeded && u.remaining < tightest.remaining) {
			tightest = &u
		}
		if u.exceeded {
			break
		}
	}
	if tightest == nil {
		return nil
	}
	setRateHeaders(c.w.Header(), *tightest, now)
	if tightest.exceeded {
		return &xrpcError{status: http.StatusTooManyRequests, name: "RateLimitExceeded", message: "Rate Limit Exceeded"}
	}
	return nil
}

// chargeWrites charges an account's write points; past a limit the write
// is refused with 429 and nothing is written.
func (s *Server) chargeWrites(c *call, points int) *xrpcError {
	return s.chargeAccount(c, "writes", points, false, s.opts.limits.WritesHour, s.opts.limits.WritesDay)
}

// chargeAccount charges points against the caller's account limits. The
// PDS shows a method's own limit in the headers (show), the write-point
// limits only once they refuse. It takes no lock of the server's, so
// callers may hold s.mu; they count a refusal in Stats.Throttled.
func (s *Server) chargeAccount(c *call, name string, points int, show bool, limits ...Limit) *xrpcError {
	now := s.opts.now()
	for _, l := range limits {
		if l.Points <= 0 {
			continue
		}
		u := s.limiter.charge(name+"\x00"+c.acct.did+"\x00"+l.Window.String(), l, points, now)
		if show || u.exceeded {
			setRateHeaders(c.w.Header(), u, now)
		}
		if u.exceeded {
			return &xrpcError{status: http.StatusTooManyRequests, name: "RateLimitExceeded", message: "Rate Limit Exceeded"}
		}
	}
	return nil
}

func setRateHeaders(h http.Header, u usage, now time.Time) {
	h.Set("RateLimit-Limit", strconv.Itoa(u.limit.Points))
	h.Set("RateLimit-Remaining", strconv.Itoa(u.remaining))
	h.Set("RateLimit-Reset", strconv.FormatInt(u.reset.Unix(), 10))
	h.Set("RateLimit-Policy", strconv.Itoa(u.limit.Points)+";w="+strconv.Itoa(int(u.limit.Window/time.Second)))
	if u.exceeded {
		h.Set("Retry-After", strconv.Itoa(max(0, int(u.reset.Sub(now)/time.Second))))
	}
}

// loginIdentifier is the identifier of a createSession body, lower-cased.
func loginIdentifier(body []byte) string {
	var in struct {
		Identifier string `json:"identifier"`
	}
	_ = jsonUnmarshal(body, &in)
	return strings.ToLower(in.Identifier)
}

func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBody {
		return nil, io.ErrShortBuffer
	}
	return b, nil
}
