package stack

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// TestAppRemovedStopsTheTenant removes the app from the demo site on the
// (emulated) Wix side: the lifecycle webhook must stop the tenant's links,
// delete its platform credentials and make ingress refuse its events; a
// reinstall makes the tenant active again.
func TestAppRemovedStopsTheTenant(t *testing.T) {
	s := startStack(t)
	d := s.Demo()
	mc := s.Mapping()
	ctx := context.Background()

	if err := s.Sandbox().Wix().RemoveApp(d.InstanceID); err != nil {
		t.Fatalf("remove app: %v", err)
	}
	waitUntil(t, "tenant removed", func() bool {
		r, err := mc.GetTenant(ctx, &gsv1.GetTenantRequest{TenantId: d.InstanceID})
		return err == nil && r.GetTenant().GetState() == gsv1.TenantState_TENANT_STATE_REMOVED
	})
	link, err := mc.GetLink(ctx, &gsv1.GetLinkRequest{TenantId: d.InstanceID, LinkId: d.LinkID})
	if err != nil || link.GetLink().GetState() != gsv1.LinkState_LINK_STATE_PAUSED {
		t.Fatalf("link after removal: %v, %v; want paused", link.GetLink(), err)
	}
	conn, err := mc.GetConnection(ctx, &gsv1.GetConnectionRequest{TenantId: d.InstanceID, ConnectionId: d.ConnectionID})
	if err != nil || len(conn.GetConnection().GetCredentials()) != 0 {
		t.Fatalf("connection after removal still has credentials (err %v)", err)
	}

	// A webhook of the removed tenant is answered (Wix must stop retrying)
	// but nothing reaches the platform.
	key := readKey(t, filepath.Join(s.cfg.DataDir, "wix-app-key.pem"))
	title := fmt.Sprintf("After removal %d", time.Now().UnixNano())
	before := s.Sandbox().Mastodon().Stats()
	resp, err := http.Post(d.IngressURL+"/webhooks/wix", "text/plain", strings.NewReader(signedItemCreated(t, key, d, title)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook of a removed tenant: status %d, want 200", resp.StatusCode)
	}
	time.Sleep(time.Second) // nothing may happen; give it the chance to
	if got := s.Sandbox().Mastodon().Stats().StatusesCreated - before.StatusesCreated; got != 0 {
		t.Fatalf("%d statuses created for a removed tenant", got)
	}

	if err := s.Sandbox().Wix().InstallApp(d.InstanceID, ""); err != nil {
		t.Fatalf("reinstall: %v", err)
	}
	waitUntil(t, "tenant active again", func() bool {
		r, err := mc.GetTenant(ctx, &gsv1.GetTenantRequest{TenantId: d.InstanceID})
		return err == nil && r.GetTenant().GetState() == gsv1.TenantState_TENANT_STATE_ACTIVE
	})
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
