package dns

import mdns "github.com/miekg/dns"

// maxChase is how many CNAMEs one answer follows.
const maxChase = 8

// answer fills m with the authoritative answer for the canonical name in zone
// z. Names are not expanded from wildcards: a "*" label is a literal name.
func (s *Server) answer(t *table, z *zoneIndex, m *mdns.Msg, name string, qtype uint16) {
	m.Authoritative = true
	for hop := 0; ; hop++ {
		n := z.nodes[name]
		if n == nil {
			m.Rcode = mdns.RcodeNameError
			m.Ns = z.soa
			return
		}
		if qtype == mdns.TypeANY {
			for _, g := range n.groups {
				m.Answer = append(m.Answer, route(g, s.intn)...)
			}
			break
		}
		if g := n.get(qtype); g != nil {
			m.Answer = append(m.Answer, route(g, s.intn)...)
			break
		}
		c := n.get(mdns.TypeCNAME)
		if c == nil { // the name exists without this type: NODATA
			m.Ns = z.soa
			return
		}
		rrs := route(c, s.intn)
		m.Answer = append(m.Answer, rrs...)
		target := rrs[0].(*mdns.CNAME).Target
		if hop+1 >= maxChase || t.find(target) != z || seen(m.Answer, target) {
			return // the resolver follows it from here
		}
		name = target
	}
	s.additional(t, m)
}

// seen reports whether the chain already passed through name (a CNAME loop).
func seen(answer []mdns.RR, name string) bool {
	for _, rr := range answer {
		if rr.Header().Name == name {
			return true
		}
	}
	return false
}

// additional adds the addresses of the SRV and MX targets and of the apex
// name servers in the answer, when they are names of our zones.
func (s *Server) additional(t *table, m *mdns.Msg) {
	var done []string
	for _, rr := range m.Answer {
		var target string
		switch v := rr.(type) {
		case *mdns.SRV:
			target = v.Target
		case *mdns.MX:
			target = v.Mx
		case *mdns.NS:
			target = v.Ns
		default:
			continue
		}
		dup := false
		for _, d := range done {
			dup = dup || d == target
		}
		if dup {
			continue
		}
		done = append(done, target)
		z := t.find(target)
		if z == nil {
			continue
		}
		n := z.nodes[target]
		if n == nil {
			continue
		}
		for _, typ := range [2]uint16{mdns.TypeA, mdns.TypeAAAA} {
			if g := n.get(typ); g != nil {
				m.Extra = append(m.Extra, route(g, s.intn)...)
			}
		}
	}
}
