package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"

	"github.com/hyperrr/hyperrr/mdk"
)

// run is one execution of a workflow run by this instance, from a fresh
// Start or from the journal after a claim. Its fields are owned by the
// runner goroutine; node goroutines get copies and report back on a
// channel, so only the runner assigns completion order and journals results.
type run struct {
	e     *Engine
	id    string
	wf    *workflow
	input json.RawMessage
	ctx   context.Context // ends when the engine stops or the lease is lost
	log   *slog.Logger

	status  mdk.RunStatus
	output  json.RawMessage // once completed
	states  []*nodeState    // by node.index
	seq     int             // last completion order handed out
	failure *mdk.Error      // the error that failed the run
	compErr *mdk.Error      // the first compensation that kept failing
}

// nodeState mirrors a node's journal row.
type nodeState struct {
	node     *node
	status   string // "" until started
	attempts int
	input    json.RawMessage
	output   json.RawMessage
	err      *mdk.Error
	seq      int
	inflight bool
}

// nodeResult is what a node goroutine reports to the runner.
type nodeResult struct {
	node *node
	outcome
}

func newRun(e *Engine, id string, wf *workflow, input json.RawMessage) *run {
	r := &run{e: e, id: id, wf: wf, input: input, status: mdk.RunRunning, states: make([]*nodeState, len(wf.nodes))}
	for i, n := range wf.nodes {
		r.states[i] = &nodeState{node: n}
	}
	return r
}

// loadRun rebuilds a run from its journal, to resume it.
func (e *Engine) loadRun(ctx context.Context, id string, wf *workflow) (*run, error) {
	row, err := e.journal.loadRun(ctx, id)
	if err != nil {
		return nil, err
	}
	steps, err := e.journal.loadSteps(ctx, id)
	if err != nil {
		return nil, err
	}
	r := newRun(e, id, wf, row.input)
	r.status, r.failure, r.compErr = row.info.Status, row.info.Error, row.info.CompensationError
	for _, s := range steps {
		n, ok := wf.byName[s.info.Node]
		if !ok {
			return nil, fmt.Errorf("run %s journaled node %q, which workflow %s no longer has", id, s.info.Node, wf.spec.ID)
		}
		ns := r.states[n.index]
		ns.status, ns.attempts, ns.input, ns.output, ns.err, ns.seq = s.info.Status, s.info.Attempts, s.input, s.info.Output, s.info.Error, s.seq
		r.seq = max(r.seq, s.seq)
		switch {
		case ns.status == nodeFailed && r.failure == nil:
			r.failure = ns.err
		case ns.status == nodeCompensationFailed && r.compErr == nil:
			r.compErr = ns.err
		}
	}
	return r, nil
}

// Output implements mdk.Results over the nodes completed so far.
func (r *run) Output(name string) (json.RawMessage, bool) {
	n, ok := r.wf.byName[name]
	if !ok || r.states[n.index].status != nodeCompleted {
		return nil, false
	}
	return r.states[n.index].output, true
}

// drive takes the run from wherever its journal says it is to a final
// status. Any error it returns leaves the run live for a later resume.
func (r *run) drive() error {
	if r.status == mdk.RunRunning {
		if err := r.execute(); err != nil {
			return err
		}
	}
	if r.status == mdk.RunCompensating {
		return r.compensate()
	}
	return nil
}

// execute runs every node once the nodes it runs after have completed,
// independent nodes concurrently. After the first failure it starts nothing
// new but lets the nodes in flight finish and journals them, so that the
// compensation that follows knows everything that completed. A node's result
// is journaled in one statement with the first attempts of the nodes it
// lets start.
func (r *run) execute() error {
	results := make(chan nodeResult, len(r.states)) // buffered: a runner that stops early leaves no sender blocked
	inflight := 0
	var (
		halt    error
		settled []*nodeState // results to journal
	)
	for {
		n, err := r.launch(results, settled, halt == nil && !r.stopping())
		settled = settled[:0]
		if err != nil && halt == nil {
			halt = err
		}
		inflight += n
		if inflight == 0 {
			break
		}
		var res nodeResult
		select {
		case res = <-results:
		case <-r.ctx.Done():
			return errStopped
		}
		inflight--
		ns := r.states[res.node.index]
		ns.inflight = false
		if res.halt != nil {
			if halt == nil {
				halt = res.halt
			}
			continue
		}
		ns.attempts, ns.output = res.attempts, res.output
		if res.err == nil && ns.output == nil {
			ns.output = json.RawMessage("null") // a type-erased step may return nothing; readers expect JSON
		}
		if res.err == nil {
			r.seq++
			ns.status, ns.seq = nodeCompleted, r.seq
		} else {
			r.fail(ns, stepError(ns.node.step.ID, res.err))
		}
		settled = append(settled, ns)
	}
	switch {
	case halt != nil:
		return halt
	case r.failure != nil:
		return r.setStatus(mdk.RunCompensating, nil)
	case r.allCompleted():
		return r.complete()
	default:
		return errStopped // draining: the nodes left start on resume
	}
}

// launch journals the settled nodes together with the first attempt of
// every node that may start now, if start is set, then starts those and
// reports how many it started. Before a failure that is every node whose
// predecessors have completed; after one, only nodes an earlier execution
// had started, which may have had side effects and so must reach a step
// boundary first. If the journal write fails, nothing starts.
func (r *run) launch(results chan<- nodeResult, settled []*nodeState, start bool) (int, error) {
	write := settled
	var starting []*nodeState
	for _, ns := range r.states {
		if !start || !r.launchable(ns) {
			continue
		}
		if ns.input == nil {
			in, err := guard(func() (json.RawMessage, error) { return ns.node.input(r.input, r) })
			if err != nil {
				r.fail(ns, mappingError(r.wf, ns.node, "build input", err))
				write = append(write, ns)
				continue
			}
			ns.input = in
		}
		ns.status = nodeRunning
		ns.attempts++
		starting = append(starting, ns)
		write = append(write, ns)
	}
	if err := r.e.journal.writeNodes(r.ctx, r.id, write...); err != nil {
		return 0, fmt.Errorf("journal nodes of run %s: %w", r.id, err)
	}
	for _, ns := range starting {
		ns.inflight = true
		go r.runNode(*ns, results)
	}
	return len(starting), nil
}

func (r *run) launchable(ns *nodeState) bool {
	if ns.inflight || (ns.status != "" && ns.status != nodeRunning) {
		return false
	}
	if r.failure != nil && ns.status != nodeRunning {
		return false
	}
	for _, dep := range ns.node.after {
		if r.states[dep.index].status != nodeCompleted {
			return false
		}
	}
	return true
}

// runNode runs one node's step to an outcome, journaling each attempt as it
// starts but the first, which launch journaled. It works on a copy of the
// node's state.
func (r *run) runNode(ns nodeState, results chan<- nodeResult) {
	launched := ns.attempts
	before := func(attempt int) error {
		ns.attempts = attempt
		if attempt == launched {
			return nil
		}
		return r.e.journal.writeNodes(r.ctx, r.id, &ns)
	}
	out := r.retry(ns.node, launched-1, before, func(ctx context.Context) (json.RawMessage, error) {
		return ns.node.step.Run(ctx, ns.input)
	})
	results <- nodeResult{node: ns.node, outcome: out}
}

func (r *run) fail(ns *nodeState, err *mdk.Error) {
	ns.status, ns.err = nodeFailed, err
	if r.failure == nil {
		r.failure = err
		r.log.Warn("workflow step failed; compensating", "node", ns.node.spec.Name, "step", ns.node.step.ID,
			"attempts", ns.attempts, "code", err.Code, "err", err)
	}
}

func (r *run) allCompleted() bool {
	for _, ns := range r.states {
		if ns.status != nodeCompleted {
			return false
		}
	}
	return true
}

// complete builds the run's output and journals it; a failing output
// mapper fails the run like a step would.
func (r *run) complete() error {
	out := json.RawMessage("null")
	if r.wf.spec.Output != nil {
		var err error
		out, err = guard(func() (json.RawMessage, error) { return r.wf.spec.Output(r.input, r) })
		if err != nil {
			r.failure = mappingError(r.wf, nil, "build output", err)
			r.log.Warn("workflow output failed; compensating", "code", r.failure.Code, "err", r.failure)
			if err := r.setStatus(mdk.RunCompensating, nil); err != nil {
				return err
			}
			return r.compensate()
		}
	}
	return r.setStatus(mdk.RunCompleted, out)
}

// compensate undoes every completed node in reverse completion order, each
// compensation retried with its step's policy. One that keeps failing is
// journaled and logged and the others still run; the run then ends
// compensation_failed rather than failed, so that someone looks at it.
func (r *run) compensate() error {
	var done []*nodeState
	for _, ns := range r.states {
		if ns.status == nodeCompleted {
			done = append(done, ns)
		}
	}
	sort.Slice(done, func(i, j int) bool { return done[i].seq > done[j].seq })
	for _, ns := range done {
		if r.stopping() {
			return errStopped
		}
		if comp := ns.node.step.Compensate; comp != nil {
			out := r.retry(ns.node, 0, nil, func(ctx context.Context) (json.RawMessage, error) {
				return nil, comp(ctx, ns.input, ns.output)
			})
			if out.halt != nil {
				return out.halt
			}
			if out.err != nil {
				ns.status, ns.err = nodeCompensationFailed, stepError(ns.node.step.ID, out.err)
				if r.compErr == nil {
					r.compErr = ns.err
				}
				r.e.metrics.compensated(ns.node.step.ID, false)
				r.log.Error("workflow compensation failed; run will end compensation_failed", "node", ns.node.spec.Name,
					"step", ns.node.step.ID, "attempts", out.attempts, "code", ns.err.Code, "err", ns.err)
			} else {
				ns.status = nodeCompensated
				r.e.metrics.compensated(ns.node.step.ID, true)
			}
		} else {
			ns.status = nodeCompensated // nothing to undo
		}
		if err := r.e.journal.writeNodes(r.ctx, r.id, ns); err != nil {
			return fmt.Errorf("journal compensation of node %s: %w", ns.node.spec.Name, err)
		}
	}
	if r.compErr != nil {
		return r.setStatus(mdk.RunCompensationFailed, nil)
	}
	return r.setStatus(mdk.RunFailed, nil)
}

// setStatus journals the run's status with its output or errors.
func (r *run) setStatus(st mdk.RunStatus, output json.RawMessage) error {
	var compErr *mdk.Error
	if st == mdk.RunCompensationFailed {
		compErr = r.compErr
	}
	if err := r.e.journal.setRunStatus(r.ctx, r.id, st, output, r.failure, compErr); err != nil {
		return fmt.Errorf("journal run status %s: %w", st, err)
	}
	r.status, r.output = st, output
	if st.Done() {
		r.e.metrics.runFinished(r.wf.spec.ID, st)
		r.log.Debug("workflow run finished", "status", st)
	}
	return nil
}

// mappingError codes an error of a workflow's own input or output mapper
// (as opposed to a step's), naming the workflow and node.
func mappingError(wf *workflow, n *node, action string, err error) *mdk.Error {
	var e *mdk.Error
	if errors.As(err, &e) {
		return e
	}
	where := "workflow " + wf.spec.ID
	if n != nil {
		where += " node " + n.spec.Name
	}
	return &mdk.Error{Code: mdk.CodeInternal, Message: fmt.Sprintf("%s: %s: %v", where, action, err), Cause: err}
}

// guard calls a workflow's mapper, turning a panic into an internal error:
// a mapper is module code, and no panic may escape the engine.
func guard(fn func() (json.RawMessage, error)) (out json.RawMessage, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, &mdk.Error{Code: mdk.CodeInternal, Message: fmt.Sprintf("panic: %v", p)}
		}
	}()
	return fn()
}
