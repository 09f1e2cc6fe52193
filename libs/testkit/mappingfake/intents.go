package mappingfake

import (
	"context"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// PutIntent implements gsv1.MappingServiceServer. A replaced live intent
// keeps its creation time unless the caller sends one.
func (f *Fake) PutIntent(_ context.Context, r *gsv1.PutIntentRequest) (*gsv1.PutIntentResponse, error) {
	ttl, err := ttlOf(r.GetTtl())
	if err != nil {
		return nil, err
	}
	in := clone(r.GetIntent())
	if err := required("tenant_id", in.GetTenantId(), "key", in.GetKey()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k, now := pair{in.GetTenantId(), in.GetKey()}, f.now()
	var stored *gsv1.Intent
	if old, ok := f.intents[k]; ok && old.live(now) {
		stored = old.value
	}
	in.CreatedAt = f.createdAt(in.GetCreatedAt(), stored.GetCreatedAt())
	f.intents[k] = expiring[*gsv1.Intent]{in, now.Add(ttl)}
	return &gsv1.PutIntentResponse{Intent: clone(in)}, nil
}

// GetIntent implements gsv1.MappingServiceServer; an expired intent is gone.
func (f *Fake) GetIntent(_ context.Context, r *gsv1.GetIntentRequest) (*gsv1.GetIntentResponse, error) {
	if err := required("tenant_id", r.GetTenantId(), "key", r.GetKey()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.intents[pair{r.GetTenantId(), r.GetKey()}]
	if !ok || !e.live(f.now()) {
		return nil, notFound("intent")
	}
	return &gsv1.GetIntentResponse{Intent: clone(e.value)}, nil
}

// DeleteIntent implements gsv1.MappingServiceServer.
func (f *Fake) DeleteIntent(_ context.Context, r *gsv1.DeleteIntentRequest) (*gsv1.DeleteIntentResponse, error) {
	if err := required("tenant_id", r.GetTenantId(), "key", r.GetKey()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.intents, pair{r.GetTenantId(), r.GetKey()})
	return &gsv1.DeleteIntentResponse{}, nil
}

// PutCursor implements gsv1.MappingServiceServer.
func (f *Fake) PutCursor(_ context.Context, r *gsv1.PutCursorRequest) (*gsv1.PutCursorResponse, error) {
	if err := required("tenant_id", r.GetTenantId(), "key", r.GetKey()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cursors[pair{r.GetTenantId(), r.GetKey()}] = r.GetValue()
	return &gsv1.PutCursorResponse{}, nil
}

// GetCursor implements gsv1.MappingServiceServer.
func (f *Fake) GetCursor(_ context.Context, r *gsv1.GetCursorRequest) (*gsv1.GetCursorResponse, error) {
	if err := required("tenant_id", r.GetTenantId(), "key", r.GetKey()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.cursors[pair{r.GetTenantId(), r.GetKey()}]
	if !ok {
		return nil, notFound("cursor")
	}
	return &gsv1.GetCursorResponse{Value: v}, nil
}
