package workflow

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hyperrr/hyperrr/mdk"
)

// metrics are the engine's Prometheus series. A nil *metrics records
// nothing, so the engine calls it unconditionally.
type metrics struct {
	runsStarted   *prometheus.CounterVec
	runsFinished  *prometheus.CounterVec
	stepDuration  *prometheus.HistogramVec
	stepRetries   *prometheus.CounterVec
	compensations *prometheus.CounterVec
}

// newMetrics registers the series with reg. A collector that is already
// registered (a second engine on the same registry, as in tests) is
// shared; any other registration error is logged and that series dropped,
// since metrics must not stop the engine.
func newMetrics(reg prometheus.Registerer, log *slog.Logger) *metrics {
	if reg == nil {
		return nil
	}
	m := &metrics{
		runsStarted: register(reg, log, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hyperrr", Subsystem: "workflow", Name: "runs_started_total",
			Help: "Workflow runs journaled by Start, by workflow.",
		}, []string{"workflow"})),
		runsFinished: register(reg, log, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hyperrr", Subsystem: "workflow", Name: "runs_finished_total",
			Help: "Workflow runs that reached a final status (completed, failed, compensation_failed), by workflow and status.",
		}, []string{"workflow", "status"})),
		stepDuration: register(reg, log, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "hyperrr", Subsystem: "workflow", Name: "step_duration_seconds",
			Help:    "Duration of one attempt of a workflow step or its compensation, by step.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9), // 1ms .. ~65s
		}, []string{"step"})),
		stepRetries: register(reg, log, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hyperrr", Subsystem: "workflow", Name: "step_retries_total",
			Help: "Retries of workflow steps and compensations after a retryable error, by step.",
		}, []string{"step"})),
		compensations: register(reg, log, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hyperrr", Subsystem: "workflow", Name: "compensations_total",
			Help: "Compensations run, by step and outcome (ok, failed).",
		}, []string{"step", "outcome"})),
	}
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, log *slog.Logger, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing
		}
	}
	log.Error("register workflow metric; it will not be recorded", "err", err)
	var none C
	return none
}

func (m *metrics) runStarted(workflow string) {
	if m != nil && m.runsStarted != nil {
		m.runsStarted.WithLabelValues(workflow).Inc()
	}
}

func (m *metrics) runFinished(workflow string, st mdk.RunStatus) {
	if m != nil && m.runsFinished != nil {
		m.runsFinished.WithLabelValues(workflow, string(st)).Inc()
	}
}

func (m *metrics) stepObserved(step string, d time.Duration) {
	if m != nil && m.stepDuration != nil {
		m.stepDuration.WithLabelValues(step).Observe(d.Seconds())
	}
}

func (m *metrics) stepRetried(step string) {
	if m != nil && m.stepRetries != nil {
		m.stepRetries.WithLabelValues(step).Inc()
	}
}

func (m *metrics) compensated(step string, ok bool) {
	if m == nil || m.compensations == nil {
		return
	}
	outcome := "ok"
	if !ok {
		outcome = "failed"
	}
	m.compensations.WithLabelValues(step, outcome).Inc()
}
