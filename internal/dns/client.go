package dns

import (
	"context"
	"fmt"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// Answer is what a DNS server said to one query made by [Query].
type Answer struct {
	// Rcode is the response code's name: "NOERROR", "NXDOMAIN", "REFUSED", ...
	Rcode string
	// Authoritative is the AA bit: the server owns the name.
	Authoritative bool
	// RecursionAvailable is the RA bit.
	RecursionAvailable bool
	// Truncated is the TC bit of the final answer (false after a successful
	// retry over TCP).
	Truncated bool
	// TCP says the answer came over TCP because the UDP answer was truncated.
	TCP bool
	// Records are the answer section's records, one presentation line each
	// ("web.local.\t60\tIN\tA\t10.0.0.1").
	Records []string
	// Authority and Additional are the other sections, likewise (the OPT
	// record left out).
	Authority  []string
	Additional []string
	// RTT is the time of the last exchange.
	RTT time.Duration
}

// Query asks the server at addr (host:port) for name and qtype ("A", "SRV",
// ...) over UDP with EDNS0 (1232 bytes), and asks again over TCP when the
// answer is truncated. ctx bounds the whole exchange; without a deadline each
// exchange gives up after 5 seconds.
func Query(ctx context.Context, addr, name, qtype string) (*Answer, error) {
	t, ok := mdns.StringToType[strings.ToUpper(qtype)]
	if !ok {
		return nil, fmt.Errorf("unknown DNS type %q", qtype)
	}
	if _, ok := mdns.IsDomainName(name); !ok || name == "" {
		return nil, fmt.Errorf("%q is not a domain name", name)
	}
	q := new(mdns.Msg)
	q.SetQuestion(mdns.Fqdn(name), t)
	q.RecursionDesired = true
	q.SetEdns0(ourMaxUDP, false)
	c := &mdns.Client{Net: "udp", Timeout: 5 * time.Second, UDPSize: ourMaxUDP}
	r, rtt, err := c.ExchangeContext(ctx, q, addr)
	viaTCP := false
	if err == nil && r.Truncated {
		c.Net, viaTCP = "tcp", true
		r, rtt, err = c.ExchangeContext(ctx, q, addr)
	}
	if err != nil {
		return nil, fmt.Errorf("dns query %s %s at %s: %w", name, qtype, addr, err)
	}
	a := &Answer{
		Rcode:              mdns.RcodeToString[r.Rcode],
		Authoritative:      r.Authoritative,
		RecursionAvailable: r.RecursionAvailable,
		Truncated:          r.Truncated,
		TCP:                viaTCP,
		Records:            lines(r.Answer),
		Authority:          lines(r.Ns),
		Additional:         lines(r.Extra),
		RTT:                rtt,
	}
	if a.Rcode == "" {
		a.Rcode = fmt.Sprintf("RCODE%d", r.Rcode)
	}
	return a, nil
}

// lines renders records in presentation format, leaving OPT records out.
func lines(rrs []mdns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == mdns.TypeOPT {
			continue
		}
		out = append(out, rr.String())
	}
	return out
}
