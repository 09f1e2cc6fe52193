package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckThrottle(t *testing.T) {
	t.Parallel()
	valid := []struct {
		name         string
		rate         Rate
		cost         int
		wantBurst    int
		wantCost     int
		wantInterval int64
	}{
		{"Wix per app instance", Rate{Limit: 200, Period: time.Minute, Burst: 20}, 1, 20, 1, 300_000},
		{"defaults", Rate{Limit: 1, Period: time.Hour}, 0, 1, 1, 3_600_000_000},
		{"interval rounded up", Rate{Limit: 3, Period: time.Second, Burst: 3}, 3, 3, 3, 333_334},
		{"one per microsecond", Rate{Limit: 1_000_000, Period: time.Second, Burst: 1}, 1, 1, 1, 1},
		{"longest window", Rate{Limit: 1, Period: MaxThrottleWindow, Burst: 1}, 1, 1, 1, MaxThrottleWindow.Microseconds()},
	}
	for _, c := range valid {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, cost, err := CheckThrottle("wix", c.rate, c.cost)
			if err != nil {
				t.Fatal(err)
			}
			if r.Burst != c.wantBurst || cost != c.wantCost || r.IntervalMicros() != c.wantInterval {
				t.Fatalf("burst %d, cost %d, interval %dµs; want %d, %d, %dµs",
					r.Burst, cost, r.IntervalMicros(), c.wantBurst, c.wantCost, c.wantInterval)
			}
		})
	}
	invalid := []struct {
		name   string
		bucket string
		rate   Rate
		cost   int
		want   string
	}{
		{"no bucket", "", Rate{Limit: 1, Period: time.Second}, 1, "bucket: must not be empty"},
		{"bucket too long", strings.Repeat("b", MaxKeyLen+1), Rate{Limit: 1, Period: time.Second}, 1, "bucket: 1025 bytes"},
		{"limit 0", "b", Rate{Period: time.Second}, 1, "limit: 0, at least 1"},
		{"negative limit", "b", Rate{Limit: -3, Period: time.Second}, 1, "limit: -3, at least 1"},
		{"no period", "b", Rate{Limit: 1}, 1, "period: 0s, must be positive"},
		{"period too long", "b", Rate{Limit: 1, Period: MaxThrottleWindow + time.Hour}, 1, "period: 8785h0m0s, at most 8784h0m0s"},
		{"faster than a microsecond", "b", Rate{Limit: 1_000_001, Period: time.Second}, 1, "more than one per microsecond"},
		{"negative burst", "b", Rate{Limit: 1, Period: time.Second, Burst: -1}, 1, "burst: -1 is negative"},
		{"negative cost", "b", Rate{Limit: 1, Period: time.Second, Burst: 2}, -2, "cost: -2 is negative"},
		{"cost above burst", "b", Rate{Limit: 10, Period: time.Second, Burst: 2}, 3, "cost: 3 exceeds burst 2"},
		{"default cost above burst", "b", Rate{Limit: 1, Period: time.Second}, 2, "cost: 2 exceeds burst 1"},
		{"window too long", "b", Rate{Limit: 1, Period: 24 * time.Hour, Burst: 400}, 1, "refill in more than"},
	}
	for _, c := range invalid {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := CheckThrottle(c.bucket, c.rate, c.cost)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want an ErrInvalid saying %q", err, c.want)
			}
		})
	}
}

func TestTake(t *testing.T) {
	t.Parallel()
	rate := Rate{Limit: 10, Period: time.Second, Burst: 4} // T = 100ms
	const T = int64(100_000)
	const start = int64(1_750_000_000_000_000)

	type call struct {
		at      int64 // microseconds after start
		cost    int
		allowed bool
		retry   time.Duration
	}
	cases := []struct {
		name  string
		calls []call
	}{
		{"a full bucket gives the burst at once, then one per interval", []call{
			{0, 1, true, 0}, {0, 1, true, 0}, {0, 1, true, 0}, {0, 1, true, 0},
			{0, 1, false, 100 * time.Millisecond},
			{T / 2, 1, false, 50 * time.Millisecond},
			{T, 1, true, 0},
			{T, 1, false, 100 * time.Millisecond},
			{2 * T, 1, true, 0},
		}},
		{"refused calls take nothing", []call{
			{0, 4, true, 0},
			{0, 1, false, 100 * time.Millisecond}, {0, 1, false, 100 * time.Millisecond},
			{T, 1, true, 0},
		}},
		{"cost waits for all its tokens", []call{
			{0, 3, true, 0},
			{0, 3, false, 200 * time.Millisecond},
			{0, 1, true, 0},
			{0, 2, false, 200 * time.Millisecond},
			{2 * T, 2, true, 0},
		}},
		{"idle time refills up to the burst, never beyond", []call{
			{0, 4, true, 0},
			{100 * T, 4, true, 0},
			{100 * T, 1, false, 100 * time.Millisecond},
		}},
		{"partial refill", []call{
			{0, 4, true, 0},
			{2 * T, 3, false, 100 * time.Millisecond},
			{2 * T, 2, true, 0},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var tat int64
			for i, cl := range c.calls {
				next, res := rate.Take(start+cl.at, tat, cl.cost)
				if res.Allowed != cl.allowed || res.RetryAfter != cl.retry {
					t.Fatalf("call %d (cost %d at +%dµs): %+v, want allowed %v retry_after %v",
						i+1, cl.cost, cl.at, res, cl.allowed, cl.retry)
				}
				if !res.Allowed && next != tat {
					t.Fatalf("call %d was refused but moved the bucket from %d to %d", i+1, tat, next)
				}
				tat = next
			}
		})
	}
}
