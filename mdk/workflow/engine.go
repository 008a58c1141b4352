// Package workflow is the durable saga engine behind mdk.WorkflowEngine.
//
// Every run and every node result is journaled in SQL (mdk.workflow_runs,
// mdk.workflow_steps) before the engine acts on it, so a run survives a crash
// of the instance executing it: the instance holds a lease on the run,
// renewed while it works, and when the lease expires any instance's Serve
// loop claims the run and resumes it without re-running the nodes journaled
// as completed. A node that had started but was not journaled completed runs
// again, so steps must be idempotent by mdk.StepKey.
//
// A step failing terminally (a coded, non-retryable error, or retries
// exhausted) stops the run from starting new nodes; once the nodes in flight
// have finished, every completed node is compensated in reverse completion
// order and the run ends failed, or compensation_failed when an undo itself
// kept failing.
package workflow

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// Options tune an Engine. The zero value is usable.
type Options struct {
	// Owner identifies this instance in leases. Default: a random ID, so a
	// restarted process resumes its old runs once their leases expire. A
	// stable owner lets a restart resume them at once, but must never be
	// shared by two live instances.
	Owner string
	// Logger receives the engine's logs. Default: slog.Default().
	Logger *slog.Logger
	// Lease is how long a run stays claimed without a renewal: the longest
	// a crashed instance's runs wait before another resumes them.
	// Default 30s.
	Lease time.Duration
	// Heartbeat is how often an executing run's lease is renewed; it must
	// be well under Lease. Default Lease/3.
	Heartbeat time.Duration
	// PollInterval is how often Serve looks for runs to resume. Default
	// Lease/2, at most 5s.
	PollInterval time.Duration
	// Registerer receives the engine's Prometheus metrics; nil means none.
	Registerer prometheus.Registerer
}

// Engine runs workflows durably over SQL. It implements mdk.WorkflowEngine.
// Runs started here execute at once under the engine's own context, never a
// caller's; Serve resumes runs that were interrupted (here or elsewhere);
// Shutdown stops at a step boundary and hands runs over.
type Engine struct {
	journal   *journal
	log       *slog.Logger
	heartbeat time.Duration
	poll      time.Duration
	metrics   *metrics

	ctx    context.Context // runs execute under it
	cancel context.CancelFunc
	drain  chan struct{} // closed when Shutdown begins

	mu        sync.Mutex
	steps     map[string]mdk.StepSpec
	workflows map[string]*workflow
	active    map[string]*handle // runs this instance executes (or is about to)
	waiters   map[string]*waiters
	draining  bool
	stopped   bool
	serving   bool
}

var _ mdk.WorkflowEngine = (*Engine)(nil)

// New returns an engine journaling in db, which must have the mdk
// migrations applied. Runs start executing with Start; call Serve to resume
// interrupted runs and Shutdown to stop.
func New(db *sqldb.DB, opts Options) *Engine {
	if opts.Owner == "" {
		opts.Owner = uuid.NewString()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	log := opts.Logger
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.Heartbeat <= 0 || opts.Heartbeat >= opts.Lease {
		if opts.Heartbeat > 0 {
			log.Warn("workflow heartbeat is not shorter than the lease; using a third of the lease", "heartbeat", opts.Heartbeat, "lease", opts.Lease)
		}
		opts.Heartbeat = opts.Lease / 3
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = min(opts.Lease/2, 5*time.Second)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Engine{
		journal:   newJournal(db, opts.Owner, opts.Lease),
		log:       log,
		heartbeat: opts.Heartbeat,
		poll:      opts.PollInterval,
		metrics:   newMetrics(opts.Registerer, log),
		ctx:       ctx,
		cancel:    cancel,
		drain:     make(chan struct{}),
		steps:     map[string]mdk.StepSpec{},
		workflows: map[string]*workflow{},
		active:    map[string]*handle{},
		waiters:   map[string]*waiters{},
	}
}

// RegisterStep makes a step available to workflows by its ID. Errors:
// invalid (no ID or no Run), conflict (ID already registered).
func (e *Engine) RegisterStep(s mdk.StepSpec) error {
	if s.ID == "" {
		return mdk.Invalid("id", "step ID is empty")
	}
	if s.Run == nil {
		return mdk.Invalid("run", "step %s has no Run function", s.ID)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, dup := e.steps[s.ID]; dup {
		return mdk.Errorf(mdk.CodeConflict, "step %s is already registered", s.ID)
	}
	e.steps[s.ID] = s
	return nil
}

// RegisterWorkflow validates a workflow against the steps registered so far
// and makes it runnable. Errors: invalid (no ID or nodes, duplicate or empty
// node names, unknown step IDs or after references, a cycle — each named),
// conflict (workflow ID already registered).
func (e *Engine) RegisterWorkflow(spec mdk.WorkflowSpec) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	wf, err := compile(spec, e.steps)
	if err != nil {
		return err
	}
	if _, dup := e.workflows[spec.ID]; dup {
		return mdk.Errorf(mdk.CodeConflict, "workflow %s is already registered", spec.ID)
	}
	e.workflows[spec.ID] = wf
	return nil
}

func (e *Engine) workflow(id string) *workflow {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.workflows[id]
}

// Start journals a run of the workflow and starts executing it. With a
// key, the same workflow and key return the run already started, also when
// several callers race. Errors: not_found (unknown workflow), invalid
// (input is not JSON), conflict (the key's run had a different input).
func (e *Engine) Start(ctx context.Context, workflowID string, input json.RawMessage, key string) (string, error) {
	wf := e.workflow(workflowID)
	if wf == nil {
		return "", mdk.NotFound("workflow %s is not registered", workflowID)
	}
	if len(input) == 0 {
		input = json.RawMessage("null")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, input); err != nil {
		return "", mdk.Invalid("input", "workflow %s input is not valid JSON: %v", workflowID, err)
	}
	input = compact.Bytes()
	sum := sha256.Sum256(input)
	hash := hex.EncodeToString(sum[:])

	id := uuid.NewString()
	// Reserve before inserting so that the recovery loop never sees the run
	// as this instance's yet unexecuted. While stopping, the run is
	// journaled unowned for whichever instance is up to take.
	h, local := e.reserve(id)
	err := e.journal.insertRun(ctx, runRecord{id: id, workflowID: workflowID, key: key, inputHash: hash, input: input, leased: local})
	if err != nil {
		if local {
			e.finish(h)
		}
		if key != "" && sqldb.IsUniqueViolation(err) {
			return e.existingRun(ctx, workflowID, key, hash)
		}
		return "", fmt.Errorf("start workflow %s: %w", workflowID, err)
	}
	e.metrics.runStarted(workflowID)
	if local {
		go e.execute(h, wf, newRun(e, id, wf, input))
	}
	return id, nil
}

func (e *Engine) existingRun(ctx context.Context, workflowID, key, hash string) (string, error) {
	id, prevHash, err := e.journal.runByKey(ctx, workflowID, key)
	if err != nil {
		return "", fmt.Errorf("find run of workflow %s with key %q: %w", workflowID, key, err)
	}
	if prevHash != hash {
		return "", &mdk.Error{Code: mdk.CodeConflict, Field: "key",
			Message: fmt.Sprintf("workflow %s already has a run with key %q and a different input; use a new key for a new request", workflowID, key)}
	}
	return id, nil
}

// Wait blocks until the run is done or ctx ends. It wakes when a runner of
// the run exits in this instance and otherwise polls the journal, backing
// off from 100ms to 1s, for runs executing elsewhere. A run executing here
// is not read until its runner exits, and one its runner completed hands
// its output over without a read. It returns the run's output or the
// *mdk.Error that failed it. Errors: not_found, the run's own error, ctx's
// error (wrapped).
func (e *Engine) Wait(ctx context.Context, runID string) (json.RawMessage, error) {
	delay := 100 * time.Millisecond
	for {
		w, local, unsubscribe := e.subscribe(runID) // before reading, so that no wake-up is missed
		if !local {
			out, done, err := e.result(ctx, runID)
			if done || err != nil {
				unsubscribe()
				return out, err
			}
		}
		t := time.NewTimer(delay)
		select {
		case <-w.wake:
			if w.completed {
				t.Stop()
				unsubscribe()
				return w.output, nil
			}
		case <-t.C:
			delay = min(2*delay, time.Second)
		case <-ctx.Done():
		}
		t.Stop()
		unsubscribe()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("wait for workflow run %s: %w", runID, ctx.Err())
		}
	}
}

// result reads a run's outcome; done is false while the run is live.
func (e *Engine) result(ctx context.Context, runID string) (out json.RawMessage, done bool, err error) {
	row, err := e.journal.loadRun(ctx, runID)
	if err != nil {
		var coded *mdk.Error
		switch {
		case errors.As(err, &coded):
			return nil, true, coded
		case ctx.Err() != nil:
			return nil, true, fmt.Errorf("wait for workflow run %s: %w", runID, ctx.Err())
		}
		return nil, true, fmt.Errorf("wait for workflow run %s: %w", runID, err)
	}
	switch st := row.info.Status; {
	case st == mdk.RunCompleted:
		return row.info.Output, true, nil
	case !st.Done():
		return nil, false, nil
	case row.info.Error == nil:
		return nil, true, mdk.Errorf(mdk.CodeInternal, "workflow run %s ended %s without an error", runID, st)
	default:
		return nil, true, row.info.Error
	}
}

// RunByKey returns the journaled state of the run of workflowID started
// with key. Errors: not_found (no run was journaled under the key).
func (e *Engine) RunByKey(ctx context.Context, workflowID, key string) (mdk.RunInfo, error) {
	id, _, err := e.journal.runByKey(ctx, workflowID, key)
	if errors.Is(err, sql.ErrNoRows) {
		return mdk.RunInfo{}, mdk.NotFound("workflow %s has no run with key %q", workflowID, key)
	}
	if err != nil {
		return mdk.RunInfo{}, fmt.Errorf("find run of workflow %s with key %q: %w", workflowID, key, err)
	}
	return e.Run(ctx, id)
}

// Run returns the journaled state of a run with its nodes, completed ones
// first in completion order. Errors: not_found.
func (e *Engine) Run(ctx context.Context, runID string) (mdk.RunInfo, error) {
	row, err := e.journal.loadRun(ctx, runID)
	if err != nil {
		var coded *mdk.Error
		if errors.As(err, &coded) {
			return mdk.RunInfo{}, coded
		}
		return mdk.RunInfo{}, fmt.Errorf("read workflow run %s: %w", runID, err)
	}
	steps, err := e.journal.loadSteps(ctx, runID)
	if err != nil {
		return mdk.RunInfo{}, fmt.Errorf("read steps of workflow run %s: %w", runID, err)
	}
	info := row.info
	for _, s := range steps {
		info.Steps = append(info.Steps, s.info)
	}
	return info, nil
}
