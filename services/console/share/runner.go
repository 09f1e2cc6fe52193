package share

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"gallerysync.dev/libs/throttle"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Runner defaults.
const (
	// DefaultScanEvery is how often every tenant's jobs are looked through
	// for PLANNING jobs that nobody plans (a console stopped mid-way).
	DefaultScanEvery = time.Minute
	// DefaultWorkers is how many jobs are planned at once.
	DefaultWorkers = 2
	// retryTick is how often jobs waiting for a retry are looked at.
	retryTick = 500 * time.Millisecond
	// firstRetry and maxRetry bound the backoff after a failed plan.
	firstRetry = time.Second
	maxRetry   = time.Minute
	// queueSize bounds jobs waiting for a worker; beyond it they wait for
	// the retry tick.
	queueSize = 256
	// scanPage is the page size of the tenant scan.
	scanPage = 500
)

// Planning plans one job; *Planner is the real one.
type Planning interface {
	Plan(ctx context.Context, job *gsv1.ShareJob) error
}

// jobKey names one job.
type jobKey struct{ tenant, job string }

// Runner plans share jobs in the background: those submitted by Start at
// once, and every PLANNING job it finds when it starts and every scan
// interval after, so a job whose planning was cut short is planned again.
type Runner struct {
	mapping   gsv1.MappingServiceClient
	planner   Planning
	log       *slog.Logger
	scanEvery time.Duration
	workers   int
	now       func() time.Time

	queue chan jobKey
	mu    sync.Mutex
	busy  map[jobKey]bool
	// later holds jobs to plan again, with when and how many tries failed.
	later map[jobKey]retry
}

type retry struct {
	at    time.Time
	tries int
}

// RunnerOption tunes a Runner.
type RunnerOption func(*Runner)

// WithScanEvery sets how often PLANNING jobs are looked for (default 1 min).
func WithScanEvery(d time.Duration) RunnerOption { return func(r *Runner) { r.scanEvery = d } }

// WithWorkers sets how many jobs are planned at once (default 2).
func WithWorkers(n int) RunnerOption { return func(r *Runner) { r.workers = max(1, n) } }

// NewRunner returns a Runner; Run starts it.
func NewRunner(mapping gsv1.MappingServiceClient, planner Planning, log *slog.Logger, opts ...RunnerOption) *Runner {
	r := &Runner{
		mapping: mapping, planner: planner, log: log,
		scanEvery: DefaultScanEvery, workers: DefaultWorkers, now: time.Now,
		queue: make(chan jobKey, queueSize), busy: map[jobKey]bool{}, later: map[jobKey]retry{},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Submit asks for a job to be planned soon. It never blocks.
func (r *Runner) Submit(tenant, jobID string) {
	k := jobKey{tenant, jobID}
	select {
	case r.queue <- k:
	default:
		r.mu.Lock()
		if _, ok := r.later[k]; !ok {
			r.later[k] = retry{at: r.now()}
		}
		r.mu.Unlock()
	}
}

// Run plans jobs until ctx is done and returns once its workers stopped.
func (r *Runner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range r.workers {
		wg.Go(func() { r.work(ctx) })
	}
	r.scan(ctx)
	scan := time.NewTicker(r.scanEvery)
	tick := time.NewTicker(retryTick)
	defer func() {
		scan.Stop()
		tick.Stop()
		wg.Wait()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-scan.C:
			r.scan(ctx)
		case <-tick.C:
			r.due(ctx)
		}
	}
}

// due queues the jobs whose retry time came.
func (r *Runner) due(ctx context.Context) {
	now := r.now()
	r.mu.Lock()
	var ready []jobKey
	for k, rt := range r.later {
		if !now.Before(rt.at) {
			ready = append(ready, k)
		}
	}
	r.mu.Unlock()
	for _, k := range ready {
		select {
		case r.queue <- k:
		case <-ctx.Done():
			return
		default:
			return
		}
	}
}

// scan queues every PLANNING job of every tenant that has a link (a job
// always has one).
func (r *Runner) scan(ctx context.Context) {
	tenants := map[string]bool{}
	token := ""
	for {
		resp, err := r.mapping.ScanLinks(ctx, &gsv1.ScanLinksRequest{PageSize: scanPage, PageToken: token})
		if err != nil {
			if ctx.Err() == nil {
				r.log.WarnContext(ctx, "share scan: list links", slog.Any("error", err))
			}
			return
		}
		for _, l := range resp.GetLinks() {
			tenants[l.GetTenantId()] = true
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	for t := range tenants {
		jobs, err := r.mapping.ListShareJobs(ctx, &gsv1.ListShareJobsRequest{TenantId: t})
		if err != nil {
			r.log.WarnContext(ctx, "share scan: list jobs", slog.String("tenant", t), slog.Any("error", err))
			continue
		}
		for _, j := range jobs.GetJobs() {
			if j.GetState() == gsv1.ShareState_SHARE_STATE_PLANNING {
				r.Submit(t, j.GetJobId())
			}
		}
	}
}

// work plans queued jobs one at a time.
func (r *Runner) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case k := <-r.queue:
			r.plan(ctx, k)
		}
	}
}

// plan plans one job unless another worker is at it or it is not PLANNING;
// a failure schedules another try with backoff (or when the Wix limit says).
func (r *Runner) plan(ctx context.Context, k jobKey) {
	r.mu.Lock()
	if r.busy[k] {
		r.mu.Unlock()
		return
	}
	r.busy[k] = true
	tries := r.later[k].tries
	delete(r.later, k)
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.busy, k)
		r.mu.Unlock()
	}()

	got, err := r.mapping.GetShareJob(ctx, &gsv1.GetShareJobRequest{TenantId: k.tenant, JobId: k.job})
	if err == nil && got.GetJob().GetState() != gsv1.ShareState_SHARE_STATE_PLANNING {
		return
	}
	if err == nil {
		err = r.planner.Plan(ctx, got.GetJob())
	}
	if err == nil || ctx.Err() != nil {
		return
	}
	wait := min(firstRetry<<min(tries, 10), maxRetry)
	var limited *throttle.LimitedError
	if errors.As(err, &limited) {
		wait = limited.RetryAfter
	}
	r.log.WarnContext(ctx, "share planning failed, will retry", slog.String("tenant", k.tenant),
		slog.String("job", k.job), slog.Duration("in", wait), slog.Any("error", err))
	r.mu.Lock()
	r.later[k] = retry{at: r.now().Add(wait), tries: tries + 1}
	r.mu.Unlock()
}
