package server

import (
	"context"
	"fmt"
	"sync"
	"time"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TenantState tells ingress which tenants it must refuse events of.
type TenantState interface {
	// Removed reports whether the app was removed from the tenant's site.
	Removed(ctx context.Context, tenant string) (bool, error)
}

// DefaultTenantCacheTTL is how long MappingTenants trusts an answer.
const DefaultTenantCacheTTL = 10 * time.Second

// maxCachedTenants bounds the cache. When it is full, expired answers are
// dropped; if none are, the new answer goes uncached rather than evicting.
const maxCachedTenants = 100_000

// MappingTenants answers TenantState from the mapping service, caching each
// answer (removed or not) for a TTL so a burst of webhooks for one site costs
// one lookup. A tenant the mapping service does not know is not removed: the
// app was installed before its install event reached us, or it never was
// recorded. It is safe for concurrent use.
type MappingTenants struct {
	client gsv1.MappingServiceClient
	ttl    time.Duration

	mu    sync.Mutex
	cache map[string]tenantAnswer
}

type tenantAnswer struct {
	removed bool
	expires time.Time
}

// NewMappingTenants returns a TenantState backed by client; a ttl of zero or
// less means DefaultTenantCacheTTL.
func NewMappingTenants(client gsv1.MappingServiceClient, ttl time.Duration) *MappingTenants {
	if ttl <= 0 {
		ttl = DefaultTenantCacheTTL
	}
	return &MappingTenants{client: client, ttl: ttl, cache: make(map[string]tenantAnswer)}
}

// Removed implements TenantState. Errors of the mapping service other than
// NOT_FOUND are returned and not cached, so the next webhook asks again.
func (m *MappingTenants) Removed(ctx context.Context, tenant string) (bool, error) {
	now := time.Now()
	m.mu.Lock()
	a, ok := m.cache[tenant]
	m.mu.Unlock()
	if ok && now.Before(a.expires) {
		return a.removed, nil
	}
	resp, err := m.client.GetTenant(ctx, &gsv1.GetTenantRequest{TenantId: tenant})
	removed := false
	switch {
	case status.Code(err) == codes.NotFound:
	case err != nil:
		return false, fmt.Errorf("get tenant %s: %w", tenant, err)
	default:
		removed = resp.GetTenant().GetState() == gsv1.TenantState_TENANT_STATE_REMOVED
	}
	m.remember(tenant, tenantAnswer{removed: removed, expires: now.Add(m.ttl)})
	return removed, nil
}

func (m *MappingTenants) remember(tenant string, a tenantAnswer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.cache[tenant]; !ok && len(m.cache) >= maxCachedTenants {
		now := time.Now()
		for k, v := range m.cache {
			if !now.Before(v.expires) {
				delete(m.cache, k)
			}
		}
		if len(m.cache) >= maxCachedTenants {
			return
		}
	}
	m.cache[tenant] = a
}
