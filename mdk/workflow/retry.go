package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
)

// errStopped means the engine stopped the attempt (its context ended,
// Shutdown began, or the run's lease was lost). What the step returned then
// says nothing about the step, so it is neither journaled nor compensated:
// the run stays live and resumes later.
var errStopped = errors.New("workflow engine stopping")

// Retry defaults, from mdk.RetryPolicy's documentation.
const (
	defaultAttempts = 3
	defaultInitial  = 100 * time.Millisecond
	defaultMaxDelay = 5 * time.Second
)

type policy struct {
	attempts     int
	initial, max time.Duration
}

func policyOf(p mdk.RetryPolicy) policy {
	out := policy{attempts: p.MaxAttempts, initial: p.Initial, max: p.Max}
	if out.attempts <= 0 {
		out.attempts = defaultAttempts
	}
	if out.initial <= 0 {
		out.initial = defaultInitial
	}
	if out.max <= 0 {
		out.max = defaultMaxDelay
	}
	return out
}

// backoff is the wait before retry n (1 for the first retry): exponential,
// capped, with jitter in [d/2, d] so that runs failing together on one
// dependency do not retry in lockstep.
func (p policy) backoff(n int) time.Duration {
	d := p.max
	if n-1 < 32 {
		if exp := p.initial << (n - 1); exp > 0 && exp < p.max {
			d = exp
		}
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(d-half)+1))
}

// retryable reports whether a step error may go away by trying again: any
// uncoded error (a network blip, a timeout), and coded ones that say so.
func retryable(err error) bool {
	var e *mdk.Error
	if !errors.As(err, &e) {
		return true
	}
	return e.Retryable || e.Code == mdk.CodeUnavailable
}

// stepError is the coded form of a step's error as it is journaled and
// handed to Wait: coded errors keep their code; others become internal with
// the step and the error's text, which is all that survives the journal.
func stepError(stepID string, err error) *mdk.Error {
	var e *mdk.Error
	if errors.As(err, &e) {
		return e
	}
	return &mdk.Error{Code: mdk.CodeInternal, Message: fmt.Sprintf("step %s: %v", stepID, err), Cause: err}
}

// outcome is how a retried call ended: ok, failed with err (the step's
// verdict), or halted (the engine stopped, or journaling failed) — halted
// outcomes are not the step's and must not be journaled as its result.
type outcome struct {
	attempts int
	output   json.RawMessage
	err      error
	halt     error
}

// stepFunc is one attempt of a step's Run or Compensate.
type stepFunc func(ctx context.Context) (json.RawMessage, error)

// retry calls fn under the step's policy, numbering attempts on from
// prior (attempts already journaled by an earlier execution). before, when
// set, runs ahead of each attempt, to journal it; its error halts.
func (r *run) retry(n *node, prior int, before func(attempt int) error, fn stepFunc) outcome {
	pol := policyOf(n.step.Retry)
	attempt := prior
	for i := 1; ; i++ {
		if r.stopping() {
			return outcome{attempts: attempt, halt: errStopped}
		}
		attempt++
		if before != nil {
			if err := before(attempt); err != nil {
				return outcome{attempts: attempt, halt: err}
			}
		}
		out, err := r.call(n, attempt, fn)
		switch {
		case err == nil:
			return outcome{attempts: attempt, output: out}
		case errors.Is(err, errStopped):
			return outcome{attempts: attempt, halt: errStopped}
		case !retryable(err) || i >= pol.attempts:
			return outcome{attempts: attempt, err: err}
		}
		r.e.metrics.stepRetried(n.step.ID)
		delay := pol.backoff(i)
		r.log.Debug("workflow step will retry", "node", n.spec.Name, "step", n.step.ID, "attempt", attempt, "delay", delay, "err", err)
		if !r.sleep(delay) {
			return outcome{attempts: attempt, halt: errStopped}
		}
	}
}

// call runs one attempt of fn with the step's scope and timeout. The
// attempt runs in its own goroutine so that a stop or a timeout returns at
// once even from a step that ignores its context, and so that a panic
// becomes a terminal internal error instead of reaching the caller.
func (r *run) call(n *node, attempt int, fn stepFunc) (json.RawMessage, error) {
	ctx := mdk.WithStepScope(r.ctx, mdk.StepScope{RunID: r.id, Node: n.spec.Name, Attempt: attempt})
	if n.step.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, n.step.Timeout)
		defer cancel()
	}
	began := time.Now()
	type result struct {
		out json.RawMessage
		err error
	}
	done := make(chan result, 1) // buffered: an abandoned attempt must not leak blocked
	go func() {
		defer func() {
			if p := recover(); p != nil {
				r.log.Error("workflow step panicked", "node", n.spec.Name, "step", n.step.ID, "attempt", attempt,
					"panic", p, "stack", string(debug.Stack()))
				done <- result{err: &mdk.Error{Code: mdk.CodeInternal, Message: fmt.Sprintf("step %s panicked: %v", n.step.ID, p)}}
			}
		}()
		out, err := fn(ctx)
		done <- result{out, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		res.err = fmt.Errorf("step %s attempt %d: %w", n.step.ID, attempt, ctx.Err())
	}
	r.e.metrics.stepObserved(n.step.ID, time.Since(began))
	if res.err != nil && r.ctx.Err() != nil {
		return nil, errStopped
	}
	return res.out, res.err
}

// stopping reports whether no new attempt may start: the run's context
// ended or the engine is draining.
func (r *run) stopping() bool {
	return r.ctx.Err() != nil || r.e.isDraining()
}

// sleep waits d, false if the run must stop first.
func (r *run) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.ctx.Done():
		return false
	case <-r.e.drain:
		return false
	}
}
