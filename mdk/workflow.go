package mdk

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Step is a unit of work a module registers by ID, with an optional
// compensation that undoes it. Steps run at least once: a run that crashed
// after a step's side effect but before its result was journaled runs the
// step again, so Run must be idempotent by StepKey(ctx).
type Step[In, Out any] struct {
	ID  string
	Run func(ctx context.Context, in In) (Out, error)
	// Compensate undoes a completed Run; it receives what Run got and
	// returned. Nil means the step needs no undo.
	Compensate func(ctx context.Context, in In, out Out) error
	Retry      RetryPolicy
	// Timeout bounds one attempt; 0 means no bound beyond the run's context.
	Timeout time.Duration
}

// RetryPolicy says how often and how fast a failing step is retried. An
// error is retried when it is not an *Error, or is one with Retryable set or
// code unavailable; any other coded error is terminal at once.
type RetryPolicy struct {
	MaxAttempts int           // 0: default (3)
	Initial     time.Duration // first backoff; 0: default (100ms)
	Max         time.Duration // cap on backoff; 0: default (5s)
}

// StepSpec is a Step with its types erased to JSON, the form the engine
// journals and calls.
type StepSpec struct {
	ID         string
	Run        func(ctx context.Context, in json.RawMessage) (json.RawMessage, error)
	Compensate func(ctx context.Context, in, out json.RawMessage) error
	Retry      RetryPolicy
	Timeout    time.Duration
}

// Spec erases the step's types.
func (s Step[In, Out]) Spec() StepSpec {
	spec := StepSpec{ID: s.ID, Retry: s.Retry, Timeout: s.Timeout}
	spec.Run = func(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
		var in In
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, &Error{Code: CodeInternal, Message: fmt.Sprintf("step %s: decode input", s.ID), Cause: err}
		}
		out, err := s.Run(ctx, in)
		if err != nil {
			return nil, err
		}
		return json.Marshal(out)
	}
	if s.Compensate != nil {
		spec.Compensate = func(ctx context.Context, rawIn, rawOut json.RawMessage) error {
			var in In
			var out Out
			if err := json.Unmarshal(rawIn, &in); err != nil {
				return fmt.Errorf("step %s compensation: decode input: %w", s.ID, err)
			}
			if len(rawOut) > 0 {
				if err := json.Unmarshal(rawOut, &out); err != nil {
					return fmt.Errorf("step %s compensation: decode output: %w", s.ID, err)
				}
			}
			return s.Compensate(ctx, in, out)
		}
	}
	return spec
}

// Results gives a node's input mapper the journaled outputs of the nodes it
// runs after.
type Results interface {
	// Output returns the JSON output of the named node, false if that node
	// has not completed.
	Output(node string) (json.RawMessage, bool)
}

// Node is a typed handle on a workflow node, used to read its output.
type Node[Out any] struct{ name string }

// Name returns the node's name within its workflow.
func (n Node[Out]) Name() string { return n.name }

// Output decodes the node's output from r. It fails when the node has not
// completed, which means the reading node does not list it in after.
func (n Node[Out]) Output(r Results) (Out, error) {
	var out Out
	raw, ok := r.Output(n.name)
	if !ok {
		return out, fmt.Errorf("node %q has no output yet: list it in after", n.name)
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, fmt.Errorf("decode output of node %q: %w", n.name, err)
	}
	return out, nil
}

// NodeSpec is one node of a workflow DAG: a registered step, the nodes it
// must run after, and how its input is built from the workflow input and
// their outputs.
type NodeSpec struct {
	Name   string
	StepID string
	After  []string
	Input  func(wfInput json.RawMessage, r Results) (json.RawMessage, error)
}

// WorkflowSpec is a workflow with its types erased.
type WorkflowSpec struct {
	ID     string
	Nodes  []NodeSpec
	Output func(wfInput json.RawMessage, r Results) (json.RawMessage, error)
}

// Workflow is a typed DAG of steps. Nodes with no ordering between them run
// concurrently; a failure anywhere compensates every completed node in
// reverse completion order.
type Workflow[In, Out any] struct {
	spec WorkflowSpec
}

// NewWorkflow starts a workflow definition. Its output is built by the
// function given to SetOutput once every node has completed.
func NewWorkflow[In, Out any](id string) *Workflow[In, Out] {
	return &Workflow[In, Out]{spec: WorkflowSpec{ID: id}}
}

// ID returns the workflow's ID.
func (w *Workflow[In, Out]) ID() string { return w.spec.ID }

// Spec returns the type-erased definition.
func (w *Workflow[In, Out]) Spec() WorkflowSpec { return w.spec }

// AddStep adds a node that runs the step registered as stepID once every
// node in after has completed. Its input is built by input from the workflow
// input and the outputs of earlier nodes; SOut is the step's output type as
// the workflow's module declares it (steps are reached by ID, not import).
func AddStep[SOut, SIn, In, Out any](w *Workflow[In, Out], name, stepID string,
	input func(in In, r Results) (SIn, error), after ...string) Node[SOut] {
	w.spec.Nodes = append(w.spec.Nodes, NodeSpec{
		Name:   name,
		StepID: stepID,
		After:  after,
		Input: func(raw json.RawMessage, r Results) (json.RawMessage, error) {
			var in In
			if err := json.Unmarshal(raw, &in); err != nil {
				return nil, fmt.Errorf("decode workflow input: %w", err)
			}
			sin, err := input(in, r)
			if err != nil {
				return nil, err
			}
			return json.Marshal(sin)
		},
	})
	return Node[SOut]{name: name}
}

// SetOutput sets how the workflow's result is built from its input and the
// outputs of its nodes (all of them have completed when it runs).
func (w *Workflow[In, Out]) SetOutput(output func(in In, r Results) (Out, error)) {
	w.spec.Output = func(raw json.RawMessage, r Results) (json.RawMessage, error) {
		var in In
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, fmt.Errorf("decode workflow input: %w", err)
		}
		out, err := output(in, r)
		if err != nil {
			return nil, err
		}
		return json.Marshal(out)
	}
}

// RunStatus is where a workflow run stands.
type RunStatus string

const (
	RunRunning            RunStatus = "running"
	RunCompensating       RunStatus = "compensating"
	RunCompleted          RunStatus = "completed"
	RunFailed             RunStatus = "failed" // failed and fully compensated
	RunCompensationFailed RunStatus = "compensation_failed"
)

// Done reports whether the run has reached a final status.
func (s RunStatus) Done() bool {
	return s == RunCompleted || s == RunFailed || s == RunCompensationFailed
}

// RunInfo is the journaled state of a run.
type RunInfo struct {
	ID         string
	WorkflowID string
	Key        string
	Status     RunStatus
	Output     json.RawMessage
	// Error is the error that failed the run (and, for
	// compensation_failed, the compensation error in CompensationError).
	Error             *Error
	CompensationError *Error
	Steps             []StepInfo
}

// StepInfo is the journaled state of one node of a run.
type StepInfo struct {
	Node     string
	StepID   string
	Status   string // running, completed, failed, compensated, compensation_failed
	Attempts int
	Output   json.RawMessage
	Error    *Error
}

// WorkflowEngine runs workflows durably. mdk/workflow implements it over SQL.
type WorkflowEngine interface {
	// RegisterStep makes a step available to workflows by its ID.
	RegisterStep(StepSpec) error
	// RegisterWorkflow validates a workflow (unique node names, known step
	// IDs, an acyclic after graph) and makes it runnable.
	RegisterWorkflow(WorkflowSpec) error
	// Start journals a run and starts it in the background. A non-empty
	// key makes it idempotent: the same workflow and key return the run
	// already started (conflict if its input differs).
	Start(ctx context.Context, workflowID string, input json.RawMessage, key string) (runID string, err error)
	// Wait blocks until the run is done or ctx ends, returning the run's
	// output, or the *Error that failed it.
	Wait(ctx context.Context, runID string) (json.RawMessage, error)
	// Run returns the journaled state of a run.
	Run(ctx context.Context, runID string) (RunInfo, error)
	// RunByKey returns the journaled state of the run of workflowID
	// started with key: not_found when none was journaled, which tells a
	// caller that crashed between deciding to start a run and starting it.
	RunByKey(ctx context.Context, workflowID, key string) (RunInfo, error)
}

// RegisterStep registers a typed step with the engine.
func RegisterStep[In, Out any](e WorkflowEngine, s Step[In, Out]) error {
	return e.RegisterStep(s.Spec())
}

// StartWorkflow journals and starts a run of w, returning its ID.
func StartWorkflow[In, Out any](ctx context.Context, e WorkflowEngine, w *Workflow[In, Out], in In, key string) (string, error) {
	raw, err := json.Marshal(in)
	if err != nil {
		return "", fmt.Errorf("encode %s input: %w", w.ID(), err)
	}
	return e.Start(ctx, w.ID(), raw, key)
}

// ExecuteSync starts a run of w (or finds the one with the same key) and
// waits for its result. If ctx ends first the run goes on; calling again with
// the same key picks it up.
func ExecuteSync[In, Out any](ctx context.Context, e WorkflowEngine, w *Workflow[In, Out], in In, key string) (Out, error) {
	var out Out
	id, err := StartWorkflow(ctx, e, w, in, key)
	if err != nil {
		return out, err
	}
	raw, err := e.Wait(ctx, id)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, fmt.Errorf("decode %s output: %w", w.ID(), err)
	}
	return out, nil
}

type stepKey struct{}

// StepScope identifies the execution of one node of one run.
type StepScope struct {
	RunID   string
	Node    string
	Attempt int
}

// Key is stable across attempts and resumes of the same node of the same
// run: use it to make a step's side effect happen once.
func (s StepScope) Key() string { return s.RunID + "/" + s.Node }

// WithStepScope is used by engines to tell a step which execution it is.
func WithStepScope(ctx context.Context, s StepScope) context.Context {
	return context.WithValue(ctx, stepKey{}, s)
}

// StepFrom returns the scope of the step running in ctx.
func StepFrom(ctx context.Context) (StepScope, bool) {
	s, ok := ctx.Value(stepKey{}).(StepScope)
	return s, ok
}

// StepKey returns StepFrom(ctx).Key(), or "" outside a step.
func StepKey(ctx context.Context) string {
	s, ok := StepFrom(ctx)
	if !ok {
		return ""
	}
	return s.Key()
}
