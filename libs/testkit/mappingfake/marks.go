package mappingfake

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// ttlOf refuses a missing or non-positive TTL.
func ttlOf(d *durationpb.Duration) (time.Duration, error) {
	if d == nil || d.CheckValid() != nil || d.AsDuration() <= 0 {
		return 0, invalid("ttl: must be positive")
	}
	return d.AsDuration(), nil
}

func checkSide(s gsv1.Side) error {
	if s != gsv1.Side_SIDE_WIX && s != gsv1.Side_SIDE_PLATFORM {
		return invalid("side: not SIDE_WIX or SIDE_PLATFORM")
	}
	return nil
}

// echoKey is one marker per written content, as in the real service: several
// writes to one object may be in flight, and each one's echo is recognised.
func echoKey(tenant string, side gsv1.Side, object, hash string) quad {
	return quad{tenant, side.String(), object, hash}
}

// MarkEcho implements gsv1.MappingServiceServer. Each content hash of an
// object keeps its own marker until its TTL; the hook of WithMarkEchoHook
// sees every mark.
func (f *Fake) MarkEcho(_ context.Context, r *gsv1.MarkEchoRequest) (*gsv1.MarkEchoResponse, error) {
	ttl, err := ttlOf(r.GetTtl())
	if err != nil {
		return nil, err
	}
	if err := required("tenant_id", r.GetTenantId(), "object_id", r.GetObjectId(), "content_hash", r.GetContentHash()); err != nil {
		return nil, err
	}
	if err := checkSide(r.GetSide()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.echoes[echoKey(r.GetTenantId(), r.GetSide(), r.GetObjectId(), r.GetContentHash())] = f.now().Add(ttl)
	f.marks = append(f.marks, clone(r))
	f.mu.Unlock()
	if f.onMarkEcho != nil {
		f.onMarkEcho(clone(r))
	}
	return &gsv1.MarkEchoResponse{}, nil
}

// CheckEcho implements gsv1.MappingServiceServer.
func (f *Fake) CheckEcho(_ context.Context, r *gsv1.CheckEchoRequest) (*gsv1.CheckEchoResponse, error) {
	if err := required("tenant_id", r.GetTenantId(), "object_id", r.GetObjectId(), "content_hash", r.GetContentHash()); err != nil {
		return nil, err
	}
	if err := checkSide(r.GetSide()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	expires, ok := f.echoes[echoKey(r.GetTenantId(), r.GetSide(), r.GetObjectId(), r.GetContentHash())]
	return &gsv1.CheckEchoResponse{Echo: ok && f.now().Before(expires)}, nil
}

// MarkDedup implements gsv1.MappingServiceServer.
func (f *Fake) MarkDedup(_ context.Context, r *gsv1.MarkDedupRequest) (*gsv1.MarkDedupResponse, error) {
	ttl, err := ttlOf(r.GetTtl())
	if err != nil {
		return nil, err
	}
	if err := required("tenant_id", r.GetTenantId(), "key", r.GetKey()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k, now := pair{r.GetTenantId(), r.GetKey()}, f.now()
	if exp, ok := f.dedup[k]; ok && now.Before(exp) {
		return &gsv1.MarkDedupResponse{First: false}, nil
	}
	f.dedup[k] = now.Add(ttl)
	return &gsv1.MarkDedupResponse{First: true}, nil
}

// CheckDedup implements gsv1.MappingServiceServer.
func (f *Fake) CheckDedup(_ context.Context, r *gsv1.CheckDedupRequest) (*gsv1.CheckDedupResponse, error) {
	if err := required("tenant_id", r.GetTenantId(), "key", r.GetKey()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	exp, ok := f.dedup[pair{r.GetTenantId(), r.GetKey()}]
	return &gsv1.CheckDedupResponse{Seen: ok && f.now().Before(exp)}, nil
}

// AcquireLock implements gsv1.MappingServiceServer: a lease is free when it
// expired, and its owner may take it again to extend it.
func (f *Fake) AcquireLock(_ context.Context, r *gsv1.AcquireLockRequest) (*gsv1.AcquireLockResponse, error) {
	ttl, err := ttlOf(r.GetTtl())
	if err != nil {
		return nil, err
	}
	if err := required("tenant_id", r.GetTenantId(), "key", r.GetKey(), "owner", r.GetOwner()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k, now := pair{r.GetTenantId(), r.GetKey()}, f.now()
	if cur, ok := f.locks[k]; ok && cur.value != r.GetOwner() && cur.live(now) {
		return &gsv1.AcquireLockResponse{Acquired: false}, nil
	}
	f.locks[k] = expiring[string]{r.GetOwner(), now.Add(ttl)}
	return &gsv1.AcquireLockResponse{Acquired: true}, nil
}

// ReleaseLock implements gsv1.MappingServiceServer. While KeepLeases is on
// it gives nothing back, as a replica that died would not.
func (f *Fake) ReleaseLock(_ context.Context, r *gsv1.ReleaseLockRequest) (*gsv1.ReleaseLockResponse, error) {
	if err := required("tenant_id", r.GetTenantId(), "key", r.GetKey(), "owner", r.GetOwner()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := pair{r.GetTenantId(), r.GetKey()}
	if cur, ok := f.locks[k]; ok && cur.value == r.GetOwner() && cur.live(f.now()) && !f.keepLeases {
		delete(f.locks, k)
		return &gsv1.ReleaseLockResponse{Released: true}, nil
	}
	return &gsv1.ReleaseLockResponse{Released: false}, nil
}
