package dns

import (
	"testing"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := startServer(t, Options{Registerer: reg}, testZone())
	for range 3 {
		exchange(t, "udp", s.Addr(), question("web.local.", mdns.TypeA))
	}
	exchange(t, "tcp", s.Addr(), question("nope.local.", mdns.TypeAAAA))
	exchange(t, "udp", s.Addr(), question("example.com.", mdns.TypeA))
	if got := testutil.ToFloat64(s.metrics.queries.WithLabelValues("NOERROR", "A")); got != 3 {
		t.Errorf("NOERROR A count %v, want 3", got)
	}
	if got := testutil.ToFloat64(s.metrics.queries.WithLabelValues("NXDOMAIN", "AAAA")); got != 1 {
		t.Errorf("NXDOMAIN AAAA count %v, want 1", got)
	}
	if got := testutil.ToFloat64(s.metrics.queries.WithLabelValues("REFUSED", "A")); got != 1 {
		t.Errorf("REFUSED A count %v, want 1", got)
	}
	if n, err := testutil.GatherAndCount(reg, "flotta_dns_request_duration_seconds"); err != nil || n != 1 {
		t.Errorf("latency histogram: %d series, %v", n, err)
	}
	// A second server on the same registry shares the collectors.
	s2 := startServer(t, Options{Registerer: reg}, testZone())
	exchange(t, "udp", s2.Addr(), question("web.local.", mdns.TypeA))
	if got := testutil.ToFloat64(s.metrics.queries.WithLabelValues("NOERROR", "A")); got != 4 {
		t.Errorf("NOERROR A count %v after a second server's answer, want 4", got)
	}
}
