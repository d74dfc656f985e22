package dns

import (
	"fmt"
	"strings"

	mdns "github.com/miekg/dns"
)

// buildZone checks z and builds its index. It changes nothing shared, so a
// failure leaves the served zones as they were.
func buildZone(z Zone) (*zoneIndex, error) {
	origin, err := parseName(z.Name)
	if err != nil {
		return nil, fmt.Errorf("zone name: %w", err)
	}
	ttl := z.TTL
	if ttl == 0 {
		ttl = DefaultZoneTTL
	}
	zi := &zoneIndex{origin: origin, nodes: make(map[string]*node, len(z.Records)+2), count: len(z.Records)}
	zi.nodes[origin] = &node{}

	type key struct {
		name   string
		rrtype uint16
	}
	groups := make(map[key]*group, len(z.Records))
	type idKey struct {
		key
		id string
	}
	ids := make(map[idKey]bool)
	for i, rs := range z.Records {
		where := recordWhere{i, rs.Name, rs.Type}
		name, err := parseName(rs.Name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if !mdns.IsSubDomain(origin, name) {
			return nil, fmt.Errorf("%s: %s is not in zone %s", where, name, origin)
		}
		t, ok := supportedTypes[strings.ToUpper(strings.TrimSpace(rs.Type))]
		if !ok {
			return nil, fmt.Errorf("%s: type %q is not one of A, AAAA, SRV, CNAME, TXT, MX, NS, SOA", where, rs.Type)
		}
		if len(rs.Values) == 0 {
			return nil, fmt.Errorf("%s: no values", where)
		}
		if t == mdns.TypeSOA && (name != origin || len(rs.Values) != 1) {
			return nil, fmt.Errorf("%s: a zone has one SOA record, at its apex", where)
		}
		set := routedSet{rrs: make([]mdns.RR, 0, len(rs.Values)), healthy: !rs.Unhealthy}
		for _, v := range rs.Values {
			rr, err := parseRR(name, t, rs.TTL, v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			set.rrs = append(set.rrs, rr)
		}
		if t == mdns.TypeCNAME && len(set.rrs) != 1 {
			return nil, fmt.Errorf("%s: a CNAME set has exactly one value", where)
		}
		p, err := setPolicy(rs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if rs.Weight != nil {
			set.weight = *rs.Weight
		}
		set.primary = strings.EqualFold(rs.Failover, "PRIMARY")

		k := key{name, t}
		g := groups[k]
		if g == nil {
			g = &group{rrtype: t, policy: p}
			groups[k] = g
			n := zi.node(name)
			n.groups = append(n.groups, g)
		} else if err := addable(g, p, rs); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if p != policySimple {
			if ids[idKey{k, rs.SetID}] {
				return nil, fmt.Errorf("%s: duplicate set identifier %q", where, rs.SetID)
			}
			ids[idKey{k, rs.SetID}] = true
		}
		g.sets = append(g.sets, set)
	}

	for name, n := range zi.nodes {
		if len(n.groups) > 1 && n.get(mdns.TypeCNAME) != nil {
			return nil, fmt.Errorf("%s has a CNAME and other records", name)
		}
		for _, g := range n.groups {
			g.finish()
		}
	}

	apex := zi.nodes[origin]
	if apex.get(mdns.TypeNS) == nil {
		ns := z.NS
		if len(ns) == 0 {
			ns = []string{"ns1." + origin}
		}
		g := &group{rrtype: mdns.TypeNS, sets: []routedSet{{healthy: true}}}
		for _, v := range ns {
			rr, err := parseRR(origin, mdns.TypeNS, ttl, v)
			if err != nil {
				return nil, fmt.Errorf("zone NS: %w", err)
			}
			g.sets[0].rrs = append(g.sets[0].rrs, rr)
		}
		g.finish()
		apex.groups = append(apex.groups, g)
	}
	if g := apex.get(mdns.TypeSOA); g != nil {
		zi.soa = g.sets[0].rrs
	} else {
		mname := apex.get(mdns.TypeNS).sets[0].rrs[0].(*mdns.NS).Ns
		soa := &mdns.SOA{
			Hdr:  mdns.RR_Header{Name: origin, Rrtype: mdns.TypeSOA, Class: mdns.ClassINET, Ttl: ttl},
			Ns:   mname,
			Mbox: "hostmaster." + origin, Serial: z.Serial,
			Refresh: 7200, Retry: 900, Expire: 1209600, Minttl: ttl,
		}
		if len(soa.Mbox) > 254 {
			soa.Mbox = "hostmaster."
		}
		zi.soa = []mdns.RR{soa}
		g := &group{rrtype: mdns.TypeSOA, sets: []routedSet{{rrs: zi.soa, healthy: true}}}
		g.finish()
		apex.groups = append(apex.groups, g)
	}
	return zi, nil
}

// recordWhere names a record set in errors, formatted only when one happens.
type recordWhere struct {
	i          int
	name, kind string
}

// String implements fmt.Stringer.
func (w recordWhere) String() string {
	return fmt.Sprintf("record set %d (%s %s)", w.i, w.name, w.kind)
}

// node returns the node of the canonical name, making it and every empty
// non-terminal between it and the apex.
func (zi *zoneIndex) node(name string) *node {
	n := zi.nodes[name]
	if n != nil {
		return n
	}
	n = &node{}
	zi.nodes[name] = n
	for off, end := mdns.NextLabel(name, 0); !end; off, end = mdns.NextLabel(name, off) {
		parent := name[off:]
		if _, ok := zi.nodes[parent]; ok || len(parent) <= len(zi.origin) {
			break
		}
		zi.nodes[parent] = &node{}
	}
	return n
}

// setPolicy says how one record set is routed, checking its routing fields.
func setPolicy(rs RRSet) (policy, error) {
	n := 0
	p := policySimple
	if rs.Weight != nil {
		n, p = n+1, policyWeighted
	}
	if rs.Failover != "" {
		if !strings.EqualFold(rs.Failover, "PRIMARY") && !strings.EqualFold(rs.Failover, "SECONDARY") {
			return 0, fmt.Errorf("failover %q is not PRIMARY or SECONDARY", rs.Failover)
		}
		n, p = n+1, policyFailover
	}
	if rs.MultiValue {
		n, p = n+1, policyMultiValue
	}
	if n > 1 {
		return 0, fmt.Errorf("a set has one routing policy: weight, failover or multivalue")
	}
	if p != policySimple && rs.SetID == "" {
		return 0, fmt.Errorf("a routed set needs a set identifier")
	}
	return p, nil
}

// addable checks that the set rs may join group g, which already holds
// earlier sets of the same name and type.
func addable(g *group, p policy, rs RRSet) error {
	if g.policy == policySimple || p == policySimple {
		return fmt.Errorf("duplicate record set: a name and type have one simple set, or routed sets only")
	}
	if p != g.policy {
		return fmt.Errorf("sets of one name and type must share one routing policy")
	}
	if p == policyFailover {
		for _, s := range g.sets {
			if s.primary == strings.EqualFold(rs.Failover, "PRIMARY") {
				return fmt.Errorf("a name and type have at most one %s failover set", strings.ToUpper(rs.Failover))
			}
		}
	}
	return nil
}

// finish computes the group's healthy list once the sets are known.
func (g *group) finish() {
	for i, s := range g.sets {
		if s.healthy {
			g.healthy = append(g.healthy, i)
		}
	}
	if len(g.healthy) == 0 {
		for i := range g.sets {
			g.healthy = append(g.healthy, i)
		}
	}
}
