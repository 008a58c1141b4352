package membus

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hyperrr/hyperrr/mdk/internal/metricset"
)

// metrics are the bus's series, registered as one set so registration
// either succeeds whole or leaves the registry untouched.
type metrics struct {
	published    prometheus.Counter
	delivered    *prometheus.CounterVec
	failures     *prometheus.CounterVec
	retries      *prometheus.CounterVec
	panics       *prometheus.CounterVec
	deadLettered *prometheus.CounterVec
	depth        *prometheus.GaugeVec
}

// newMetrics builds the bus metrics and registers them on reg, if any. They
// are always built so the bus never checks whether metrics are on.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "hyperrr", "membus"
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help}, []string{"subscription"})
	}
	m := &metrics{
		published: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "published_total",
			Help: "Events accepted by Publish."}),
		delivered:    counter("delivered_total", "Events a subscription's handler handled successfully."),
		failures:     counter("handler_errors_total", "Handler attempts that returned an error or panicked."),
		retries:      counter("retries_total", "Handler attempts scheduled again after a failure."),
		panics:       counter("handler_panics_total", "Handler attempts that panicked."),
		deadLettered: counter("dead_lettered_total", "Events given up on after the last attempt."),
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "queue_depth",
			Help: "Events queued or being handled, per subscription."}, []string{"subscription"}),
	}
	if reg != nil {
		if err := reg.Register(metricset.Set{m.published, m.delivered, m.failures, m.retries, m.panics, m.deadLettered, m.depth}); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}
