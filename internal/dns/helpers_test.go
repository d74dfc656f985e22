package dns

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// startServer runs a Server on a free loopback port with the given zones and
// closes it when the test ends.
func startServer(t testing.TB, o Options, zones ...Zone) *Server {
	t.Helper()
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	s, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	for _, z := range zones {
		if err := s.SetZone(z); err != nil {
			t.Fatalf("SetZone %s: %v", z.Name, err)
		}
	}
	return s
}

// exchange sends m to addr over network ("udp" or "tcp") with the library's
// client and returns the answer.
func exchange(t testing.TB, network, addr string, m *mdns.Msg) *mdns.Msg {
	t.Helper()
	c := &mdns.Client{Net: network, Timeout: 3 * time.Second, UDPSize: 65535}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("exchange %v over %s: %v", m.Question, network, err)
	}
	return r
}

// rawExchange sends raw bytes over UDP and returns the raw answer.
func rawExchange(t testing.TB, addr string, b []byte) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no answer to a raw query: %v", err)
	}
	return buf[:n]
}

// question builds a query for name and type with RD set and no EDNS0.
func question(name string, qtype uint16) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	return m
}

// withEDNS adds an OPT record advertising size.
func withEDNS(m *mdns.Msg, size uint16) *mdns.Msg {
	m.SetEdns0(size, false)
	return m
}

// rrStrings renders records without OPT, for messages.
func rrStrings(rrs []mdns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype != mdns.TypeOPT {
			out = append(out, rr.String())
		}
	}
	return out
}

// longName returns a name of exactly n presentation characters (without the
// trailing dot) ending in zone (e.g. "local").
func longName(n int, zone string) string {
	var labels []string
	rest := n - len(zone) // room for "label." repeated before zone
	for rest > 0 {
		l := min(63, rest-1) // label plus its dot
		if rest-(l+1) == 1 { // never leave a gap that only a dot would fill
			l--
		}
		if l <= 0 {
			l = 1
		}
		labels = append(labels, strings.Repeat("a", l))
		rest -= l + 1
	}
	name := strings.Join(append(labels, zone), ".")
	if len(name) != n {
		panic(fmt.Sprintf("longName(%d) made %d characters", n, len(name)))
	}
	return name
}

func u32(v uint32) *uint32 { return &v }
