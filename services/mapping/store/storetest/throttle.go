package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"gallerysync.dev/services/mapping/store"
)

func throttle(t *testing.T, s store.Store, tenant, bucket string, rate store.Rate, cost int) store.ThrottleResult {
	t.Helper()
	res, err := s.Throttle(t.Context(), tenant, bucket, rate, cost)
	must(t, fmt.Sprintf("throttle %s cost %d", bucket, cost), err)
	return res
}

// mustDeny fails unless res refuses with a retry_after in (want-slack, want]:
// want is the wait the algorithm gives at the instant of the first call, and
// slack covers the time the test took since then.
func mustDeny(t *testing.T, what string, res store.ThrottleResult, want, slack time.Duration) {
	t.Helper()
	if res.Allowed {
		t.Fatalf("%s: allowed, want refused", what)
	}
	if res.RetryAfter <= want-slack || res.RetryAfter > want {
		t.Fatalf("%s: retry_after %v, want in (%v, %v]", what, res.RetryAfter, want-slack, want)
	}
}

func testThrottle(t *testing.T, s store.Store) {
	// 50 per hour: one token every 72s, so no token comes back while a
	// subtest runs unless it waits for one.
	hourly := store.Rate{Limit: 50, Period: time.Hour, Burst: 50}
	const interval = 72 * time.Second

	t.Run("burst then refuse", func(t *testing.T) {
		tenant := newTenant(t)
		for i := range hourly.Burst {
			if res := throttle(t, s, tenant, "wix", hourly, 1); !res.Allowed {
				t.Fatalf("call %d of a full bucket with burst %d refused (retry_after %v)", i+1, hourly.Burst, res.RetryAfter)
			}
		}
		for i := range 3 {
			// Refused calls take nothing, so the wait does not grow.
			mustDeny(t, fmt.Sprintf("call %d after the burst", hourly.Burst+i+1),
				throttle(t, s, tenant, "wix", hourly, 1), interval, time.Minute)
		}
	})

	t.Run("cost", func(t *testing.T) {
		tenant := newTenant(t)
		rate := store.Rate{Limit: 5, Period: time.Hour, Burst: 5} // a token every 12 minutes
		steps := []struct {
			cost    int
			allowed bool
		}{{3, true}, {3, false}, {2, true}, {1, false}}
		for i, st := range steps {
			res := throttle(t, s, tenant, "media", rate, st.cost)
			what := fmt.Sprintf("step %d: cost %d", i+1, st.cost)
			if st.allowed && !res.Allowed {
				t.Fatalf("%s refused (retry_after %v), want allowed", what, res.RetryAfter)
			}
			if !st.allowed {
				// One token short each time.
				mustDeny(t, what, res, 12*time.Minute, time.Minute)
			}
		}
	})

	t.Run("defaults", func(t *testing.T) {
		tenant := newTenant(t)
		rate := store.Rate{Limit: 1, Period: time.Hour} // burst 0 means 1
		if res := throttle(t, s, tenant, "wix", rate, 0); !res.Allowed {
			t.Fatalf("first call refused (retry_after %v)", res.RetryAfter)
		}
		mustDeny(t, "second call with burst 1", throttle(t, s, tenant, "wix", rate, 0), time.Hour, time.Minute)
	})

	t.Run("refill after retry_after", func(t *testing.T) {
		tenant := newTenant(t)
		rate := store.Rate{Limit: 10, Period: time.Second, Burst: 2} // a token every 100ms
		const full = 200 * time.Millisecond
		deadline := time.Now().Add(15 * time.Second)
		for refills := 0; refills < 3; {
			if time.Now().After(deadline) {
				t.Fatalf("after 15s only %d refusals to wait for; the bucket never ran dry", refills)
			}
			res := throttle(t, s, tenant, "fast", rate, 2)
			if res.Allowed {
				continue // the bucket is empty now
			}
			if res.RetryAfter <= 0 || res.RetryAfter > full {
				t.Fatalf("retry_after %v for the whole burst, want in (0, %v]", res.RetryAfter, full)
			}
			// The extra millisecond covers the wall clock (which the
			// backends read) running slower than the sleep's monotonic one
			// while it is being slewed.
			time.Sleep(res.RetryAfter + time.Millisecond)
			if again := throttle(t, s, tenant, "fast", rate, 2); !again.Allowed {
				t.Fatalf("refused again (retry_after %v) after waiting the %v it asked for", again.RetryAfter, res.RetryAfter)
			}
			refills++
		}
	})

	t.Run("buckets and tenants are separate", func(t *testing.T) {
		a, b := newTenant(t), newTenant(t)
		once := onePerHour()
		if !throttle(t, s, a, "wix", once, 1).Allowed {
			t.Fatal("first call refused")
		}
		mustDeny(t, "second call", throttle(t, s, a, "wix", once, 1), time.Hour, time.Minute)
		for _, c := range []struct{ tenant, bucket string }{{a, "mastodon:c1"}, {a, "wix:"}, {b, "wix"}} {
			if res := throttle(t, s, c.tenant, c.bucket, once, 1); !res.Allowed {
				t.Fatalf("bucket %q of tenant %s refused (retry_after %v): it shares state with another", c.bucket, c.tenant, res.RetryAfter)
			}
		}
		mustDeny(t, "first bucket after the others", throttle(t, s, a, "wix", once, 1), time.Hour, time.Minute)
	})

	t.Run("concurrent callers share one bucket", func(t *testing.T) {
		tenant := newTenant(t)
		const callers, calls = 20, 10
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			allowed int
			errs    []error
		)
		for range callers {
			wg.Go(func() {
				for range calls {
					res, err := s.Throttle(t.Context(), tenant, "wix", hourly, 1)
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					} else if res.Allowed {
						allowed++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(errs) > 0 || allowed != hourly.Burst {
			t.Fatalf("%d callers x %d calls: %d allowed, errors %v; want exactly %d allowed", callers, calls, allowed, errs, hourly.Burst)
		}
	})
}
