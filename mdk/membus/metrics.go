package membus

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hyperrr/hyperrr/mdk/internal/metricset"
)

// metrics are the bus's series, registered as one set so registration
// either succeeds whole or leaves the registry untouched.
type metrics struct {
	published prometheus.Counter
	handling  metricset.Handling
	depth     *prometheus.GaugeVec
}

// newMetrics builds the bus metrics and registers them on reg, if any. They
// are always built so the bus never checks whether metrics are on.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "hyperrr", "membus"
	m := &metrics{
		published: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "published_total",
			Help: "Events accepted by Publish."}),
		handling: metricset.NewHandling(ns, sub),
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "queue_depth",
			Help: "Events queued or being handled, per subscription."}, []string{"subscription"}),
	}
	if reg != nil {
		if err := reg.Register(append(m.handling.Collectors(), m.published, m.depth)); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}
