package server

import (
	"context"
	"errors"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// periodOf converts a request's period, refusing a missing or malformed one;
// store.CheckThrottle judges its value.
func periodOf(d *durationpb.Duration) (time.Duration, error) {
	if d == nil {
		return 0, invalid("period: missing")
	}
	if err := d.CheckValid(); err != nil {
		return 0, invalid("period: %v", err)
	}
	return d.AsDuration(), nil
}

// Throttle implements gsv1.MappingServiceServer.
func (s *Service) Throttle(ctx context.Context, req *gsv1.ThrottleRequest) (*gsv1.ThrottleResponse, error) {
	period, periodErr := periodOf(req.GetPeriod())
	rate := store.Rate{Limit: int(req.GetLimit()), Period: period, Burst: int(req.GetBurst())}
	var checkErr error
	if periodErr == nil {
		_, _, checkErr = store.CheckThrottle(req.GetBucket(), rate, int(req.GetCost()))
	}
	if err := errors.Join(store.CheckID("tenant_id", req.GetTenantId()), periodErr, checkErr); err != nil {
		return nil, s.toStatus(ctx, "throttle", err)
	}
	res, err := s.store.Throttle(ctx, req.GetTenantId(), req.GetBucket(), rate, int(req.GetCost()))
	if err != nil {
		return nil, s.toStatus(ctx, "throttle", err)
	}
	if res.Allowed {
		return &gsv1.ThrottleResponse{Allowed: true}, nil
	}
	return &gsv1.ThrottleResponse{RetryAfter: durationpb.New(res.RetryAfter)}, nil
}
