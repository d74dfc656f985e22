package dns

import (
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// testZone is the zone most conformance rows ask.
func testZone() Zone {
	long := longName(253, "local")
	var big []string
	for i := range 100 {
		big = append(big, fmt.Sprintf("10.1.%d.%d", i/250, i%250+1))
	}
	var multi []RRSet
	for i := range 20 {
		multi = append(multi, RRSet{Name: "multi.local", Type: "A", TTL: 10, SetID: fmt.Sprint("m", i),
			MultiValue: true, Unhealthy: i >= 15, Values: []string{fmt.Sprintf("10.3.0.%d", i)}})
	}
	var sick []RRSet
	for i := range 3 {
		sick = append(sick, RRSet{Name: "sick.local", Type: "A", TTL: 10, SetID: fmt.Sprint("s", i),
			MultiValue: true, Unhealthy: true, Values: []string{fmt.Sprintf("10.4.0.%d", i)}})
	}
	return Zone{
		Name: "Local", Serial: 42, TTL: 90, NS: []string{"ns1.local.", "ns2.local"},
		Records: append(append([]RRSet{
			{Name: "web.local.", Type: "A", TTL: 30, Values: []string{"10.0.0.1", "10.0.0.2"}},
			{Name: "v6.local", Type: "AAAA", TTL: 31, Values: []string{"2001:db8::1"}},
			{Name: "_http._tcp.web.local", Type: "SRV", TTL: 32, Values: []string{"1 10 8080 web.local.", "2 10 8081 v6.local"}},
			{Name: "alias.local", Type: "CNAME", TTL: 33, Values: []string{"web.local."}},
			{Name: "alias2.local", Type: "CNAME", TTL: 33, Values: []string{"alias.local."}},
			{Name: "ext.local", Type: "CNAME", TTL: 34, Values: []string{"www.example.com."}},
			{Name: "dangling.local", Type: "CNAME", TTL: 34, Values: []string{"gone.local."}},
			{Name: "loop1.local", Type: "CNAME", TTL: 35, Values: []string{"loop2.local."}},
			{Name: "loop2.local", Type: "CNAME", TTL: 35, Values: []string{"loop1.local."}},
			{Name: "txt.local", Type: "TXT", TTL: 36, Values: []string{`"some text"`, `"a" "b c"`}},
			{Name: "local", Type: "MX", TTL: 37, Values: []string{"10 mail.local."}},
			{Name: "mail.local", Type: "A", TTL: 38, Values: []string{"10.0.0.25"}},
			{Name: "ns1.local", Type: "A", TTL: 39, Values: []string{"10.0.0.53"}},
			{Name: "a.b.local", Type: "A", TTL: 40, Values: []string{"10.0.0.7"}},
			{Name: "*.local", Type: "A", TTL: 41, Values: []string{"10.9.9.9"}},
			{Name: long, Type: "A", TTL: 42, Values: []string{"10.0.0.253"}},
			{Name: "big.local", Type: "A", TTL: 43, Values: big},
			{Name: "fo.local", Type: "A", TTL: 44, SetID: "p", Failover: "PRIMARY", Values: []string{"10.2.0.1"}},
			{Name: "fo.local", Type: "A", TTL: 44, SetID: "s", Failover: "SECONDARY", Values: []string{"10.2.0.2"}},
			{Name: "fodown.local", Type: "A", TTL: 45, SetID: "p", Failover: "PRIMARY", Unhealthy: true, Values: []string{"10.2.1.1"}},
			{Name: "fodown.local", Type: "A", TTL: 45, SetID: "s", Failover: "SECONDARY", Values: []string{"10.2.1.2"}},
			{Name: "foall.local", Type: "A", TTL: 46, SetID: "p", Failover: "PRIMARY", Unhealthy: true, Values: []string{"10.2.2.1"}},
			{Name: "foall.local", Type: "A", TTL: 46, SetID: "s", Failover: "SECONDARY", Unhealthy: true, Values: []string{"10.2.2.2"}},
			{Name: "w1.local", Type: "A", TTL: 47, SetID: "only", Weight: u32(5), Values: []string{"10.5.0.1"}},
		}, multi...), sick...),
	}
}

// row is one conformance case: a query, where it goes, and what the answer
// must be.
type row struct {
	name   string
	server string // "" = the server of testZone, "fwd" = one forwarding to an upstream
	net    string // "udp" (default) or "tcp"
	q      *mdns.Msg
	raw    []byte // sent as is over UDP instead of q

	rcode    int
	aa       bool
	tc       bool
	answers  []string // exact answer section (order-free), in presentation form
	nAnswers int      // when answers is nil: the number of answer records (-1 = do not check)
	soaNeg   bool     // authority holds exactly the zone's SOA, TTL 90
	extra    []string // records the additional section must hold
	maxSize  int      // the packed answer must be at most this big
	check    func(t *testing.T, r *mdns.Msg)
}

func TestConformance(t *testing.T) {
	main := startServer(t, Options{}, testZone())

	up := upstream(t)
	fwd := startServer(t, Options{Upstream: up}, testZone())

	long := longName(253, "local")
	rows := []row{
		{name: "A: authoritative, both values, TTL as given", q: question("web.local.", mdns.TypeA), aa: true,
			answers: []string{"web.local.\t30\tIN\tA\t10.0.0.1", "web.local.\t30\tIN\tA\t10.0.0.2"}},
		{name: "A over TCP", net: "tcp", q: question("web.local.", mdns.TypeA), aa: true,
			answers: []string{"web.local.\t30\tIN\tA\t10.0.0.1", "web.local.\t30\tIN\tA\t10.0.0.2"}},
		{name: "AAAA", q: question("v6.local.", mdns.TypeAAAA), aa: true,
			answers: []string{"v6.local.\t31\tIN\tAAAA\t2001:db8::1"}},
		{name: "SRV with targets' addresses in additional", q: question("_http._tcp.web.local.", mdns.TypeSRV), aa: true,
			answers: []string{"_http._tcp.web.local.\t32\tIN\tSRV\t1 10 8080 web.local.", "_http._tcp.web.local.\t32\tIN\tSRV\t2 10 8081 v6.local."},
			extra:   []string{"web.local.\t30\tIN\tA\t10.0.0.1", "web.local.\t30\tIN\tA\t10.0.0.2", "v6.local.\t31\tIN\tAAAA\t2001:db8::1"}},
		{name: "CNAME chased within the zone", q: question("alias.local.", mdns.TypeA), aa: true,
			answers: []string{"alias.local.\t33\tIN\tCNAME\tweb.local.", "web.local.\t30\tIN\tA\t10.0.0.1", "web.local.\t30\tIN\tA\t10.0.0.2"}},
		{name: "CNAME chain of two", q: question("alias2.local.", mdns.TypeA), aa: true,
			answers: []string{"alias2.local.\t33\tIN\tCNAME\talias.local.", "alias.local.\t33\tIN\tCNAME\tweb.local.", "web.local.\t30\tIN\tA\t10.0.0.1", "web.local.\t30\tIN\tA\t10.0.0.2"}},
		{name: "CNAME asked as CNAME is not chased", q: question("alias.local.", mdns.TypeCNAME), aa: true,
			answers: []string{"alias.local.\t33\tIN\tCNAME\tweb.local."}},
		{name: "CNAME chased to NODATA of the target", q: question("alias.local.", mdns.TypeAAAA), aa: true,
			answers: []string{"alias.local.\t33\tIN\tCNAME\tweb.local."}, soaNeg: true},
		{name: "CNAME to a missing name of the zone is NXDOMAIN", q: question("dangling.local.", mdns.TypeA), aa: true,
			rcode: mdns.RcodeNameError, answers: []string{"dangling.local.\t34\tIN\tCNAME\tgone.local."}, soaNeg: true},
		{name: "CNAME out of the zone is not chased", q: question("ext.local.", mdns.TypeA), aa: true,
			answers: []string{"ext.local.\t34\tIN\tCNAME\twww.example.com."}},
		{name: "CNAME loop ends", q: question("loop1.local.", mdns.TypeA), aa: true,
			answers: []string{"loop1.local.\t35\tIN\tCNAME\tloop2.local.", "loop2.local.\t35\tIN\tCNAME\tloop1.local."}},
		{name: "TXT", q: question("txt.local.", mdns.TypeTXT), aa: true,
			answers: []string{"txt.local.\t36\tIN\tTXT\t\"some text\"", "txt.local.\t36\tIN\tTXT\t\"a\" \"b c\""}},
		{name: "MX with the exchange's address", q: question("local.", mdns.TypeMX), aa: true,
			answers: []string{"local.\t37\tIN\tMX\t10 mail.local."}, extra: []string{"mail.local.\t38\tIN\tA\t10.0.0.25"}},
		{name: "NS of the apex", q: question("local.", mdns.TypeNS), aa: true,
			answers: []string{"local.\t90\tIN\tNS\tns1.local.", "local.\t90\tIN\tNS\tns2.local."}, extra: []string{"ns1.local.\t39\tIN\tA\t10.0.0.53"}},
		{name: "SOA of the apex", q: question("local.", mdns.TypeSOA), aa: true,
			answers: []string{"local.\t90\tIN\tSOA\tns1.local. hostmaster.local. 42 7200 900 1209600 90"}},
		{name: "NXDOMAIN with the SOA and negative TTL", q: question("nope.local.", mdns.TypeA), aa: true,
			rcode: mdns.RcodeNameError, nAnswers: 0, soaNeg: true},
		{name: "NODATA: name has A, asked AAAA", q: question("web.local.", mdns.TypeAAAA), aa: true,
			nAnswers: 0, soaNeg: true},
		{name: "NODATA: empty non-terminal", q: question("b.local.", mdns.TypeA), aa: true,
			nAnswers: 0, soaNeg: true},
		{name: "below an existing name is NXDOMAIN", q: question("x.web.local.", mdns.TypeA), aa: true,
			rcode: mdns.RcodeNameError, nAnswers: 0, soaNeg: true},
		{name: "case insensitive, question echoed as asked", q: question("WeB.LoCaL.", mdns.TypeA), aa: true, nAnswers: 2,
			check: func(t *testing.T, r *mdns.Msg) {
				if len(r.Question) != 1 || r.Question[0].Name != "WeB.LoCaL." {
					t.Errorf("question %v, want WeB.LoCaL. echoed", r.Question)
				}
			}},
		{name: "a * label is a literal name", q: question("*.local.", mdns.TypeA), aa: true,
			answers: []string{"*.local.\t41\tIN\tA\t10.9.9.9"}},
		{name: "no wildcard expansion", q: question("x.local.", mdns.TypeA), aa: true,
			rcode: mdns.RcodeNameError, nAnswers: 0, soaNeg: true},
		{name: "a name of 253 characters", q: question(long+".", mdns.TypeA), aa: true,
			answers: []string{long + ".\t42\tIN\tA\t10.0.0.253"}},
		{name: "a name of 254 characters is FORMERR", raw: rawQuery(0x1234, longName(254, "local"), mdns.TypeA),
			rcode: mdns.RcodeFormatError, nAnswers: 0, check: func(t *testing.T, r *mdns.Msg) {
				if r.Id != 0x1234 {
					t.Errorf("id %#x, want 0x1234 echoed", r.Id)
				}
			}},
		{name: "100 A without EDNS0: truncated to 512", q: question("big.local.", mdns.TypeA), aa: true, tc: true,
			nAnswers: -1, maxSize: 512},
		{name: "100 A with EDNS0 4096: truncated to our 1232, OPT echoed", q: withEDNS(question("big.local.", mdns.TypeA), 4096),
			aa: true, tc: true, nAnswers: -1, maxSize: 1232, check: func(t *testing.T, r *mdns.Msg) {
				opt := r.IsEdns0()
				if opt == nil || opt.UDPSize() != 1232 {
					t.Errorf("OPT %v, want one advertising 1232", opt)
				}
				if len(r.Answer) < 30 {
					t.Errorf("%d answers in 1232 bytes, want what fits (more than 30)", len(r.Answer))
				}
			}},
		{name: "100 A with EDNS0 700: truncated to 700", q: withEDNS(question("big.local.", mdns.TypeA), 700),
			aa: true, tc: true, nAnswers: -1, maxSize: 700},
		{name: "100 A with EDNS0 100: at least 512 allowed", q: withEDNS(question("big.local.", mdns.TypeA), 100),
			aa: true, tc: true, nAnswers: -1, maxSize: 512, check: func(t *testing.T, r *mdns.Msg) {
				if len(r.Answer) < 20 {
					t.Errorf("%d answers, want what fits in 512", len(r.Answer))
				}
			}},
		{name: "100 A over TCP: whole", net: "tcp", q: question("big.local.", mdns.TypeA), aa: true, nAnswers: 100},
		{name: "EDNS0 version 1 is BADVERS", q: func() *mdns.Msg {
			m := withEDNS(question("web.local.", mdns.TypeA), 1232)
			m.IsEdns0().SetVersion(1)
			return m
		}(), rcode: mdns.RcodeBadVers, nAnswers: 0},
		{name: "ANY answers every type of the name", q: question("local.", mdns.TypeANY), aa: true, nAnswers: 4,
			check: func(t *testing.T, r *mdns.Msg) {
				types := map[uint16]bool{}
				for _, rr := range r.Answer {
					types[rr.Header().Rrtype] = true
				}
				if !types[mdns.TypeMX] || !types[mdns.TypeNS] || !types[mdns.TypeSOA] {
					t.Errorf("ANY at the apex: %v, want MX, NS and SOA", rrStrings(r.Answer))
				}
			}},
		{name: "EDNS0 DO bit echoed", q: func() *mdns.Msg {
			m := question("web.local.", mdns.TypeA)
			m.SetEdns0(1232, true)
			return m
		}(), aa: true, nAnswers: 2, check: func(t *testing.T, r *mdns.Msg) {
			if opt := r.IsEdns0(); opt == nil || !opt.Do() {
				t.Errorf("OPT %v, want DO echoed", opt)
			}
		}},
		{name: "no EDNS0 in, none out", q: question("web.local.", mdns.TypeA), aa: true, nAnswers: 2,
			check: func(t *testing.T, r *mdns.Msg) {
				if r.IsEdns0() != nil {
					t.Errorf("an OPT record answered a query without one")
				}
			}},
		{name: "outside our zones: REFUSED, no recursion", q: question("www.example.com.", mdns.TypeA),
			rcode: mdns.RcodeRefused, nAnswers: 0},
		{name: "class CHAOS is REFUSED", q: func() *mdns.Msg {
			m := question("web.local.", mdns.TypeTXT)
			m.Question[0].Qclass = mdns.ClassCHAOS
			return m
		}(), rcode: mdns.RcodeRefused, nAnswers: 0},
		{name: "zone transfer is REFUSED", net: "tcp", q: question("local.", mdns.TypeAXFR), rcode: mdns.RcodeRefused, nAnswers: 0},
		{name: "outside our zones with an upstream: forwarded", server: "fwd", q: question("www.example.com.", mdns.TypeA),
			answers: []string{"www.example.com.\t300\tIN\tA\t192.0.2.80"}},
		{name: "forwarded NXDOMAIN comes back", server: "fwd", q: question("nope.example.com.", mdns.TypeA),
			rcode: mdns.RcodeNameError, nAnswers: 0},
		{name: "owned names are not forwarded", server: "fwd", q: question("web.local.", mdns.TypeA), aa: true, nAnswers: 2},
		{name: "opcode STATUS is NOTIMP", q: func() *mdns.Msg {
			m := question("web.local.", mdns.TypeA)
			m.Opcode = mdns.OpcodeStatus
			return m
		}(), rcode: mdns.RcodeNotImplemented, nAnswers: 0},
		{name: "opcode UPDATE is NOTIMP", q: func() *mdns.Msg {
			m := question("local.", mdns.TypeSOA)
			m.Opcode = mdns.OpcodeUpdate
			return m
		}(), rcode: mdns.RcodeNotImplemented, nAnswers: 0},
		{name: "two questions are FORMERR", q: func() *mdns.Msg {
			m := question("web.local.", mdns.TypeA)
			m.Question = append(m.Question, mdns.Question{Name: "v6.local.", Qtype: mdns.TypeAAAA, Qclass: mdns.ClassINET})
			return m
		}(), rcode: mdns.RcodeFormatError, nAnswers: 0},
		{name: "no question is FORMERR", q: &mdns.Msg{MsgHdr: mdns.MsgHdr{Id: 7}}, rcode: mdns.RcodeFormatError, nAnswers: 0},
		{name: "garbage after the header is FORMERR", raw: append(rawHeader(0x4242, 1), 0x05, 'a', 'b'),
			rcode: mdns.RcodeFormatError, nAnswers: 0},
		{name: "a label pointing to itself is FORMERR", raw: append(rawHeader(0x4343, 1), 0xC0, 12, 0, 1, 0, 1),
			rcode: mdns.RcodeFormatError, nAnswers: 0},
		{name: "routing simple set: all values", q: question("web.local.", mdns.TypeA), aa: true, nAnswers: 2},
		{name: "routing failover: healthy primary", q: question("fo.local.", mdns.TypeA), aa: true,
			answers: []string{"fo.local.\t44\tIN\tA\t10.2.0.1"}},
		{name: "routing failover: unhealthy primary gives the secondary", q: question("fodown.local.", mdns.TypeA), aa: true,
			answers: []string{"fodown.local.\t45\tIN\tA\t10.2.1.2"}},
		{name: "routing failover: both unhealthy gives the primary", q: question("foall.local.", mdns.TypeA), aa: true,
			answers: []string{"foall.local.\t46\tIN\tA\t10.2.2.1"}},
		{name: "routing weighted: one set", q: question("w1.local.", mdns.TypeA), aa: true,
			answers: []string{"w1.local.\t47\tIN\tA\t10.5.0.1"}},
		{name: "routing multivalue: 8 distinct healthy sets", q: question("multi.local.", mdns.TypeA), aa: true, nAnswers: 8,
			check: func(t *testing.T, r *mdns.Msg) {
				seen := map[string]bool{}
				for _, rr := range r.Answer {
					ip := rr.(*mdns.A).A.String()
					var i int
					fmt.Sscanf(ip, "10.3.0.%d", &i)
					if i >= 15 {
						t.Errorf("unhealthy set %s answered", ip)
					}
					if seen[ip] {
						t.Errorf("%s answered twice", ip)
					}
					seen[ip] = true
				}
			}},
		{name: "routing multivalue: all unhealthy answers them all", q: question("sick.local.", mdns.TypeA), aa: true, nAnswers: 3},
	}

	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			srv := main
			if tc.server == "fwd" {
				srv = fwd
			}
			var r *mdns.Msg
			var size int
			raw := tc.raw
			if raw == nil && tc.maxSize > 0 {
				// Sizes are measured on the wire: the library's client does
				// not say how big the datagram was.
				var err error
				if raw, err = tc.q.Pack(); err != nil {
					t.Fatal(err)
				}
			}
			if raw != nil {
				b := rawExchange(t, srv.Addr(), raw)
				size = len(b)
				r = new(mdns.Msg)
				if err := r.Unpack(b); err != nil {
					t.Fatalf("answer does not unpack: %v", err)
				}
			} else {
				network := tc.net
				if network == "" {
					network = "udp"
				}
				r = exchange(t, network, srv.Addr(), tc.q)
				if len(r.Question) > 0 && len(tc.q.Question) > 0 && r.Question[0] != tc.q.Question[0] {
					t.Errorf("question %v, want %v echoed", r.Question[0], tc.q.Question[0])
				}
				if r.Id != tc.q.Id {
					t.Errorf("id %d, want %d", r.Id, tc.q.Id)
				}
			}
			if !r.Response {
				t.Errorf("QR not set")
			}
			if r.Rcode != tc.rcode {
				t.Errorf("rcode %s, want %s", mdns.RcodeToString[r.Rcode], mdns.RcodeToString[tc.rcode])
			}
			if r.Authoritative != tc.aa {
				t.Errorf("AA %v, want %v", r.Authoritative, tc.aa)
			}
			if r.RecursionAvailable {
				t.Errorf("RA set: we do not recurse")
			}
			if r.Truncated != tc.tc {
				t.Errorf("TC %v, want %v", r.Truncated, tc.tc)
			}
			got := rrStrings(r.Answer)
			switch {
			case tc.answers != nil:
				if !sameSet(got, tc.answers) {
					t.Errorf("answer\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.answers, "\n"))
				}
			case tc.nAnswers >= 0 && len(got) != tc.nAnswers:
				t.Errorf("%d answers, want %d:\n%s", len(got), tc.nAnswers, strings.Join(got, "\n"))
			}
			if tc.soaNeg {
				ns := rrStrings(r.Ns)
				want := "local.\t90\tIN\tSOA\tns1.local. hostmaster.local. 42 7200 900 1209600 90"
				if len(ns) != 1 || ns[0] != want {
					t.Errorf("authority %q, want the SOA %q", ns, want)
				}
			} else if len(r.Ns) != 0 && tc.rcode == mdns.RcodeSuccess {
				t.Errorf("authority %v, want none", rrStrings(r.Ns))
			}
			extra := rrStrings(r.Extra)
			for _, e := range tc.extra {
				if !slices.Contains(extra, e) {
					t.Errorf("additional %q lacks %q", extra, e)
				}
			}
			if tc.maxSize > 0 && size > tc.maxSize {
				t.Errorf("answer of %d bytes, want at most %d", size, tc.maxSize)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// upstream runs a plain miekg/dns server that owns example.com, for
// forwarding rows, and returns its address.
func upstream(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := mdns.HandlerFunc(func(w mdns.ResponseWriter, q *mdns.Msg) {
		m := new(mdns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		m.RecursionAvailable = false
		if q.Question[0].Name == "www.example.com." && q.Question[0].Qtype == mdns.TypeA {
			rr, _ := mdns.NewRR("www.example.com. 300 IN A 192.0.2.80")
			m.Answer = []mdns.RR{rr}
		} else {
			m.Rcode = mdns.RcodeNameError
		}
		m.Authoritative = false // so the rows can tell that the answer is the upstream's... and AA=false
		w.WriteMsg(m)
	})
	started := make(chan struct{})
	srv := &mdns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: func() { close(started) }}
	go srv.ActivateAndServe()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("upstream did not start")
	}
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

// rawHeader is a query header with id and qdcount and nothing else.
func rawHeader(id uint16, qd uint16) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint16(b, id)
	b[2] = 0x01 // RD
	binary.BigEndian.PutUint16(b[4:], qd)
	return b
}

// rawQuery packs a query by hand, so that it may break the library's limits
// (a name longer than 255 octets).
func rawQuery(id uint16, name string, qtype uint16) []byte {
	b := rawHeader(id, 1)
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	b = append(b, 0, byte(qtype>>8), byte(qtype), 0, 1)
	return b
}
