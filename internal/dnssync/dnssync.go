// Package dnssync feeds Flotta's DNS server from the store: it turns Cloud
// Map's DNS namespaces (with their services' instances) and Route 53's
// hosted zones into the zones the server answers for (a record set whose
// health check the checker found unhealthy is marked so, for weighted,
// failover and multivalue routing to pass over), and follows their
// changes, so that a registration or a record change is answered within
// moments of its commit.
//
// It reads everything once, then follows the store's changes and rebuilds
// only the zones a change touches (a zone of 10,000 record sets is rebuilt
// in milliseconds). A namespace and a hosted zone of the same name are
// served as one zone holding the records of both.
package dnssync

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/dns"
	"github.com/flotta-dev/flotta/internal/state"
)

// Zones is where the zones go: the DNS server.
type Zones interface {
	SetZone(z dns.Zone) error
	DeleteZone(name string)
}

// Source follows the store for a DNS server.
type Source struct {
	State  *state.State
	Logger *slog.Logger
	// LBAddress is the address a Route 53 alias to a load balancer answers
	// with: where this server's load balancers listen ("" means 127.0.0.1).
	LBAddress string
	// AliasHealthEvery is how often the load balancers' target health is
	// read again for aliases with EvaluateTargetHealth (default
	// DefaultAliasHealthEvery).
	AliasHealthEvery time.Duration

	// What it has read, kept up to date by the watches.
	namespaces map[string]*state.SDNamespace
	services   map[string]*state.SDService
	instances  map[string]map[string]*state.SDInstance // service id -> instance id
	r53        route53View
	// records caches each service's record sets: a change rebuilds only
	// its own service's.
	records map[string][]dns.RRSet
	served  map[string]bool // zone names set in the server
	serial  uint32
}

// origin is a DNS name as the zones are keyed: lower case, fully qualified.
func origin(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, ".")) + "."
}

// Follow keeps z's zones in step with the store until ctx ends.
func (s *Source) Follow(ctx context.Context, z Zones) {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	for ctx.Err() == nil {
		rev, err := s.load(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.Logger.Warn("read the DNS records", "err", err)
				sleepCtx(ctx, time.Second)
			}
			continue
		}
		s.applyAll(z)
		s.follow(ctx, z, rev)
	}
}

// load reads every namespace, service, instance and hosted zone.
func (s *Source) load(ctx context.Context) (int64, error) {
	snap, rev, err := s.State.ReadDiscovery(ctx)
	if err != nil {
		return 0, err
	}
	s.namespaces = map[string]*state.SDNamespace{}
	s.services = map[string]*state.SDService{}
	s.records = map[string][]dns.RRSet{}
	s.instances = map[string]map[string]*state.SDInstance{}
	for i := range snap.Namespaces {
		s.namespaces[snap.Namespaces[i].ID] = &snap.Namespaces[i]
	}
	for i := range snap.Services {
		s.services[snap.Services[i].ID] = &snap.Services[i]
	}
	for i := range snap.Instances {
		in := &snap.Instances[i]
		if s.instances[in.ServiceID] == nil {
			s.instances[in.ServiceID] = map[string]*state.SDInstance{}
		}
		s.instances[in.ServiceID][in.ID] = in
	}
	r53rev, err := s.r53.load(ctx, s.State)
	if err != nil {
		return 0, err
	}
	if err := s.r53.refreshLBHealth(ctx, s.State, map[string]bool{}); err != nil {
		return 0, err
	}
	s.serial = uint32(max(rev, r53rev))
	return min(rev, r53rev), nil
}

// follow applies the store's changes from rev on, until a watch ends.
func (s *Source) follow(ctx context.Context, z Zones, rev int64) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sd, sdErr := s.State.WatchDiscovery(wctx, rev)
	r53, r53Err := s.r53.watch(wctx, s.State, rev)
	every := s.AliasHealthEvery
	if every <= 0 {
		every = DefaultAliasHealthEvery
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		// Take every batch already waiting before rebuilding: a rebuild of
		// a large zone takes milliseconds, and a burst of registrations
		// must cost one rebuild, not one each.
		dirty := map[string]bool{}
		for first := true; first || len(sd) > 0 || len(r53) > 0; first = false {
			select {
			case batch, ok := <-sd:
				if !ok {
					return
				}
				for _, c := range batch {
					s.applyDiscovery(c, dirty)
				}
			case batch, ok := <-r53:
				if !ok {
					return
				}
				s.r53.apply(batch, dirty, &s.serial)
				if evaluatesTargets(batch) { // a new alias learns its target's health at once
					if err := s.r53.refreshLBHealth(ctx, s.State, dirty); err != nil && ctx.Err() == nil {
						s.Logger.Warn("read the load balancers' target health", "err", err)
					}
				}
			case <-tick.C:
				marked := map[string]bool{}
				if err := s.r53.refreshLBHealth(ctx, s.State, marked); err != nil && ctx.Err() == nil {
					s.Logger.Warn("read the load balancers' target health", "err", err)
				}
				if len(marked) > 0 {
					s.serial++ // the zones changed with no write of their own
				}
				for name := range marked {
					dirty[name] = true
				}
			case err := <-sdErr:
				s.Logger.Warn("Cloud Map watch ended", "err", err)
				return
			case err := <-r53Err:
				s.Logger.Warn("Route 53 watch ended", "err", err)
				return
			case <-ctx.Done():
				return
			}
		}
		for name := range dirty {
			s.applyZone(z, name)
		}
	}
}

// applyDiscovery takes in one Cloud Map change and marks the zones it
// touches.
func (s *Source) applyDiscovery(c state.DiscoveryChange, dirty map[string]bool) {
	if c.Err != nil {
		s.Logger.Warn("read a Cloud Map record", "err", c.Err)
		return
	}
	s.serial = max(s.serial, uint32(c.ModRev))
	zoneOf := func(nsID string) {
		if ns := s.namespaces[nsID]; ns != nil && ns.IsDNS() {
			dirty[origin(ns.Name)] = true
		}
	}
	switch c.Kind {
	case "namespace":
		for id, svc := range s.services {
			if svc.NamespaceID == c.NamespaceID {
				delete(s.records, id) // the zone's name may have changed
			}
		}
		zoneOf(c.NamespaceID) // the old name
		if c.Namespace == nil {
			delete(s.namespaces, c.NamespaceID)
		} else {
			s.namespaces[c.NamespaceID] = c.Namespace
		}
		zoneOf(c.NamespaceID) // the new one
	case "service":
		delete(s.records, c.ServiceID)
		if old := s.services[c.ServiceID]; old != nil {
			zoneOf(old.NamespaceID)
		}
		if c.Service == nil {
			delete(s.services, c.ServiceID)
			delete(s.instances, c.ServiceID)
		} else {
			s.services[c.ServiceID] = c.Service
			zoneOf(c.Service.NamespaceID)
		}
	case "instance":
		delete(s.records, c.ServiceID)
		if c.Instance == nil {
			delete(s.instances[c.ServiceID], c.InstanceID)
		} else {
			if s.instances[c.ServiceID] == nil {
				s.instances[c.ServiceID] = map[string]*state.SDInstance{}
			}
			s.instances[c.ServiceID][c.InstanceID] = c.Instance
		}
		if svc := s.services[c.ServiceID]; svc != nil {
			zoneOf(svc.NamespaceID)
		}
	}
}

// zoneNames are the names of every zone there is to serve.
func (s *Source) zoneNames() map[string]bool {
	names := map[string]bool{}
	for _, ns := range s.namespaces {
		if ns.IsDNS() {
			names[origin(ns.Name)] = true
		}
	}
	for name := range s.r53.zoneNames() {
		names[name] = true
	}
	return names
}

// applyAll sets every zone afresh and deletes those no longer there.
func (s *Source) applyAll(z Zones) {
	names := s.zoneNames()
	for name := range s.served {
		if !names[name] {
			z.DeleteZone(name)
			delete(s.served, name)
		}
	}
	for name := range names {
		s.applyZone(z, name)
	}
}

// applyZone builds the zone called name and sets it, or deletes it when
// nothing holds that name any more.
func (s *Source) applyZone(z Zones, name string) {
	if s.served == nil {
		s.served = map[string]bool{}
	}
	zone, ok := s.build(name)
	if !ok {
		if s.served[name] {
			z.DeleteZone(name)
			delete(s.served, name)
		}
		return
	}
	if err := z.SetZone(zone); err != nil {
		s.Logger.Warn("serve a DNS zone", "zone", name, "err", err)
		return
	}
	s.served[name] = true
}

// build makes the zone called name of every namespace and hosted zone of
// that name.
func (s *Source) build(name string) (dns.Zone, bool) {
	zone := dns.Zone{Name: name, Serial: s.serial}
	found := false
	for _, ns := range s.sortedNamespaces() {
		if !ns.IsDNS() || origin(ns.Name) != name {
			continue
		}
		found = true
		if ns.SOATTL > 0 {
			zone.TTL = uint32(min(ns.SOATTL, 1<<31-1))
		}
		var svcs []*state.SDService
		for _, svc := range s.services {
			if svc.NamespaceID == ns.ID && len(svc.DnsRecords) > 0 {
				svcs = append(svcs, svc)
			}
		}
		sort.Slice(svcs, func(i, j int) bool { return svcs[i].Name < svcs[j].Name })
		for _, svc := range svcs {
			recs, ok := s.records[svc.ID]
			if !ok {
				recs = serviceRecords(name, svc, s.instances[svc.ID])
				s.records[svc.ID] = recs
			}
			zone.Records = append(zone.Records, recs...)
		}
	}
	if s.r53.addTo(&zone, name, s.lbAddress()) {
		found = true
	}
	return zone, found
}

func (s *Source) sortedNamespaces() []*state.SDNamespace {
	out := make([]*state.SDNamespace, 0, len(s.namespaces))
	for _, ns := range s.namespaces {
		out = append(out, ns)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Source) lbAddress() string {
	if s.LBAddress == "" {
		return "127.0.0.1"
	}
	return s.LBAddress
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
