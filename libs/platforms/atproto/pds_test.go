package atproto_test

import (
	"net/http"
	"testing"
	"time"

	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/atproto"
	"gallerysync.dev/libs/platforms/atproto/atprototest"
	"gallerysync.dev/libs/platforms/platformtest"
	"gallerysync.dev/libs/testkit"
)

// TestConformanceRealPDS runs the conformance suite against a real PDS
// (tools/pds): the records the adapter writes are checked by listRecords
// against the server itself. Throttling is real too: the PDS allows 30
// logins per 5 minutes per account, and a fresh account spends them. So is
// an expired session: the PDS refuses a token re-signed as expired.
func TestConformanceRealPDS(t *testing.T) {
	pds := testkit.StartPDS(t)
	did, handle, password := pds.CreateAccount(t, "gallery")
	exp := &expiring{secret: []byte(pds.JWTSecret()), next: http.DefaultTransport}
	env := atprototest.NewEnv(t, pds.URL(), atprototest.Account{DID: did, Handle: handle, Password: password},
		atproto.WithHTTPClient(&http.Client{Transport: exp, Timeout: time.Minute}))
	env.ExpireSession = func(*testing.T) { exp.armed.Store(true) }
	t.Cleanup(func() { // after the parallel subtests
		if !t.Skipped() && exp.refreshed.Load() == 0 {
			t.Error("the adapter never refreshed its session after the PDS refused a token as expired")
		}
	})
	env.Throttle = func(t *testing.T) platforms.Connection {
		_, h, pw := pds.CreateAccount(t, "throttled")
		atprototest.ExhaustLogins(t, pds.URL(), h, 31)
		return platforms.Connection{ID: "conn-throttled", BaseURL: pds.URL(), AccountID: h, Credentials: []byte(pw)}
	}
	platformtest.Run(t, env)
}
