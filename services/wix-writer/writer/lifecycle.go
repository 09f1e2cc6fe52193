package writer

import (
	"context"
	"fmt"
	"log/slog"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// applyLifecycle carries an app install or removal to the tenant record.
// Both are idempotent, so a repeated event changes nothing.
func (w *Writer) applyLifecycle(ctx context.Context, ev *gsv1.ChangeEvent) error {
	tenant := ev.GetTenantId()
	switch ev.GetKind() {
	case gsv1.ChangeKind_CHANGE_KIND_APP_INSTALLED:
		if err := w.activateTenant(ctx, tenant); err != nil {
			return err
		}
		w.counters.add(ctx, w.counters.lifecycle, "", kindKey.String("installed"))
		w.log.InfoContext(ctx, "tenant active", slog.String("tenant", tenant))
	case gsv1.ChangeKind_CHANGE_KIND_APP_REMOVED:
		_, err := w.mapping.RemoveTenant(ctx, &gsv1.RemoveTenantRequest{TenantId: tenant})
		if err != nil && status.Code(err) != codes.NotFound {
			return fmt.Errorf("remove tenant: %w", err)
		}
		// The instance's cached access token is of no use any more; a
		// reinstall mints a new one.
		w.wix.Forget(tenant)
		w.counters.add(ctx, w.counters.lifecycle, "", kindKey.String("removed"))
		w.log.InfoContext(ctx, "tenant removed", slog.String("tenant", tenant))
	}
	return nil
}

// activateTenant makes the tenant ACTIVE, creating it on a first install.
// After a removal its links stay paused: the site owner resumes them.
func (w *Writer) activateTenant(ctx context.Context, tenant string) error {
	resp, err := w.mapping.GetTenant(ctx, &gsv1.GetTenantRequest{TenantId: tenant})
	next := &gsv1.Tenant{TenantId: tenant}
	switch {
	case status.Code(err) == codes.NotFound:
	case err != nil:
		return fmt.Errorf("get tenant: %w", err)
	case resp.GetTenant().GetState() == gsv1.TenantState_TENANT_STATE_ACTIVE:
		return nil
	default:
		next = proto.Clone(resp.GetTenant()).(*gsv1.Tenant)
	}
	next.State = gsv1.TenantState_TENANT_STATE_ACTIVE
	if _, err := w.mapping.PutTenant(ctx, &gsv1.PutTenantRequest{Tenant: next}); err != nil {
		return fmt.Errorf("put tenant: %w", err)
	}
	return nil
}
