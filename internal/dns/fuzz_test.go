package dns

import (
	"testing"

	mdns "github.com/miekg/dns"
)

// FuzzHandle feeds raw bytes to the message handler as a UDP and as a TCP
// query. It must never panic; an answer must unpack, echo the query's id, and
// over UDP be no larger than the size the query allows (512 without EDNS0,
// the advertised size clamped to 512..1232 with it).
func FuzzHandle(f *testing.F) {
	s, err := newServer(Options{})
	if err != nil {
		f.Fatal(err)
	}
	if err := s.SetZone(testZone()); err != nil {
		f.Fatal(err)
	}
	for _, m := range []*mdns.Msg{
		question("web.local.", mdns.TypeA),
		withEDNS(question("big.local.", mdns.TypeA), 4096),
		withEDNS(question("_http._tcp.web.local.", mdns.TypeSRV), 600),
		question("alias.local.", mdns.TypeA),
		question("nope.local.", mdns.TypeTXT),
		question("multi.local.", mdns.TypeANY),
		question("www.example.com.", mdns.TypeA),
	} {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(rawQuery(1, longName(254, "local"), mdns.TypeA))
	f.Add(append(rawHeader(2, 1), 0xC0, 12, 0, 1, 0, 1))
	f.Add([]byte{0, 1, 2})
	buf := make([]byte, 65535)
	f.Fuzz(func(t *testing.T, req []byte) {
		for _, tcp := range []bool{false, true} {
			resp, fwd := s.handle(req, tcp, buf)
			if fwd != nil {
				t.Fatalf("a server without an upstream wants to forward")
			}
			if resp == nil {
				if len(req) >= 12 && req[2]&0x80 == 0 {
					t.Fatalf("no answer to a query with a header")
				}
				continue
			}
			var m mdns.Msg
			if err := m.Unpack(resp); err != nil {
				t.Fatalf("our answer does not unpack: %v", err)
			}
			if m.Id != uint16(req[0])<<8|uint16(req[1]) || !m.Response {
				t.Fatalf("answer id %d QR %v, query id %d", m.Id, m.Response, uint16(req[0])<<8|uint16(req[1]))
			}
			if tcp {
				continue
			}
			limit := minUDP
			var q mdns.Msg
			if q.Unpack(req) == nil {
				limit = udpLimit(q.IsEdns0())
			}
			if len(resp) > limit {
				t.Fatalf("UDP answer of %d bytes, the query allows %d", len(resp), limit)
			}
		}
	})
}
