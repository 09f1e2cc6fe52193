package fake

import (
	"context"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// GetItem implements the service (by Wix item id).
func (m *Mapping) GetItem(_ context.Context, r *gsv1.GetItemRequest) (*gsv1.GetItemResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[[3]string{r.GetTenantId(), r.GetLinkId(), r.GetWixItemId()}]
	if !ok {
		return nil, notFound("item")
	}
	return &gsv1.GetItemResponse{Item: clone(it)}, nil
}

// PutItem implements the service with compare-and-set.
func (m *Mapping) PutItem(_ context.Context, r *gsv1.PutItemRequest) (*gsv1.PutItemResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := clone(r.GetItem())
	k := [3]string{it.GetTenantId(), it.GetLinkId(), it.GetWixItemId()}
	if _, ok := m.links[[2]string{k[0], k[1]}]; !ok {
		return nil, notFound("link")
	}
	if m.items[k].GetRevision() != r.GetExpectedRevision() {
		return nil, status.Error(codes.Aborted, "revision mismatch")
	}
	it.Revision = r.GetExpectedRevision() + 1
	it.UpdatedAt = now()
	m.items[k] = it
	return &gsv1.PutItemResponse{Item: clone(it)}, nil
}

// ListItems implements the service in one page.
func (m *Mapping) ListItems(_ context.Context, r *gsv1.ListItemsRequest) (*gsv1.ListItemsResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*gsv1.ItemMapping
	for k, it := range m.items {
		if k[0] == r.GetTenantId() && k[1] == r.GetLinkId() {
			out = append(out, clone(it))
		}
	}
	slices.SortFunc(out, func(a, b *gsv1.ItemMapping) int { return strings.Compare(a.WixItemId, b.WixItemId) })
	return &gsv1.ListItemsResponse{Items: out}, nil
}

// Items returns a link's item mappings, for assertions.
func (m *Mapping) Items(tenant, link string) []*gsv1.ItemMapping {
	resp, _ := m.ListItems(context.Background(), &gsv1.ListItemsRequest{TenantId: tenant, LinkId: link})
	return resp.GetItems()
}
