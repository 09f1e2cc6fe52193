package server

import (
	"context"
	"errors"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// GetItem implements gsv1.MappingServiceServer.
func (s *Service) GetItem(ctx context.Context, req *gsv1.GetItemRequest) (*gsv1.GetItemResponse, error) {
	tenant, link := req.GetTenantId(), req.GetLinkId()
	if err := errors.Join(store.CheckID("tenant_id", tenant), store.CheckID("link_id", link)); err != nil {
		return nil, s.toStatus(ctx, "get item", err)
	}
	var (
		item *gsv1.ItemMapping
		err  error
	)
	switch key := req.GetKey().(type) {
	case *gsv1.GetItemRequest_WixItemId:
		if err = store.CheckID("wix_item_id", key.WixItemId); err == nil {
			item, err = s.store.GetItemByWix(ctx, tenant, link, key.WixItemId)
		}
	case *gsv1.GetItemRequest_ExternalId:
		if err = store.CheckID("external_id", key.ExternalId); err == nil {
			item, err = s.store.GetItemByExternal(ctx, tenant, link, key.ExternalId)
		}
	default:
		err = invalid("key: set wix_item_id or external_id")
	}
	if err != nil {
		return nil, s.toStatus(ctx, "get item", err)
	}
	return &gsv1.GetItemResponse{Item: item}, nil
}

// PutItem implements gsv1.MappingServiceServer.
func (s *Service) PutItem(ctx context.Context, req *gsv1.PutItemRequest) (*gsv1.PutItemResponse, error) {
	if err := store.CheckItem(req.GetItem(), req.GetExpectedRevision()); err != nil {
		return nil, s.toStatus(ctx, "put item", err)
	}
	item, err := s.store.PutItem(ctx, req.GetItem(), req.GetExpectedRevision())
	if err != nil {
		return nil, s.toStatus(ctx, "put item", err)
	}
	return &gsv1.PutItemResponse{Item: item}, nil
}

// DeleteItem implements gsv1.MappingServiceServer.
func (s *Service) DeleteItem(ctx context.Context, req *gsv1.DeleteItemRequest) (*gsv1.DeleteItemResponse, error) {
	tenant, link, wix := req.GetTenantId(), req.GetLinkId(), req.GetWixItemId()
	if err := errors.Join(store.CheckID("tenant_id", tenant), store.CheckID("link_id", link), store.CheckID("wix_item_id", wix)); err != nil {
		return nil, s.toStatus(ctx, "delete item", err)
	}
	if err := s.store.DeleteItem(ctx, tenant, link, wix); err != nil {
		return nil, s.toStatus(ctx, "delete item", err)
	}
	return &gsv1.DeleteItemResponse{}, nil
}

// ListItems implements gsv1.MappingServiceServer.
func (s *Service) ListItems(ctx context.Context, req *gsv1.ListItemsRequest) (*gsv1.ListItemsResponse, error) {
	tenant, link := req.GetTenantId(), req.GetLinkId()
	_, sizeErr := store.PageSize(int(req.GetPageSize()))
	_, tokenErr := store.ParsePageToken(req.GetPageToken())
	if err := errors.Join(store.CheckID("tenant_id", tenant), store.CheckID("link_id", link), sizeErr, tokenErr); err != nil {
		return nil, s.toStatus(ctx, "list items", err)
	}
	items, next, err := s.store.ListItems(ctx, tenant, link, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, s.toStatus(ctx, "list items", err)
	}
	return &gsv1.ListItemsResponse{Items: items, NextPageToken: next}, nil
}
