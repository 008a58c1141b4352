// Package metricset registers a package's Prometheus collectors as one, so
// a registration either takes all of them or none.
package metricset

import "github.com/prometheus/client_golang/prometheus"

// Set is several collectors that describe and collect as one collector.
type Set []prometheus.Collector

// Describe implements prometheus.Collector.
func (s Set) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range s {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (s Set) Collect(ch chan<- prometheus.Metric) {
	for _, c := range s {
		c.Collect(ch)
	}
}
