package state

import (
	"context"
	"strings"

	"github.com/flotta-dev/flotta/internal/store"
)

// DiscoverySnapshot is every Cloud Map namespace, service and instance at
// one store revision, each kind by id (instances by service, then id).
type DiscoverySnapshot struct {
	Namespaces []SDNamespace
	Services   []SDService
	Instances  []SDInstance
}

// DiscoveryChange is one change of a namespace, service or instance.
type DiscoveryChange struct {
	// Kind is "namespace", "service" or "instance".
	Kind string
	// NamespaceID is set for a namespace, ServiceID for a service and an
	// instance, InstanceID for an instance.
	NamespaceID, ServiceID, InstanceID string
	// The record as written, of the change's kind; nil when it was deleted
	// (or could not be read: then Err says why).
	Namespace *SDNamespace
	Service   *SDService
	Instance  *SDInstance
	ModRev    int64
	Err       error
}

// Deleted says whether the change removed its record.
func (c DiscoveryChange) Deleted() bool {
	return c.Err == nil && c.Namespace == nil && c.Service == nil && c.Instance == nil
}

// ReadDiscovery reads every namespace, service and instance at one
// revision, and returns that revision to watch for changes from.
func (s *State) ReadDiscovery(ctx context.Context) (*DiscoverySnapshot, int64, error) {
	// One range read is one revision.
	page, err := s.db.List(ctx, sdPrefix, store.ListOptions{})
	if err != nil {
		return nil, 0, err
	}
	snap := &DiscoverySnapshot{}
	for _, kv := range page.KVs {
		c, ok := discoveryChange(store.Event{KV: kv})
		if !ok {
			continue
		}
		if c.Err != nil {
			return nil, 0, c.Err
		}
		switch {
		case c.Namespace != nil:
			snap.Namespaces = append(snap.Namespaces, *c.Namespace)
		case c.Service != nil:
			snap.Services = append(snap.Services, *c.Service)
		case c.Instance != nil:
			snap.Instances = append(snap.Instances, *c.Instance)
		}
	}
	return snap, page.Revision, nil
}

// WatchDiscovery follows the namespaces, services and instances from after
// on (ReadDiscovery's revision). When after is older than the store keeps,
// the channel closes and the error channel says ErrCompacted: read afresh.
func (s *State) WatchDiscovery(ctx context.Context, after int64) (<-chan []DiscoveryChange, <-chan error) {
	return watchAs(ctx, s.db, sdPrefix, after, discoveryChange)
}

func discoveryChange(ev store.Event) (DiscoveryChange, bool) {
	c := DiscoveryChange{ModRev: ev.KV.ModRev}
	switch {
	case strings.HasPrefix(ev.KV.Key, sdNamespacesPrefix):
		c.Kind, c.NamespaceID = "namespace", strings.TrimPrefix(ev.KV.Key, sdNamespacesPrefix)
		if !ev.Deleted {
			c.Namespace, c.Err = decode[SDNamespace](ev.KV)
		}
	case strings.HasPrefix(ev.KV.Key, sdServicesPrefix):
		c.Kind, c.ServiceID = "service", strings.TrimPrefix(ev.KV.Key, sdServicesPrefix)
		if !ev.Deleted {
			c.Service, c.Err = decode[SDService](ev.KV)
			if c.Service != nil {
				c.NamespaceID = c.Service.NamespaceID
			}
		}
	case strings.HasPrefix(ev.KV.Key, sdInstancesPrefix):
		svc, id, ok := strings.Cut(strings.TrimPrefix(ev.KV.Key, sdInstancesPrefix), "/")
		if !ok {
			return c, false
		}
		c.Kind, c.ServiceID, c.InstanceID = "instance", svc, id
		if !ev.Deleted {
			c.Instance, c.Err = decode[SDInstance](ev.KV)
		}
	default:
		return c, false
	}
	return c, true
}
