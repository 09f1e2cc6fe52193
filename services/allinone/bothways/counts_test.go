package bothways

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// counts are write counters by name; a name that is absent is zero.
type counts map[string]int64

// since is what moved from before to c, zeros left out.
func (c counts) since(before counts) counts {
	out := counts{}
	for k, v := range c {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	for k, v := range before {
		if _, ok := c[k]; !ok && v != 0 {
			out[k] = -v
		}
	}
	return out
}

// plus is the sum of c and more.
func (c counts) plus(more ...counts) counts {
	out := maps.Clone(c)
	if out == nil {
		out = counts{}
	}
	for _, m := range more {
		for k, v := range m {
			out[k] += v
		}
	}
	for k, v := range out {
		if v == 0 {
			delete(out, k)
		}
	}
	return out
}

// times is c with every counter multiplied by n.
func (c counts) times(n int64) counts {
	out := counts{}
	for k, v := range c {
		if v*n != 0 {
			out[k] = v * n
		}
	}
	return out
}

// equal compares two sets of counters, zeros and absent names alike.
func (c counts) equal(o counts) bool {
	return maps.Equal(c.plus(), o.plus())
}

// String lists the counters in name order, e.g. "{create=1 delete=2}".
func (c counts) String() string {
	keys := slices.Sorted(maps.Keys(c.plus()))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, c[k]))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

const (
	// within bounds every wait for a change to show on the other side;
	// generous, since several stacks may share two CPU cores.
	within = 45 * time.Second
	// settle is how long to watch for late duplicate or echo writes once
	// everything has shown: longer than the slowest watcher's poll
	// (Pinterest's, 2 s in the stack) plus a write.
	settle = 3 * time.Second
	// pollEvery is the pause between two looks at a side.
	pollEvery = 100 * time.Millisecond
)

// waitFor polls cond until it reports true and returns how long that took.
// When it has not within the deadline, the test fails (it goes on: a
// caller that cannot do without the condition stops it); what names the
// condition, cond's last error says why it was not met.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() (bool, error)) (time.Duration, bool) {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	var last error
	for {
		ok, err := cond()
		if ok {
			return time.Since(start), true
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last == nil {
				last = errors.New("not seen")
			}
			t.Errorf("%s: not within %s: %v", what, within, last)
			return time.Since(start), false
		case <-time.After(pollEvery):
		}
	}
}

// mustWaitFor is waitFor for a condition the test cannot go on without.
func mustWaitFor(ctx context.Context, t *testing.T, what string, cond func() (bool, error)) time.Duration {
	t.Helper()
	took, ok := waitFor(ctx, t, what, cond)
	if !ok {
		t.FailNow()
	}
	return took
}

// pause waits d, or fails the test when ctx ends first.
func pause(ctx context.Context, t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-ctx.Done():
		t.Fatalf("waiting %s: %v", d, ctx.Err())
	case <-time.After(d):
	}
}

// ms rounds a duration for the log.
func ms(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
