package workflow_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
	"github.com/hyperrr/hyperrr/mdk/workflow"
)

type (
	order   struct{ SKU string }
	priced  struct{ Amount int64 }
	charged struct{ Charged int64 }
	receipt struct{ Total int64 }
)

// Node inputs are built from earlier nodes' journaled outputs; a mapper
// that fails fails the run like a step would, compensating what completed.
func TestNodeInputsFromEarlierOutputs(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, db *sqldb.DB) {
		migrate(t, db)
		rec := &recorder{}
		e := newEngine(t, db, workflow.Options{})
		mustRegisterStep(t, e, mdk.Step[order, priced]{ID: "price",
			Run: func(ctx context.Context, in order) (priced, error) { return priced{Amount: 2500}, nil },
			Compensate: func(ctx context.Context, in order, out priced) error {
				rec.add("comp:price:%d", out.Amount)
				return nil
			}})
		mustRegisterStep(t, e, mdk.Step[priced, charged]{ID: "charge",
			Run: func(ctx context.Context, in priced) (charged, error) { return charged{Charged: in.Amount}, nil }})

		wf := mdk.NewWorkflow[order, receipt]("test.dataflow")
		price := mdk.AddStep[priced](wf, "price", "price", func(in order, _ mdk.Results) (order, error) { return in, nil })
		charge := mdk.AddStep[charged](wf, "charge", "charge", func(in order, r mdk.Results) (priced, error) {
			if in.SKU == "" {
				return priced{}, mdk.Invalid("sku", "no SKU")
			}
			return price.Output(r)
		}, "price")
		wf.SetOutput(func(in order, r mdk.Results) (receipt, error) {
			c, err := charge.Output(r)
			return receipt{Total: c.Charged}, err
		})
		mustRegisterWorkflow(t, e, wf.Spec())

		got, err := mdk.ExecuteSync(waitCtx(t), e, wf, order{SKU: "scarf-red"}, "")
		if err != nil || got.Total != 2500 {
			t.Fatalf("receipt %+v err %v", got, err)
		}
		_, err = mdk.ExecuteSync(waitCtx(t), e, wf, order{}, "")
		if got := wantCode(t, err, mdk.CodeInvalid); got.Field != "sku" {
			t.Fatalf("error %+v", got)
		}
		if want := []string{"comp:price:2500"}; !slices.Equal(rec.list(), want) {
			t.Fatalf("calls %v, want %v", rec.list(), want)
		}
	})
}

// The engine's series count runs, retries and compensations; engines
// sharing a registry share the series.
func TestMetrics(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, db *sqldb.DB) {
		migrate(t, db)
		reg := prometheus.NewRegistry()
		rec := &recorder{}
		var engines []*workflow.Engine
		for _, owner := range []string{"a", "b"} {
			e := newEngine(t, db, workflow.Options{Owner: owner, Registerer: reg})
			mustRegisterStep(t, e, recordingStep("s1", rec))
			mustRegisterStep(t, e, mdk.Step[chainIn, chainOut]{ID: "s2", Retry: fastRetry,
				Run: func(ctx context.Context, in chainIn) (chainOut, error) { return chainOut{}, errors.New("down") }})
			mustRegisterWorkflow(t, e, graphWorkflow("test.metrics", []string{"s1", "s2"}, linear("s1", "s2")).Spec())
			engines = append(engines, e)
		}
		for _, e := range engines {
			id, err := e.Start(context.Background(), "test.metrics", nil, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Wait(waitCtx(t), id); err == nil {
				t.Fatal("run succeeded")
			}
		}
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		values := map[string]float64{}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				var labels []string
				for _, l := range m.GetLabel() {
					labels = append(labels, l.GetName()+"="+l.GetValue())
				}
				key := f.GetName() + "{" + strings.Join(labels, ",") + "}"
				switch {
				case m.GetCounter() != nil:
					values[key] = m.GetCounter().GetValue()
				case m.GetHistogram() != nil:
					values[key] = float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
		for key, want := range map[string]float64{
			"hyperrr_workflow_runs_started_total{workflow=test.metrics}":                2,
			"hyperrr_workflow_runs_finished_total{status=failed,workflow=test.metrics}": 2,
			"hyperrr_workflow_step_retries_total{step=s2}":                              4,
			"hyperrr_workflow_compensations_total{outcome=ok,step=s1}":                  2,
			"hyperrr_workflow_step_duration_seconds{step=s2}":                           6,
		} {
			if values[key] != want {
				t.Errorf("%s = %v, want %v (all: %v)", key, values[key], want, values)
			}
		}
	})
}
