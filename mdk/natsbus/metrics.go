package natsbus

import (
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hyperrr/hyperrr/mdk/internal/metricset"
)

// metrics are the bus's series, registered as one set so registration
// either succeeds whole or leaves the registry untouched.
type metrics struct {
	connected     prometheus.GaugeFunc
	published     prometheus.Counter
	publishErrors prometheus.Counter
	handling      metricset.Handling
}

// newMetrics builds the bus metrics, including a gauge that is 1 while nc
// is connected, and registers them on reg, if any.
func newMetrics(reg prometheus.Registerer, nc *nats.Conn) (*metrics, error) {
	const ns, sub = "hyperrr", "natsbus"
	m := &metrics{
		connected: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "connected",
			Help: "1 while the NATS connection is up, else 0."}, func() float64 {
			if nc.IsConnected() {
				return 1
			}
			return 0
		}),
		published: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "published_total",
			Help: "Events stored in the stream by this instance."}),
		publishErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "publish_errors_total",
			Help: "Publishes that failed (NATS unreachable); the events stay in the outbox."}),
		handling: metricset.NewHandling(ns, sub),
	}
	if reg != nil {
		if err := reg.Register(append(m.handling.Collectors(), m.connected, m.published, m.publishErrors)); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}
