package server

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

func TestShareJobs(t *testing.T) {
	t.Parallel()
	onEachStore(t, func(t *testing.T, c gsv1.MappingServiceClient, _ store.Store) {
		ctx := t.Context()
		job := &gsv1.ShareJob{TenantId: "t1", JobId: "j1", LinkId: "l1", State: gsv1.ShareState_SHARE_STATE_RUNNING, Total: 2}
		created, err := c.PutShareJob(ctx, &gsv1.PutShareJobRequest{Job: job})
		if err != nil {
			t.Fatal(err)
		}
		if created.Job.Revision != 1 || created.Job.CreatedAt == nil || created.Job.UpdatedAt == nil {
			t.Fatalf("created job %v; want revision 1 with created_at and updated_at", created.Job)
		}
		count := func(item string, failed bool) *gsv1.ShareJob {
			t.Helper()
			resp, err := c.CountShareItem(ctx, &gsv1.CountShareItemRequest{TenantId: "t1", JobId: "j1", ItemId: item, Failed: failed})
			if err != nil {
				t.Fatal(err)
			}
			return resp.Job
		}
		afterFailure := count("w1", true)
		if again := count("w1", true); !proto.Equal(again, afterFailure) {
			t.Fatalf("a repeated count changed the job from %v to %v", afterFailure, again)
		}
		if moved := count("w1", false); moved.Done != 1 || moved.Failed != 0 || moved.Revision != 3 {
			t.Fatalf("success after a failure: done %d, failed %d, revision %d; want 1, 0, 3", moved.Done, moved.Failed, moved.Revision)
		}
		last := count("w2", false)
		if last.State != gsv1.ShareState_SHARE_STATE_DONE || last.FinishedAt == nil || last.Done != 2 {
			t.Fatalf("job after its last item: %v; want DONE with finished_at and done 2", last)
		}
		got, err := c.GetShareJob(ctx, &gsv1.GetShareJobRequest{TenantId: "t1", JobId: "j1"})
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got.Job, last) {
			t.Fatalf("GetShareJob = %v, want %v", got.Job, last)
		}
		other, err := c.PutShareJob(ctx, &gsv1.PutShareJobRequest{Job: &gsv1.ShareJob{
			TenantId: "t1", JobId: "j2", LinkId: "l2", State: gsv1.ShareState_SHARE_STATE_PLANNING,
		}})
		if err != nil {
			t.Fatal(err)
		}
		lists := []struct {
			name string
			link string
			want []*gsv1.ShareJob
		}{
			{"all, newest first", "", []*gsv1.ShareJob{other.Job, last}},
			{"one link", "l1", []*gsv1.ShareJob{last}},
			{"link without jobs", "l9", nil},
		}
		for _, l := range lists {
			t.Run(l.name, func(t *testing.T) {
				resp, err := c.ListShareJobs(ctx, &gsv1.ListShareJobsRequest{TenantId: "t1", LinkId: l.link})
				if err != nil {
					t.Fatal(err)
				}
				if len(resp.Jobs) != len(l.want) {
					t.Fatalf("ListShareJobs(%q) lists %d jobs, want %d", l.link, len(resp.Jobs), len(l.want))
				}
				for i := range l.want {
					if !proto.Equal(resp.Jobs[i], l.want[i]) {
						t.Fatalf("job %d: %v, want %v", i, resp.Jobs[i], l.want[i])
					}
				}
			})
		}

		codeCases := []struct {
			name string
			call func() error
			want codes.Code
		}{
			{"create an existing job", func() error { _, err := c.PutShareJob(ctx, &gsv1.PutShareJobRequest{Job: job}); return err }, codes.Aborted},
			{"put with a revision from before the counts", func() error {
				_, err := c.PutShareJob(ctx, &gsv1.PutShareJobRequest{Job: job, ExpectedRevision: created.Job.Revision})
				return err
			}, codes.Aborted},
			{"get an absent job", func() error {
				_, err := c.GetShareJob(ctx, &gsv1.GetShareJobRequest{TenantId: "t1", JobId: "j9"})
				return err
			}, codes.NotFound},
			{"count an item of an absent job", func() error {
				_, err := c.CountShareItem(ctx, &gsv1.CountShareItemRequest{TenantId: "t1", JobId: "j9", ItemId: "w1"})
				return err
			}, codes.NotFound},
			{"get a job of another tenant", func() error {
				_, err := c.GetShareJob(ctx, &gsv1.GetShareJobRequest{TenantId: "t2", JobId: "j1"})
				return err
			}, codes.NotFound},
			{"count an item of another tenant's job", func() error {
				_, err := c.CountShareItem(ctx, &gsv1.CountShareItemRequest{TenantId: "t2", JobId: "j1", ItemId: "w3"})
				return err
			}, codes.NotFound},
			{"put with the current revision", func() error {
				_, err := c.PutShareJob(ctx, &gsv1.PutShareJobRequest{Job: job, ExpectedRevision: last.Revision})
				return err
			}, codes.OK},
		}
		for _, cc := range codeCases {
			t.Run(cc.name, func(t *testing.T) {
				wantCode(t, cc.name, cc.call(), cc.want)
			})
		}
		resp, err := c.ListShareJobs(ctx, &gsv1.ListShareJobsRequest{TenantId: "t2"})
		if err != nil || len(resp.Jobs) != 0 {
			t.Fatalf("another tenant lists %v, %v; want no jobs", resp, err)
		}
	})
}

// TestShareCountsOverRPC counts a 1,000-item share from 16 concurrent
// clients, every item once to three times, some failing first: the counts
// come out exact and the job turns DONE with the call of its last item.
func TestShareCountsOverRPC(t *testing.T) {
	t.Parallel()
	onEachStore(t, func(t *testing.T, c gsv1.MappingServiceClient, _ store.Store) {
		ctx := t.Context()
		const total, workers = 1000, 16
		if _, err := c.PutShareJob(ctx, &gsv1.PutShareJobRequest{Job: &gsv1.ShareJob{
			TenantId: "t1", JobId: "j1", LinkId: "l1", State: gsv1.ShareState_SHARE_STATE_RUNNING, Total: total,
		}}); err != nil {
			t.Fatal(err)
		}
		var calls []*gsv1.CountShareItemRequest
		wantFailed := int32(0)
		for i := range total {
			req := func(failed bool) *gsv1.CountShareItemRequest {
				return &gsv1.CountShareItemRequest{TenantId: "t1", JobId: "j1", ItemId: fmt.Sprintf("w%d", i), Failed: failed}
			}
			switch i % 4 {
			case 0:
				calls = append(calls, req(false))
			case 1:
				calls = append(calls, req(false), req(false), req(false))
			case 2:
				calls = append(calls, req(true), req(false))
			default:
				calls = append(calls, req(true), req(true))
				wantFailed++
			}
		}
		rand.Shuffle(len(calls), func(i, j int) { calls[i], calls[j] = calls[j], calls[i] })

		var (
			mu       sync.Mutex
			doneSeen []*gsv1.ShareJob // replies that show the job DONE
			bad      []string
		)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := w; i < len(calls); i += workers {
					resp, err := c.CountShareItem(ctx, calls[i])
					mu.Lock()
					switch {
					case err != nil:
						bad = append(bad, err.Error())
					case resp.Job.Done+resp.Job.Failed == total && resp.Job.State == gsv1.ShareState_SHARE_STATE_DONE:
						doneSeen = append(doneSeen, resp.Job)
					case resp.Job.Done+resp.Job.Failed < total && resp.Job.State == gsv1.ShareState_SHARE_STATE_RUNNING:
					default:
						bad = append(bad, fmt.Sprintf("job %v with done %d, failed %d of %d", resp.Job.State, resp.Job.Done, resp.Job.Failed, total))
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(bad) > 0 {
			t.Fatalf("%d bad replies, the first: %s", len(bad), bad[0])
		}
		final, err := c.GetShareJob(ctx, &gsv1.GetShareJobRequest{TenantId: "t1", JobId: "j1"})
		if err != nil {
			t.Fatal(err)
		}
		if final.Job.Done != total-wantFailed || final.Job.Failed != wantFailed || final.Job.State != gsv1.ShareState_SHARE_STATE_DONE {
			t.Fatalf("final job %v with done %d, failed %d; want DONE with %d, %d",
				final.Job.State, final.Job.Done, final.Job.Failed, total-wantFailed, wantFailed)
		}
		if len(doneSeen) == 0 {
			t.Fatal("no count saw the job DONE")
		}
		// The job became DONE once: every reply after that shows the same finished_at.
		first := doneSeen[0]
		for _, j := range doneSeen {
			if j.Revision < first.Revision {
				first = j
			}
		}
		for _, j := range doneSeen {
			if !proto.Equal(j.FinishedAt, first.FinishedAt) {
				t.Fatalf("finished_at %v at revision %d, %v at revision %d; want one time", j.FinishedAt.AsTime(), j.Revision,
					first.FinishedAt.AsTime(), first.Revision)
			}
		}
	})
}
