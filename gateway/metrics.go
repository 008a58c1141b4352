package gateway

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hyperrr/hyperrr/mdk"
)

// metrics are the gateway's own Prometheus series: HTTP and operations.
// The bus, outbox and workflow engine register theirs on the same registry.
type metrics struct {
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	opCalls      *prometheus.CounterVec
	opDuration   *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hyperrr_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hyperrr_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}, []string{"route", "method"}),
		opCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hyperrr_operation_calls_total", Help: "Operation calls by operation and result code (ok or an error code).",
		}, []string{"operation", "code"}),
		opDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hyperrr_operation_duration_seconds", Help: "Operation latency.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 14),
		}, []string{"operation"}),
	}
	reg.MustRegister(m.httpRequests, m.httpDuration, m.opCalls, m.opDuration)
	return m
}

func (m *metrics) observeOperation(op string, d time.Duration, err error) {
	code := "ok"
	if err != nil {
		code = string(mdk.ErrorCode(err))
	}
	m.opCalls.WithLabelValues(op, code).Inc()
	m.opDuration.WithLabelValues(op).Observe(d.Seconds())
}

func (m *metrics) observeHTTP(r *http.Request, status int, d time.Duration) {
	route := r.Pattern // the mux pattern, so IDs in paths don't explode cardinality
	if route == "" {
		route = "unmatched"
	}
	m.httpRequests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route, r.Method).Observe(d.Seconds())
}
