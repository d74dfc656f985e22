package dns

import (
	"strings"

	mdns "github.com/miekg/dns"
)

// RRSet is one record set: a name, a type and its values, with how it is routed.
type RRSet struct {
	// Name is the owner name, in any case, with or without the trailing dot. It
	// must be the zone's apex or below it.
	Name string
	// Type is one of "A", "AAAA", "SRV", "CNAME", "TXT", "MX", "NS", "SOA".
	Type string
	// TTL is the time to live of every record of the set, in seconds.
	TTL uint32
	// Values are the records' RDATA in presentation format, as Route 53 writes
	// them: "10.0.0.1", "1 10 8080 web.local.", "\"some text\"",
	// "10 mail.example.com.". Names without a trailing dot are taken as fully
	// qualified.
	Values []string

	// Routing among the sets that share Name and Type (all zero = a simple set).

	// SetID is the set identifier (Route 53 SetIdentifier, Cloud Map instance id).
	// Routed sets must have one, unique among the sets of their name and type.
	SetID string
	// Weight makes the set weighted: one set is answered, chosen at random in
	// proportion to the weights of the healthy sets. Weight 0 is chosen only when
	// every candidate has weight 0.
	Weight *uint32
	// Failover is "PRIMARY" or "SECONDARY": the primary is answered while
	// healthy, else the secondary.
	Failover string
	// MultiValue makes the set a multivalue answer: up to 8 healthy sets are
	// answered, chosen at random.
	MultiValue bool
	// Unhealthy excludes the set from routed answers. When every set of a name
	// and type is unhealthy, all are answered as if healthy, as Route 53 does.
	Unhealthy bool
}

// Zone is one authoritative zone.
type Zone struct {
	// Name is the apex, e.g. "local." (any case, trailing dot optional).
	Name string
	// Serial is the SOA serial.
	Serial uint32
	// TTL is the TTL of the SOA and NS records and the negative-caching TTL
	// (the SOA minimum). Zero means 60.
	TTL uint32
	// NS names the apex name servers. Empty means ["ns1.<zone>"]. An NS set for
	// the apex among Records replaces it.
	NS []string
	// Records are the zone's record sets. An SOA set, allowed only at the apex,
	// replaces the SOA built from the fields above.
	Records []RRSet
}

// DefaultZoneTTL is the SOA, NS and negative TTL of a zone whose TTL is zero.
const DefaultZoneTTL = 60

// maxMultiValue is how many sets a multivalue answer holds at most.
const maxMultiValue = 8

// canonical returns name lower-cased and fully qualified.
func canonical(name string) string {
	return mdns.CanonicalName(strings.TrimSpace(name))
}
