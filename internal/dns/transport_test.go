package dns

import (
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// TestTCPConnectionReuse: several queries on one TCP connection are answered
// in turn.
func TestTCPConnectionReuse(t *testing.T) {
	s := startServer(t, Options{}, testZone())
	c := &mdns.Client{Net: "tcp", Timeout: 3 * time.Second}
	conn, err := c.Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i, name := range []string{"web.local.", "v6.local.", "big.local.", "nope.local."} {
		r, _, err := c.ExchangeWithConn(question(name, mdns.TypeA), conn)
		if err != nil {
			t.Fatalf("query %d (%s) on the same connection: %v", i, name, err)
		}
		if r.Question[0].Name != name {
			t.Fatalf("query %d: answer for %s", i, r.Question[0].Name)
		}
	}
}

// TestUpstreamDown: a forwarding server whose upstream does not answer says
// SERVFAIL, and still answers its own names.
func TestUpstreamDown(t *testing.T) {
	s := startServer(t, Options{Upstream: "127.0.0.1:1"}, testZone())
	r := exchange(t, "udp", s.Addr(), question("www.example.com.", mdns.TypeA))
	if r.Rcode != mdns.RcodeServerFailure || r.Authoritative {
		t.Errorf("rcode %s AA %v, want SERVFAIL without AA", mdns.RcodeToString[r.Rcode], r.Authoritative)
	}
	r = exchange(t, "tcp", s.Addr(), withEDNS(question("www.example.com.", mdns.TypeA), 1232))
	if r.Rcode != mdns.RcodeServerFailure || r.IsEdns0() == nil {
		t.Errorf("over TCP with EDNS0: rcode %s OPT %v, want SERVFAIL with OPT", mdns.RcodeToString[r.Rcode], r.IsEdns0())
	}
	if r := exchange(t, "udp", s.Addr(), question("web.local.", mdns.TypeA)); len(r.Answer) != 2 {
		t.Errorf("own name: %v", r)
	}
}

// TestCloseStopsServing: after Close the port answers no more and Close
// again is harmless.
func TestCloseStopsServing(t *testing.T) {
	s, err := New(Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	c := &mdns.Client{Net: "tcp", Timeout: time.Second}
	if _, _, err := c.Exchange(question("web.local.", mdns.TypeA), addr); err == nil {
		t.Errorf("a closed server answered over TCP")
	}
}
