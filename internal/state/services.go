package state

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/store"
)

// MaxServiceEvents is how many events a service keeps (ECS shows 100).
const MaxServiceEvents = 100

// maxHistory bounds the revisions and service deployments a service keeps.
const maxHistory = 50

// maxCounted bounds the failed tasks a service record remembers.
const maxCounted = 5000

// ServiceRecord is a stored service with its rollout state.
type ServiceRecord struct {
	Cluster string        `json:"cluster"`
	Name    string        `json:"name"`
	Service model.Service `json:"service"`
	// ClientToken is the idempotency token CreateService was called with.
	ClientToken string `json:"clientToken,omitempty"`
	// Deployments are the service's deployments, PRIMARY first, with what
	// the controller needs to carry them out.
	Deployments []DeploymentRecord `json:"deployments"`
	// Revisions and ServiceDeployments are the most recent ones, newest last.
	Revisions          []model.ServiceRevision   `json:"revisions"`
	ServiceDeployments []model.ServiceDeployment `json:"serviceDeployments"`
	// LastCompleted is the deployment a circuit breaker rolls back to.
	LastCompleted *DeploymentRecord `json:"lastCompleted,omitempty"`
	// Seq numbers deployments, revisions and events.
	Seq int64 `json:"seq"`
	// Counted lists the failed tasks already counted, so each counts once.
	Counted []string `json:"counted,omitempty"`
	// FailStreak counts task failures since the last task that ran, and
	// NextStart is when the controller may start tasks again (backoff).
	FailStreak int       `json:"failStreak,omitempty"`
	NextStart  time.Time `json:"nextStart,omitzero"`
	// Steady says the last reconcile found the service in a steady state.
	Steady bool `json:"steady,omitempty"`
	// LastPlacementEvent throttles "unable to place" events.
	LastPlacementEvent time.Time `json:"lastPlacementEvent,omitzero"`
	// UpdatedAt is when the record was last written (the time of its events).
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
	// Shift is the blue/green, canary or linear deployment under way.
	Shift *ShiftRecord `json:"shift,omitempty"`
}

// DeploymentRecord is a deployment and what carrying it out needs.
type DeploymentRecord struct {
	model.Deployment
	RevisionArn          string `json:"revisionArn"`
	ServiceDeploymentArn string `json:"serviceDeploymentArn"`
	// Rollback marks a deployment made by the circuit breaker.
	Rollback bool `json:"rollback,omitempty"`
	// LoadBalancers, when set, are the target groups this deployment's
	// tasks register with instead of the service's: a blue/green
	// deployment's green tasks go to the alternate target groups.
	LoadBalancers []model.LoadBalancer `json:"loadBalancers,omitempty"`
}

// TaskSummary is what the service controller needs to know of a task,
// indexed beside the service so that a reconcile reads little.
type TaskSummary struct {
	ID            string      `json:"id"`
	Arn           string      `json:"arn"`
	InstanceID    string      `json:"instanceId"`
	LastStatus    string      `json:"lastStatus"`
	DesiredStatus string      `json:"desiredStatus"`
	Health        string      `json:"health,omitempty"`
	HasCheck      bool        `json:"hasCheck,omitempty"`
	StartedBy     string      `json:"startedBy"`
	CreatedAt     *model.Time `json:"createdAt,omitempty"`
	StartedAt     *model.Time `json:"startedAt,omitempty"`
	StoppedAt     *model.Time `json:"stoppedAt,omitempty"`
	StopCode      string      `json:"stopCode,omitempty"`
	StoppedReason string      `json:"stoppedReason,omitempty"`
	ProtectedTill *model.Time `json:"protectedTill,omitempty"`
	// Essential exits and failed starts are failures; scheduler stops are not.
	EverRan bool `json:"everRan,omitempty"`
	// UnhealthyTargetGroup names the target group whose health checks the
	// task fails, when that is why Health is UNHEALTHY. The service
	// controller works it out for each reconcile; it is never stored.
	UnhealthyTargetGroup string `json:"-"`
}

func serviceKey(cluster, name string) string { return Root + "services/" + cluster + "/" + name }

// serviceRecordsPrefix holds every service record (watch it to follow services).
func serviceRecordsPrefix() string { return Root + "services/" }

// serviceTasksPrefix holds one summary per task of a service (watch it too).
func serviceTasksPrefix(cluster, service string) string {
	return Root + "service-tasks/" + cluster + "/" + service + "/"
}

// allServiceTasksPrefix holds every service's task summaries.
func allServiceTasksPrefix() string { return Root + "service-tasks/" }

// ServiceOfGroup returns the service a task group belongs to, or "".
func ServiceOfGroup(group string) string {
	name, ok := strings.CutPrefix(group, "service:")
	if !ok {
		return ""
	}
	return name
}

// Summary is a task's summary.
func (r *TaskRecord) Summary() TaskSummary {
	t := &r.Task
	s := TaskSummary{ID: r.ID, Arn: t.TaskArn, InstanceID: r.InstanceID, LastStatus: t.LastStatus, DesiredStatus: t.DesiredStatus,
		Health: t.HealthStatus, StartedBy: t.StartedBy, CreatedAt: t.CreatedAt, StartedAt: t.StartedAt, StoppedAt: t.StoppedAt,
		StopCode: t.StopCode, StoppedReason: t.StoppedReason, EverRan: t.StartedAt != nil, ProtectedTill: r.ProtectedTill}
	for _, c := range r.Definition.ContainerDefinitions {
		if c.IsEssential() && c.HealthCheck != nil {
			s.HasCheck = true
		}
	}
	return s
}

// summaryOp writes a service task's summary, or nothing for other tasks.
func summaryOp(r *TaskRecord) []store.Op {
	svc := ServiceOfGroup(r.Task.Group)
	if svc == "" {
		return nil
	}
	return []store.Op{store.Put(serviceTasksPrefix(r.Cluster, svc)+r.ID, mustJSON(r.Summary()))}
}

// ServiceTasks reads a service's task summaries.
func (s *State) ServiceTasks(ctx context.Context, cluster, service string) ([]TaskSummary, error) {
	page, err := s.db.List(ctx, serviceTasksPrefix(cluster, service), store.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]TaskSummary, 0, len(page.KVs))
	for _, kv := range page.KVs {
		t, err := decode[TaskSummary](kv)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, nil
}

// CreateService stores a new service. A service of that name that is still
// ACTIVE or DRAINING is returned instead, and nothing is written.
func (s *State) CreateService(ctx context.Context, rec ServiceRecord) (existing *ServiceRecord, err error) {
	key := serviceKey(rec.Cluster, rec.Name)
	err = retry(ctx, func() error {
		kv, cur, err := read[ServiceRecord](ctx, s.db, key)
		if err != nil {
			return err
		}
		existing = nil
		if cur != nil && cur.Service.Status != model.ServiceInactive {
			existing = cur
			return nil
		}
		guards, unlock, err := s.underQuota(ctx, servicesPrefix(rec.Cluster), s.Quotas().ServicesPerCluster, func(n int64) error {
			return model.InvalidParameter("Services per cluster limit exceeded: cluster %s already has %d services, the most a cluster can have.", rec.Cluster, n)
		})
		if err != nil {
			return err
		}
		defer unlock()
		guards = append(guards, store.Guard{Key: key, ModRev: kv.ModRev})
		rec.UpdatedAt = s.Now()
		_, err = s.db.Commit(ctx, guards, []store.Op{
			store.Put(key, mustJSON(rec)),
			store.Put(servicesPrefix(rec.Cluster)+rec.Name, nil),
		})
		return err
	})
	return existing, err
}

// GetService reads a service; nil when it never existed.
func (s *State) GetService(ctx context.Context, cluster, name string) (*ServiceRecord, error) {
	_, r, err := read[ServiceRecord](ctx, s.db, serviceKey(cluster, name))
	return r, err
}

// UpdateService applies fn to a service atomically; nil when unknown. If fn
// returns an error nothing is written. The membership that keeps a cluster
// from being deleted lasts until the service is INACTIVE.
func (s *State) UpdateService(ctx context.Context, cluster, name string, fn func(r *ServiceRecord) error) (*ServiceRecord, error) {
	key := serviceKey(cluster, name)
	var out *ServiceRecord
	err := retry(ctx, func() error {
		kv, r, err := read[ServiceRecord](ctx, s.db, key)
		if err != nil || r == nil {
			out = nil
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
		trim(r)
		r.UpdatedAt = s.Now()
		ops := []store.Op{store.Put(key, mustJSON(r))}
		if r.Service.Status == model.ServiceInactive {
			ops = append(ops, store.Del(servicesPrefix(cluster)+name))
		}
		if _, err := s.db.Commit(ctx, []store.Guard{{Key: key, ModRev: kv.ModRev}}, ops); err != nil {
			return err
		}
		out = r
		return nil
	})
	return out, err
}

// trim bounds a service's histories.
func trim(r *ServiceRecord) {
	if n := len(r.Service.Events); n > MaxServiceEvents {
		r.Service.Events = r.Service.Events[:MaxServiceEvents]
	}
	if n := len(r.Revisions); n > maxHistory {
		r.Revisions = r.Revisions[n-maxHistory:]
	}
	if n := len(r.ServiceDeployments); n > maxHistory {
		r.ServiceDeployments = r.ServiceDeployments[n-maxHistory:]
	}
	// The controller forgets counted failures once their tasks are reaped;
	// this bound only guards the record's size against a runaway.
	if n := len(r.Counted); n > maxCounted {
		r.Counted = r.Counted[n-maxCounted:]
	}
}

// ListServiceARNs pages through a cluster's services that are not INACTIVE.
func (s *State) ListServiceARNs(ctx context.Context, cluster string, keep func(*ServiceRecord) bool, token string, limit int) ([]string, string, error) {
	return scan(ctx, s.db, Root+"services/"+cluster+"/", token, limit, false, func(kv store.KV) (string, bool, error) {
		r, err := decode[ServiceRecord](kv)
		if err != nil {
			return "", false, err
		}
		return r.Service.ServiceArn, r.Service.Status != model.ServiceInactive && (keep == nil || keep(r)), nil
	})
}

// ListAllServiceARNs is ListServiceARNs across every cluster.
func (s *State) ListAllServiceARNs(ctx context.Context, keep func(*ServiceRecord) bool, token string, limit int) ([]string, string, error) {
	return scan(ctx, s.db, serviceRecordsPrefix(), token, limit, false, func(kv store.KV) (string, bool, error) {
		r, err := decode[ServiceRecord](kv)
		if err != nil {
			return "", false, err
		}
		return r.Service.ServiceArn, r.Service.Status != model.ServiceInactive && (keep == nil || keep(r)), nil
	})
}

// ServiceKeys lists every service of every cluster as "cluster/name", reading
// keys only, a page at a time (for the controller's resync).
func (s *State) ServiceKeys(ctx context.Context) ([]string, error) {
	var out []string
	after := ""
	for {
		page, err := s.db.List(ctx, serviceRecordsPrefix(), store.ListOptions{After: after, Limit: 1000, KeysOnly: true})
		if err != nil {
			return nil, err
		}
		for _, kv := range page.KVs {
			out = append(out, strings.TrimPrefix(kv.Key, serviceRecordsPrefix()))
		}
		if !page.More || len(page.KVs) == 0 {
			return out, nil
		}
		after = page.KVs[len(page.KVs)-1].Key
	}
}

// ReapStopped removes tasks that stopped before `before`, at most limit of
// them, and returns how many it removed.
func (s *State) ReapStopped(ctx context.Context, before time.Time, limit int) (int, error) {
	end := fmt.Sprintf("%s%020d", stoppedPrefix(), before.UnixNano())
	page, err := s.db.List(ctx, stoppedPrefix(), store.ListOptions{Limit: limit, KeysOnly: true})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, kv := range page.KVs {
		if kv.Key >= end {
			break
		}
		parts := strings.Split(strings.TrimPrefix(kv.Key, stoppedPrefix()), "/")
		if len(parts) != 3 {
			continue
		}
		cluster, id := parts[1], parts[2]
		ops := []store.Op{store.Del(kv.Key), store.Del(taskKey(cluster, id))}
		if t, err := s.GetTask(ctx, cluster, id); err != nil {
			return n, err
		} else if t != nil {
			if svc := ServiceOfGroup(t.Task.Group); svc != "" {
				ops = append(ops, store.Del(serviceTasksPrefix(cluster, svc)+id))
			}
		}
		if _, err := s.db.Commit(ctx, nil, ops); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
