package writer

import (
	"context"
	"strconv"
	"sync"

	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/throttle"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// opCosts says which of an adapter's documented limits each remote write
// draws on, and how many calls it makes there (a create uploads the media
// first). Limit names are the conventions of platforms.Limit; a name an
// adapter does not document costs nothing.
var opCosts = map[string]map[string]int{
	opCreate: {"all": 2, "media": 1, "write": 1},
	opUpdate: {"all": 1, "write": 1},
	opDelete: {"all": 1, "write": 1, "delete": 1},
}

// pacer keeps the writes to one platform account under the adapter's
// documented rate limits, counted in buckets the mapping service shares
// between all replicas, so the platform does not have to answer 429 (one may
// still come from other clients of the same account: it is honoured).
type pacer struct {
	mapping  gsv1.MappingServiceClient
	platform string
	limits   []platforms.Limit

	mu      sync.Mutex
	buckets map[string]*throttle.Shared
}

func newPacer(mapping gsv1.MappingServiceClient, platform string, limits []platforms.Limit) *pacer {
	return &pacer{mapping: mapping, platform: platform, limits: limits, buckets: map[string]*throttle.Shared{}}
}

// wait returns once op may go to the connection's account, or a
// *throttle.LimitedError when that is further away than a worker should
// wait (the event is then retried later and the worker serves others).
func (p *pacer) wait(ctx context.Context, tenant, connection, op string) error {
	if p == nil {
		return nil
	}
	for _, l := range p.limits {
		for range opCosts[op][l.Name] {
			if err := p.bucket(connection, l).Wait(ctx, tenant); err != nil {
				return err
			}
		}
	}
	return nil
}

// bucket is the shared limiter of one documented limit of one account.
func (p *pacer) bucket(connection string, l platforms.Limit) *throttle.Shared {
	key := p.platform + ":" + connection + ":" + l.Name + ":" + strconv.FormatInt(int64(l.Period), 10)
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.buckets[key]
	if !ok {
		b = throttle.NewShared(p.mapping, key, l.Requests, l.Period)
		p.buckets[key] = b
	}
	return b
}
