package storetest

import (
	"testing"
	"time"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

const shortTTL = 150 * time.Millisecond

func testEcho(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	must(t, "mark echo", s.MarkEcho(ctx, tenant, gsv1.Side_SIDE_WIX, "o1", "h1", time.Hour))
	checks := []struct {
		name   string
		side   gsv1.Side
		object string
		hash   string
		want   bool
	}{
		{"same content", gsv1.Side_SIDE_WIX, "o1", "h1", true},
		{"other content", gsv1.Side_SIDE_WIX, "o1", "h2", false},
		{"other side", gsv1.Side_SIDE_PLATFORM, "o1", "h1", false},
		{"other object", gsv1.Side_SIDE_WIX, "o2", "h1", false},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.CheckEcho(ctx, tenant, c.side, c.object, c.hash)
			must(t, "check echo", err)
			if got != c.want {
				t.Fatalf("CheckEcho(%v, %s, %s) = %v, want %v", c.side, c.object, c.hash, got, c.want)
			}
		})
	}
	// Two writes to one object in quick succession: the watcher may report
	// the first state after the second write was marked, and it is still
	// our own echo.
	t.Run("every write in flight keeps its marker", func(t *testing.T) {
		must(t, "mark echo again", s.MarkEcho(ctx, tenant, gsv1.Side_SIDE_WIX, "o1", "h2", time.Hour))
		old, err := s.CheckEcho(ctx, tenant, gsv1.Side_SIDE_WIX, "o1", "h1")
		must(t, "check old hash", err)
		cur, err := s.CheckEcho(ctx, tenant, gsv1.Side_SIDE_WIX, "o1", "h2")
		must(t, "check new hash", err)
		other, err := s.CheckEcho(ctx, tenant, gsv1.Side_SIDE_WIX, "o1", "h3")
		must(t, "check unwritten hash", err)
		if !old || !cur || other {
			t.Fatalf("after two marks: first %v, second %v, unwritten %v; want true, true, false", old, cur, other)
		}
	})
}

func testDedup(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	steps := []struct {
		name string
		call func() (bool, error)
		want bool
	}{
		{"first mark", func() (bool, error) { return s.MarkDedup(ctx, tenant, "wix:ev1", time.Hour) }, true},
		{"second mark", func() (bool, error) { return s.MarkDedup(ctx, tenant, "wix:ev1", time.Hour) }, false},
		{"check marked", func() (bool, error) { return s.CheckDedup(ctx, tenant, "wix:ev1") }, true},
		{"check other", func() (bool, error) { return s.CheckDedup(ctx, tenant, "wix:ev2") }, false},
		// Dedup marks and locks live apart even under the same key.
		{"lock with the same key", func() (bool, error) { return s.AcquireLock(ctx, tenant, "wix:ev2", "o", time.Hour) }, true},
		{"mark after lock", func() (bool, error) { return s.MarkDedup(ctx, tenant, "wix:ev2", time.Hour) }, true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got, err := st.call()
			must(t, st.name, err)
			if got != st.want {
				t.Fatalf("%s = %v, want %v", st.name, got, st.want)
			}
		})
	}
}

func testLock(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	acquire := func(owner string) func() (bool, error) {
		return func() (bool, error) { return s.AcquireLock(ctx, tenant, "item:w1", owner, time.Hour) }
	}
	release := func(owner string) func() (bool, error) {
		return func() (bool, error) { return s.ReleaseLock(ctx, tenant, "item:w1", owner) }
	}
	steps := []struct {
		name string
		call func() (bool, error)
		want bool
	}{
		{"A takes the free lock", acquire("A"), true},
		{"B is refused", acquire("B"), false},
		{"A again (re-entrant)", acquire("A"), true},
		{"B cannot release it", release("B"), false},
		{"A releases", release("A"), true},
		{"A cannot release twice", release("A"), false},
		{"B takes it", acquire("B"), true},
		{"A is refused", acquire("A"), false},
		{"another key is free", func() (bool, error) { return s.AcquireLock(ctx, tenant, "item:w2", "A", time.Hour) }, true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got, err := st.call()
			must(t, st.name, err)
			if got != st.want {
				t.Fatalf("%s = %v, want %v", st.name, got, st.want)
			}
		})
	}
}

func testTTLExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	t.Run("echo marker", func(t *testing.T) {
		must(t, "mark echo", s.MarkEcho(ctx, tenant, gsv1.Side_SIDE_PLATFORM, "o1", "h1", shortTTL))
		waitFor(t, "echo marker expired", func() bool {
			echo, err := s.CheckEcho(ctx, tenant, gsv1.Side_SIDE_PLATFORM, "o1", "h1")
			must(t, "check echo", err)
			return !echo
		})
	})
	t.Run("dedup mark", func(t *testing.T) {
		first, err := s.MarkDedup(ctx, tenant, "k", shortTTL)
		must(t, "mark dedup", err)
		if !first {
			t.Fatal("first MarkDedup reported a duplicate")
		}
		waitFor(t, "dedup mark expired", func() bool {
			seen, err := s.CheckDedup(ctx, tenant, "k")
			must(t, "check dedup", err)
			return !seen
		})
		first, err = s.MarkDedup(ctx, tenant, "k", time.Hour)
		must(t, "mark dedup again", err)
		if !first {
			t.Fatal("MarkDedup after expiry reported a duplicate")
		}
	})
	t.Run("lock lease", func(t *testing.T) {
		ok, err := s.AcquireLock(ctx, tenant, "short", "A", shortTTL)
		must(t, "acquire", err)
		if !ok {
			t.Fatal("free lock refused")
		}
		waitFor(t, "expired lease taken over", func() bool {
			ok, err := s.AcquireLock(ctx, tenant, "short", "B", time.Hour)
			must(t, "acquire by B", err)
			return ok
		})
		released, err := s.ReleaseLock(ctx, tenant, "short", "A")
		must(t, "release by A", err)
		if released {
			t.Fatal("A released a lease that B holds after A's expired")
		}
	})
	t.Run("re-acquire extends the lease", func(t *testing.T) {
		for _, ttl := range []time.Duration{shortTTL, time.Hour} {
			ok, err := s.AcquireLock(ctx, tenant, "extended", "A", ttl)
			must(t, "acquire", err)
			if !ok {
				t.Fatalf("owner refused its own lock (ttl %v)", ttl)
			}
		}
		// A witness lease taken after the extension: once it expired, the
		// first short lease would have expired too.
		ok, err := s.AcquireLock(ctx, tenant, "witness", "A", shortTTL)
		must(t, "acquire witness", err)
		if !ok {
			t.Fatal("witness lock refused")
		}
		waitFor(t, "witness lease expired", func() bool {
			ok, err := s.AcquireLock(ctx, tenant, "witness", "B", time.Hour)
			must(t, "acquire witness by B", err)
			return ok
		})
		ok, err = s.AcquireLock(ctx, tenant, "extended", "B", time.Hour)
		must(t, "acquire extended by B", err)
		if ok {
			t.Fatal("B took a lease that A had extended")
		}
	})
}
