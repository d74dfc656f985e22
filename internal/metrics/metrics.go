// Package metrics owns the server's Prometheus instrumentation: the registry, the
// API's collectors, and the /metrics handler. The load balancer data plane
// (internal/lb) registers its own collectors on the same registry
// (Registerer); no other package imports the Prometheus client.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one server's set of collectors.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// New makes a registry with the API collectors and the Go runtime's.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flotta_api_requests_total",
			Help: "API requests answered, by service, operation and result code (OK or the error code).",
		}, []string{"service", "operation", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "flotta_api_request_duration_seconds",
			Help:    "Time to answer an API request, by service, operation and result code.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"service", "operation", "code"}),
	}
	m.registry.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveRequest records one answered API request.
func (m *Metrics) ObserveRequest(service, operation, code string, elapsed time.Duration) {
	m.requests.WithLabelValues(service, operation, code).Inc()
	m.latency.WithLabelValues(service, operation, code).Observe(elapsed.Seconds())
}

// GaugeFunc publishes a value read when scraped.
func (m *Metrics) GaugeFunc(name, help string, fn func() float64) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
}

// CounterFunc publishes a count kept elsewhere, read when scraped.
func (m *Metrics) CounterFunc(name, help string, fn func() float64) {
	m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, fn))
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Registerer is where other parts of the server (the load balancer data
// plane) register their own collectors, served on the same /metrics.
func (m *Metrics) Registerer() prometheus.Registerer { return m.registry }
