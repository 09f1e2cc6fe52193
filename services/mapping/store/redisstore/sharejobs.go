package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// A share job is a hash: what the scripts compute with as plain fields
// (revision, state, total, counts and times, the times in Unix nanoseconds,
// finished empty unless DONE) and the rest of the job encoded in "data".
// Reads put the two together. The scripts so change counts and state with
// HSET instead of editing encoded protobuf. The outcome of each counted item
// ("done" or "failed") is a field of the job's item hash, and the tenant's
// job ids form a set that ListShareJobs reads.
var jobFields = []string{"data", "rev", "state", "total", "done", "failed", "created", "updated", "finished"}

// Item outcomes in a job's item hash.
const (
	outcomeDone   = "done"
	outcomeFailed = "failed"
)

// jobScriptArgs are the arguments every share job script starts with (see
// shareJobLua).
func jobScriptArgs(now time.Time, more ...any) []any {
	return append([]any{
		int32(gsv1.ShareState_SHARE_STATE_RUNNING), int32(gsv1.ShareState_SHARE_STATE_PAUSED),
		int32(gsv1.ShareState_SHARE_STATE_DONE), strconv.FormatInt(now.UnixNano(), 10),
	}, more...)
}

// decodeJob builds a job from its hash fields (in jobFields order), or
// returns ErrNotFound when the hash does not exist.
func decodeJob(vals []any) (*gsv1.ShareJob, error) {
	if len(vals) != len(jobFields) {
		return nil, fmt.Errorf("share job record of %d fields, want %d", len(vals), len(jobFields))
	}
	s := make([]string, len(vals))
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			if i == 0 {
				return nil, store.ErrNotFound
			}
			return nil, fmt.Errorf("share job record: field %s missing", jobFields[i])
		}
		s[i] = str
	}
	j := &gsv1.ShareJob{}
	if err := proto.Unmarshal([]byte(s[0]), j); err != nil {
		return nil, err
	}
	var nums [5]int64
	for i := range nums {
		n, err := strconv.ParseInt(s[i+1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("share job field %s: %w", jobFields[i+1], err)
		}
		nums[i] = n
	}
	j.Revision, j.State = nums[0], gsv1.ShareState(nums[1])
	j.Total, j.Done, j.Failed = int32(nums[2]), int32(nums[3]), int32(nums[4])
	var times [3]*timestamppb.Timestamp
	for i := range times {
		if s[i+6] == "" {
			continue
		}
		ns, err := strconv.ParseInt(s[i+6], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("share job field %s: %w", jobFields[i+6], err)
		}
		times[i] = timestamppb.New(time.Unix(0, ns))
	}
	j.CreatedAt, j.UpdatedAt, j.FinishedAt = times[0], times[1], times[2]
	return j, nil
}

// scriptJob reads a share job script's reply: {"ok", record...} or a
// refusal, returned as its words.
func scriptJob(reply []any) (*gsv1.ShareJob, []string, error) {
	if len(reply) == 0 {
		return nil, nil, errors.New("empty script reply")
	}
	if reply[0] == "ok" {
		j, err := decodeJob(reply[1:])
		return j, nil, err
	}
	words := make([]string, len(reply))
	for i, v := range reply {
		words[i], _ = v.(string)
	}
	return nil, words, nil
}

// PutShareJob implements store.ShareJobStore with putShareJobScript.
func (s *Store) PutShareJob(ctx context.Context, job *gsv1.ShareJob, expectedRevision int64) (*gsv1.ShareJob, error) {
	if err := store.CheckShareJob(job, expectedRevision); err != nil {
		return nil, err
	}
	rest := proto.Clone(job).(*gsv1.ShareJob)
	rest.Revision, rest.State, rest.Total, rest.Done, rest.Failed = 0, 0, 0, 0, 0
	rest.CreatedAt, rest.UpdatedAt, rest.FinishedAt = nil, nil, nil
	data, err := proto.Marshal(rest)
	if err != nil {
		return nil, fmt.Errorf("put share job %s: %w", job.JobId, err)
	}
	k := keysOf(job.TenantId)
	reply, err := s.scripts.putShareJob.Run(ctx, s.rdb, []string{k.shareJob(job.JobId), k.shareJobs()},
		jobScriptArgs(time.Now(), expectedRevision, data, int32(job.State), job.Total, job.JobId)...).Slice()
	var (
		stored  *gsv1.ShareJob
		refusal []string
	)
	if err == nil {
		stored, refusal, err = scriptJob(reply)
	}
	if err == nil && refusal != nil {
		err = fmt.Errorf("revision is %s, expected %d: %w", refusal[len(refusal)-1], expectedRevision, store.ErrConflict)
	}
	if err != nil {
		return nil, fmt.Errorf("put share job %s: %w", job.JobId, err)
	}
	return stored, nil
}

// GetShareJob implements store.ShareJobStore.
func (s *Store) GetShareJob(ctx context.Context, tenantID, jobID string) (*gsv1.ShareJob, error) {
	if err := first(store.CheckID("tenant_id", tenantID), store.CheckID("job_id", jobID)); err != nil {
		return nil, err
	}
	vals, err := s.rdb.HMGet(ctx, keysOf(tenantID).shareJob(jobID), jobFields...).Result()
	var j *gsv1.ShareJob
	if err == nil {
		j, err = decodeJob(vals)
	}
	if err != nil {
		return nil, fmt.Errorf("get share job %s: %w", jobID, err)
	}
	return j, nil
}

// ListShareJobs implements store.ShareJobStore: the tenant's job ids, then
// every job in one pipeline. A tenant has few jobs, one per share.
func (s *Store) ListShareJobs(ctx context.Context, tenantID, linkID string) ([]*gsv1.ShareJob, error) {
	if err := first(store.CheckID("tenant_id", tenantID), store.CheckOptionalID("link_id", linkID)); err != nil {
		return nil, err
	}
	k := keysOf(tenantID)
	ids, err := s.rdb.SMembers(ctx, k.shareJobs()).Result()
	if err != nil {
		return nil, fmt.Errorf("list share jobs: %w", err)
	}
	cmds := make([]*redis.SliceCmd, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HMGet(ctx, k.shareJob(id), jobFields...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list share jobs: %w", err)
	}
	jobs := make([]*gsv1.ShareJob, 0, len(ids))
	for i, cmd := range cmds {
		j, err := decodeJob(cmd.Val())
		if errors.Is(err, store.ErrNotFound) {
			continue // jobs are never deleted, but a missing one is no reason to fail the list
		}
		if err != nil {
			return nil, fmt.Errorf("list share jobs: job %s: %w", ids[i], err)
		}
		if linkID == "" || j.LinkId == linkID {
			jobs = append(jobs, j)
		}
	}
	slices.SortFunc(jobs, store.NewestFirst)
	return jobs, nil
}

// CountShareItem implements store.ShareJobStore with countShareItemScript.
func (s *Store) CountShareItem(ctx context.Context, tenantID, jobID, itemID string, failed bool) (*gsv1.ShareJob, error) {
	if err := first(store.CheckID("tenant_id", tenantID), store.CheckID("job_id", jobID),
		store.CheckID("item_id", itemID)); err != nil {
		return nil, err
	}
	outcome := outcomeDone
	if failed {
		outcome = outcomeFailed
	}
	k := keysOf(tenantID)
	reply, err := s.scripts.countShareItem.Run(ctx, s.rdb, []string{k.shareJob(jobID), k.shareItems(jobID)},
		jobScriptArgs(time.Now(), itemID, outcome)...).Slice()
	var (
		job     *gsv1.ShareJob
		refusal []string
	)
	if err == nil {
		job, refusal, err = scriptJob(reply)
	}
	if err == nil && refusal != nil {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("count item %s of share job %s: %w", itemID, jobID, err)
	}
	return job, nil
}
