package writer_test

import (
	"context"
	"testing"

	"google.golang.org/protobuf/types/known/timestamppb"

	"gallerysync.dev/libs/change"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

func TestRemovedTenantWritesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if _, err := h.client.RemoveTenant(context.Background(), &gsv1.RemoveTenantRequest{TenantId: tenant}); err != nil {
		t.Fatalf("remove tenant: %v", err)
	}
	if err := h.writer.Apply(context.Background(), itemEvent("e1", created, "post-1", "Sunset", 1)); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if n := h.counter("gallerysync.writer.refused_tenant"); n != 1 {
		t.Fatalf("refused_tenant = %d, want 1", n)
	}
	h.wantWrites(0, 0, 0, 0)
	if m := h.mapping.ItemByExternal(tenant, linkID, "post-1"); m != nil {
		t.Fatalf("mapping written for a removed tenant: %v", m)
	}
}

func TestLifecycleReachesMapping(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.run()
	lifecycle := func(id string, kind gsv1.ChangeKind, tenantID string) *gsv1.ChangeEvent {
		return &gsv1.ChangeEvent{
			EventId: change.EventID(gsv1.Origin_ORIGIN_WIX, "", id), TenantId: tenantID, Origin: gsv1.Origin_ORIGIN_WIX,
			SourceEventId: id, OccurredAt: timestamppb.Now(), Kind: kind,
		}
	}
	h.publish(lifecycle("app-removed-1", gsv1.ChangeKind_CHANGE_KIND_APP_REMOVED, tenant))
	h.waitFor("tenant removed", func() bool {
		return h.mapping.Tenant(tenant).GetState() == gsv1.TenantState_TENANT_STATE_REMOVED
	})
	h.publish(lifecycle("app-installed-1", gsv1.ChangeKind_CHANGE_KIND_APP_INSTALLED, tenant))
	h.waitFor("tenant active again", func() bool {
		return h.mapping.Tenant(tenant).GetState() == gsv1.TenantState_TENANT_STATE_ACTIVE
	})
	if tn := h.mapping.Tenant(tenant); tn.GetDisplayName() != "Demo site" {
		t.Fatalf("reinstall lost the tenant's record: %v", tn)
	}
	links, err := h.client.ListLinks(context.Background(), &gsv1.ListLinksRequest{TenantId: tenant})
	if err != nil || len(links.GetLinks()) != 1 || links.GetLinks()[0].GetState() != gsv1.LinkState_LINK_STATE_PAUSED {
		t.Fatalf("links after reinstall: %v, %v: want the link still paused", links, err)
	}

	h.publish(lifecycle("app-installed-2", gsv1.ChangeKind_CHANGE_KIND_APP_INSTALLED, "tenant-new"))
	h.waitFor("new tenant", func() bool {
		return h.mapping.Tenant("tenant-new").GetState() == gsv1.TenantState_TENANT_STATE_ACTIVE
	})
	if n := h.counter("gallerysync.writer.lifecycle", kindAttr("installed")); n != 2 {
		t.Fatalf("installs applied = %d, want 2", n)
	}
}
