package workflow_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/workflow"
)

// BenchmarkWorkflowStep measures the engine's overhead per step: ExecuteSync
// of a four-step chain of no-op steps, each journaled as started and as
// completed, on each engine.
func BenchmarkWorkflowStep(b *testing.B) {
	const steps = 4
	for _, engine := range dbtest.Engines() {
		b.Run(string(engine), func(b *testing.B) {
			db := dbtest.Open(b, engine)
			migrate(b, db)
			e := newEngine(b, db, workflow.Options{Lease: 30 * time.Second})
			var nodes []string
			for i := 1; i <= steps; i++ {
				id := fmt.Sprintf("noop%d", i)
				nodes = append(nodes, id)
				mustRegisterStep(b, e, mdk.Step[chainIn, chainOut]{ID: id,
					Run: func(context.Context, chainIn) (chainOut, error) { return chainOut{Node: id}, nil }})
			}
			wf := graphWorkflow("bench.noop", nodes, linear(nodes...))
			mustRegisterWorkflow(b, e, wf.Spec())
			ctx := context.Background()
			for b.Loop() {
				if _, err := mdk.ExecuteSync(ctx, e, wf, chainIn{}, ""); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*steps), "ns/step")
		})
	}
}
