package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// Item outcomes in bucketShareItems.
var (
	outcomeDone   = []byte("d")
	outcomeFailed = []byte("f")
)

func shareJobKey(tenantID, jobID string) []byte { return key([]string{tenantID}, jobID) }

// storedJob returns the stored job, or nil when there is none.
func storedJob(tx *bolt.Tx, k []byte) (*gsv1.ShareJob, error) {
	j := &gsv1.ShareJob{}
	err := getIn(tx, bucketShareJobs, k, j)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return j, nil
}

// PutShareJob implements store.ShareJobStore in one transaction.
func (s *Store) PutShareJob(ctx context.Context, job *gsv1.ShareJob, expectedRevision int64) (*gsv1.ShareJob, error) {
	if err := check(ctx, store.CheckShareJob(job, expectedRevision)); err != nil {
		return nil, err
	}
	var next *gsv1.ShareJob
	err := s.db.Update(func(tx *bolt.Tx) error {
		k := shareJobKey(job.TenantId, job.JobId)
		cur, err := storedJob(tx, k)
		if err != nil {
			return err
		}
		if cur.GetRevision() != expectedRevision {
			return fmt.Errorf("revision is %d, expected %d: %w", cur.GetRevision(), expectedRevision, store.ErrConflict)
		}
		now := time.Now()
		next = proto.Clone(job).(*gsv1.ShareJob)
		next.Revision = expectedRevision + 1
		next.CreatedAt = cur.GetCreatedAt()
		if next.CreatedAt == nil {
			next.CreatedAt = timestamppb.New(now)
		}
		next.UpdatedAt = timestamppb.New(now)
		next.Done, next.Failed = cur.GetDone(), cur.GetFailed()
		store.SettleShareJob(next, cur, now)
		return putIn(tx, bucketShareJobs, k, next)
	})
	if err != nil {
		return nil, fmt.Errorf("put share job %s: %w", job.JobId, err)
	}
	return next, nil
}

// GetShareJob implements store.ShareJobStore.
func (s *Store) GetShareJob(ctx context.Context, tenantID, jobID string) (*gsv1.ShareJob, error) {
	if err := check(ctx, store.CheckID("tenant_id", tenantID), store.CheckID("job_id", jobID)); err != nil {
		return nil, err
	}
	j := &gsv1.ShareJob{}
	if err := s.get(bucketShareJobs, shareJobKey(tenantID, jobID), j); err != nil {
		return nil, fmt.Errorf("get share job %s: %w", jobID, err)
	}
	return j, nil
}

// ListShareJobs implements store.ShareJobStore.
func (s *Store) ListShareJobs(ctx context.Context, tenantID, linkID string) ([]*gsv1.ShareJob, error) {
	if err := check(ctx, store.CheckID("tenant_id", tenantID), store.CheckOptionalID("link_id", linkID)); err != nil {
		return nil, err
	}
	var jobs []*gsv1.ShareJob
	err := s.db.View(func(tx *bolt.Tx) error {
		return forTenant(tx, bucketShareJobs, tenantID, func(k, v []byte) error {
			j := &gsv1.ShareJob{}
			if err := proto.Unmarshal(v, j); err != nil {
				return fmt.Errorf("job %q: %w", k, err)
			}
			if linkID == "" || j.LinkId == linkID {
				jobs = append(jobs, j)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list share jobs: %w", err)
	}
	slices.SortFunc(jobs, store.NewestFirst)
	return jobs, nil
}

// CountShareItem implements store.ShareJobStore in one transaction over the
// job and its item's outcome.
func (s *Store) CountShareItem(ctx context.Context, tenantID, jobID, itemID string, failed bool) (*gsv1.ShareJob, error) {
	if err := check(ctx, store.CheckID("tenant_id", tenantID), store.CheckID("job_id", jobID),
		store.CheckID("item_id", itemID)); err != nil {
		return nil, err
	}
	var job *gsv1.ShareJob
	err := s.db.Update(func(tx *bolt.Tx) error {
		k := shareJobKey(tenantID, jobID)
		cur := &gsv1.ShareJob{}
		if err := getIn(tx, bucketShareJobs, k, cur); err != nil {
			return err
		}
		job = cur
		items := bucket(tx, bucketShareItems)
		ik := key([]string{tenantID, jobID}, itemID)
		prev := items.Get(ik)
		next := proto.Clone(cur).(*gsv1.ShareJob)
		switch {
		case prev == nil && failed:
			next.Failed++
		case prev == nil:
			next.Done++
		case !failed && bytes.Equal(prev, outcomeFailed):
			next.Failed--
			next.Done++
		default:
			return nil // counted already, and a success stands
		}
		outcome := outcomeDone
		if failed {
			outcome = outcomeFailed
		}
		if err := items.Put(ik, outcome); err != nil {
			return err
		}
		now := time.Now()
		next.Revision++
		next.UpdatedAt = timestamppb.New(now)
		store.SettleShareJob(next, cur, now)
		job = next
		return putIn(tx, bucketShareJobs, k, next)
	})
	if err != nil {
		return nil, fmt.Errorf("count item %s of share job %s: %w", itemID, jobID, err)
	}
	return job, nil
}
