package share

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Action is what the site owner asks of a running share.
type Action string

// The actions on a share job.
const (
	// Pause stops uploading until Resume; the items keep their place.
	Pause Action = "pause"
	// Resume goes on with a paused job.
	Resume Action = "resume"
	// Cancel stops the job for good; items already uploaded stay.
	Cancel Action = "cancel"
)

// ErrTransition means the job is in a state the action does not apply to.
var ErrTransition = errors.New("share job cannot do that now")

// ErrUnknownAction is an action that is none of Pause, Resume and Cancel.
var ErrUnknownAction = errors.New("unknown share action")

// Transition applies an action to a job with compare-and-set: pause a
// running job, resume a paused one, cancel one that is not finished. A job
// already in the state asked for is returned as it is. A job that is still
// planning cannot be paused: its total is not known yet.
func Transition(ctx context.Context, mc gsv1.MappingServiceClient, tenant, jobID string, a Action) (*gsv1.ShareJob, error) {
	var from []gsv1.ShareState
	var to gsv1.ShareState
	switch a {
	case Pause:
		from, to = []gsv1.ShareState{gsv1.ShareState_SHARE_STATE_RUNNING}, gsv1.ShareState_SHARE_STATE_PAUSED
	case Resume:
		from, to = []gsv1.ShareState{gsv1.ShareState_SHARE_STATE_PAUSED}, gsv1.ShareState_SHARE_STATE_RUNNING
	case Cancel:
		from = []gsv1.ShareState{gsv1.ShareState_SHARE_STATE_PLANNING, gsv1.ShareState_SHARE_STATE_RUNNING, gsv1.ShareState_SHARE_STATE_PAUSED}
		to = gsv1.ShareState_SHARE_STATE_CANCELLED
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownAction, a)
	}
	job, err := updateJob(ctx, mc, tenant, jobID, func(j *gsv1.ShareJob) error {
		if j.GetState() == to {
			return errUnchanged
		}
		for _, s := range from {
			if j.GetState() == s {
				j.State = to
				if a == Cancel {
					j.Error = "cancelled by the site owner"
				}
				return nil
			}
		}
		return fmt.Errorf("%w: %s a %s job", ErrTransition, a, StateName(j.GetState()))
	})
	if errors.Is(err, errUnchanged) {
		return job, nil
	}
	return job, err
}

// StateName is a job state as the site owner reads it.
func StateName(s gsv1.ShareState) string {
	switch s {
	case gsv1.ShareState_SHARE_STATE_PLANNING:
		return "preparing"
	case gsv1.ShareState_SHARE_STATE_RUNNING:
		return "running"
	case gsv1.ShareState_SHARE_STATE_PAUSED:
		return "paused"
	case gsv1.ShareState_SHARE_STATE_CANCELLED:
		return "cancelled"
	case gsv1.ShareState_SHARE_STATE_DONE:
		return "done"
	default:
		return "unknown"
	}
}

// Active reports whether a job is not finished yet.
func Active(s gsv1.ShareState) bool {
	return s == gsv1.ShareState_SHARE_STATE_PLANNING || s == gsv1.ShareState_SHARE_STATE_RUNNING ||
		s == gsv1.ShareState_SHARE_STATE_PAUSED
}

// errUnchanged ends updateJob without a write.
var errUnchanged = errors.New("unchanged")

// updateJob reads the job, lets change edit a copy (an error ends it
// without a write) and writes it back with compare-and-set, retrying after
// conflicts. It returns the job as stored.
func updateJob(ctx context.Context, mc gsv1.MappingServiceClient, tenant, jobID string, change func(*gsv1.ShareJob) error) (*gsv1.ShareJob, error) {
	for range maxCASAttempts {
		got, err := mc.GetShareJob(ctx, &gsv1.GetShareJobRequest{TenantId: tenant, JobId: jobID})
		if err != nil {
			return nil, fmt.Errorf("get share job %s: %w", jobID, err)
		}
		j := proto.Clone(got.GetJob()).(*gsv1.ShareJob)
		if err := change(j); err != nil {
			return got.GetJob(), err
		}
		put, err := mc.PutShareJob(ctx, &gsv1.PutShareJobRequest{Job: j, ExpectedRevision: got.GetJob().GetRevision()})
		if status.Code(err) == codes.Aborted {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("put share job %s: %w", jobID, err)
		}
		return put.GetJob(), nil
	}
	return nil, fmt.Errorf("put share job %s: %d conflicting writes in a row", jobID, maxCASAttempts)
}

// newID is prefix plus 16 random bytes in hex.
func newID(prefix string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("new id: %w", err)
	}
	return prefix + hex.EncodeToString(b[:]), nil
}
