package workflow_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
	"github.com/hyperrr/hyperrr/mdk/workflow"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// Test timings: short leases keep the recovery tests fast.
const (
	testLease     = 300 * time.Millisecond
	testHeartbeat = 100 * time.Millisecond
	testPoll      = 50 * time.Millisecond
)

// fastRetry keeps retried steps quick.
var fastRetry = mdk.RetryPolicy{MaxAttempts: 3, Initial: time.Millisecond, Max: 5 * time.Millisecond}

// migrate applies the MDK migrations, which hold the workflow journal.
func migrate(tb testing.TB, db *sqldb.DB) {
	tb.Helper()
	dbtest.MigrateMDK(tb, db)
}

// newEngine returns an engine with test timings, shut down when tb ends
// (before the database closes: cleanups run last-registered first).
func newEngine(tb testing.TB, db *sqldb.DB, opts workflow.Options) *workflow.Engine {
	tb.Helper()
	if opts.Lease == 0 {
		opts.Lease, opts.Heartbeat = testLease, testHeartbeat
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = testPoll
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	e := workflow.New(db, opts)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.Shutdown(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
	})
	return e
}

// serve runs e.Serve until the returned stop is called; stop waits for
// Serve to return and fails tb if that takes longer than within.
func serve(tb testing.TB, e *workflow.Engine) (stop func(within time.Duration)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx) }()
	var once sync.Once
	stop = func(within time.Duration) {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					tb.Errorf("serve: %v", err)
				}
			case <-time.After(within):
				tb.Errorf("Serve did not return within %v of its context ending", within)
			}
		})
	}
	tb.Cleanup(func() { stop(5 * time.Second) })
	return stop
}

// recorder records calls in order, safe for concurrent steps.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, fmt.Sprintf(format, args...))
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = nil
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func (r *recorder) count(call string) int {
	n := 0
	for _, c := range r.list() {
		if c == call {
			n++
		}
	}
	return n
}

// withPrefix returns the recorded calls starting with prefix, in order.
func (r *recorder) withPrefix(prefix string) []string {
	var out []string
	for _, c := range r.list() {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// logRecorder is a slog handler keeping records, to assert what was
// logged at which level.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

func (h *logRecorder) has(level slog.Level, msgPart string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.records {
		if r.Level == level && strings.Contains(r.Message, msgPart) {
			return true
		}
	}
	return false
}

func mustRegisterStep[In, Out any](tb testing.TB, e *workflow.Engine, s mdk.Step[In, Out]) {
	tb.Helper()
	if err := mdk.RegisterStep(e, s); err != nil {
		tb.Fatal(err)
	}
}

func mustRegisterWorkflow(tb testing.TB, e *workflow.Engine, spec mdk.WorkflowSpec) {
	tb.Helper()
	if err := e.RegisterWorkflow(spec); err != nil {
		tb.Fatal(err)
	}
}

// wantCode fails t unless err is an *mdk.Error with the code.
func wantCode(t *testing.T, err error, code mdk.Code) *mdk.Error {
	t.Helper()
	var e *mdk.Error
	if !errors.As(err, &e) {
		t.Fatalf("want *mdk.Error with code %s, got %T %v", code, err, err)
	}
	if e.Code != code {
		t.Fatalf("want code %s, got %s (%v)", code, e.Code, e)
	}
	return e
}

// runInfo reads a run's journal, failing t on error.
func runInfo(t *testing.T, e *workflow.Engine, id string) mdk.RunInfo {
	t.Helper()
	info, err := e.Run(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// stepsByNode indexes a run's step infos by node name.
func stepsByNode(info mdk.RunInfo) map[string]mdk.StepInfo {
	out := map[string]mdk.StepInfo{}
	for _, s := range info.Steps {
		out[s.Node] = s
	}
	return out
}

// eventually polls cond until it holds or within passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitCtx is a context for Wait calls that should finish quickly.
func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type (
	// chainIn is the input of the test workflows: which node fails (if
	// any) and how.
	chainIn struct {
		Fail string `json:"fail,omitempty"`
	}
	// chainOut is each test step's output.
	chainOut struct {
		Node string `json:"node"`
	}
	// chainResult is the test workflows' output.
	chainResult struct {
		Nodes []string `json:"nodes"`
	}
)

// errDeclined is the coded, terminal error the test steps fail with.
var errDeclined = &mdk.Error{Code: "payment_declined", Message: "card declined", Field: "payment"}

// recordingStep returns a step that records "run:<id>" and fails with
// errDeclined when the input names its step ID, and records "comp:<id>" on
// compensation.
func recordingStep(id string, rec *recorder) mdk.Step[chainIn, chainOut] {
	return mdk.Step[chainIn, chainOut]{
		ID: id,
		Run: func(ctx context.Context, in chainIn) (chainOut, error) {
			rec.add("run:%s", id)
			if in.Fail == id {
				return chainOut{}, errDeclined
			}
			return chainOut{Node: id}, nil
		},
		Compensate: func(ctx context.Context, in chainIn, out chainOut) error {
			if out.Node != id {
				return fmt.Errorf("compensation of %s got output %+v", id, out)
			}
			rec.add("comp:%s", id)
			return nil
		},
		Retry: fastRetry,
	}
}

// passInput is the node input mapper of the test workflows.
func passInput(in chainIn, _ mdk.Results) (chainIn, error) { return in, nil }

// graphWorkflow builds a workflow whose node names equal their step IDs;
// edges maps a node to the nodes it runs after. Its output lists the nodes'
// outputs in declaration order.
func graphWorkflow(id string, nodes []string, edges map[string][]string) *mdk.Workflow[chainIn, chainResult] {
	wf := mdk.NewWorkflow[chainIn, chainResult](id)
	handles := make([]mdk.Node[chainOut], 0, len(nodes))
	for _, n := range nodes {
		handles = append(handles, mdk.AddStep[chainOut](wf, n, n, passInput, edges[n]...))
	}
	wf.SetOutput(func(_ chainIn, r mdk.Results) (chainResult, error) {
		var res chainResult
		for _, h := range handles {
			out, err := h.Output(r)
			if err != nil {
				return res, err
			}
			res.Nodes = append(res.Nodes, out.Node)
		}
		return res, nil
	})
	return wf
}

// linear returns the edges of a chain through nodes.
func linear(nodes ...string) map[string][]string {
	edges := map[string][]string{}
	for i := 1; i < len(nodes); i++ {
		edges[nodes[i]] = []string{nodes[i-1]}
	}
	return edges
}
