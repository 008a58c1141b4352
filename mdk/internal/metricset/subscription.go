package metricset

import "github.com/prometheus/client_golang/prometheus"

// Handling are the per-subscription counters every bus keeps, labelled by
// subscription, so dashboards read the same series whichever bus runs.
type Handling struct {
	Delivered, Failures, Retries, Panics, DeadLettered *prometheus.CounterVec
}

// NewHandling builds the counters under namespace_subsystem_.
func NewHandling(namespace, subsystem string) Handling {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: subsystem, Name: name, Help: help}, []string{"subscription"})
	}
	return Handling{
		Delivered:    counter("delivered_total", "Events a subscription's handler handled successfully."),
		Failures:     counter("handler_errors_total", "Handler attempts that returned an error or panicked."),
		Retries:      counter("retries_total", "Handler attempts scheduled again after a failure."),
		Panics:       counter("handler_panics_total", "Handler attempts that panicked."),
		DeadLettered: counter("dead_lettered_total", "Events given up on after the last attempt."),
	}
}

// Collectors lists the counters, for a Set.
func (h Handling) Collectors() Set {
	return Set{h.Delivered, h.Failures, h.Retries, h.Panics, h.DeadLettered}
}

// For returns one subscription's counters.
func (h Handling) For(subscription string) HandlingOf {
	return HandlingOf{
		Delivered:    h.Delivered.WithLabelValues(subscription),
		Failures:     h.Failures.WithLabelValues(subscription),
		Retries:      h.Retries.WithLabelValues(subscription),
		Panics:       h.Panics.WithLabelValues(subscription),
		DeadLettered: h.DeadLettered.WithLabelValues(subscription),
	}
}

// HandlingOf are one subscription's counters.
type HandlingOf struct {
	Delivered, Failures, Retries, Panics, DeadLettered prometheus.Counter
}
