package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// shareCount is one CountShareItem call.
type shareCount struct {
	item   string
	failed bool
}

// countPlan is the calls of a share of total items, as redelivering
// consumers and replayed dead letters make them: every item at least once,
// many twice or three times, some failing before they succeed. Whatever the
// order, an item is done if any of its calls succeeds; wantFailed is how
// many never do.
func countPlan(total int) (calls []shareCount, wantFailed int) {
	for i := range total {
		item := fmt.Sprintf("w%04d", i)
		switch i % 10 {
		case 0: // failed, then replayed from the dead letters
			calls = append(calls, shareCount{item, true}, shareCount{item, false})
		case 1: // failed for good, reported twice
			calls = append(calls, shareCount{item, true}, shareCount{item, true})
			wantFailed++
		case 2: // succeeded, then a late failure report of an earlier attempt
			calls = append(calls, shareCount{item, false}, shareCount{item, true})
		case 3, 4:
			calls = append(calls, shareCount{item, false}, shareCount{item, false}, shareCount{item, false})
		default:
			calls = append(calls, shareCount{item, false})
		}
	}
	return calls, wantFailed
}

// testShareCountsConcurrent counts the items of a 1,000-item share from 16
// goroutines and checks that every count was atomic: the totals are exact,
// each change of the job was seen by exactly the call that made it, and the
// job became DONE with the call that counted its last item.
func testShareCountsConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	const total, workers = 1000, 16
	calls, wantFailed := countPlan(total)
	calls = shuffled(calls)
	created, err := s.PutShareJob(ctx, newShareJob(tenant, "j1", "l1", running, total), 0)
	must(t, "create job", err)

	replies := make([][]*gsv1.ShareJob, workers)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(calls); i += workers {
				job, err := s.CountShareItem(ctx, tenant, "j1", calls[i].item, calls[i].failed)
				if err != nil {
					errs <- fmt.Errorf("count %s (failed %v): %w", calls[i].item, calls[i].failed, err)
					return
				}
				replies[w] = append(replies[w], job)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	final, err := s.GetShareJob(ctx, tenant, "j1")
	must(t, "get share job", err)
	if final.Done != total-int32(wantFailed) || final.Failed != int32(wantFailed) || final.State != finished ||
		final.FinishedAt == nil {
		t.Fatalf("after every count the job is %v with done %d, failed %d, finished_at %v; want DONE with done %d, failed %d",
			final.State, final.Done, final.Failed, final.FinishedAt, total-wantFailed, wantFailed)
	}

	// Every revision from the creation to the last is the job after one
	// change; the calls that changed nothing saw one of them.
	byRevision := map[int64]*gsv1.ShareJob{created.Revision: created}
	for _, job := range slices.Concat(replies...) {
		if seen, ok := byRevision[job.Revision]; ok && !proto.Equal(seen, job) {
			t.Fatalf("two different jobs at revision %d:\n %v\n %v", job.Revision, seen, job)
		}
		byRevision[job.Revision] = job
	}
	if len(byRevision) != int(final.Revision-created.Revision)+1 {
		t.Fatalf("%d revisions seen from %d to %d: a change was lost or seen by no call", len(byRevision), created.Revision, final.Revision)
	}
	prev := created
	for rev := created.Revision + 1; rev <= final.Revision; rev++ {
		job, ok := byRevision[rev]
		if !ok {
			t.Fatalf("no call saw revision %d", rev)
		}
		step := [2]int32{job.Done - prev.Done, job.Failed - prev.Failed}
		if step != [2]int32{1, 0} && step != [2]int32{0, 1} && step != [2]int32{1, -1} {
			t.Fatalf("revision %d changed done by %d and failed by %d; one count makes one change", rev, step[0], step[1])
		}
		counted := job.Done + job.Failed
		switch {
		case counted < total && job.State != running:
			t.Fatalf("revision %d: %d of %d items counted and the job is %v, want RUNNING", rev, counted, total, job.State)
		case counted == total && job.State != finished:
			t.Fatalf("revision %d: every item counted and the job is %v, want DONE", rev, job.State)
		case job.State == finished && !proto.Equal(job.FinishedAt, final.FinishedAt):
			t.Fatalf("revision %d: finished_at %v, want %v from the moment the job became DONE",
				rev, job.FinishedAt.AsTime(), final.FinishedAt.AsTime())
		}
		prev = job
	}
}
