package workflow_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
	"github.com/hyperrr/hyperrr/mdk/workflow"
)

// Start with a key is idempotent, also across instances and under
// concurrent calls; a key reused with another input is a conflict.
func TestRunKey(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, db *sqldb.DB) {
		migrate(t, db)
		rec := &recorder{}
		nodes := []string{"s1", "s2"}
		var engines []*workflow.Engine
		var wf *mdk.Workflow[chainIn, chainResult]
		for _, owner := range []string{"a", "b"} {
			e := newEngine(t, db, workflow.Options{Owner: owner})
			for _, n := range nodes {
				mustRegisterStep(t, e, recordingStep(n, rec))
			}
			wf = graphWorkflow("test.keyed", nodes, linear(nodes...))
			mustRegisterWorkflow(t, e, wf.Spec())
			engines = append(engines, e)
		}
		e := engines[0]
		ctx := context.Background()

		t.Run("SameKeySameRun", func(t *testing.T) {
			rec.reset()
			id1, err := mdk.StartWorkflow(ctx, e, wf, chainIn{}, "k1")
			if err != nil {
				t.Fatal(err)
			}
			id2, err := mdk.StartWorkflow(ctx, engines[1], wf, chainIn{}, "k1")
			if err != nil {
				t.Fatal(err)
			}
			if id1 != id2 {
				t.Fatalf("two runs for one key: %s and %s", id1, id2)
			}
			if _, err := e.Wait(waitCtx(t), id1); err != nil {
				t.Fatal(err)
			}
			id3, err := mdk.StartWorkflow(ctx, e, wf, chainIn{}, "k1")
			if err != nil || id3 != id1 {
				t.Fatalf("after completion: id %s err %v, want %s", id3, err, id1)
			}
			if got := rec.count("run:s1"); got != 1 {
				t.Fatalf("s1 ran %d times", got)
			}
		})
		t.Run("ConcurrentSameKey", func(t *testing.T) {
			rec.reset()
			const callers = 8
			var wg sync.WaitGroup
			outs := make([]chainResult, callers)
			errs := make([]error, callers)
			for i := 0; i < callers; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Half the callers reach another instance, which polls.
					outs[i], errs[i] = mdk.ExecuteSync(waitCtx(t), engines[i%2], wf, chainIn{}, "k2")
				}()
			}
			wg.Wait()
			for i := range callers {
				if errs[i] != nil {
					t.Fatalf("caller %d: %v", i, errs[i])
				}
				if strings.Join(outs[i].Nodes, ",") != "s1,s2" {
					t.Fatalf("caller %d got %v", i, outs[i])
				}
			}
			var runs int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM mdk.workflow_runs WHERE run_key = 'k2'`).Scan(&runs); err != nil {
				t.Fatal(err)
			}
			if runs != 1 || rec.count("run:s1") != 1 || rec.count("run:s2") != 1 {
				t.Fatalf("%d runs journaled, calls %v", runs, rec.list())
			}
		})
		t.Run("SameKeyOtherInput", func(t *testing.T) {
			_, err := mdk.StartWorkflow(ctx, e, wf, chainIn{Fail: "s2"}, "k1")
			if got := wantCode(t, err, mdk.CodeConflict); got.Field != "key" {
				t.Fatalf("conflict on field %q", got.Field)
			}
		})
		t.Run("InputWhitespaceIsNotADifference", func(t *testing.T) {
			id1, err := e.Start(ctx, "test.keyed", json.RawMessage(`{"fail": ""}`), "k3")
			if err != nil {
				t.Fatal(err)
			}
			id2, err := e.Start(ctx, "test.keyed", json.RawMessage("{\n  \"fail\":\"\"\n}"), "k3")
			if err != nil || id1 != id2 {
				t.Fatalf("ids %s %s err %v", id1, id2, err)
			}
		})
		t.Run("EmptyKeyNewRun", func(t *testing.T) {
			id1, err1 := mdk.StartWorkflow(ctx, e, wf, chainIn{}, "")
			id2, err2 := mdk.StartWorkflow(ctx, e, wf, chainIn{}, "")
			if err1 != nil || err2 != nil || id1 == id2 {
				t.Fatalf("ids %s %s errs %v %v", id1, id2, err1, err2)
			}
		})
		t.Run("Invalid", func(t *testing.T) {
			_, err := e.Start(ctx, "test.nope", nil, "")
			wantCode(t, err, mdk.CodeNotFound)
			_, err = e.Start(ctx, "test.keyed", json.RawMessage(`{"fail":`), "")
			wantCode(t, err, mdk.CodeInvalid)
			_, err = e.Run(ctx, "no-such-run")
			wantCode(t, err, mdk.CodeNotFound)
			_, err = e.Wait(ctx, "no-such-run")
			wantCode(t, err, mdk.CodeNotFound)
		})
	})
}

// Registration refuses what would fail at run time, naming the culprit.
func TestRegistration(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, db *sqldb.DB) {
		e := newEngine(t, db, workflow.Options{})
		rec := &recorder{}
		for _, id := range []string{"a", "b", "c"} {
			mustRegisterStep(t, e, recordingStep(id, rec))
		}
		node := func(name, step string, after ...string) mdk.NodeSpec {
			return mdk.NodeSpec{Name: name, StepID: step, After: after}
		}
		cases := []struct {
			name  string
			err   error
			code  mdk.Code
			names []string // substrings the message must carry
		}{
			{"DuplicateStep", mdk.RegisterStep(e, recordingStep("a", rec)), mdk.CodeConflict, []string{"a"}},
			{"StepWithoutRun", e.RegisterStep(mdk.StepSpec{ID: "z"}), mdk.CodeInvalid, []string{"z"}},
			{"UnknownStep", e.RegisterWorkflow(mdk.WorkflowSpec{ID: "w1", Nodes: []mdk.NodeSpec{
				node("first", "a"), node("second", "inventory.reserve", "first")}}), mdk.CodeInvalid, []string{"inventory.reserve", "second"}},
			{"UnknownAfter", e.RegisterWorkflow(mdk.WorkflowSpec{ID: "w2", Nodes: []mdk.NodeSpec{
				node("first", "a", "zeroth")}}), mdk.CodeInvalid, []string{"zeroth", "first"}},
			{"Cycle", e.RegisterWorkflow(mdk.WorkflowSpec{ID: "w3", Nodes: []mdk.NodeSpec{
				node("start", "a"), node("x", "a", "start", "z"), node("y", "b", "x"), node("z", "c", "y")}}),
				mdk.CodeInvalid, []string{"cycle", "x -> z -> y -> x"}},
			{"SelfCycle", e.RegisterWorkflow(mdk.WorkflowSpec{ID: "w4", Nodes: []mdk.NodeSpec{
				node("x", "a", "x")}}), mdk.CodeInvalid, []string{"x -> x"}},
			{"DuplicateNode", e.RegisterWorkflow(mdk.WorkflowSpec{ID: "w5", Nodes: []mdk.NodeSpec{
				node("x", "a"), node("x", "b")}}), mdk.CodeInvalid, []string{`"x"`}},
			{"NoNodes", e.RegisterWorkflow(mdk.WorkflowSpec{ID: "w6"}), mdk.CodeInvalid, []string{"w6"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got := wantCode(t, tc.err, tc.code)
				for _, s := range tc.names {
					if !strings.Contains(got.Message, s) {
						t.Errorf("message %q does not name %q", got.Message, s)
					}
				}
			})
		}
		t.Run("DuplicateWorkflow", func(t *testing.T) {
			spec := mdk.WorkflowSpec{ID: "w7", Nodes: []mdk.NodeSpec{node("x", "a")}}
			if err := e.RegisterWorkflow(spec); err != nil {
				t.Fatal(err)
			}
			wantCode(t, e.RegisterWorkflow(spec), mdk.CodeConflict)
		})
	})
}
