package dnssync

import (
	"context"
	"net/netip"
	"sort"
	"strings"

	"github.com/flotta-dev/flotta/internal/dns"
	"github.com/flotta-dev/flotta/internal/state"
)

// route53View is what dnssync knows of Route 53: every hosted zone and its
// record sets (by their store key), and the status of every health check
// that the checker has probed.
type route53View struct {
	zones  map[string]*state.R53Zone
	sets   map[string]map[string]*state.R53RecordSet // zone id -> key -> set
	health map[string]bool                           // health check id -> healthy
	// lbHealth says, by DNS name, whether each load balancer has a healthy
	// target; read only while an alias evaluates target health.
	lbHealth map[string]bool
}

// load reads every zone, record set and health check status, and answers
// the revision of that read, to watch from.
func (v *route53View) load(ctx context.Context, st *state.State) (int64, error) {
	zones, sets, statuses, rev, err := st.ReadRoute53WithHealth(ctx)
	if err != nil {
		return 0, err
	}
	v.health = map[string]bool{}
	for id, h := range statuses {
		v.health[id] = h.Healthy
	}
	v.zones = map[string]*state.R53Zone{}
	v.sets = map[string]map[string]*state.R53RecordSet{}
	for i := range zones {
		v.zones[zones[i].ID] = &zones[i]
	}
	for zone, list := range sets {
		v.sets[zone] = map[string]*state.R53RecordSet{}
		for i := range list {
			rs := &list[i]
			v.sets[zone][state.R53RecordKey(rs.Name, rs.Type, rs.SetIdentifier)] = rs
		}
	}
	return rev, nil
}

func (v *route53View) watch(ctx context.Context, st *state.State, after int64) (<-chan []state.R53Change, <-chan error) {
	return st.WatchRoute53(ctx, after)
}

// applyHealth takes in a health check's status and marks the zones
// holding a record set that names it, when its health changed.
func (v *route53View) applyHealth(c state.R53Change, dirty map[string]bool) {
	was := v.healthy(c.Key)
	if c.Health == nil {
		delete(v.health, c.Key)
	} else {
		v.health[c.Key] = c.Health.Healthy
	}
	if v.healthy(c.Key) == was {
		return
	}
	for id, sets := range v.sets {
		z := v.zones[id]
		if z == nil {
			continue
		}
		for _, rs := range sets {
			if rs.HealthCheckID == c.Key {
				dirty[origin(z.Name)] = true
				break
			}
		}
	}
}

// healthy says whether a record set naming health check id may be
// answered: yes unless the checker found it unhealthy (a health check not
// yet probed, or deleted, counts as healthy).
func (v *route53View) healthy(id string) bool {
	h, ok := v.health[id]
	return !ok || h
}

// apply takes in a batch of changes and marks the zones they touch.
func (v *route53View) apply(batch []state.R53Change, dirty map[string]bool, serial *uint32) {
	for _, c := range batch {
		*serial = max(*serial, uint32(c.ModRev))
		if c.Kind == "health" {
			v.applyHealth(c, dirty)
			continue
		}
		if z := v.zones[c.ZoneID]; z != nil {
			dirty[origin(z.Name)] = true // the zone as it was
		}
		switch c.Kind {
		case "zone":
			if c.Zone == nil {
				delete(v.zones, c.ZoneID)
				delete(v.sets, c.ZoneID)
			} else {
				v.zones[c.ZoneID] = c.Zone
			}
		case "rrset":
			if c.RecordSet == nil {
				delete(v.sets[c.ZoneID], c.Key)
			} else {
				if v.sets[c.ZoneID] == nil {
					v.sets[c.ZoneID] = map[string]*state.R53RecordSet{}
				}
				v.sets[c.ZoneID][c.Key] = c.RecordSet
			}
		}
		if z := v.zones[c.ZoneID]; z != nil {
			dirty[origin(z.Name)] = true
		}
	}
}

// zoneNames are the names of every hosted zone.
func (v *route53View) zoneNames() map[string]bool {
	out := map[string]bool{}
	for _, z := range v.zones {
		out[origin(z.Name)] = true
	}
	return out
}

// addTo adds the record sets of every hosted zone called name to zone, and
// says whether there was one. The apex SOA and NS sets become the zone's
// own; an alias to a load balancer answers with lbAddress, an alias to a
// record of the zone with that record's values.
func (v *route53View) addTo(zone *dns.Zone, name, lbAddress string) bool {
	ids := make([]string, 0, 1)
	for id, z := range v.zones {
		if origin(z.Name) == name {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		keys := make([]string, 0, len(v.sets[id]))
		for k := range v.sets[id] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			rs := v.sets[id][k]
			if rs.Name == name && rs.Type == "SOA" {
				continue // the server writes the SOA, with the zone's serial
			}
			if rs.Name == name && rs.Type == "NS" {
				zone.NS = append(zone.NS, rs.Values...)
				if rs.TTL > 0 && zone.TTL == 0 {
					zone.TTL = uint32(min(rs.TTL, 1<<31-1))
				}
				continue
			}
			out := dns.RRSet{Name: rs.Name, Type: rs.Type, TTL: uint32(max(0, min(rs.TTL, 1<<31-1))), Values: rs.Values,
				SetID: rs.SetIdentifier, Failover: rs.Failover}
			if (rs.HealthCheckID != "" && !v.healthy(rs.HealthCheckID)) || v.aliasUnhealthy(rs) {
				out.Unhealthy = true
			}
			if rs.Weight != nil {
				w := uint32(max(0, min(*rs.Weight, 255)))
				out.Weight = &w
			}
			if rs.MultiValueAnswer != nil && *rs.MultiValueAnswer {
				out.MultiValue = true
			}
			if rs.Alias != nil {
				out.TTL = 60 // Route 53 answers an alias with its target's TTL; a load balancer's is 60
				out.Values = v.aliasValues(id, rs, lbAddress)
				if len(out.Values) == 0 {
					continue
				}
			}
			zone.Records = append(zone.Records, out)
		}
	}
	return len(ids) > 0
}

// aliasValues are the values an alias record answers with: those of the
// record of its zone that it names, or the load balancers' address.
func (v *route53View) aliasValues(zoneID string, rs *state.R53RecordSet, lbAddress string) []string {
	target := origin(rs.Alias.DNSName)
	for _, other := range v.sets[zoneID] {
		if other.Name == target && other.Type == rs.Type && other.Alias == nil {
			return other.Values
		}
	}
	if z := v.zones[zoneID]; z != nil && strings.HasSuffix(target, "."+origin(z.Name)) {
		return nil // a record of the zone that is not there
	}
	addr, err := netip.ParseAddr(lbAddress)
	if err != nil {
		return nil
	}
	if (rs.Type == "A" && addr.Is4()) || (rs.Type == "AAAA" && addr.Is6()) {
		return []string{addr.String()}
	}
	return nil
}
