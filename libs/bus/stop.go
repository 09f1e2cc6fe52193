package bus

import (
	"context"
	"sync"
	"time"
)

// StopWithin stops the consumers together, letting in-flight handlers
// finish and settle. Handlers still running after timeout get their context
// cancelled (cancel is the CancelFunc of the context given to Consume), and
// are then waited for too. It reports whether everything finished in time.
func StopWithin(timeout time.Duration, cancel context.CancelFunc, consumers ...*Consumer) bool {
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		var wg sync.WaitGroup
		for _, c := range consumers {
			wg.Go(c.Stop)
		}
		wg.Wait()
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-stopped:
		return true
	case <-timer.C:
		cancel()
		<-stopped
		return false
	}
}
