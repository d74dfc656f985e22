package state

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/store"
)

// The records of AWS Cloud Map (service discovery): namespaces, services,
// instances and the asynchronous operations that create and change them.
//
// Layout, under Root+"sd/":
//
//	namespaces/ID            SDNamespace (written when its CREATE_NAMESPACE operation succeeds)
//	nsnames/NAME             sdClaim: a namespace name taken (lower case, no trailing dot)
//	services/ID              SDService
//	svcnames/NSID/NAME       sdClaim: a service name taken in a namespace
//	instances/SERVICEID/ID   SDInstance
//	instrev/SERVICEID        empty; rewritten with every instance change, so that
//	                         its mod revision is the service's InstancesRevision
//
// and the operations at Root+"sdops/ID" (SDOperation): outside sd/, so that
// reading and watching the discovery records (ReadDiscovery, WatchDiscovery,
// which the DNS server follows) never carries the operations' history.
//
// The claims make names unique and are the guards that keep a namespace
// with services, and a service with instances, from being deleted: every
// check and its write are one transaction.

const sdPrefix = Root + "sd/"

const (
	sdNamespacesPrefix = sdPrefix + "namespaces/"
	sdNSNamesPrefix    = sdPrefix + "nsnames/"
	sdServicesPrefix   = sdPrefix + "services/"
	sdSvcNamesPrefix   = sdPrefix + "svcnames/"
	sdInstancesPrefix  = sdPrefix + "instances/"
	sdInstRevPrefix    = sdPrefix + "instrev/"
	sdOperationsPrefix = Root + "sdops/"
)

// Cloud Map quotas that the state enforces.
const (
	// MaxSDInstancesPerService is Cloud Map's "instances per service".
	MaxSDInstancesPerService = 1000
	// MaxSDNamespaces is Cloud Map's "namespaces per Region".
	MaxSDNamespaces = 50
)

// ErrNotFound is a read or change of a Cloud Map record that does not exist.
var ErrNotFound = errors.New("not found")

// ErrSDInUse is a delete of a namespace that has services, or of a service
// that has instances.
var ErrSDInUse = errors.New("resource in use")

// ErrSDLimit is a creation past one of Cloud Map's quotas.
var ErrSDLimit = errors.New("resource limit exceeded")

// SDNameTakenError is the creation of a namespace or service whose name is
// taken; it names the holder.
type SDNameTakenError struct {
	// ID is the namespace's or service's id.
	ID string
	// CreatorRequestID is the holder's creator request id.
	CreatorRequestID string
	// OperationID is, for a namespace, the operation that creates it.
	OperationID string
}

func (e *SDNameTakenError) Error() string { return "name taken by " + e.ID }

// SDNamespace is a Cloud Map namespace.
type SDNamespace struct {
	ID   string `json:"id"`
	Arn  string `json:"arn"`
	Name string `json:"name"`
	// Type is DNS_PRIVATE, DNS_PUBLIC or HTTP.
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
	Vpc         string `json:"vpc,omitempty"`
	// HostedZoneID is a synthesized Route 53 style id of a DNS namespace
	// ("" for HTTP); no Route 53 zone stands behind it.
	HostedZoneID string `json:"hostedZoneId,omitempty"`
	// SOATTL is the TTL of the zone's SOA record (DNS namespaces).
	SOATTL int64 `json:"soaTtl,omitempty"`
	// HTTPName is the name DiscoverInstances finds the namespace by.
	HTTPName         string      `json:"httpName"`
	CreatorRequestID string      `json:"creatorRequestId,omitempty"`
	CreateDate       time.Time   `json:"createDate"`
	Tags             []model.Tag `json:"tags,omitempty"`
}

// IsDNS says whether the namespace serves DNS records.
func (n *SDNamespace) IsDNS() bool { return n.Type == "DNS_PRIVATE" || n.Type == "DNS_PUBLIC" }

// SDDnsRecord is one record type a DNS service's instances get.
type SDDnsRecord struct {
	// Type is A, AAAA, SRV or CNAME.
	Type string `json:"type"`
	TTL  int64  `json:"ttl"`
}

// SDHealthCheckCustom is a service's HealthCheckCustomConfig: instances'
// health is what UpdateInstanceCustomHealthStatus says.
type SDHealthCheckCustom struct {
	FailureThreshold int32 `json:"failureThreshold,omitempty"`
}

// SDHealthCheckConfig is a service's Route 53 health check configuration.
// Flotta stores and returns it but runs no Route 53 health checks.
type SDHealthCheckConfig struct {
	Type             string `json:"type"`
	ResourcePath     string `json:"resourcePath,omitempty"`
	FailureThreshold int32  `json:"failureThreshold,omitempty"`
}

// SDService is a Cloud Map service.
type SDService struct {
	ID          string `json:"id"`
	Arn         string `json:"arn"`
	Name        string `json:"name"`
	NamespaceID string `json:"namespaceId"`
	Description string `json:"description,omitempty"`
	// Type is HTTP, DNS_HTTP or DNS.
	Type string `json:"type"`
	// RoutingPolicy (MULTIVALUE or WEIGHTED) and DnsRecords are the
	// DnsConfig; DnsRecords is empty for an HTTP service.
	RoutingPolicy     string               `json:"routingPolicy,omitempty"`
	DnsRecords        []SDDnsRecord        `json:"dnsRecords,omitempty"`
	HealthCheckCustom *SDHealthCheckCustom `json:"healthCheckCustom,omitempty"`
	HealthCheckConfig *SDHealthCheckConfig `json:"healthCheckConfig,omitempty"`
	CreatorRequestID  string               `json:"creatorRequestId,omitempty"`
	CreateDate        time.Time            `json:"createDate"`
	Tags              []model.Tag          `json:"tags,omitempty"`
	// Attributes are the service's own attributes (UpdateServiceAttributes).
	Attributes map[string]string `json:"attributes,omitempty"`
}

// HasRecord says whether the service's DnsConfig has a record of type t.
func (s *SDService) HasRecord(t string) bool {
	for _, r := range s.DnsRecords {
		if r.Type == t {
			return true
		}
	}
	return false
}

// SDInstance is an instance registered with a service.
type SDInstance struct {
	ServiceID  string            `json:"serviceId"`
	ID         string            `json:"id"`
	Attributes map[string]string `json:"attributes"`
	// CustomHealth is HEALTHY or UNHEALTHY for a service with a
	// HealthCheckCustomConfig, "" otherwise.
	CustomHealth     string    `json:"customHealth,omitempty"`
	CreatorRequestID string    `json:"creatorRequestId,omitempty"`
	UpdateDate       time.Time `json:"updateDate"`
}

// The operation types and statuses of Cloud Map.
const (
	SDOpCreateNamespace    = "CREATE_NAMESPACE"
	SDOpDeleteNamespace    = "DELETE_NAMESPACE"
	SDOpUpdateNamespace    = "UPDATE_NAMESPACE"
	SDOpUpdateService      = "UPDATE_SERVICE"
	SDOpRegisterInstance   = "REGISTER_INSTANCE"
	SDOpDeregisterInstance = "DEREGISTER_INSTANCE"

	SDOpSubmitted = "SUBMITTED"
	SDOpPending   = "PENDING"
	SDOpSuccess   = "SUCCESS"
	SDOpFail      = "FAIL"
)

// SDOperation is an asynchronous Cloud Map operation: the API writes it
// SUBMITTED with what it is to do, and the completer (package controller)
// carries it out with CompleteSDOperation.
type SDOperation struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Status string `json:"status"`
	// ErrorMessage and ErrorCode say why a FAIL failed.
	ErrorMessage string    `json:"errorMessage,omitempty"`
	ErrorCode    string    `json:"errorCode,omitempty"`
	CreateDate   time.Time `json:"createDate"`
	UpdateDate   time.Time `json:"updateDate"`
	// Targets maps NAMESPACE, SERVICE and INSTANCE to the ids involved.
	Targets map[string]string `json:"targets"`

	// Namespace is the namespace a CREATE_NAMESPACE creates.
	Namespace *SDNamespace `json:"namespace,omitempty"`
	// NamespaceUpdate is what an UPDATE_NAMESPACE changes.
	NamespaceUpdate *SDNamespaceUpdate `json:"namespaceUpdate,omitempty"`
	// ServiceUpdate is what an UPDATE_SERVICE changes.
	ServiceUpdate *SDServiceUpdate `json:"serviceUpdate,omitempty"`
	// Instance is the instance a REGISTER_INSTANCE writes.
	Instance *SDInstance `json:"instance,omitempty"`
}

// SDNamespaceUpdate is an UpdateXxxNamespace's change; nil members stay.
type SDNamespaceUpdate struct {
	Description *string `json:"description,omitempty"`
	SOATTL      *int64  `json:"soaTtl,omitempty"`
}

// SDServiceUpdate is an UpdateService's change; nil members stay.
type SDServiceUpdate struct {
	Description *string `json:"description,omitempty"`
	// DnsRecords replaces the records' TTLs (AWS changes TTLs, not types).
	DnsRecords        []SDDnsRecord        `json:"dnsRecords,omitempty"`
	HealthCheckConfig *SDHealthCheckConfig `json:"healthCheckConfig,omitempty"`
}

// sdClaim is the holder of a name.
type sdClaim struct {
	ID               string `json:"id"`
	CreatorRequestID string `json:"creatorRequestId,omitempty"`
	OperationID      string `json:"operationId,omitempty"`
}

// SDNameKey is the form in which names are compared: DNS names are
// case-insensitive and may end in a dot.
func SDNameKey(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

func sdInstanceKey(serviceID, id string) string { return sdInstancesPrefix + serviceID + "/" + id }

// GetSDNamespace reads a namespace; ErrNotFound when there is none (also
// while its CREATE_NAMESPACE operation has not succeeded).
func (s *State) GetSDNamespace(ctx context.Context, id string) (*SDNamespace, error) {
	return getOrNotFound[SDNamespace](ctx, s, sdNamespacesPrefix+id)
}

// ListSDNamespaces reads every namespace, by id.
func (s *State) ListSDNamespaces(ctx context.Context) ([]SDNamespace, error) {
	return listAll[SDNamespace](ctx, s.db, sdNamespacesPrefix)
}

// UpdateSDNamespace changes a namespace with fn (tags, for one);
// ErrNotFound when there is none.
func (s *State) UpdateSDNamespace(ctx context.Context, id string, fn func(*SDNamespace) error) (*SDNamespace, error) {
	return updateOrNotFound(ctx, s, sdNamespacesPrefix+id, fn)
}

// GetSDService reads a service; ErrNotFound when there is none.
func (s *State) GetSDService(ctx context.Context, id string) (*SDService, error) {
	return getOrNotFound[SDService](ctx, s, sdServicesPrefix+id)
}

// ListSDServices reads every service, by id.
func (s *State) ListSDServices(ctx context.Context) ([]SDService, error) {
	return listAll[SDService](ctx, s.db, sdServicesPrefix)
}

// UpdateSDService changes a service with fn; ErrNotFound when there is none.
// fn must not change the service's name or namespace.
func (s *State) UpdateSDService(ctx context.Context, id string, fn func(*SDService) error) (*SDService, error) {
	return updateOrNotFound(ctx, s, sdServicesPrefix+id, fn)
}

// CreateSDService stores a new service in its namespace, in one
// transaction with the check that the namespace exists (ErrNotFound when
// not) and that the name is free there (*SDNameTakenError when not).
func (s *State) CreateSDService(ctx context.Context, svc SDService) error {
	nameKey := sdSvcNamesPrefix + svc.NamespaceID + "/" + SDNameKey(svc.Name)
	return retry(ctx, func() error {
		kvs, err := s.db.GetMany(ctx, []string{sdNamespacesPrefix + svc.NamespaceID, nameKey})
		if err != nil {
			return err
		}
		ns := kvs[sdNamespacesPrefix+svc.NamespaceID]
		if ns.ModRev == 0 {
			return fmt.Errorf("namespace %s: %w", svc.NamespaceID, ErrNotFound)
		}
		if c, err := decode[sdClaim](kvs[nameKey]); err != nil {
			return err
		} else if c != nil {
			return &SDNameTakenError{ID: c.ID, CreatorRequestID: c.CreatorRequestID}
		}
		_, err = s.db.Commit(ctx,
			[]store.Guard{{Key: ns.Key, ModRev: ns.ModRev}, {Key: nameKey}, {Key: sdServicesPrefix + svc.ID}},
			[]store.Op{
				store.Put(nameKey, mustJSON(sdClaim{ID: svc.ID, CreatorRequestID: svc.CreatorRequestID})),
				store.Put(sdServicesPrefix+svc.ID, mustJSON(svc)),
				store.Put(sdInstRevPrefix+svc.ID, nil),
			})
		return err
	})
}

// DeleteSDService deletes a service; found is false when there was none,
// and ErrSDInUse says it still has instances (checked in the deleting
// transaction, so no instance is registered with a deleted service).
func (s *State) DeleteSDService(ctx context.Context, id string) (found bool, err error) {
	err = retry(ctx, func() error {
		kv, svc, err := read[SDService](ctx, s.db, sdServicesPrefix+id)
		if err != nil || svc == nil {
			return err
		}
		n, rev, err := s.db.Count(ctx, sdInstancesPrefix+id+"/")
		if err != nil {
			return err
		}
		if n > 0 {
			return ErrSDInUse
		}
		nameKey := sdSvcNamesPrefix + svc.NamespaceID + "/" + SDNameKey(svc.Name)
		_, err = s.db.Commit(ctx,
			[]store.Guard{{Key: kv.Key, ModRev: kv.ModRev}, {Key: sdInstancesPrefix + id + "/", ModRev: rev, Prefix: true}},
			[]store.Op{store.Del(kv.Key), store.Del(nameKey), store.Del(sdInstRevPrefix + id)})
		if err == nil {
			found = true
		}
		return err
	})
	return found, err
}

// PutSDInstance creates or replaces an instance. It refuses (ErrNotFound)
// when the service is gone and (ErrSDLimit) a new instance past
// MaxSDInstancesPerService.
func (s *State) PutSDInstance(ctx context.Context, inst SDInstance) error {
	return retry(ctx, func() error {
		guards, ops, unlock, err := s.putInstanceTxn(ctx, inst)
		if err != nil {
			return err
		}
		defer unlock()
		_, err = s.db.Commit(ctx, guards, ops)
		return err
	})
}

// sdQuotaMargin is how close to MaxSDInstancesPerService a service must be
// before new registrations guard the count: far below it, they do not
// conflict with each other.
const sdQuotaMargin = 100

// putInstanceTxn is the guards and writes of PutSDInstance, and an unlock
// to call once they are committed (or not). Near the quota, new instances
// of one service take turns in this process and each guards the count, so
// that the quota is exact even with several servers.
func (s *State) putInstanceTxn(ctx context.Context, inst SDInstance) ([]store.Guard, []store.Op, func(), error) {
	key := sdInstanceKey(inst.ServiceID, inst.ID)
	kvs, err := s.db.GetMany(ctx, []string{sdServicesPrefix + inst.ServiceID, key})
	if err != nil {
		return nil, nil, nil, err
	}
	svc := kvs[sdServicesPrefix+inst.ServiceID]
	if svc.ModRev == 0 {
		return nil, nil, nil, fmt.Errorf("service %s: %w", inst.ServiceID, ErrNotFound)
	}
	cur := kvs[key]
	guards := []store.Guard{{Key: svc.Key, ModRev: svc.ModRev}, {Key: key, ModRev: cur.ModRev}}
	unlock := func() {}
	if cur.ModRev == 0 {
		prefix := sdInstancesPrefix + inst.ServiceID + "/"
		n, _, err := s.db.Count(ctx, prefix)
		if err != nil {
			return nil, nil, nil, err
		}
		if n+sdQuotaMargin >= MaxSDInstancesPerService {
			m := &s.quotaLocks[maphash.String(lockSeed, prefix)%uint64(len(s.quotaLocks))]
			m.Lock()
			var rev int64
			if n, rev, err = s.db.Count(ctx, prefix); err != nil {
				m.Unlock()
				return nil, nil, nil, err
			}
			if n >= MaxSDInstancesPerService {
				m.Unlock()
				return nil, nil, nil, ErrSDLimit
			}
			guards = append(guards, store.Guard{Key: prefix, ModRev: rev, Prefix: true})
			unlock = m.Unlock
		}
	}
	if inst.Attributes == nil {
		inst.Attributes = map[string]string{}
	}
	if inst.UpdateDate.IsZero() {
		inst.UpdateDate = s.Now()
	}
	return guards, []store.Op{store.Put(key, mustJSON(inst)), store.Put(sdInstRevPrefix+inst.ServiceID, nil)}, unlock, nil
}

// DeleteSDInstance deregisters an instance; found is false when there was none.
func (s *State) DeleteSDInstance(ctx context.Context, serviceID, instanceID string) (found bool, err error) {
	err = retry(ctx, func() error {
		found = false
		guards, ops, err := s.deleteInstanceTxn(ctx, serviceID, instanceID)
		if err != nil || ops == nil {
			return err
		}
		if _, err = s.db.Commit(ctx, guards, ops); err == nil {
			found = true
		}
		return err
	})
	return found, err
}

// deleteInstanceTxn is the guards and writes of DeleteSDInstance; no ops
// when there is no such instance.
func (s *State) deleteInstanceTxn(ctx context.Context, serviceID, instanceID string) ([]store.Guard, []store.Op, error) {
	key := sdInstanceKey(serviceID, instanceID)
	kv, err := s.db.Get(ctx, key)
	if err != nil || kv.ModRev == 0 {
		return nil, nil, err
	}
	return []store.Guard{{Key: key, ModRev: kv.ModRev}}, []store.Op{store.Del(key), store.Put(sdInstRevPrefix+serviceID, nil)}, nil
}

// GetSDInstance reads one instance; ErrNotFound when there is none.
func (s *State) GetSDInstance(ctx context.Context, serviceID, instanceID string) (*SDInstance, error) {
	return getOrNotFound[SDInstance](ctx, s, sdInstanceKey(serviceID, instanceID))
}

// ListSDInstances reads a service's instances, by id.
func (s *State) ListSDInstances(ctx context.Context, serviceID string) ([]SDInstance, error) {
	return listAll[SDInstance](ctx, s.db, sdInstancesPrefix+serviceID+"/")
}

// UpdateSDInstance changes an instance with fn (its custom health, say);
// ErrNotFound when there is none. It counts as a change of the service's
// instances.
func (s *State) UpdateSDInstance(ctx context.Context, serviceID, instanceID string, fn func(*SDInstance) error) (*SDInstance, error) {
	key := sdInstanceKey(serviceID, instanceID)
	var out *SDInstance
	err := retry(ctx, func() error {
		kv, inst, err := read[SDInstance](ctx, s.db, key)
		if err != nil {
			return err
		}
		if inst == nil {
			return fmt.Errorf("instance %s: %w", instanceID, ErrNotFound)
		}
		if err := fn(inst); err != nil {
			return err
		}
		_, err = s.db.Commit(ctx, []store.Guard{{Key: key, ModRev: kv.ModRev}},
			[]store.Op{store.Put(key, mustJSON(inst)), store.Put(sdInstRevPrefix+serviceID, nil)})
		out = inst
		return err
	})
	return out, err
}

// SDInstancesRevision is a number that changes whenever the instances of
// a service (or their health) change: Cloud Map's InstancesRevision.
func (s *State) SDInstancesRevision(ctx context.Context, serviceID string) (int64, error) {
	kvs, err := s.db.GetMany(ctx, []string{sdServicesPrefix + serviceID, sdInstRevPrefix + serviceID})
	if err != nil {
		return 0, err
	}
	svc := kvs[sdServicesPrefix+serviceID]
	if svc.ModRev == 0 {
		return 0, fmt.Errorf("service %s: %w", serviceID, ErrNotFound)
	}
	if r := kvs[sdInstRevPrefix+serviceID].ModRev; r != 0 {
		return r, nil
	}
	return svc.ModRev, nil
}

func getOrNotFound[T any](ctx context.Context, s *State, key string) (*T, error) {
	_, v, err := read[T](ctx, s.db, key)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("%s: %w", strings.TrimPrefix(key, sdPrefix), ErrNotFound)
	}
	return v, nil
}

func updateOrNotFound[T any](ctx context.Context, s *State, key string, fn func(*T) error) (*T, error) {
	v, err := update(ctx, s.db, key, fn)
	if err == nil && v == nil {
		return nil, fmt.Errorf("%s: %w", strings.TrimPrefix(key, sdPrefix), ErrNotFound)
	}
	return v, err
}

// CountSDInstances counts a service's instances.
func (s *State) CountSDInstances(ctx context.Context, serviceID string) (int, error) {
	n, _, err := s.db.Count(ctx, sdInstancesPrefix+serviceID+"/")
	return int(n), err
}
