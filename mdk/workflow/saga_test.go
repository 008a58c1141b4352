package workflow_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
	"github.com/hyperrr/hyperrr/mdk/workflow"
)

// A failure at each step of a four-step chain compensates exactly the steps
// before it, last first, and Wait returns the failing step's coded error.
func TestLinearSagaCompensates(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, db *sqldb.DB) {
		migrate(t, db)
		rec := &recorder{}
		e := newEngine(t, db, workflow.Options{})
		nodes := []string{"s1", "s2", "s3", "s4"}
		for _, n := range nodes {
			mustRegisterStep(t, e, recordingStep(n, rec))
		}
		wf := graphWorkflow("test.linear", nodes, linear(nodes...))
		mustRegisterWorkflow(t, e, wf.Spec())

		t.Run("OK", func(t *testing.T) {
			rec.reset()
			out, err := mdk.ExecuteSync(waitCtx(t), e, wf, chainIn{}, "")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(out.Nodes, nodes) {
				t.Fatalf("output %v", out.Nodes)
			}
			if want := []string{"run:s1", "run:s2", "run:s3", "run:s4"}; !slices.Equal(rec.list(), want) {
				t.Fatalf("calls %v, want %v", rec.list(), want)
			}
		})
		for k := 1; k <= len(nodes); k++ {
			t.Run(fmt.Sprintf("FailAtStep%d", k), func(t *testing.T) {
				rec.reset()
				failing := nodes[k-1]
				id, err := mdk.StartWorkflow(context.Background(), e, wf, chainIn{Fail: failing}, "")
				if err != nil {
					t.Fatal(err)
				}
				_, err = e.Wait(waitCtx(t), id)
				got := wantCode(t, err, "payment_declined")
				if got.Message != errDeclined.Message || got.Field != errDeclined.Field {
					t.Fatalf("error %+v lost fields through the journal", got)
				}
				var want []string
				for i := 0; i < k; i++ {
					want = append(want, "run:"+nodes[i])
				}
				for i := k - 2; i >= 0; i-- {
					want = append(want, "comp:"+nodes[i])
				}
				if !slices.Equal(rec.list(), want) {
					t.Fatalf("calls %v, want %v", rec.list(), want)
				}
				info := runInfo(t, e, id)
				if info.Status != mdk.RunFailed || info.Error == nil || info.Error.Code != "payment_declined" || info.CompensationError != nil {
					t.Fatalf("run %+v", info)
				}
				steps := stepsByNode(info)
				for i, n := range nodes {
					var wantStatus string
					switch {
					case i < k-1:
						wantStatus = "compensated"
					case i == k-1:
						wantStatus = "failed"
					}
					if steps[n].Status != wantStatus {
						t.Errorf("node %s status %q, want %q", n, steps[n].Status, wantStatus)
					}
				}
				if s := steps[failing]; s.Attempts != 1 || s.Error == nil || s.Error.Code != "payment_declined" {
					t.Errorf("failing node journal %+v: a terminal coded error must not be retried", s)
				}
			})
		}
	})
}

// A failure in one branch of a DAG compensates the other branch's completed
// nodes and the shared root too, including a sibling that was still running
// when the failure happened, in reverse completion order.
func TestDAGBranchFailureCompensatesBothBranches(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, db *sqldb.DB) {
		migrate(t, db)
		rec := &recorder{}
		e := newEngine(t, db, workflow.Options{})
		a2Started, failed := make(chan struct{}), make(chan struct{})
		for _, n := range []string{"root", "a1", "b1"} {
			mustRegisterStep(t, e, recordingStep(n, rec))
		}
		// a2 is in flight when b2 fails (b2 waits for it to start) and
		// finishes only after the failure.
		a2 := recordingStep("a2", rec)
		a2Run := a2.Run
		a2.Run = func(ctx context.Context, in chainIn) (chainOut, error) {
			close(a2Started)
			select {
			case <-failed:
			case <-ctx.Done():
				return chainOut{}, ctx.Err()
			}
			time.Sleep(50 * time.Millisecond)
			return a2Run(ctx, in)
		}
		mustRegisterStep(t, e, a2)
		b2 := recordingStep("b2", rec)
		b2Run := b2.Run
		b2.Run = func(ctx context.Context, in chainIn) (chainOut, error) {
			select {
			case <-a2Started:
			case <-ctx.Done():
				return chainOut{}, ctx.Err()
			}
			out, err := b2Run(ctx, in)
			close(failed)
			return out, err
		}
		mustRegisterStep(t, e, b2)
		nodes := []string{"root", "a1", "a2", "b1", "b2"}
		wf := graphWorkflow("test.dag", nodes, map[string][]string{
			"a1": {"root"}, "a2": {"a1"}, "b1": {"root"}, "b2": {"b1"},
		})
		mustRegisterWorkflow(t, e, wf.Spec())

		id := mustRunID(t, e, wf, chainIn{Fail: "b2"})
		_, err := e.Wait(waitCtx(t), id)
		wantCode(t, err, "payment_declined")
		for _, n := range nodes {
			if c := rec.count("run:" + n); c != 1 {
				t.Errorf("node %s ran %d times", n, c)
			}
		}
		info := runInfo(t, e, id)
		if info.Status != mdk.RunFailed {
			t.Fatalf("status %s", info.Status)
		}
		// Steps come in completion order: compensation must be its reverse.
		var wantComp []string
		for _, s := range info.Steps {
			if s.Status == "compensated" {
				wantComp = append([]string{"comp:" + s.Node}, wantComp...)
			}
		}
		gotComp := rec.withPrefix("comp:")
		if !slices.Equal(gotComp, wantComp) {
			t.Fatalf("compensations %v, want reverse completion order %v", gotComp, wantComp)
		}
		if len(gotComp) != 4 || gotComp[0] != "comp:a2" || gotComp[3] != "comp:root" {
			t.Fatalf("compensations %v: want a2 (finished last) first, root last, b2 (failed) not at all", gotComp)
		}
		if s := stepsByNode(info)["b2"]; s.Status != "failed" {
			t.Fatalf("b2 journaled %+v", s)
		}
	})
}

func mustRunID(t *testing.T, e *workflow.Engine, wf *mdk.Workflow[chainIn, chainResult], in chainIn) string {
	t.Helper()
	id, err := mdk.StartWorkflow(context.Background(), e, wf, in, "")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// A compensation that keeps failing does not stop the others; the run ends
// compensation_failed with the error, logged at error level.
func TestCompensationFailure(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, db *sqldb.DB) {
		migrate(t, db)
		rec := &recorder{}
		logs := &logRecorder{}
		e := newEngine(t, db, workflow.Options{Logger: slog.New(logs)})
		mustRegisterStep(t, e, recordingStep("s1", rec))
		broken := recordingStep("s2", rec)
		broken.Retry = mdk.RetryPolicy{MaxAttempts: 2, Initial: time.Millisecond}
		broken.Compensate = func(ctx context.Context, in chainIn, out chainOut) error {
			rec.add("comp:s2")
			return errors.New("refund service down")
		}
		mustRegisterStep(t, e, broken)
		mustRegisterStep(t, e, recordingStep("s3", rec))
		nodes := []string{"s1", "s2", "s3"}
		wf := graphWorkflow("test.compfail", nodes, linear(nodes...))
		mustRegisterWorkflow(t, e, wf.Spec())

		id := mustRunID(t, e, wf, chainIn{Fail: "s3"})
		_, err := e.Wait(waitCtx(t), id)
		wantCode(t, err, "payment_declined")
		want := []string{"run:s1", "run:s2", "run:s3", "comp:s2", "comp:s2", "comp:s1"}
		if !slices.Equal(rec.list(), want) {
			t.Fatalf("calls %v, want %v", rec.list(), want)
		}
		info := runInfo(t, e, id)
		if info.Status != mdk.RunCompensationFailed {
			t.Fatalf("status %s", info.Status)
		}
		if info.CompensationError == nil || !strings.Contains(info.CompensationError.Message, "refund service down") {
			t.Fatalf("compensation error %+v", info.CompensationError)
		}
		if info.Error == nil || info.Error.Code != "payment_declined" {
			t.Fatalf("run error %+v", info.Error)
		}
		steps := stepsByNode(info)
		if steps["s2"].Status != "compensation_failed" || steps["s1"].Status != "compensated" || steps["s3"].Status != "failed" {
			t.Fatalf("steps %+v", info.Steps)
		}
		if !logs.has(slog.LevelError, "compensation failed") {
			t.Fatal("the failing compensation was not logged at error level")
		}
	})
}

// A step that panics fails the run with an internal error naming the
// panic, and the completed steps are compensated.
func TestStepPanic(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, db *sqldb.DB) {
		migrate(t, db)
		rec := &recorder{}
		e := newEngine(t, db, workflow.Options{})
		mustRegisterStep(t, e, recordingStep("s1", rec))
		mustRegisterStep(t, e, mdk.Step[chainIn, chainOut]{ID: "s2", Retry: fastRetry,
			Run: func(ctx context.Context, in chainIn) (chainOut, error) {
				rec.add("run:s2")
				panic("nil map in s2")
			}})
		wf := graphWorkflow("test.panic", []string{"s1", "s2"}, linear("s1", "s2"))
		mustRegisterWorkflow(t, e, wf.Spec())

		id := mustRunID(t, e, wf, chainIn{})
		_, err := e.Wait(waitCtx(t), id)
		got := wantCode(t, err, mdk.CodeInternal)
		if !strings.Contains(got.Message, "nil map in s2") {
			t.Fatalf("message %q does not name the panic", got.Message)
		}
		if want := []string{"run:s1", "run:s2", "comp:s1"}; !slices.Equal(rec.list(), want) {
			t.Fatalf("calls %v, want %v (a panic is not retried)", rec.list(), want)
		}
		if info := runInfo(t, e, id); info.Status != mdk.RunFailed {
			t.Fatalf("status %s", info.Status)
		}
	})
}

// Retryable errors are retried with the attempts journaled; terminal coded
// errors are not; uncoded errors that outlast the retries come back as
// internal with their text; a per-attempt timeout counts as a retryable
// failure.
func TestRetries(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, db *sqldb.DB) {
		migrate(t, db)
		e := newEngine(t, db, workflow.Options{})
		var calls atomic.Int32
		register := func(id string, step mdk.Step[chainIn, chainOut]) *mdk.Workflow[chainIn, chainResult] {
			step.ID = id
			mustRegisterStep(t, e, step)
			wf := graphWorkflow("test."+id, []string{id}, nil)
			mustRegisterWorkflow(t, e, wf.Spec())
			return wf
		}
		attempt := func(ctx context.Context) int {
			s, ok := mdk.StepFrom(ctx)
			if !ok {
				t.Error("step has no StepScope")
			}
			return s.Attempt
		}
		cases := []struct {
			name         string
			step         mdk.Step[chainIn, chainOut]
			wantCode     mdk.Code // "" for success
			wantAttempts int
			wantMsg      string
		}{
			{"SucceedsOnAttempt3", mdk.Step[chainIn, chainOut]{Retry: fastRetry,
				Run: func(ctx context.Context, in chainIn) (chainOut, error) {
					calls.Add(1)
					if attempt(ctx) < 3 {
						return chainOut{}, mdk.Unavailable(nil, "stock service unavailable")
					}
					return chainOut{Node: "ok"}, nil
				}}, "", 3, ""},
			{"CodedRetryable", mdk.Step[chainIn, chainOut]{Retry: fastRetry,
				Run: func(ctx context.Context, in chainIn) (chainOut, error) {
					calls.Add(1)
					return chainOut{}, &mdk.Error{Code: "out_of_stock", Message: "held by another checkout", Retryable: true}
				}}, "out_of_stock", 3, "held by another checkout"},
			{"TerminalNotRetried", mdk.Step[chainIn, chainOut]{Retry: fastRetry,
				Run: func(ctx context.Context, in chainIn) (chainOut, error) {
					calls.Add(1)
					return chainOut{}, mdk.Invalid("sku", "unknown SKU")
				}}, mdk.CodeInvalid, 1, "unknown SKU"},
			{"UncodedExhausted", mdk.Step[chainIn, chainOut]{Retry: fastRetry,
				Run: func(ctx context.Context, in chainIn) (chainOut, error) {
					calls.Add(1)
					return chainOut{}, fmt.Errorf("dial stock service: connection refused")
				}}, mdk.CodeInternal, 3, "connection refused"},
			{"TimeoutPerAttempt", mdk.Step[chainIn, chainOut]{Retry: mdk.RetryPolicy{MaxAttempts: 2, Initial: time.Millisecond},
				Timeout: 30 * time.Millisecond,
				Run: func(ctx context.Context, in chainIn) (chainOut, error) {
					calls.Add(1)
					<-ctx.Done()
					return chainOut{}, ctx.Err()
				}}, mdk.CodeInternal, 2, "deadline exceeded"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				calls.Store(0)
				wf := register("r"+strings.ToLower(tc.name), tc.step)
				id := mustRunID(t, e, wf, chainIn{})
				_, err := e.Wait(waitCtx(t), id)
				if tc.wantCode == "" {
					if err != nil {
						t.Fatal(err)
					}
				} else {
					got := wantCode(t, err, tc.wantCode)
					if !strings.Contains(got.Message, tc.wantMsg) {
						t.Fatalf("message %q, want it to contain %q", got.Message, tc.wantMsg)
					}
				}
				if int(calls.Load()) != tc.wantAttempts {
					t.Fatalf("step called %d times, want %d", calls.Load(), tc.wantAttempts)
				}
				info := runInfo(t, e, id)
				if len(info.Steps) != 1 || info.Steps[0].Attempts != tc.wantAttempts {
					t.Fatalf("journaled steps %+v, want %d attempts", info.Steps, tc.wantAttempts)
				}
			})
		}
	})
}
