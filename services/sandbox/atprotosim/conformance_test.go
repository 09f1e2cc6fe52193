package atprotosim_test

import (
	"net/http/httptest"
	"testing"

	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/atproto/atprototest"
	"gallerysync.dev/libs/platforms/platformtest"
	"gallerysync.dev/services/sandbox/atprotosim"
)

// TestConformance runs the adapter conformance suite, the same one that
// runs against a real PDS, against the emulator with the real adapter.
func TestConformance(t *testing.T) {
	sim := atprotosim.New()
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	acct := sim.AddAccount("gallery.test", "app-pass-1")
	env := atprototest.NewEnv(t, srv.URL, atprototest.Account{DID: acct.DID, Handle: acct.Handle, Password: "app-pass-1"})
	env.Throttle = func(t *testing.T) platforms.Connection {
		a := sim.AddAccount("throttled.test", "app-pass-2")
		atprototest.ExhaustLogins(t, srv.URL, a.Handle, 31)
		return platforms.Connection{ID: "conn-throttled", BaseURL: srv.URL, AccountID: a.Handle, Credentials: []byte("app-pass-2")}
	}
	env.ExpireSession = func(*testing.T) { sim.ExpireTokens() }
	t.Cleanup(func() { // after the parallel subtests
		if st := sim.Stats(); !t.Skipped() && (st.Refreshes == 0 || st.Throttled == 0 || st.Commits == 0) {
			t.Errorf("the suite left the emulator with %+v: expected refreshes, throttling and commits", st)
		}
	})
	platformtest.Run(t, env)
}
