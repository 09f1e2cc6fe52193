package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

const (
	planning  = gsv1.ShareState_SHARE_STATE_PLANNING
	running   = gsv1.ShareState_SHARE_STATE_RUNNING
	paused    = gsv1.ShareState_SHARE_STATE_PAUSED
	cancelled = gsv1.ShareState_SHARE_STATE_CANCELLED
	finished  = gsv1.ShareState_SHARE_STATE_DONE
)

func newShareJob(tenant, job, link string, state gsv1.ShareState, total int32) *gsv1.ShareJob {
	return &gsv1.ShareJob{TenantId: tenant, JobId: job, LinkId: link, State: state, Total: total}
}

// jobWant is what a job must look like after a write.
type jobWant struct {
	state        gsv1.ShareState
	done, failed int32
	revision     int64
}

func checkJob(t *testing.T, what string, got *gsv1.ShareJob, want jobWant) {
	t.Helper()
	if got.GetState() != want.state || got.GetDone() != want.done || got.GetFailed() != want.failed ||
		got.GetRevision() != want.revision {
		t.Fatalf("%s: job %s is %v with done %d, failed %d at revision %d; want %v, %d, %d at revision %d",
			what, got.GetJobId(), got.GetState(), got.GetDone(), got.GetFailed(), got.GetRevision(),
			want.state, want.done, want.failed, want.revision)
	}
	if (got.GetFinishedAt() != nil) != (want.state == finished) {
		t.Fatalf("%s: job in state %v has finished_at %v; want it set exactly when DONE", what, got.GetState(), got.GetFinishedAt())
	}
}

// aboutNow fails unless ts is set and within a minute of now.
func aboutNow(t *testing.T, what string, ts *timestamppb.Timestamp) {
	t.Helper()
	if ts == nil || time.Since(ts.AsTime()).Abs() > time.Minute {
		t.Fatalf("%s is %v, want about now", what, ts)
	}
}

func testShareJob(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	old := timestamppb.New(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	var last *gsv1.ShareJob // the job as last stored
	put := func(t *testing.T, job *gsv1.ShareJob, expected int64) *gsv1.ShareJob {
		t.Helper()
		before := proto.Clone(job)
		got, err := s.PutShareJob(ctx, job, expected)
		must(t, "put share job", err)
		mustEqual(t, "caller's job after PutShareJob", job, before)
		stored, err := s.GetShareJob(ctx, tenant, job.JobId)
		must(t, "get share job", err)
		mustEqual(t, "stored job", stored, got)
		last = got
		return got
	}
	count := func(t *testing.T, item string, failed bool) *gsv1.ShareJob {
		t.Helper()
		got, err := s.CountShareItem(ctx, tenant, "j1", item, failed)
		must(t, "count share item", err)
		stored, err := s.GetShareJob(ctx, tenant, "j1")
		must(t, "get share job", err)
		mustEqual(t, "stored job", stored, got)
		return got
	}

	t.Run("create", func(t *testing.T) {
		job := newShareJob(tenant, "j1", "l1", planning, 0)
		// Fields the store owns: whatever the caller sends is ignored.
		job.Revision, job.Done, job.Failed = 42, 7, 3
		job.CreatedAt, job.UpdatedAt, job.FinishedAt = old, old, old
		got := put(t, job, 0)
		checkJob(t, "created job", got, jobWant{state: planning, revision: 1})
		aboutNow(t, "created_at", got.CreatedAt)
		if !proto.Equal(got.UpdatedAt, got.CreatedAt) {
			t.Fatalf("a new job has updated_at %v, want its created_at %v", got.UpdatedAt.AsTime(), got.CreatedAt.AsTime())
		}
		if got.TenantId != tenant || got.LinkId != "l1" || got.Total != 0 {
			t.Fatalf("created job %v does not hold what was sent", got)
		}
	})
	conflicts := []struct {
		name     string
		expected int64
	}{
		{"create again", 0},
		{"revision from the future", 5},
	}
	for _, c := range conflicts {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.PutShareJob(ctx, newShareJob(tenant, "j1", "l1", cancelled, 9), c.expected)
			mustErr(t, "PutShareJob", err, store.ErrConflict)
			got, err := s.GetShareJob(ctx, tenant, "j1")
			must(t, "get share job", err)
			mustEqual(t, "job after a refused put", got, last)
		})
	}
	t.Run("replace", func(t *testing.T) {
		created := last.CreatedAt
		job := newShareJob(tenant, "j1", "l1", running, 3)
		job.Error = "not yet"
		job.CreatedAt = old
		got := put(t, job, 1)
		checkJob(t, "replaced job", got, jobWant{state: running, revision: 2})
		if !proto.Equal(got.CreatedAt, created) || got.UpdatedAt.AsTime().Before(created.AsTime()) || got.Error != "not yet" {
			t.Fatalf("replaced job: created_at %v, updated_at %v, error %q; want created_at kept at %v, updated_at after it, the new error",
				got.CreatedAt.AsTime(), got.UpdatedAt.AsTime(), got.Error, created.AsTime())
		}
	})

	steps := []struct {
		name   string
		item   string
		failed bool
		want   jobWant
	}{
		{"first success", "w1", false, jobWant{running, 1, 0, 3}},
		{"same success again", "w1", false, jobWant{running, 1, 0, 3}},
		{"failure after a success is ignored", "w1", true, jobWant{running, 1, 0, 3}},
		{"first failure", "w2", true, jobWant{running, 1, 1, 4}},
		{"same failure again", "w2", true, jobWant{running, 1, 1, 4}},
		{"success after a failure moves it", "w2", false, jobWant{running, 2, 0, 5}},
		{"moved item counted again", "w2", false, jobWant{running, 2, 0, 5}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := last
			got := count(t, st.item, st.failed)
			checkJob(t, st.name, got, st.want)
			if got.Revision == before.Revision {
				mustEqual(t, "job after a count that changes nothing", got, before)
			} else if got.UpdatedAt.AsTime().Before(before.UpdatedAt.AsTime()) {
				t.Fatalf("updated_at went back from %v to %v", before.UpdatedAt.AsTime(), got.UpdatedAt.AsTime())
			}
			last = got
		})
	}

	t.Run("put based on a read before a count", func(t *testing.T) {
		_, err := s.PutShareJob(ctx, newShareJob(tenant, "j1", "l1", paused, 3), 4)
		mustErr(t, "PutShareJob with the revision before the last count", err, store.ErrConflict)
	})
	t.Run("put keeps the counts", func(t *testing.T) {
		job := newShareJob(tenant, "j1", "l1", paused, 3)
		job.Done, job.Failed = 0, 99
		got := put(t, job, 5)
		checkJob(t, "paused job", got, jobWant{state: paused, done: 2, revision: 6})
	})
	var doneAt *timestamppb.Timestamp
	t.Run("last item finishes a paused job", func(t *testing.T) {
		got := count(t, "w3", true)
		checkJob(t, "job after its last item", got, jobWant{finished, 2, 1, 7})
		aboutNow(t, "finished_at", got.FinishedAt)
		doneAt = got.FinishedAt
		last = got
	})
	t.Run("replayed failure of a finished job", func(t *testing.T) {
		got := count(t, "w3", false)
		checkJob(t, "finished job after a replay", got, jobWant{finished, 3, 0, 8})
		if !proto.Equal(got.FinishedAt, doneAt) {
			t.Fatalf("finished_at moved from %v to %v", doneAt.AsTime(), got.FinishedAt.AsTime())
		}
		last = got
	})
	t.Run("a finished job stays finished", func(t *testing.T) {
		got := put(t, newShareJob(tenant, "j1", "l1", running, 3), 8)
		checkJob(t, "finished job put back to RUNNING", got, jobWant{finished, 3, 0, 9})
		if !proto.Equal(got.FinishedAt, doneAt) {
			t.Fatalf("finished_at moved from %v to %v", doneAt.AsTime(), got.FinishedAt.AsTime())
		}
	})
	t.Run("absent job", func(t *testing.T) {
		_, err := s.GetShareJob(ctx, tenant, "j9")
		mustErr(t, "GetShareJob", err, store.ErrNotFound)
		_, err = s.CountShareItem(ctx, tenant, "j9", "w1", false)
		mustErr(t, "CountShareItem", err, store.ErrNotFound)
		_, err = s.GetShareJob(ctx, tenant, "j9")
		mustErr(t, "GetShareJob after counting an item of it", err, store.ErrNotFound)
	})
}

// testShareJobSettles checks the rule both writes keep: a RUNNING or PAUSED
// job with every item counted is DONE, whichever write completes it.
func testShareJobSettles(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	cases := []struct {
		name    string
		state   gsv1.ShareState
		total   int32
		counted int // items counted while PLANNING, before the put
		want    gsv1.ShareState
	}{
		{"running without items", running, 0, 0, finished},
		{"paused without items", paused, 0, 0, finished},
		{"planning without items", planning, 0, 0, planning},
		{"cancelled without items", cancelled, 0, 0, cancelled},
		{"running with every item counted during planning", running, 3, 3, finished},
		{"running with more counted than planned", running, 2, 3, finished},
		{"running with an item left", running, 4, 3, running},
		{"cancelled with every item counted", cancelled, 3, 3, cancelled},
		{"done by the caller", finished, 5, 0, finished},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			job := fmt.Sprintf("j%d", i)
			_, err := s.PutShareJob(ctx, newShareJob(tenant, job, "l1", planning, 0), 0)
			must(t, "create job", err)
			for n := range c.counted {
				got, err := s.CountShareItem(ctx, tenant, job, fmt.Sprintf("w%d", n), n%2 == 1)
				must(t, "count share item", err)
				if got.State != planning {
					t.Fatalf("a PLANNING job became %v by counting", got.State)
				}
			}
			got, err := s.PutShareJob(ctx, newShareJob(tenant, job, "l1", c.state, c.total), int64(1+c.counted))
			must(t, "put share job", err)
			checkJob(t, "job after the put", got, jobWant{c.want, int32((c.counted + 1) / 2), int32(c.counted / 2), int64(2 + c.counted)})
		})
	}
	t.Run("cancelled job keeps counting", func(t *testing.T) {
		_, err := s.PutShareJob(ctx, newShareJob(tenant, "jc", "l1", cancelled, 1), 0)
		must(t, "create job", err)
		got, err := s.CountShareItem(ctx, tenant, "jc", "w1", false)
		must(t, "count share item", err)
		checkJob(t, "cancelled job with every item counted", got, jobWant{cancelled, 1, 0, 2})
	})
}

func testShareJobList(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	var stored []*gsv1.ShareJob
	for i, link := range []string{"l1", "l2", "l1", "l3", "l1"} {
		job, err := s.PutShareJob(ctx, newShareJob(tenant, fmt.Sprintf("j%d", 5-i), link, running, 10), 0)
		must(t, "put share job", err)
		if n := len(stored); n > 0 && job.CreatedAt.AsTime().Before(stored[n-1].CreatedAt.AsTime()) {
			t.Fatalf("job %s created at %v, before the job put earlier (%v)", job.JobId, job.CreatedAt.AsTime(), stored[n-1].CreatedAt.AsTime())
		}
		stored = append(stored, job)
	}
	// Counts and state changes show in the list.
	counted, err := s.CountShareItem(ctx, tenant, "j4", "w1", true)
	must(t, "count share item", err)
	stored[1] = counted
	_, err = s.PutShareJob(ctx, newShareJob(tenant+"0", "j9", "l1", running, 1), 0)
	must(t, "put a job of another tenant", err)
	j9, err := s.PutShareJob(ctx, newShareJob(tenant, "j9", "l1", running, 1), 0)
	must(t, "put share job", err)
	stored = append(stored, j9)
	// Ids fall as jobs get newer, so neither id order nor put order passes
	// for newest first.
	newest := slices.Clone(stored)
	slices.Reverse(newest)

	lists := []struct {
		name string
		link string
		want []*gsv1.ShareJob
	}{
		{"all", "", newest},
		{"one link", "l1", slices.DeleteFunc(slices.Clone(newest), func(j *gsv1.ShareJob) bool { return j.LinkId != "l1" })},
		{"link with one job", "l2", []*gsv1.ShareJob{stored[1]}},
		{"link without jobs", "l9", nil},
	}
	for _, c := range lists {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.ListShareJobs(ctx, tenant, c.link)
			must(t, "list share jobs", err)
			if !slices.IsSortedFunc(got, store.NewestFirst) {
				t.Fatalf("ListShareJobs(%q) is not newest first: %v", c.link, jobIDs(got))
			}
			want := slices.SortedStableFunc(slices.Values(c.want), store.NewestFirst)
			if len(got) != len(want) {
				t.Fatalf("ListShareJobs(%q) = %v, want %v", c.link, jobIDs(got), jobIDs(want))
			}
			for i := range want {
				mustEqual(t, fmt.Sprintf("job %d of ListShareJobs(%q)", i, c.link), got[i], want[i])
			}
		})
	}
	t.Run("unknown tenant", func(t *testing.T) {
		got, err := s.ListShareJobs(ctx, newTenant(t), "")
		must(t, "list share jobs", err)
		if len(got) != 0 {
			t.Fatalf("unknown tenant lists %v", jobIDs(got))
		}
	})
}

func jobIDs(jobs []*gsv1.ShareJob) []string {
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.JobId)
	}
	return ids
}

// testShareJobIsolation gives two tenants a job of the same id and counts
// the same items in both.
func testShareJobIsolation(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newTenant(t)
	b := a + "0" // an id that extends A's
	_, err := s.PutShareJob(ctx, newShareJob(a, "j1", "l1", running, 3), 0)
	must(t, "put A's job", err)
	aJob, err := s.CountShareItem(ctx, a, "j1", "w1", true)
	must(t, "count A's item", err)

	_, err = s.GetShareJob(ctx, b, "j1")
	mustErr(t, "B reads A's job", err, store.ErrNotFound)
	_, err = s.CountShareItem(ctx, b, "j1", "w2", false)
	mustErr(t, "B counts an item of A's job", err, store.ErrNotFound)
	listed, err := s.ListShareJobs(ctx, b, "")
	must(t, "B lists jobs", err)
	if len(listed) != 0 {
		t.Fatalf("tenant B lists %v", jobIDs(listed))
	}
	_, err = s.PutShareJob(ctx, newShareJob(b, "j1", "l1", running, 1), 1)
	mustErr(t, "B replaces A's job with A's revision", err, store.ErrConflict)

	_, err = s.PutShareJob(ctx, newShareJob(b, "j1", "l1", running, 1), 0)
	must(t, "put B's job", err)
	// w1 failed in A's job; in B's it is a first count, and it finishes the job.
	bJob, err := s.CountShareItem(ctx, b, "j1", "w1", false)
	must(t, "count B's item", err)
	checkJob(t, "B's job", bJob, jobWant{finished, 1, 0, 2})
	got, err := s.GetShareJob(ctx, a, "j1")
	must(t, "get A's job", err)
	mustEqual(t, "A's job after B's writes", got, aJob)
	checkJob(t, "A's job", got, jobWant{running, 0, 1, 2})
}
