package state

import (
	"context"
	"slices"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/store"
)

// InstanceRecord is a stored container instance and what its tasks reserve.
type InstanceRecord struct {
	Cluster  string                  `json:"cluster"`
	ID       string                  `json:"id"`
	Instance model.ContainerInstance `json:"instance"`
	// Reserved sums the demands of the tasks placed here that have not stopped.
	Reserved model.Demand `json:"reserved"`
	// Groups counts those tasks by task group (for spread, distinctInstance
	// and task:group constraints).
	Groups map[string]int `json:"groups,omitempty"`
	// Principal is the agent identity allowed to act for this instance.
	Principal string `json:"principal"`
	// UpdatedAt is when the record was last written (the time of its event).
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
}

func instanceKey(cluster, id string) string { return Root + "instances/" + cluster + "/" + id }

// sessionKey is present, on a lease, while the instance's agent is connected.
func sessionKey(id string) string { return Root + "sessions/" + id }

// RegisteredPorts returns the instance's registered (reserved) host ports.
func (r *InstanceRecord) registeredPorts(name string) []int {
	var out []int
	for _, p := range model.FindResource(r.Instance.RegisteredResources, name).StringSetValue {
		if n, err := atoi(p); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// Remaining computes what is left: registered minus reserved.
func (r *InstanceRecord) Remaining() []model.Resource {
	reg := r.Instance.RegisteredResources
	cpu := model.FindResource(reg, model.ResourceCPU).IntegerValue - r.Reserved.CPU
	mem := model.FindResource(reg, model.ResourceMemory).IntegerValue - r.Reserved.Memory
	ports := append(r.registeredPorts(model.ResourcePorts), r.Reserved.Ports...)
	udp := append(r.registeredPorts(model.ResourcePortsUDP), r.Reserved.PortsUDP...)
	out := []model.Resource{
		model.IntResource(model.ResourceCPU, cpu),
		model.IntResource(model.ResourceMemory, mem),
		model.PortsResource(model.ResourcePorts, itoas(ports)),
		model.PortsResource(model.ResourcePortsUDP, itoas(udp)),
	}
	if g := model.FindResource(reg, model.ResourceGPU); g.Type != "" {
		out = append(out, model.IntResource(model.ResourceGPU, g.IntegerValue-r.Reserved.GPUs))
	}
	return out
}

// Reserve adds a task's demand and group to the record.
func (r *InstanceRecord) Reserve(d model.Demand, group string) {
	r.Reserved.CPU += d.CPU
	r.Reserved.Memory += d.Memory
	r.Reserved.GPUs += d.GPUs
	r.Reserved.Ports = append(r.Reserved.Ports, d.Ports...)
	r.Reserved.PortsUDP = append(r.Reserved.PortsUDP, d.PortsUDP...)
	if group != "" {
		if r.Groups == nil {
			r.Groups = map[string]int{}
		}
		r.Groups[group]++
	}
}

// Release takes a stopped task's demand and group off the record.
func (r *InstanceRecord) Release(d model.Demand, group string) {
	release(&r.Reserved, d)
	if r.Groups[group] > 0 {
		r.Groups[group]--
		if r.Groups[group] == 0 {
			delete(r.Groups, group)
		}
	}
}

func machineKey(cluster, ec2ID string) string { return Root + "machines/" + cluster + "/" + ec2ID }

// PutInstance stores a newly registered container instance, indexed by its
// machine id so that the same machine registering again finds it. A cluster
// holds at most s.Quotas().InstancesPerCluster registered instances.
func (s *State) PutInstance(ctx context.Context, r InstanceRecord) error {
	key := instanceKey(r.Cluster, r.ID)
	r.Instance.Version = 1
	r.UpdatedAt = s.Now()
	return retry(ctx, func() error {
		guards, unlock, err := s.underQuota(ctx, instancesPrefix(r.Cluster), s.Quotas().InstancesPerCluster, func(n int64) error {
			return model.Client("Container instances per cluster limit exceeded: cluster %s already has %d registered container instances, the most a cluster can have.", r.Cluster, n)
		})
		if err != nil {
			return err
		}
		defer unlock()
		guards = append(guards, store.Guard{Key: key, ModRev: 0})
		_, err = s.db.Commit(ctx, guards, []store.Op{
			store.Put(key, mustJSON(r)),
			store.Put(instancesPrefix(r.Cluster)+r.ID, nil),
			store.Put(machineKey(r.Cluster, r.Instance.Ec2InstanceID), []byte(r.ID)),
		})
		return err
	})
}

// InstanceOfMachine returns the id of the instance a machine registered as, or "".
func (s *State) InstanceOfMachine(ctx context.Context, cluster, ec2ID string) (string, error) {
	kv, err := s.db.Get(ctx, machineKey(cluster, ec2ID))
	return string(kv.Value), err
}

// GetInstance reads a container instance; nil when unknown.
func (s *State) GetInstance(ctx context.Context, cluster, id string) (*InstanceRecord, error) {
	_, r, err := read[InstanceRecord](ctx, s.db, instanceKey(cluster, id))
	return r, err
}

// UpdateInstance applies fn to a stored instance atomically; nil when unknown.
// fn sees the record and may change it; membership follows the status.
func (s *State) UpdateInstance(ctx context.Context, cluster, id string, fn func(r *InstanceRecord) error) (*InstanceRecord, error) {
	key := instanceKey(cluster, id)
	var out *InstanceRecord
	err := retry(ctx, func() error {
		kv, r, err := read[InstanceRecord](ctx, s.db, key)
		if err != nil || r == nil {
			out = nil
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
		r.Instance.Version++
		r.UpdatedAt = s.Now()
		ops := []store.Op{store.Put(key, mustJSON(r))}
		if r.Instance.Status == model.InstanceInactive {
			ops = append(ops, store.Del(instancesPrefix(cluster)+id))
		} else {
			ops = append(ops, store.Put(instancesPrefix(cluster)+id, nil))
		}
		if _, err := s.db.Commit(ctx, []store.Guard{{Key: key, ModRev: kv.ModRev}}, ops); err != nil {
			return err
		}
		out = r
		return nil
	})
	return out, err
}

// InstanceView is an instance with the store revision it was read at.
type InstanceView struct {
	*InstanceRecord
	ModRev    int64
	Connected bool
}

// ListInstances reads every instance of a cluster, with agent connectivity.
func (s *State) ListInstances(ctx context.Context, cluster string) ([]InstanceView, error) {
	page, err := s.db.List(ctx, Root+"instances/"+cluster+"/", store.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]InstanceView, 0, len(page.KVs))
	ids := make([]string, 0, len(page.KVs))
	for _, kv := range page.KVs {
		r, err := decode[InstanceRecord](kv)
		if err != nil {
			return nil, err
		}
		out = append(out, InstanceView{InstanceRecord: r, ModRev: kv.ModRev})
		ids = append(ids, sessionKey(r.ID))
	}
	sessions, err := s.db.GetMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Connected = sessions[sessionKey(out[i].ID)].ModRev != 0
	}
	return out, nil
}

// AgentConnected says whether an instance's agent holds a live session.
func (s *State) AgentConnected(ctx context.Context, id string) (bool, error) {
	kv, err := s.db.Get(ctx, sessionKey(id))
	return kv.ModRev != 0, err
}

// TouchSession records that an instance's agent is connected, for as long as
// the lease lives; the caller keeps the lease alive while the agent polls.
// The session names the instance's cluster, so that its end can be told as
// a change of that instance.
func (s *State) TouchSession(ctx context.Context, cluster, id string, lease store.Lease) error {
	return s.db.PutLeased(ctx, sessionKey(id), []byte(cluster), lease)
}

// InstanceRef names a container instance.
type InstanceRef struct{ Cluster, ID string }

// TouchSessions marks several agents connected on one lease, in one write.
func (s *State) TouchSessions(ctx context.Context, refs []InstanceRef, lease store.Lease) error {
	ops := make([]store.Op, len(refs))
	for i, r := range refs {
		ops[i] = store.Op{Key: sessionKey(r.ID), Value: []byte(r.Cluster), Lease: lease}
	}
	_, err := s.db.Commit(ctx, nil, ops)
	return err
}

// ListInstanceARNs pages through a cluster's instance ARNs, optionally of
// one status and only those that filter (when given) keeps.
func (s *State) ListInstanceARNs(ctx context.Context, cluster, status string, filter func(*InstanceRecord) (bool, error), token string, limit int) ([]string, string, error) {
	return scan(ctx, s.db, Root+"instances/"+cluster+"/", token, limit, false, func(kv store.KV) (string, bool, error) {
		r, err := decode[InstanceRecord](kv)
		if err != nil {
			return "", false, err
		}
		keep := status == "" && r.Instance.Status != model.InstanceInactive || status == r.Instance.Status
		if keep && filter != nil {
			if keep, err = filter(r); err != nil {
				return "", false, err
			}
		}
		return r.Instance.ContainerInstanceArn, keep, nil
	})
}

// PutAttributes sets attributes on an instance (replacing those of the same name).
func PutAttributes(existing, adding []model.Attribute) []model.Attribute {
	out := slices.Clone(existing)
	for _, a := range adding {
		i := slices.IndexFunc(out, func(b model.Attribute) bool { return b.Name == a.Name })
		if i >= 0 {
			out[i] = model.Attribute{Name: a.Name, Value: a.Value}
		} else {
			out = append(out, model.Attribute{Name: a.Name, Value: a.Value})
		}
	}
	return out
}

// instanceRecordsPrefix holds a cluster's instance records (watch it to follow them).
func instanceRecordsPrefix(cluster string) string { return Root + "instances/" + cluster + "/" }

// sessionsPrefix holds the agents' session keys, one per instance id.
func sessionsPrefix() string { return Root + "sessions/" }

// GetInstances reads several instances of a cluster at one revision, with
// their agents' connectivity.
func (s *State) GetInstances(ctx context.Context, cluster string, ids []string) (map[string]InstanceView, error) {
	keys := make([]string, 0, 2*len(ids))
	for _, id := range ids {
		keys = append(keys, instanceKey(cluster, id), sessionKey(id))
	}
	kvs, err := s.db.GetMany(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := map[string]InstanceView{}
	for _, id := range ids {
		kv := kvs[instanceKey(cluster, id)]
		r, err := decode[InstanceRecord](kv)
		if err != nil {
			return nil, err
		}
		if r != nil {
			out[id] = InstanceView{InstanceRecord: r, ModRev: kv.ModRev, Connected: kvs[sessionKey(id)].ModRev != 0}
		}
	}
	return out, nil
}

// InstanceAddresses maps every container instance's EC2 instance id (the id
// of its load balancer targets) to the address its agent advertises
// (attribute com.flotta.host-address), across clusters.
func (s *State) InstanceAddresses(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	after := ""
	for {
		page, err := s.db.List(ctx, Root+"instances/", store.ListOptions{After: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, kv := range page.KVs {
			r, err := decode[InstanceRecord](kv)
			if err != nil {
				return nil, err
			}
			for _, a := range r.Instance.Attributes {
				if a.Name == model.AttrHostAddress && a.Value != "" {
					out[r.Instance.Ec2InstanceID] = a.Value
				}
			}
		}
		if !page.More {
			return out, nil
		}
		after = page.KVs[len(page.KVs)-1].Key
	}
}
