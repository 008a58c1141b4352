package outbox

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hyperrr/hyperrr/mdk/internal/metricset"
)

// metrics are the relay's series, registered as one set so registration
// either succeeds whole or leaves the registry untouched.
type metrics struct {
	relayed *prometheus.CounterVec
	errors  *prometheus.CounterVec
	lag     *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "hyperrr", "outbox"
	labels := []string{"schema"}
	m := &metrics{
		relayed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "relayed_total",
			Help: "Events published to the bus and deleted from the outbox."}, labels),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "relay_errors_total",
			Help: "Relay batches that failed; their events stay in the outbox."}, labels),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "lag_seconds",
			Help: "Age of the oldest event waiting in the outbox when last checked; 0 when empty."}, labels),
	}
	if reg != nil {
		if err := reg.Register(metricset.Set{m.relayed, m.errors, m.lag}); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}
