package state

import (
	"context"
	"strconv"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/store"
)

func clusterKey(name string) string { return Root + "clusters/" + name }

// servicesPrefix, instancesPrefix and tasksPrefix index what a cluster holds
// that keeps it from being deleted: its active services, its ACTIVE or
// DRAINING container instances, and its tasks that have not yet stopped.
// The records themselves live elsewhere; these keys are kept in the same
// transactions that change them.
func servicesPrefix(cluster string) string  { return Root + "members/" + cluster + "/services/" }
func instancesPrefix(cluster string) string { return Root + "members/" + cluster + "/instances/" }
func tasksPrefix(cluster string) string     { return Root + "members/" + cluster + "/tasks/" }

// GetCluster reads a cluster, ACTIVE or INACTIVE; nil when it never existed.
func (s *State) GetCluster(ctx context.Context, name string) (*model.Cluster, error) {
	_, c, err := read[model.Cluster](ctx, s.db, clusterKey(name))
	return c, err
}

// GetClusters reads several clusters at one revision, keyed by name.
func (s *State) GetClusters(ctx context.Context, names []string) (map[string]*model.Cluster, error) {
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = clusterKey(n)
	}
	kvs, err := s.db.GetMany(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := map[string]*model.Cluster{}
	for _, n := range names {
		c, err := decode[model.Cluster](kvs[clusterKey(n)])
		if err != nil {
			return nil, err
		}
		if c != nil {
			out[n] = c
		}
	}
	return out, nil
}

// CreateCluster creates an ACTIVE cluster. Like ECS it is idempotent on the
// name: if an ACTIVE cluster of that name exists, it is returned unchanged and
// created is false. An INACTIVE (deleted) cluster of that name is replaced.
func (s *State) CreateCluster(ctx context.Context, c model.Cluster) (out *model.Cluster, created bool, err error) {
	key := clusterKey(c.ClusterName)
	c.ClusterArn = s.Scope.ClusterARN(c.ClusterName)
	c.Status = model.StatusActive
	if c.CapacityProviders == nil {
		c.CapacityProviders = []string{}
	}
	if c.DefaultCapacityProviderStrategy == nil {
		c.DefaultCapacityProviderStrategy = []model.CapacityProviderStrategyItem{}
	}
	err = retry(ctx, func() error {
		kv, cur, err := read[model.Cluster](ctx, s.db, key)
		if err != nil {
			return err
		}
		if cur != nil && cur.Status == model.StatusActive {
			out, created = cur, false
			return nil
		}
		if _, err := s.db.Commit(ctx, []store.Guard{{Key: key, ModRev: kv.ModRev}}, []store.Op{store.Put(key, mustJSON(c))}); err != nil {
			return err
		}
		out, created = &c, true
		return nil
	})
	return out, created, err
}

// UpdateCluster applies fn to an ACTIVE cluster and stores the result. A
// missing or INACTIVE cluster is a ClusterNotFoundException. If fn returns an
// error nothing is written.
func (s *State) UpdateCluster(ctx context.Context, name string, fn func(c *model.Cluster) error) (*model.Cluster, error) {
	key := clusterKey(name)
	var out *model.Cluster
	err := retry(ctx, func() error {
		kv, c, err := read[model.Cluster](ctx, s.db, key)
		if err != nil {
			return err
		}
		if c == nil || c.Status != model.StatusActive {
			return model.ErrClusterNotFound()
		}
		if err := fn(c); err != nil {
			return err
		}
		if _, err := s.db.Commit(ctx, []store.Guard{{Key: key, ModRev: kv.ModRev}}, []store.Op{store.Put(key, mustJSON(c))}); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// ClusterUsage counts what a cluster holds.
type ClusterUsage struct {
	Services, Instances, Tasks int64
	// Revision is the store revision the counts were read at.
	Revision int64
}

// CountClusterUsage counts a cluster's services, instances and tasks.
func (s *State) CountClusterUsage(ctx context.Context, name string) (ClusterUsage, error) {
	var u ClusterUsage
	var err error
	var r1, r2, r3 int64
	if u.Services, r1, err = s.db.Count(ctx, servicesPrefix(name)); err != nil {
		return u, err
	}
	if u.Instances, r2, err = s.db.Count(ctx, instancesPrefix(name)); err != nil {
		return u, err
	}
	if u.Tasks, r3, err = s.db.Count(ctx, tasksPrefix(name)); err != nil {
		return u, err
	}
	u.Revision = min(r1, r2, r3)
	return u, nil
}

// DeleteCluster marks an ACTIVE cluster INACTIVE. Like ECS it refuses while
// the cluster holds services, container instances or tasks; the commit is
// guarded so that one created concurrently also makes it refuse.
func (s *State) DeleteCluster(ctx context.Context, name string) (*model.Cluster, error) {
	key := clusterKey(name)
	var out *model.Cluster
	err := retry(ctx, func() error {
		kv, c, err := read[model.Cluster](ctx, s.db, key)
		if err != nil {
			return err
		}
		if c == nil {
			return model.ErrClusterNotFound()
		}
		if c.Status == model.StatusInactive {
			out = c
			return nil
		}
		u, err := s.CountClusterUsage(ctx, name)
		if err != nil {
			return err
		}
		switch {
		case u.Services > 0:
			return model.Errorf(model.CodeClusterContainsServices, "The Cluster cannot be deleted while Services are active.")
		case u.Instances > 0:
			return model.Errorf(model.CodeClusterContainsInstances, "The Cluster cannot be deleted while Container Instances are active or draining.")
		case u.Tasks > 0:
			return model.Errorf(model.CodeClusterContainsTasks, "The Cluster cannot be deleted while Tasks are active.")
		}
		c.Status = model.StatusInactive
		guards := []store.Guard{
			{Key: key, ModRev: kv.ModRev},
			{Key: servicesPrefix(name), ModRev: u.Revision, Prefix: true},
			{Key: instancesPrefix(name), ModRev: u.Revision, Prefix: true},
			{Key: tasksPrefix(name), ModRev: u.Revision, Prefix: true},
		}
		if _, err := s.db.Commit(ctx, guards, []store.Op{store.Put(key, mustJSON(c))}); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// ListClusters lists the ARNs of ACTIVE clusters in name order, a page at a time.
func (s *State) ListClusters(ctx context.Context, token string, limit int) ([]string, string, error) {
	return scan(ctx, s.db, Root+"clusters/", token, limit, false, func(kv store.KV) (string, bool, error) {
		c, err := decode[model.Cluster](kv)
		if err != nil {
			return "", false, err
		}
		return c.ClusterArn, c.Status == model.StatusActive, nil
	})
}

// ClusterStatistics returns the statistics entries DescribeClusters shows.
func ClusterStatistics(c *model.Cluster) []model.KeyValuePair {
	n := func(v int) string { return strconv.Itoa(v) }
	return []model.KeyValuePair{
		model.Pair("runningEC2TasksCount", n(c.RunningTasksCount)),
		model.Pair("runningFargateTasksCount", "0"),
		model.Pair("pendingEC2TasksCount", n(c.PendingTasksCount)),
		model.Pair("pendingFargateTasksCount", "0"),
		model.Pair("activeEC2ServiceCount", n(c.ActiveServicesCount)),
		model.Pair("activeFargateServiceCount", "0"),
		model.Pair("drainingEC2ServiceCount", "0"),
		model.Pair("drainingFargateServiceCount", "0"),
	}
}
