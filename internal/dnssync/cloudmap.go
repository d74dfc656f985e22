package dnssync

import (
	"sort"
	"strconv"
	"strings"

	"github.com/flotta-dev/flotta/internal/dns"
	"github.com/flotta-dev/flotta/internal/state"
)

// Cloud Map instance attributes that make DNS records.
const (
	attrIPv4  = "AWS_INSTANCE_IPV4"
	attrIPv6  = "AWS_INSTANCE_IPV6"
	attrPort  = "AWS_INSTANCE_PORT"
	attrCNAME = "AWS_INSTANCE_CNAME"
)

// serviceRecords are the record sets a service of a DNS namespace (whose
// zone is origin) makes of its instances, as Cloud Map makes them in the
// namespace's hosted zone:
//
//   - A, AAAA and CNAME: SERVICE.NAMESPACE, one set per instance;
//   - SRV: SERVICE.NAMESPACE with "1 1 PORT INSTANCE.SERVICE.NAMESPACE", one
//     set per instance, and INSTANCE.SERVICE.NAMESPACE with the instance's
//     A and AAAA records (the SRV target).
//
// A MULTIVALUE service answers up to eight healthy instances, a WEIGHTED
// one a single healthy instance chosen at random (Cloud Map weighs them
// equally). An instance whose custom health is UNHEALTHY is left out of
// the answers unless every instance is.
func serviceRecords(origin string, svc *state.SDService, instances map[string]*state.SDInstance) []dns.RRSet {
	out := make([]dns.RRSet, 0, len(instances)*len(svc.DnsRecords))
	{
		name := strings.ToLower(svc.Name) + "." + origin
		ids := make([]string, 0, len(instances))
		for id := range instances {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			inst := instances[id]
			routed := func(rs dns.RRSet) dns.RRSet {
				rs.SetID = id
				rs.Unhealthy = inst.CustomHealth == "UNHEALTHY"
				if svc.RoutingPolicy == "WEIGHTED" {
					one := uint32(1)
					rs.Weight = &one
				} else {
					rs.MultiValue = true
				}
				return rs
			}
			host := strings.ToLower(id) + "." + name
			for _, rec := range svc.DnsRecords {
				ttl := uint32(max(0, min(rec.TTL, 1<<31-1)))
				switch rec.Type {
				case "A":
					if v := inst.Attributes[attrIPv4]; v != "" {
						out = append(out, routed(dns.RRSet{Name: name, Type: "A", TTL: ttl, Values: []string{v}}))
					}
				case "AAAA":
					if v := inst.Attributes[attrIPv6]; v != "" {
						out = append(out, routed(dns.RRSet{Name: name, Type: "AAAA", TTL: ttl, Values: []string{v}}))
					}
				case "CNAME":
					if v := inst.Attributes[attrCNAME]; v != "" {
						// A CNAME owns its name alone: Cloud Map allows one
						// instance in such a service, so the set is simple.
						out = append(out, dns.RRSet{Name: name, Type: "CNAME", TTL: ttl, Values: []string{v}})
					}
				case "SRV":
					port, err := strconv.Atoi(inst.Attributes[attrPort])
					if err != nil || port < 0 || port > 65535 {
						continue
					}
					out = append(out, routed(dns.RRSet{Name: name, Type: "SRV", TTL: ttl, Values: []string{"1 1 " + strconv.Itoa(port) + " " + host}}))
					if v := inst.Attributes[attrIPv4]; v != "" && !svc.HasRecord("A") {
						out = append(out, dns.RRSet{Name: host, Type: "A", TTL: ttl, Values: []string{v}})
					}
					if v := inst.Attributes[attrIPv6]; v != "" && !svc.HasRecord("AAAA") {
						out = append(out, dns.RRSet{Name: host, Type: "AAAA", TTL: ttl, Values: []string{v}})
					}
				}
			}
			// With both SRV and A (or AAAA) records, the SRV target's
			// address records carry the A record's TTL.
			if svc.HasRecord("SRV") {
				for _, rec := range svc.DnsRecords {
					ttl := uint32(max(0, min(rec.TTL, 1<<31-1)))
					if v := inst.Attributes[attrIPv4]; rec.Type == "A" && v != "" {
						out = append(out, dns.RRSet{Name: host, Type: "A", TTL: ttl, Values: []string{v}})
					}
					if v := inst.Attributes[attrIPv6]; rec.Type == "AAAA" && v != "" {
						out = append(out, dns.RRSet{Name: host, Type: "AAAA", TTL: ttl, Values: []string{v}})
					}
				}
			}
		}
	}
	return out
}
