package workflow_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
	"github.com/hyperrr/hyperrr/mdk/workflow"
)

// benchSteps is the length of the benchmarks' chain: about a checkout saga.
const benchSteps = 4

// benchChain registers a chain of benchSteps no-op steps on a fresh engine
// over a fresh database of engine and returns its workflow.
func benchChain(b *testing.B, engine sqldb.Engine) (*workflow.Engine, *mdk.Workflow[chainIn, chainResult]) {
	b.Helper()
	db := dbtest.Open(b, engine)
	migrate(b, db)
	e := newEngine(b, db, workflow.Options{Lease: 30 * time.Second})
	var nodes []string
	for i := 1; i <= benchSteps; i++ {
		id := fmt.Sprintf("noop%d", i)
		nodes = append(nodes, id)
		mustRegisterStep(b, e, mdk.Step[chainIn, chainOut]{ID: id,
			Run: func(context.Context, chainIn) (chainOut, error) { return chainOut{Node: id}, nil }})
	}
	wf := graphWorkflow("bench.noop", nodes, linear(nodes...))
	mustRegisterWorkflow(b, e, wf.Spec())
	return e, wf
}

// BenchmarkWorkflowStep measures the engine's overhead per step: ExecuteSync
// of a four-step chain of no-op steps, each journaled as started and as
// completed, on each engine.
func BenchmarkWorkflowStep(b *testing.B) {
	for _, engine := range dbtest.Engines() {
		b.Run(string(engine), func(b *testing.B) {
			e, wf := benchChain(b, engine)
			ctx := context.Background()
			for b.Loop() {
				if _, err := mdk.ExecuteSync(ctx, e, wf, chainIn{}, ""); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchSteps), "ns/step")
		})
	}
}

// benchClients is how many callers BenchmarkWorkflowParallel runs at once:
// the checkout load target's concurrency.
const benchClients = 16

// BenchmarkWorkflowParallel measures throughput under concurrency:
// benchClients goroutines each ExecuteSync the four-step chain of no-op
// steps, reporting completed runs per second of wall time.
func BenchmarkWorkflowParallel(b *testing.B) {
	for _, engine := range dbtest.Engines() {
		b.Run(string(engine), func(b *testing.B) {
			e, wf := benchChain(b, engine)
			ctx := context.Background()
			// RunParallel starts SetParallelism × GOMAXPROCS goroutines.
			b.SetParallelism(max(1, benchClients/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := mdk.ExecuteSync(ctx, e, wf, chainIn{}, ""); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
		})
	}
}
