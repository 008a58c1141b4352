package mdk

import (
	"context"
	"sync"
	"time"
)

// Periodic runs a job at a fixed interval in the background, for modules'
// sweepers (expired reservations, idle carts). The zero value is ready.
type Periodic struct {
	mu   sync.Mutex
	stop context.CancelFunc
	done chan struct{}
}

// Start runs job every interval (the first run one interval from now) until
// Stop. The job's context is detached from ctx's cancellation, so only Stop
// ends it. Start on a running Periodic does nothing.
func (p *Periodic) Start(ctx context.Context, interval time.Duration, job func(ctx context.Context)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil {
		return
	}
	jctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.stop, p.done = cancel, make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-jctx.Done():
				return
			case <-t.C:
				job(jctx)
			}
		}
	}(p.done)
}

// Stop ends the job, waiting for a run in progress until ctx ends (then it
// returns ctx's error and the run finishes on its own).
func (p *Periodic) Stop(ctx context.Context) error {
	p.mu.Lock()
	stop, done := p.stop, p.done
	p.stop = nil
	p.mu.Unlock()
	if stop == nil {
		return nil
	}
	stop()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
