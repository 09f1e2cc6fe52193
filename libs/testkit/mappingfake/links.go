package mappingfake

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Page sizes of ListItems and ScanLinks, as the service has them.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// paging reads a request's page size (0: the default, capped at the
// maximum) and the key its page starts after.
func paging(requested int32, token string) (int, string, error) {
	if requested < 0 {
		return 0, "", invalid("page_size: negative")
	}
	size := defaultPageSize
	if requested > 0 {
		size = min(int(requested), maxPageSize)
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, "", invalid("page_token: not a token this service issued")
	}
	return size, string(raw), nil
}

// The page tokens are opaque to callers: the last key served, encoded.
func pageToken(last string) string { return base64.RawURLEncoding.EncodeToString([]byte(last)) }

// page cuts sorted keys after size and returns the token of the next
// page ("" when none is left).
func page(sorted []string, size int) ([]string, string) {
	if len(sorted) <= size {
		return sorted, ""
	}
	return sorted[:size], pageToken(sorted[size-1])
}

// PutLink implements gsv1.MappingServiceServer.
func (f *Fake) PutLink(_ context.Context, r *gsv1.PutLinkRequest) (*gsv1.PutLinkResponse, error) {
	l := clone(r.GetLink())
	if err := required("tenant_id", l.GetTenantId(), "link_id", l.GetLinkId()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := pair{l.GetTenantId(), l.GetLinkId()}
	l.CreatedAt = f.createdAt(l.GetCreatedAt(), f.links[k].GetCreatedAt())
	f.links[k] = l
	return &gsv1.PutLinkResponse{Link: clone(l)}, nil
}

// GetLink implements gsv1.MappingServiceServer.
func (f *Fake) GetLink(_ context.Context, r *gsv1.GetLinkRequest) (*gsv1.GetLinkResponse, error) {
	if err := required("tenant_id", r.GetTenantId(), "link_id", r.GetLinkId()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.links[pair{r.GetTenantId(), r.GetLinkId()}]
	if !ok {
		return nil, notFound("link")
	}
	return &gsv1.GetLinkResponse{Link: clone(l)}, nil
}

// DeleteLink implements gsv1.MappingServiceServer: the link goes with its
// item mappings and its sync log.
func (f *Fake) DeleteLink(_ context.Context, r *gsv1.DeleteLinkRequest) (*gsv1.DeleteLinkResponse, error) {
	if err := required("tenant_id", r.GetTenantId(), "link_id", r.GetLinkId()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := pair{r.GetTenantId(), r.GetLinkId()}
	if _, ok := f.links[k]; !ok {
		return nil, notFound("link")
	}
	delete(f.links, k)
	delete(f.logs, k)
	for ik := range f.items {
		if ik.tenant == k.tenant && ik.a == k.id {
			delete(f.items, ik)
		}
	}
	return &gsv1.DeleteLinkResponse{}, nil
}

// ListLinks implements gsv1.MappingServiceServer, in link id order.
func (f *Fake) ListLinks(_ context.Context, r *gsv1.ListLinksRequest) (*gsv1.ListLinksResponse, error) {
	if err := required("tenant_id", r.GetTenantId()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*gsv1.Link
	for k, l := range f.links {
		if k.tenant != r.GetTenantId() ||
			(r.GetGalleryId() != "" && l.GetGalleryId() != r.GetGalleryId()) ||
			(r.GetConnectionId() != "" && l.GetConnectionId() != r.GetConnectionId()) ||
			(r.GetAlbumId() != "" && l.GetAlbumId() != r.GetAlbumId()) {
			continue
		}
		out = append(out, clone(l))
	}
	slices.SortFunc(out, func(a, b *gsv1.Link) int { return strings.Compare(a.GetLinkId(), b.GetLinkId()) })
	return &gsv1.ListLinksResponse{Links: out}, nil
}

// scanSep joins tenant and link id in a scan position; ids hold no control
// characters, so it cannot occur inside one.
const scanSep = "\x00"

// ScanLinks implements gsv1.MappingServiceServer: every tenant's links in
// (tenant, link id) order, a page after the position in the token.
func (f *Fake) ScanLinks(_ context.Context, r *gsv1.ScanLinksRequest) (*gsv1.ScanLinksResponse, error) {
	size, after, err := paging(r.GetPageSize(), r.GetPageToken())
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []string
	for k := range f.links {
		if pos := k.tenant + scanSep + k.id; pos > after {
			keys = append(keys, pos)
		}
	}
	slices.Sort(keys)
	keys, next := page(keys, size)
	out := &gsv1.ScanLinksResponse{NextPageToken: next}
	for _, pos := range keys {
		tenant, id, _ := strings.Cut(pos, scanSep)
		out.Links = append(out.Links, clone(f.links[pair{tenant, id}]))
	}
	return out, nil
}
