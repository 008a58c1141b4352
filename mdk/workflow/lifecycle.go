package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
)

// handle marks a run as executing in this instance; done closes when its
// runner exits.
type handle struct {
	id   string
	done chan struct{}
	// The run's output once its runner journaled it completed; owned by the
	// runner goroutine until finish.
	completed bool
	output    json.RawMessage
}

// waiters are the local Waits on one run, woken together when a runner of
// that run exits here (also one that claimed the run after they began).
// When that runner completed the run, its output comes with the wake-up, so
// that a local Wait need not read it back from the journal.
type waiters struct {
	wake      chan struct{}
	n         int
	completed bool            // set before wake closes
	output    json.RawMessage // with completed
}

// Serve resumes runs that no live instance holds (their lease expired, or
// Shutdown released them) until ctx ends; once Shutdown begins it resumes
// nothing more but still returns only when ctx ends. ctx is the engine's
// lifetime: when it ends the engine stops hard, as if the process died —
// steps in flight are cancelled, nothing they return is journaled, their
// runs stay live for another instance — and Serve returns nil once the
// runners have exited. Its only error is a second concurrent call.
func (e *Engine) Serve(ctx context.Context) error {
	e.mu.Lock()
	if e.serving {
		e.mu.Unlock()
		return errors.New("serve workflow engine: already serving")
	}
	e.serving = true
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.serving = false
		e.mu.Unlock()
	}()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			e.abort()
			e.waitRuns(context.Background(), e.snapshot()) // prompt: every step and query honours the cancelled context
			return nil
		case <-t.C:
			if !e.isDraining() && e.ctx.Err() == nil {
				e.resumeRuns(ctx)
			}
			t.Reset(e.poll)
		}
	}
}

// Shutdown stops the engine gracefully: no new step or attempt starts, the
// attempts in flight finish and are journaled, and every run still live is
// released so that another instance (or this one restarted) resumes it at
// once. If ctx ends first, the remaining steps are cancelled as in Serve's
// hard stop and ctx's error is returned.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	if !e.draining {
		e.draining = true
		close(e.drain)
	}
	e.mu.Unlock()
	runs := e.snapshot()
	err := e.waitRuns(ctx, runs)
	e.abort()
	if err != nil {
		e.waitRuns(context.Background(), runs) // prompt: every step and query honours the cancelled context
		return fmt.Errorf("shut down workflow engine: %w", err)
	}
	return nil
}

func (e *Engine) isDraining() bool {
	select {
	case <-e.drain:
		return true
	default:
		return false
	}
}

// abort stops the engine hard: runs are cancelled, and no run starts here.
func (e *Engine) abort() {
	e.mu.Lock()
	e.stopped = true
	e.mu.Unlock()
	e.cancel()
}

// reserve marks run id as executing here, false if the engine is stopping
// or already executes it.
func (e *Engine) reserve(id string) (*handle, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.draining || e.stopped || e.active[id] != nil {
		return nil, false
	}
	h := &handle{id: id, done: make(chan struct{})}
	e.active[id] = h
	return h, true
}

// finish unmarks a run and wakes its local Waits.
func (e *Engine) finish(h *handle) {
	e.mu.Lock()
	delete(e.active, h.id)
	if w := e.waiters[h.id]; w != nil {
		w.completed, w.output = h.completed, h.output
		close(w.wake)
		delete(e.waiters, h.id)
	}
	e.mu.Unlock()
	close(h.done)
}

// subscribe returns the waiters woken when a runner of run id next exits
// here, whether such a runner is executing it now (so that it will exit
// here), and the function to call when no longer waiting.
func (e *Engine) subscribe(id string) (w *waiters, local bool, unsubscribe func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	w = e.waiters[id]
	if w == nil {
		w = &waiters{wake: make(chan struct{})}
		e.waiters[id] = w
	}
	w.n++
	return w, e.active[id] != nil, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if w.n--; w.n == 0 && e.waiters[id] == w {
			delete(e.waiters, id)
		}
	}
}

func (e *Engine) snapshot() []*handle {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*handle, 0, len(e.active))
	for _, h := range e.active {
		out = append(out, h)
	}
	return out
}

func (e *Engine) waitRuns(ctx context.Context, runs []*handle) error {
	for _, h := range runs {
		select {
		case <-h.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// resumeRuns claims and starts the runs no live instance holds.
func (e *Engine) resumeRuns(ctx context.Context) {
	refs, err := e.journal.claimable(ctx, 100)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("list workflow runs to resume", "err", err)
		}
		return
	}
	for _, ref := range refs {
		wf := e.workflow(ref.workflowID)
		if wf == nil {
			continue // another instance, running a version that has it, will
		}
		h, ok := e.reserve(ref.id)
		if !ok {
			continue
		}
		claimed, err := e.journal.claim(ctx, ref.id)
		if err != nil || !claimed {
			e.finish(h)
			if err != nil && ctx.Err() == nil {
				e.log.Warn("claim workflow run", "run", ref.id, "err", err)
			}
			continue
		}
		e.log.Info("resuming workflow run", "run", ref.id, "workflow", ref.workflowID, "owner", e.journal.owner)
		go e.execute(h, wf, nil)
	}
}

// execute is the runner goroutine of one run: it keeps the lease alive,
// drives the run, and on the way out releases a run it could not finish so
// that it resumes without waiting for the lease to expire.
func (e *Engine) execute(h *handle, wf *workflow, fresh *run) {
	defer e.finish(h)
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	log := e.log.With("run", h.id, "workflow", wf.spec.ID)

	var lost atomic.Bool
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		e.keepLease(ctx, h.id, log, stop, func() { lost.Store(true); cancel() })
	}()
	err := e.drive(ctx, h, wf, fresh, log)
	close(stop)
	<-stopped

	switch {
	case err == nil:
		return
	case lost.Load() || errors.Is(err, errLeaseLost):
		log.Warn("workflow run taken over by another instance; stopped here", "owner", e.journal.owner)
		return
	case e.ctx.Err() != nil:
		log.Debug("workflow run stopped with the engine; it resumes elsewhere or on restart")
		return
	case errors.Is(err, errStopped):
		log.Info("workflow run paused for shutdown; releasing it")
	default:
		log.Error("workflow run interrupted; releasing it to be resumed", "err", err)
	}
	if err := e.journal.release(ctx, h.id); err != nil {
		log.Warn("release workflow run; it resumes when its lease expires", "err", err)
	}
}

func (e *Engine) drive(ctx context.Context, h *handle, wf *workflow, r *run, log *slog.Logger) error {
	if r == nil {
		var err error
		if r, err = e.loadRun(ctx, h.id, wf); err != nil {
			return fmt.Errorf("load run %s: %w", h.id, err)
		}
	}
	r.ctx, r.log = ctx, log
	if err := r.drive(); err != nil {
		return err
	}
	h.completed, h.output = r.status == mdk.RunCompleted, r.output
	return nil
}

// keepLease renews the run's lease every heartbeat until stop closes,
// calling lost if another instance has taken the run.
func (e *Engine) keepLease(ctx context.Context, id string, log *slog.Logger, stop <-chan struct{}, lost func()) {
	t := time.NewTicker(e.heartbeat)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := e.journal.renew(ctx, id)
		switch {
		case errors.Is(err, errLeaseLost):
			lost()
			return
		case err != nil && ctx.Err() == nil:
			log.Warn("renew workflow run lease", "err", err)
		}
	}
}
