package dns

import mdns "github.com/miekg/dns"

// table is the immutable set of zones that queries read. It is replaced whole,
// never changed.
type table struct {
	zones map[string]*zoneIndex // by canonical apex
}

// find returns the zone that owns the canonical name qname: the one with the
// longest apex that is a suffix of it, or nil.
func (t *table) find(qname string) *zoneIndex {
	if len(t.zones) == 0 {
		return nil
	}
	for off := 0; ; {
		if z := t.zones[qname[off:]]; z != nil {
			return z
		}
		var end bool
		off, end = mdns.NextLabel(qname, off)
		if end {
			return t.zones["."]
		}
	}
}

// zoneIndex is one zone ready to answer from. It is built by SetZone and never
// changed afterwards.
type zoneIndex struct {
	origin string    // canonical apex
	soa    []mdns.RR // the SOA record, for negative answers and SOA queries
	nodes  map[string]*node
	count  int // record sets, for logs
}

// node is one owner name of a zone. A node with no groups is an empty
// non-terminal: it exists because a name below it does.
type node struct {
	groups []*group // one per type, at most a handful
}

// get returns the group of type t, or nil.
func (n *node) get(t uint16) *group {
	for _, g := range n.groups {
		if g.rrtype == t {
			return g
		}
	}
	return nil
}

// policy is how the sets of one name and type are routed.
type policy uint8

const (
	policySimple policy = iota
	policyWeighted
	policyFailover
	policyMultiValue
)

// group holds every set of one name and type.
type group struct {
	rrtype uint16
	policy policy
	sets   []routedSet
	// healthy lists the indexes of the healthy sets; when none is healthy it
	// lists them all (answer as if all were healthy).
	healthy []int
}

// routedSet is one record set with its routing data.
type routedSet struct {
	rrs     []mdns.RR
	weight  uint32
	primary bool // failover PRIMARY (else SECONDARY)
	healthy bool
}
