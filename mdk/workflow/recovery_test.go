package workflow_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
	"github.com/hyperrr/hyperrr/mdk/workflow"
)

// effectSteps registers steps n1..n3 on e. Each records its call and
// applies its side effect once per StepScope.Key(), as a real step must;
// n2 calls hold (when set) after its side effect, before returning.
type effectSteps struct {
	db    *sqldb.DB
	calls *recorder
	hold  func(ctx context.Context) error
}

var effectNodes = []string{"n1", "n2", "n3"}

func newEffectSteps(t *testing.T, db *sqldb.DB) *effectSteps {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), `CREATE TABLE mdk.test_effects (key TEXT PRIMARY KEY, node TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return &effectSteps{db: db, calls: &recorder{}}
}

func (s *effectSteps) register(t *testing.T, e *workflow.Engine) *mdk.Workflow[chainIn, chainResult] {
	t.Helper()
	for _, id := range effectNodes {
		mustRegisterStep(t, e, mdk.Step[chainIn, chainOut]{ID: id, Retry: fastRetry,
			Run: func(ctx context.Context, in chainIn) (chainOut, error) {
				s.calls.add("run:%s", id)
				if _, err := s.db.ExecContext(ctx, `INSERT INTO mdk.test_effects (key, node) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`,
					mdk.StepKey(ctx), id); err != nil {
					return chainOut{}, err
				}
				if id == "n2" && s.hold != nil {
					if err := s.hold(ctx); err != nil {
						return chainOut{}, err
					}
				}
				return chainOut{Node: id}, nil
			}})
	}
	wf := graphWorkflow("test.effects", effectNodes, linear(effectNodes...))
	mustRegisterWorkflow(t, e, wf.Spec())
	return wf
}

// checkOnce asserts each node's side effect was applied exactly once.
func (s *effectSteps) checkOnce(t *testing.T, runs int) {
	t.Helper()
	for _, n := range effectNodes {
		var c int
		if err := s.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM mdk.test_effects WHERE node = $1`, n).Scan(&c); err != nil {
			t.Fatal(err)
		}
		if c != runs {
			t.Errorf("node %s side effect applied %d times over %d runs", n, c, runs)
		}
	}
}

// holdOnce returns a hold that blocks the first n2 call: it signals
// entered, then returns when release closes (nil) or its context ends.
func holdOnce(entered chan<- struct{}, release <-chan struct{}) func(ctx context.Context) error {
	var held atomic.Bool
	return func(ctx context.Context) error {
		if !held.CompareAndSwap(false, true) {
			return nil
		}
		entered <- struct{}{}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func receive(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: timed out", what)
	}
}

func leaseOf(t *testing.T, db *sqldb.DB, id string) (owner string, until int64) {
	t.Helper()
	if err := db.QueryRowContext(context.Background(), `SELECT lease_owner, lease_until FROM mdk.workflow_runs WHERE id = $1`, id).Scan(&owner, &until); err != nil {
		t.Fatal(err)
	}
	return owner, until
}

// An instance that dies mid-step (its engine context cancelled) leaves the
// run live; another instance claims it once the lease expires and finishes
// it without re-running completed nodes, re-running the interrupted one
// under the same StepScope.Key, so every side effect lands once.
func TestCrashedRunResumesOnAnotherInstance(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, db *sqldb.DB) {
		migrate(t, db)
		steps := newEffectSteps(t, db)
		entered := make(chan struct{}, 1)
		steps.hold = holdOnce(entered, nil)

		a := newEngine(t, db, workflow.Options{Owner: "instance-a"})
		wf := steps.register(t, a)
		stopA := serve(t, a)
		id, err := mdk.StartWorkflow(context.Background(), a, wf, chainIn{}, "order-1")
		if err != nil {
			t.Fatal(err)
		}
		receive(t, entered, "n2 started on instance a")
		stopA(2 * time.Second) // the process dies: n2 has applied its effect but is not journaled
		died := time.Now()

		info := runInfo(t, a, id)
		st := stepsByNode(info)
		if info.Status != mdk.RunRunning || st["n1"].Status != "completed" || st["n2"].Status != "running" || st["n2"].Error != nil {
			t.Fatalf("after the crash: run %s, steps %+v; the cancelled step must stay running, not failed", info.Status, info.Steps)
		}

		b := newEngine(t, db, workflow.Options{Owner: "instance-b"})
		steps.register(t, b)
		serve(t, b)
		raw, err := b.Wait(waitCtx(t), id)
		if err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(died); waited < testLease/2 {
			t.Errorf("resumed %v after the crash: before the lease (%v) could have expired", waited, testLease)
		}
		if string(raw) != `{"nodes":["n1","n2","n3"]}` {
			t.Fatalf("output %s", raw)
		}
		for node, want := range map[string]int{"n1": 1, "n2": 2, "n3": 1} {
			if got := steps.calls.count("run:" + node); got != want {
				t.Errorf("node %s ran %d times, want %d", node, got, want)
			}
		}
		steps.checkOnce(t, 1)
		if st := stepsByNode(runInfo(t, b, id)); st["n2"].Attempts != 2 || st["n1"].Attempts != 1 {
			t.Errorf("journaled attempts n1=%d n2=%d, want 1 and 2", st["n1"].Attempts, st["n2"].Attempts)
		}
	})
}

// Shutdown lets the step in flight finish and journals it, starts nothing
// more, and releases the run so another instance resumes it at once, long
// before the lease would have expired. A run started while shutting down
// is journaled for another instance too.
func TestShutdownHandsRunsOver(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, db *sqldb.DB) {
		migrate(t, db)
		steps := newEffectSteps(t, db)
		entered, release := make(chan struct{}, 1), make(chan struct{})
		steps.hold = holdOnce(entered, release)
		longLease := workflow.Options{Lease: time.Minute, Heartbeat: time.Second}

		a := newEngine(t, db, workflow.Options{Owner: "instance-a", Lease: longLease.Lease, Heartbeat: longLease.Heartbeat})
		wf := steps.register(t, a)
		id, err := mdk.StartWorkflow(context.Background(), a, wf, chainIn{}, "")
		if err != nil {
			t.Fatal(err)
		}
		receive(t, entered, "n2 started")
		shutdown := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			shutdown <- a.Shutdown(ctx)
		}()
		select {
		case err := <-shutdown:
			t.Fatalf("Shutdown returned (%v) while a step was in flight", err)
		case <-time.After(100 * time.Millisecond):
		}
		close(release)
		select {
		case err := <-shutdown:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("Shutdown did not return after the step finished")
		}
		info := runInfo(t, a, id)
		st := stepsByNode(info)
		if info.Status != mdk.RunRunning || st["n2"].Status != "completed" || len(info.Steps) != 2 {
			t.Fatalf("after shutdown: run %s, steps %+v; want n2 journaled completed and n3 not started", info.Status, info.Steps)
		}
		if owner, until := leaseOf(t, db, id); owner != "" || until != 0 {
			t.Fatalf("lease still held by %q until %d", owner, until)
		}
		late, err := mdk.StartWorkflow(context.Background(), a, wf, chainIn{}, "")
		if err != nil {
			t.Fatal(err)
		}

		b := newEngine(t, db, workflow.Options{Owner: "instance-b", Lease: longLease.Lease, Heartbeat: longLease.Heartbeat})
		steps.register(t, b)
		serve(t, b)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		for _, run := range []string{id, late} {
			if _, err := b.Wait(ctx, run); err != nil {
				t.Fatalf("run %s not resumed at once: %v", run, err)
			}
		}
		for node, want := range map[string]int{"n1": 2, "n2": 2, "n3": 2} {
			if got := steps.calls.count("run:" + node); got != want {
				t.Errorf("node %s ran %d times over two runs, want %d", node, got, want)
			}
		}
		steps.checkOnce(t, 2)
	})
}

// Several instances polling the same journal never execute one run twice.
func TestConcurrentRecoveryClaimsOnce(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, db *sqldb.DB) {
		migrate(t, db)
		steps := newEffectSteps(t, db)
		starter := newEngine(t, db, workflow.Options{Owner: "starter"})
		wf := steps.register(t, starter)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := starter.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		const runs = 6
		var ids []string
		for i := 0; i < runs; i++ {
			id, err := mdk.StartWorkflow(ctx, starter, wf, chainIn{}, "") // journaled unowned
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		var engines []*workflow.Engine
		for _, owner := range []string{"b", "c", "d"} {
			e := newEngine(t, db, workflow.Options{Owner: owner, PollInterval: 5 * time.Millisecond})
			steps.register(t, e)
			engines = append(engines, e)
		}
		for _, e := range engines {
			serve(t, e)
		}
		for _, id := range ids {
			if _, err := engines[0].Wait(waitCtx(t), id); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range effectNodes {
			if got := steps.calls.count("run:" + n); got != runs {
				t.Errorf("node %s ran %d times over %d runs", n, got, runs)
			}
		}
		steps.checkOnce(t, runs)
	})
}

// A step retrying with a long backoff does not hold the engine: cancelling
// Serve's context, or Shutdown, returns within moments, and the run stays
// live with the step not journaled as failed.
func TestRetryBackoffHonoursStop(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, db *sqldb.DB) {
		migrate(t, db)
		setup := func(t *testing.T) (*workflow.Engine, string, <-chan struct{}) {
			e := newEngine(t, db, workflow.Options{})
			attempted := make(chan struct{}, 100)
			mustRegisterStep(t, e, mdk.Step[chainIn, chainOut]{ID: "flaky",
				Retry: mdk.RetryPolicy{MaxAttempts: 100, Initial: 10 * time.Second, Max: 10 * time.Second},
				Run: func(ctx context.Context, in chainIn) (chainOut, error) {
					attempted <- struct{}{}
					return chainOut{}, errors.New("stock service timed out")
				}})
			wf := graphWorkflow("test.flaky", []string{"flaky"}, nil)
			mustRegisterWorkflow(t, e, wf.Spec())
			id := mustRunID(t, e, wf, chainIn{})
			receive(t, attempted, "first attempt")
			return e, id, attempted
		}
		check := func(t *testing.T, e *workflow.Engine, id string, attempted <-chan struct{}) {
			info := runInfo(t, e, id)
			if info.Status != mdk.RunRunning || len(info.Steps) != 1 || info.Steps[0].Status != "running" || info.Steps[0].Attempts != 1 {
				t.Fatalf("run %s steps %+v: want live, the step running after one attempt", info.Status, info.Steps)
			}
			if len(attempted) != 0 {
				t.Fatal("a second attempt started")
			}
		}
		t.Run("ServeContext", func(t *testing.T) {
			e, id, attempted := setup(t)
			stop := serve(t, e)
			stop(2 * time.Second)
			check(t, e, id, attempted)
		})
		t.Run("Shutdown", func(t *testing.T) {
			e, id, attempted := setup(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			began := time.Now()
			if err := e.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(began); took > 2*time.Second {
				t.Fatalf("Shutdown took %v", took)
			}
			check(t, e, id, attempted)
			if owner, _ := leaseOf(t, db, id); owner != "" {
				t.Fatalf("lease still held by %q", owner)
			}
		})
	})
}

// A caller that stops waiting does not stop the run: it executes under the
// engine's context, and a later Wait (or ExecuteSync with the key) gets its
// result.
func TestWaitCancelLeavesRunGoing(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, db *sqldb.DB) {
		migrate(t, db)
		steps := newEffectSteps(t, db)
		entered, release := make(chan struct{}, 1), make(chan struct{})
		steps.hold = holdOnce(entered, release)
		e := newEngine(t, db, workflow.Options{})
		wf := steps.register(t, e)

		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := mdk.ExecuteSync(ctx, e, wf, chainIn{}, "checkout-7")
			errc <- err
		}()
		receive(t, entered, "n2 started")
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("ExecuteSync after cancel: %v", err)
		}
		close(release)
		out, err := mdk.ExecuteSync(waitCtx(t), e, wf, chainIn{}, "checkout-7")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(out.Nodes, effectNodes) {
			t.Fatalf("output %v", out.Nodes)
		}
		if got := steps.calls.count("run:n2"); got != 1 {
			t.Fatalf("n2 ran %d times: the caller's cancel reached the step", got)
		}
	})
}

// An instance that lost its lease (stalled while another took the run
// over) journals nothing more, even when its step then succeeds, and stops.
func TestZombieCannotOverwrite(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, db *sqldb.DB) {
		migrate(t, db)
		steps := newEffectSteps(t, db)
		entered, release := make(chan struct{}, 1), make(chan struct{})
		var held atomic.Bool
		steps.hold = func(context.Context) error {
			if held.CompareAndSwap(false, true) {
				entered <- struct{}{}
				<-release // deaf to its context, as a stalled instance would be
			}
			return nil
		}
		logs := &logRecorder{}
		a := newEngine(t, db, workflow.Options{Owner: "instance-a", Logger: slog.New(logs)})
		wf := steps.register(t, a)
		id := mustRunID(t, a, wf, chainIn{})
		receive(t, entered, "n2 started")
		farFuture := time.Now().Add(time.Hour).UnixMilli()
		if _, err := db.ExecContext(context.Background(), `UPDATE mdk.workflow_runs SET lease_owner = 'instance-b', lease_until = $1 WHERE id = $2`, farFuture, id); err != nil {
			t.Fatal(err)
		}
		close(release)
		eventually(t, 5*time.Second, "instance a notices it lost the run", func() bool { return logs.has(slog.LevelWarn, "taken over") })
		time.Sleep(2 * testHeartbeat)
		info := runInfo(t, a, id)
		st := stepsByNode(info)
		if info.Status != mdk.RunRunning || st["n2"].Status != "running" || len(info.Steps) != 2 {
			t.Fatalf("run %s steps %+v: the instance without the lease wrote to the journal", info.Status, info.Steps)
		}
		if owner, until := leaseOf(t, db, id); owner != "instance-b" || until != farFuture {
			t.Fatalf("lease now %q until %d", owner, until)
		}
		if n := steps.calls.count("run:n3"); n != 0 {
			t.Fatalf("n3 ran %d times on the instance without the lease", n)
		}
	})
}
