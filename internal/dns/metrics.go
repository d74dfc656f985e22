package dns

import (
	"errors"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus collectors.
type metrics struct {
	queries *prometheus.CounterVec
	latency prometheus.Histogram
}

// newMetrics registers the collectors with r, reusing ones already there.
func newMetrics(r prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flotta_dns_queries_total",
			Help: "DNS queries answered, by response code and query type.",
		}, []string{"rcode", "type"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "flotta_dns_request_duration_seconds",
			Help:    "Time to answer a DNS query, forwarding included.",
			Buckets: []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .1, .5, 2},
		}),
	}
	if err := r.Register(m.queries); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return nil, err
		}
		m.queries = are.ExistingCollector.(*prometheus.CounterVec)
	}
	if err := r.Register(m.latency); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return nil, err
		}
		m.latency = are.ExistingCollector.(prometheus.Histogram)
	}
	return m, nil
}

// observe counts one answered query.
func (s *Server) observe(rcode int, qtype uint16, start time.Time) {
	if s.metrics == nil {
		return
	}
	t := "OTHER"
	if qtype == 0 {
		t = "NONE"
	} else if name, ok := mdns.TypeToString[qtype]; ok {
		t = name
	}
	rc, ok := mdns.RcodeToString[rcode]
	if !ok {
		rc = "OTHER"
	}
	s.metrics.queries.WithLabelValues(rc, t).Inc()
	s.metrics.latency.Observe(time.Since(start).Seconds())
}
