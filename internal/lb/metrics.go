package lb

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics holds the collectors; handles for one load balancer or one
// (load balancer, target group) pair are looked up once per Apply, so a
// request only increments.
type metrics struct {
	requests  *prometheus.CounterVec
	perTarget *prometheus.CounterVec
	respTime  *prometheus.HistogramVec
	target    [4]*prometheus.CounterVec // 2XX..5XX
	elb       [3]*prometheus.CounterVec // 3XX..5XX
	healthy   *prometheus.Desc
	unhealthy *prometheus.Desc
	b         *Balancer
}

// lbMetrics feeds one load balancer's series.
type lbMetrics struct {
	requests prometheus.Counter
	elb      [3]prometheus.Counter
}

// groupMetrics feeds one target group's series under one load balancer.
type groupMetrics struct {
	requests prometheus.Counter
	respTime prometheus.Observer
	codes    [4]prometheus.Counter
}

var (
	lbLabel    = []string{"LoadBalancer"}
	groupLabel = []string{"LoadBalancer", "TargetGroup"}
)

func newMetrics(b *Balancer) *metrics {
	counter := func(name, help string, labels []string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m := &metrics{
		b:         b,
		requests:  counter("flotta_lb_request_count_total", "RequestCount: requests the load balancer received.", lbLabel),
		perTarget: counter("flotta_lb_request_count_per_target_total", "RequestCountPerTarget: requests sent to the target group's targets (divide by HealthyHostCount for the per-target figure).", groupLabel),
		respTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "flotta_lb_target_response_time_seconds",
			Help:    "TargetResponseTime: seconds from sending a request to a target until its response headers arrived.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, groupLabel),
		healthy: prometheus.NewDesc("flotta_lb_healthy_host_count",
			"HealthyHostCount: targets of the target group that are healthy.", groupLabel, nil),
		unhealthy: prometheus.NewDesc("flotta_lb_unhealthy_host_count",
			"UnHealthyHostCount: targets of the target group that failed their health checks.", groupLabel, nil),
	}
	for i, c := range []string{"2xx", "3xx", "4xx", "5xx"} {
		m.target[i] = counter("flotta_lb_httpcode_target_"+c+"_count_total",
			"HTTPCode_Target_"+upper(c)+"_Count: responses with a "+upper(c)+" code from targets.", groupLabel)
	}
	for i, c := range []string{"3xx", "4xx", "5xx"} {
		m.elb[i] = counter("flotta_lb_httpcode_elb_"+c+"_count_total",
			"HTTPCode_ELB_"+upper(c)+"_Count: responses with a "+upper(c)+" code the load balancer made itself.", lbLabel)
	}
	return m
}

func upper(s string) string { return string([]byte{s[0], 'X', 'X'}) }

func (m *metrics) register(r prometheus.Registerer) error {
	cs := []prometheus.Collector{m.requests, m.perTarget, m.respTime, m}
	for _, c := range m.target {
		cs = append(cs, c)
	}
	for _, c := range m.elb {
		cs = append(cs, c)
	}
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func (m *metrics) forLB(dim string) *lbMetrics {
	lm := &lbMetrics{requests: m.requests.WithLabelValues(dim)}
	for i := range m.elb {
		lm.elb[i] = m.elb[i].WithLabelValues(dim)
	}
	return lm
}

func (m *metrics) forGroup(lbDim, tgDim string) *groupMetrics {
	gm := &groupMetrics{requests: m.perTarget.WithLabelValues(lbDim, tgDim), respTime: m.respTime.WithLabelValues(lbDim, tgDim)}
	for i := range m.target {
		gm.codes[i] = m.target[i].WithLabelValues(lbDim, tgDim)
	}
	return gm
}

// elbCode counts a response the load balancer made itself.
func (lm *lbMetrics) elbCode(code int) {
	if c := code/100 - 3; c >= 0 && c < 3 {
		lm.elb[c].Inc()
	}
}

// Describe implements prometheus.Collector for the host counts.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.healthy
	ch <- m.unhealthy
}

// Collect implements prometheus.Collector: host counts are read from the
// live health state at scrape time.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	for _, g := range m.b.liveGroups() {
		g.mu.Lock()
		healthy, unhealthy := 0, 0
		for _, t := range g.targets {
			switch {
			case t.draining.Load():
			case t.state == HealthHealthy:
				healthy++
			case t.state == HealthUnhealthy:
				unhealthy++
			}
		}
		dims, tg := g.lbDims, g.cfg.dimension
		g.mu.Unlock()
		for _, lb := range dims {
			ch <- prometheus.MustNewConstMetric(m.healthy, prometheus.GaugeValue, float64(healthy), lb, tg)
			ch <- prometheus.MustNewConstMetric(m.unhealthy, prometheus.GaugeValue, float64(unhealthy), lb, tg)
		}
	}
}
