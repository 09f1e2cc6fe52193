package store

import (
	"cmp"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// MaxTextLen is the longest free text in bytes (a share job's error, a log
// entry's detail): enough for a message, not for a payload.
const MaxTextLen = 4096

// CheckShareJob validates a share job and the revision it expects. The
// fields the store owns (see ShareJobStore) are not looked at.
func CheckShareJob(j *gsv1.ShareJob, expectedRevision int64) error {
	if j == nil {
		return fmt.Errorf("%w job: missing", ErrInvalid)
	}
	if expectedRevision < 0 {
		return fmt.Errorf("%w expected_revision: %d is negative", ErrInvalid, expectedRevision)
	}
	if err := firstErr(
		CheckID("tenant_id", j.GetTenantId()),
		CheckID("job_id", j.GetJobId()),
		CheckID("link_id", j.GetLinkId()),
		checkShareState(j.GetState()),
		checkFreeText("error", j.GetError()),
	); err != nil {
		return err
	}
	if j.GetTotal() < 0 {
		return fmt.Errorf("%w total: %d is negative", ErrInvalid, j.GetTotal())
	}
	return nil
}

func checkShareState(s gsv1.ShareState) error {
	if s == gsv1.ShareState_SHARE_STATE_UNSPECIFIED || gsv1.ShareState_name[int32(s)] == "" {
		return fmt.Errorf("%w state: %v is not a share state", ErrInvalid, s)
	}
	return nil
}

func checkFreeText(field, v string) error {
	if len(v) > MaxTextLen {
		return fmt.Errorf("%w %s: %d bytes, at most %d allowed", ErrInvalid, field, len(v), MaxTextLen)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%w %s: not valid UTF-8", ErrInvalid, field)
	}
	return nil
}

// SettleShareJob applies the rule every write of a share job keeps to j,
// about to be stored at now over prev (nil for a new job): a RUNNING or
// PAUSED job whose done and failed items reach its total is DONE, because
// no count is left to finish it. finished_at is when the job became DONE:
// kept from prev when it was DONE already, now when it becomes DONE, and
// empty in every other state.
func SettleShareJob(j, prev *gsv1.ShareJob, now time.Time) {
	active := j.State == gsv1.ShareState_SHARE_STATE_RUNNING || j.State == gsv1.ShareState_SHARE_STATE_PAUSED
	if active && int64(j.Done)+int64(j.Failed) >= int64(j.Total) {
		j.State = gsv1.ShareState_SHARE_STATE_DONE
	}
	switch {
	case j.State != gsv1.ShareState_SHARE_STATE_DONE:
		j.FinishedAt = nil
	case prev.GetState() == gsv1.ShareState_SHARE_STATE_DONE && prev.GetFinishedAt() != nil:
		j.FinishedAt = prev.GetFinishedAt()
	default:
		j.FinishedAt = timestamppb.New(now)
	}
}

// NewestFirst is the order of ListShareJobs: later created_at first, and
// among jobs created at the same time, the greater job id first (the
// reverse of ordering by created_at, then job id).
func NewestFirst(a, b *gsv1.ShareJob) int {
	return cmp.Or(
		b.GetCreatedAt().AsTime().Compare(a.GetCreatedAt().AsTime()),
		strings.Compare(b.GetJobId(), a.GetJobId()),
	)
}
