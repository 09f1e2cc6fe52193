package store

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

func TestSettleShareJob(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	earlier := timestamppb.New(now.Add(-time.Hour))
	const (
		planning  = gsv1.ShareState_SHARE_STATE_PLANNING
		running   = gsv1.ShareState_SHARE_STATE_RUNNING
		paused    = gsv1.ShareState_SHARE_STATE_PAUSED
		cancelled = gsv1.ShareState_SHARE_STATE_CANCELLED
		done      = gsv1.ShareState_SHARE_STATE_DONE
	)
	cases := []struct {
		name         string
		job, prev    *gsv1.ShareJob
		wantState    gsv1.ShareState
		wantFinished *timestamppb.Timestamp
	}{
		{"running, items left", &gsv1.ShareJob{State: running, Total: 3, Done: 2}, nil, running, nil},
		{"running, all counted", &gsv1.ShareJob{State: running, Total: 3, Done: 2, Failed: 1}, nil, done, timestamppb.New(now)},
		{"paused, all counted", &gsv1.ShareJob{State: paused, Total: 1, Failed: 1}, nil, done, timestamppb.New(now)},
		{"running, more counted than planned", &gsv1.ShareJob{State: running, Total: 1, Done: 2}, nil, done, timestamppb.New(now)},
		{"running, nothing to do", &gsv1.ShareJob{State: running}, nil, done, timestamppb.New(now)},
		{"planning, all counted", &gsv1.ShareJob{State: planning, Total: 1, Done: 1}, nil, planning, nil},
		{"cancelled, all counted", &gsv1.ShareJob{State: cancelled, Total: 1, Done: 1}, nil, cancelled, nil},
		{"stays done", &gsv1.ShareJob{State: done, Total: 1, Done: 1},
			&gsv1.ShareJob{State: done, FinishedAt: earlier}, done, earlier},
		{"done again after a put", &gsv1.ShareJob{State: running, Total: 1, Done: 1},
			&gsv1.ShareJob{State: done, FinishedAt: earlier}, done, earlier},
		{"finished_at sent by a caller is not kept", &gsv1.ShareJob{State: cancelled, FinishedAt: earlier},
			&gsv1.ShareJob{State: done, FinishedAt: earlier}, cancelled, nil},
		{"largest counts do not overflow", &gsv1.ShareJob{State: running, Total: 1<<31 - 1, Done: 1<<31 - 1, Failed: 1},
			nil, done, timestamppb.New(now)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			SettleShareJob(c.job, c.prev, now)
			if c.job.State != c.wantState || !c.job.FinishedAt.AsTime().Equal(c.wantFinished.AsTime()) ||
				(c.job.FinishedAt == nil) != (c.wantFinished == nil) {
				t.Fatalf("settled to %v, finished_at %v; want %v, %v", c.job.State, c.job.FinishedAt, c.wantState, c.wantFinished)
			}
		})
	}
}

func TestLogLimit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		requested, want int
		valid           bool
	}{
		{0, DefaultLogLimit, true},
		{1, 1, true},
		{MaxLogEntries, MaxLogEntries, true},
		{MaxLogEntries + 1, MaxLogEntries, true},
		{-1, 0, false},
	}
	for _, c := range cases {
		got, err := LogLimit(c.requested)
		if got != c.want || (err == nil) != c.valid {
			t.Fatalf("LogLimit(%d) = %d, %v; want %d, valid %v", c.requested, got, err, c.want, c.valid)
		}
	}
}
