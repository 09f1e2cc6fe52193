package mappingfake

import (
	"context"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// byExternal finds the mapping of a link that holds an external id; the
// caller holds f.mu.
func (f *Fake) byExternal(tenant, link, externalID string) (*gsv1.ItemMapping, bool) {
	for k, it := range f.items {
		if k.tenant == tenant && k.a == link && it.GetExternalId() == externalID {
			return it, true
		}
	}
	return nil, false
}

// GetItem implements gsv1.MappingServiceServer, by Wix item id or external id.
func (f *Fake) GetItem(_ context.Context, r *gsv1.GetItemRequest) (*gsv1.GetItemResponse, error) {
	tenant, link := r.GetTenantId(), r.GetLinkId()
	if err := required("tenant_id", tenant, "link_id", link); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var (
		it *gsv1.ItemMapping
		ok bool
	)
	switch {
	case r.GetWixItemId() != "":
		it, ok = f.items[triple{tenant, link, r.GetWixItemId()}]
	case r.GetExternalId() != "":
		it, ok = f.byExternal(tenant, link, r.GetExternalId())
	default:
		return nil, invalid("key: set wix_item_id or external_id")
	}
	if !ok {
		return nil, notFound("item")
	}
	return &gsv1.GetItemResponse{Item: clone(it)}, nil
}

// PutItem implements gsv1.MappingServiceServer: compare-and-set on the
// revision, and an external id belongs to one mapping of a link at most.
// The hook set by FailPutItem runs first.
func (f *Fake) PutItem(_ context.Context, r *gsv1.PutItemRequest) (*gsv1.PutItemResponse, error) {
	it := clone(r.GetItem())
	if err := required("tenant_id", it.GetTenantId(), "link_id", it.GetLinkId(), "wix_item_id", it.GetWixItemId()); err != nil {
		return nil, err
	}
	if r.GetExpectedRevision() < 0 {
		return nil, invalid("expected_revision: negative")
	}
	f.mu.Lock()
	hook := f.failPut
	f.mu.Unlock()
	if hook != nil {
		if err := hook(clone(it)); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := triple{it.GetTenantId(), it.GetLinkId(), it.GetWixItemId()}
	rev := f.items[k].GetRevision()
	if rev != r.GetExpectedRevision() {
		return nil, status.Errorf(codes.Aborted, "revision is %d, expected %d", rev, r.GetExpectedRevision())
	}
	if ext := it.GetExternalId(); ext != "" {
		if other, ok := f.byExternal(k.tenant, k.a, ext); ok && other.GetWixItemId() != k.b {
			return nil, status.Errorf(codes.Aborted, "external id %s belongs to item %s", ext, other.GetWixItemId())
		}
	}
	it.Revision = rev + 1
	it.UpdatedAt = timestamppb.New(f.now())
	f.items[k] = it
	return &gsv1.PutItemResponse{Item: clone(it)}, nil
}

// DeleteItem implements gsv1.MappingServiceServer; the external-id index
// is the mappings themselves, so it goes with the mapping.
func (f *Fake) DeleteItem(_ context.Context, r *gsv1.DeleteItemRequest) (*gsv1.DeleteItemResponse, error) {
	if err := required("tenant_id", r.GetTenantId(), "link_id", r.GetLinkId(), "wix_item_id", r.GetWixItemId()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.items, triple{r.GetTenantId(), r.GetLinkId(), r.GetWixItemId()})
	return &gsv1.DeleteItemResponse{}, nil
}

// ListItems implements gsv1.MappingServiceServer: a link's mappings in Wix
// item id order, a page after the id in the token.
func (f *Fake) ListItems(_ context.Context, r *gsv1.ListItemsRequest) (*gsv1.ListItemsResponse, error) {
	tenant, link := r.GetTenantId(), r.GetLinkId()
	if err := required("tenant_id", tenant, "link_id", link); err != nil {
		return nil, err
	}
	size, after, err := paging(r.GetPageSize(), r.GetPageToken())
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for k := range f.items {
		if k.tenant == tenant && k.a == link && k.b > after {
			ids = append(ids, k.b)
		}
	}
	slices.Sort(ids)
	ids, next := page(ids, size)
	out := &gsv1.ListItemsResponse{NextPageToken: next}
	for _, id := range ids {
		out.Items = append(out.Items, clone(f.items[triple{tenant, link, id}]))
	}
	return out, nil
}
