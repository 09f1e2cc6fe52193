package mappingfake

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Sync log limits, as the service has them.
const (
	logCap          = 1000
	defaultLogLimit = 50
)

// AppendLog implements gsv1.MappingServiceServer: the entry goes first in
// the link's log, which keeps the newest logCap entries.
func (f *Fake) AppendLog(_ context.Context, r *gsv1.AppendLogRequest) (*gsv1.AppendLogResponse, error) {
	if err := required("tenant_id", r.GetTenantId(), "link_id", r.GetLinkId(), "action", r.GetEntry().GetAction()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := pair{r.GetTenantId(), r.GetLinkId()}
	if _, ok := f.links[k]; !ok {
		return nil, notFound("link")
	}
	e := clone(r.GetEntry())
	if e.At == nil {
		e.At = timestamppb.New(f.now())
	}
	entries := append([]*gsv1.LogEntry{e}, f.logs[k]...)
	f.logs[k] = entries[:min(len(entries), logCap)]
	return &gsv1.AppendLogResponse{}, nil
}

// ListLog implements gsv1.MappingServiceServer: newest first, optionally
// of one item.
func (f *Fake) ListLog(_ context.Context, r *gsv1.ListLogRequest) (*gsv1.ListLogResponse, error) {
	if err := required("tenant_id", r.GetTenantId(), "link_id", r.GetLinkId()); err != nil {
		return nil, err
	}
	limit := int(r.GetLimit())
	switch {
	case limit < 0:
		return nil, invalid("limit: negative")
	case limit == 0:
		limit = defaultLogLimit
	}
	limit = min(limit, logCap)
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*gsv1.LogEntry
	for _, e := range f.logs[pair{r.GetTenantId(), r.GetLinkId()}] {
		if len(out) == limit {
			break
		}
		if r.GetWixItemId() == "" || e.GetWixItemId() == r.GetWixItemId() {
			out = append(out, clone(e))
		}
	}
	return &gsv1.ListLogResponse{Entries: out}, nil
}
