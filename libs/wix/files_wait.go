package wix

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// WaitReady polls a file until it is READY and returns its descriptor, with
// the media a gallery item needs (ImageInfoOf). Polls start at the first
// wait and double up to the largest (WithMediaPolling), with jitter. A
// receive on wake (a File Ready or File Failed event arrived; may be nil)
// polls at once. A FAILED file ends the wait with ErrFileFailed; one still
// pending after the bound, with ErrFileTimeout and the last descriptor read.
func (c *Client) WaitReady(ctx context.Context, instanceID, fileID string, wake <-chan struct{}) (FileDescriptor, error) {
	bound := time.NewTimer(c.poll.bound)
	defer bound.Stop()
	delay := c.poll.first
	for {
		fd, err := c.GetFile(ctx, instanceID, fileID)
		if err != nil {
			return FileDescriptor{}, fmt.Errorf("wait for file %s: %w", fileID, err)
		}
		switch fd.OperationStatus {
		case StatusReady:
			return fd, nil
		case StatusFailed:
			return fd, fmt.Errorf("wait for file %s: %w", fileID, ErrFileFailed)
		}
		pause := time.NewTimer(jitter(delay))
		select {
		case <-ctx.Done():
			pause.Stop()
			return fd, fmt.Errorf("wait for file %s: %w", fileID, context.Cause(ctx))
		case <-bound.C:
			pause.Stop()
			return fd, fmt.Errorf("wait for file %s (still %s after %s): %w", fileID, fd.OperationStatus, c.poll.bound, ErrFileTimeout)
		case _, ok := <-wake:
			pause.Stop()
			if !ok {
				// A closed channel would wake every time: poll on the timer alone.
				wake = nil
			}
		case <-pause.C:
			delay = min(2*delay, c.poll.max)
		}
	}
}

// jitter spreads a wait over its upper half, so files imported together are
// not polled in lockstep.
func jitter(d time.Duration) time.Duration {
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}
