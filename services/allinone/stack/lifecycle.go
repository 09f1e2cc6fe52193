package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// component is one long-running piece of the stack with its own context, so
// the stack can stop the pieces one by one in a chosen order.
type component struct {
	name   string
	cancel context.CancelFunc
	done   chan error
}

// group starts components and stops them in reverse start order: what was
// started last (the intake) stops first, what everything leans on stops last.
type group struct {
	logger  *slog.Logger
	started []*component
	exited  chan string
}

func newGroup(logger *slog.Logger) *group {
	return &group{logger: logger, exited: make(chan string, 16)}
}

// start runs fn in its own goroutine until stop cancels its context.
func (g *group) start(parent context.Context, name string, fn func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	c := &component{name: name, cancel: cancel, done: make(chan error, 1)}
	g.started = append(g.started, c)
	go func() {
		err := fn(ctx)
		c.done <- err
		g.exited <- name
	}()
}

// wait blocks until ctx is done or a component returns by itself (which is a
// failure: components only return when asked to).
func (g *group) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case name := <-g.exited:
		return fmt.Errorf("%s stopped unexpectedly", name)
	}
}

// stop stops every component, newest first, each within timeout.
func (g *group) stop(timeout time.Duration) error {
	var errs []error
	for i := len(g.started) - 1; i >= 0; i-- {
		c := g.started[i]
		c.cancel()
		select {
		case err := <-c.done:
			if err != nil && !errors.Is(err, context.Canceled) {
				errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
			}
			g.logger.Debug("stopped", "component", c.name)
		case <-time.After(timeout):
			errs = append(errs, fmt.Errorf("%s: did not stop within %s", c.name, timeout))
		}
	}
	g.started = nil
	return errors.Join(errs...)
}
