// Package storetest is the conformance suite every store backend passes, so
// the embedded store and Redis behave the same behind the mapping service.
package storetest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"gallerysync.dev/services/mapping/store"
)

// Run runs the suite. open returns a store for one subtest; subtests run in
// parallel and use tenant ids of their own, so open may hand out stores that
// share one backend. openEmpty returns a store on an empty backend that no
// other subtest writes to, for the checks that read across tenants.
func Run(t *testing.T, open, openEmpty func(t *testing.T) store.Store) {
	cases := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"Ping", testPing},
		{"Tenant", testTenant},
		{"Connection", testConnection},
		{"Link", testLink},
		{"NotFound", testNotFound},
		{"Invalid", testInvalid},
		{"ItemCompareAndSet", testItemCompareAndSet},
		{"ItemConcurrentCompareAndSet", testItemConcurrentCompareAndSet},
		{"ExternalIndex", testExternalIndex},
		{"Paging", testPaging},
		{"LargeLink", testLargeLink},
		{"TenantIsolation", testTenantIsolation},
		{"Echo", testEcho},
		{"Dedup", testDedup},
		{"Lock", testLock},
		{"TTLExpiry", testTTLExpiry},
		{"RemoveTenant", testRemoveTenant},
		{"Intent", testIntent},
		{"IntentExpiry", testIntentExpiry},
		{"Throttle", testThrottle},
		{"Cursor", testCursor},
		{"ScanLinks", testScanLinks},
		{"ListConnections", testListConnections},
		{"DeleteLink", testDeleteLink},
		{"DeleteLastLinkWhilePutting", testDeleteLastLinkWhilePutting},
		{"ShareJob", testShareJob},
		{"ShareJobSettles", testShareJobSettles},
		{"ShareJobList", testShareJobList},
		{"ShareJobIsolation", testShareJobIsolation},
		{"ShareCountsConcurrent", testShareCountsConcurrent},
		{"SyncLog", testSyncLog},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, open(t))
		})
	}
	t.Run("ScanLinksAlone", func(t *testing.T) {
		t.Parallel()
		testScanLinksAlone(t, openEmpty(t))
	})
}

// newTenant returns a tenant id no other subtest uses.
func newTenant(t *testing.T) string {
	t.Helper()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "tenant-" + hex.EncodeToString(b[:])
}

// waitFor polls cond until it holds; the deadline is far beyond any TTL the
// suite uses, so only a backend that never expires anything fails it.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not true after 15s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustEqual(t *testing.T, what string, got, want proto.Message) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Fatalf("%s:\n got  %v\n want %v", what, got, want)
	}
}

func mustErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func testPing(t *testing.T, s store.Store) {
	must(t, "ping", s.Ping(t.Context()))
}
