package controller

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// Targets keeps the load balancer targets of services' tasks as ECS does:
// a task of a service with loadBalancers (of its task set's, in an EXTERNAL
// service) is registered in each target group
// once it runs (its host address and host port for target type instance,
// its own address and container port for ip), and is deregistered, to
// drain for the group's deregistration delay, as soon as it is to stop. It
// also removes the targets whose delay has passed (SweepELBTargets).
//
// It meets the other controllers only in the store: it reads services,
// their tasks and instances, and writes the load balancing configuration
// and service events.
type Targets struct {
	State  *state.State
	Logger *slog.Logger
	// Every is how often it reconciles without a store change (for drain
	// deadlines); store changes to services and their tasks wake it at once.
	Every time.Duration

	// withLBs holds the services that have load balancers ("cluster/name"),
	// so that a pass reads those only; services that changed since the
	// last pass are read again (changed), and every one every
	// rescanServices (scannedAt).
	withLBs   map[string]bool
	changed   map[string]bool
	scannedAt time.Time
}

// rescanServices is how often the targets controller reads every service
// to find those with load balancers (changes tell it in between).
const rescanServices = 30 * time.Second

// Run reconciles until ctx ends.
func (t *Targets) Run(ctx context.Context) {
	if t.Every == 0 {
		t.Every = time.Second
	}
	if t.Logger == nil {
		t.Logger = slog.Default()
	}
	f := &serviceFollower{State: t.State, Logger: t.Logger, What: "load balancer targets", Every: t.Every, MinPass: minTargetsPass,
		Reconcile: t.Reconcile, Changed: func(key string) {
			if t.changed == nil {
				t.changed = map[string]bool{}
			}
			t.changed[key] = true
		}}
	f.run(ctx)
}

// minTargetsPass spaces the passes of the targets controller: a pass reads
// every service, so a burst of task changes must not cost one pass each.
const minTargetsPass = 100 * time.Millisecond

// wantedTarget is a target a running task should be.
type wantedTarget struct {
	id      string
	port    int32
	taskArn string
	service string // "cluster/name", for its events
}

func (w wantedTarget) key() string { return w.id + ":" + strconv.Itoa(int(w.port)) }

// Reconcile makes the service-owned targets of every target group match
// the running tasks of the services that name it, once.
func (t *Targets) Reconcile(ctx context.Context) error {
	now := t.State.Now()
	cfg, err := t.State.ReadELB(ctx)
	if err != nil || len(cfg.TargetGroups) == 0 {
		return err // no target group, nothing to register (the common case without load balancers)
	}
	wanted, services, err := t.wanted(ctx, cfg)
	if err != nil {
		return err
	}
	type change struct{ registered, deregistered int }
	changes := map[string]map[string]*change{} // service -> target group -> counts
	var deactivate []string                    // tasks whose targets began to drain
	note := func(service, tg string) *change {
		if changes[service] == nil {
			changes[service] = map[string]*change{}
		}
		if changes[service][tg] == nil {
			changes[service][tg] = &change{}
		}
		return changes[service][tg]
	}
	_, err = t.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		clear(changes)
		deactivate = deactivate[:0]
		for arn, tg := range tx.Config.TargetGroups {
			want := wanted[arn]
			delay := tg.DeregistrationDelay()
			kept := make(map[string]bool, len(tg.Targets))
			for i := range tg.Targets {
				tgt := &tg.Targets[i]
				k := tgt.ID + ":" + strconv.Itoa(int(tgt.Port))
				kept[k] = true
				if tgt.TaskArn == "" {
					continue // a user's own target
				}
				w, ok := want[k]
				switch {
				case ok && w.taskArn == tgt.TaskArn && !tgt.Draining():
				case ok && w.taskArn == tgt.TaskArn:
					// Draining, but running again (a deregistration undone).
					tgt.DrainingUntil, tgt.RegisteredAt = time.Time{}, now
					note(w.service, arn).registered++
				case !tgt.Draining():
					tgt.DrainingUntil = now.Add(delay)
					deactivate = append(deactivate, tgt.TaskArn)
					if svc := services[tgt.TaskArn]; svc != "" {
						note(svc, arn).deregistered++
					}
				}
			}
			keys := make([]string, 0, len(want))
			for k := range want {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if kept[k] {
					continue
				}
				w := want[k]
				tg.Targets = append(tg.Targets, state.ELBTarget{ID: w.id, Port: w.port, RegisteredAt: now, TaskArn: w.taskArn})
				note(w.service, arn).registered++
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for service, byGroup := range changes {
		cluster, name, _ := strings.Cut(service, "/")
		var evs []model.ServiceEvent
		for tg, c := range byGroup {
			if c.registered > 0 {
				evs = append(evs, event(t.State, "(service %s) registered %d targets in (target-group %s)", name, c.registered, tg))
			}
			if c.deregistered > 0 {
				evs = append(evs, event(t.State, "(service %s) deregistered %d targets in (target-group %s)", name, c.deregistered, tg))
			}
		}
		_, err := t.State.UpdateService(ctx, cluster, name, func(r *state.ServiceRecord) error {
			r.Service.Events = append(evs, r.Service.Events...)
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, arn := range deactivate {
		if cluster, id, err := model.ParseTaskARN(arn); err == nil {
			if err := t.State.DeactivateTask(ctx, cluster, id); err != nil {
				return err
			}
		}
	}
	if _, err := t.State.SweepELBTargets(ctx, now); err != nil {
		return err
	}
	return nil
}

// wanted works out, for every target group that services name, the targets
// their running tasks should be (by "id:port"), and which service each
// service-owned task belongs to.
//
// A task already registered (and not draining) in a group keeps the target
// it has there: only tasks new to a group are read whole, so a steady
// service of many tasks costs a read of its task summaries per pass.
func (t *Targets) wanted(ctx context.Context, cfg *state.ELBConfig) (map[string]map[string]wantedTarget, map[string]string, error) {
	keys, err := t.servicesWithLBs(ctx)
	if err != nil {
		return nil, nil, err
	}
	registered := map[string]map[string]state.ELBTarget{} // target group -> task ARN -> its target
	for arn, tg := range cfg.TargetGroups {
		for _, tgt := range tg.Targets {
			if tgt.TaskArn != "" && !tgt.Draining() {
				if registered[arn] == nil {
					registered[arn] = map[string]state.ELBTarget{}
				}
				registered[arn][tgt.TaskArn] = tgt
			}
		}
	}
	wanted := map[string]map[string]wantedTarget{}
	services := map[string]string{}
	instances := map[string]map[string]*state.InstanceRecord{} // cluster -> id
	for _, key := range keys {
		cluster, name, _ := strings.Cut(key, "/")
		rec, err := t.State.GetService(ctx, cluster, name)
		if err != nil {
			return nil, nil, err
		}
		if rec == nil || !hasLoadBalancers(rec) {
			delete(t.withLBs, key)
			continue
		}
		summaries, err := t.State.ServiceTasks(ctx, cluster, name)
		if err != nil {
			return nil, nil, err
		}
		for _, s := range summaries {
			services[s.Arn] = key
			if s.LastStatus != model.TaskRunning || s.DesiredStatus != model.TaskRunning {
				continue
			}
			lbs := taskLoadBalancers(rec, s.StartedBy)
			missing := false
			for _, lb := range lbs {
				tgt, ok := registered[lb.TargetGroupArn][s.Arn]
				if !ok {
					missing = true
					continue
				}
				w := wantedTarget{id: tgt.ID, port: tgt.Port, taskArn: s.Arn, service: key}
				if wanted[lb.TargetGroupArn] == nil {
					wanted[lb.TargetGroupArn] = map[string]wantedTarget{}
				}
				wanted[lb.TargetGroupArn][w.key()] = w
			}
			if !missing {
				continue
			}
			task, err := t.State.GetTask(ctx, cluster, s.ID)
			if err != nil {
				return nil, nil, err
			}
			if task == nil {
				continue
			}
			if instances[cluster] == nil {
				instances[cluster] = map[string]*state.InstanceRecord{}
			}
			inst, ok := instances[cluster][s.InstanceID]
			if !ok {
				if inst, err = t.State.GetInstance(ctx, cluster, s.InstanceID); err != nil {
					return nil, nil, err
				}
				instances[cluster][s.InstanceID] = inst
			}
			for _, lb := range lbs {
				w, ok := targetOf(&task.Task, inst, lb)
				if !ok {
					continue
				}
				w.service = key
				if wanted[lb.TargetGroupArn] == nil {
					wanted[lb.TargetGroupArn] = map[string]wantedTarget{}
				}
				wanted[lb.TargetGroupArn][w.key()] = w
			}
		}
	}
	return wanted, services, nil
}

// hasLoadBalancers says whether any task of a service registers with a
// load balancer: the service names target groups, or one of its task sets
// does.
func hasLoadBalancers(rec *state.ServiceRecord) bool {
	if len(rec.Service.LoadBalancers) > 0 {
		return true
	}
	for _, ts := range rec.Service.TaskSets {
		if len(ts.LoadBalancers) > 0 {
			return true
		}
	}
	return false
}

// taskLoadBalancers are the load balancer entries a service's task, started
// by startedBy, registers with: its task set's in an EXTERNAL service (each
// task set has its own target groups, the heart of a blue/green), its
// deployment's in a blue/green, canary or linear deployment, else the
// service's.
func taskLoadBalancers(rec *state.ServiceRecord, startedBy string) []model.LoadBalancer {
	if !rec.Service.IsExternal() {
		// A blue/green deployment's tasks go to its own target groups.
		for i := range rec.Deployments {
			if d := &rec.Deployments[i]; d.ID == startedBy && d.LoadBalancers != nil {
				return d.LoadBalancers
			}
		}
		return rec.Service.LoadBalancers
	}
	if ts := rec.Service.TaskSetByID(startedBy); ts != nil {
		return ts.LoadBalancers
	}
	return nil
}

// targetOf is the target a running task is for one load balancer entry of
// its service: its own address and the container port in awsvpc mode
// (target type ip), else its instance and the host port the container port
// is published on (target type instance).
func targetOf(task *model.Task, inst *state.InstanceRecord, lb model.LoadBalancer) (wantedTarget, bool) {
	if lb.ContainerPort == nil {
		return wantedTarget{}, false
	}
	for _, c := range task.Containers {
		if c.Name != lb.ContainerName {
			continue
		}
		for _, ni := range c.NetworkInterfaces {
			if ni.PrivateIpv4Address != "" {
				return wantedTarget{id: ni.PrivateIpv4Address, port: int32(*lb.ContainerPort), taskArn: task.TaskArn}, true
			}
		}
		if inst == nil {
			return wantedTarget{}, false
		}
		for _, b := range c.NetworkBindings {
			if b.ContainerPort == *lb.ContainerPort && b.HostPort != 0 && (b.Protocol == "" || b.Protocol == "tcp") {
				return wantedTarget{id: inst.Instance.Ec2InstanceID, port: int32(b.HostPort), taskArn: task.TaskArn}, true
			}
		}
	}
	return wantedTarget{}, false
}

// String names a wanted target in logs.
func (w wantedTarget) String() string { return fmt.Sprintf("%s:%d (%s)", w.id, w.port, w.taskArn) }

// servicesWithLBs are the services to look at this pass: every service when
// the set is unknown or old, else those known to have load balancers and
// those that changed since (a service that gains or loses them).
func (t *Targets) servicesWithLBs(ctx context.Context) ([]string, error) {
	now := time.Now()
	if t.withLBs == nil || now.Sub(t.scannedAt) >= rescanServices {
		keys, err := t.State.ServiceKeys(ctx)
		if err != nil {
			return nil, err
		}
		t.withLBs, t.changed, t.scannedAt = map[string]bool{}, nil, now
		for _, k := range keys {
			t.withLBs[k] = true // each is read this pass; those without load balancers drop out
		}
	}
	for k := range t.changed {
		t.withLBs[k] = true
	}
	t.changed = nil
	keys := make([]string, 0, len(t.withLBs))
	for k := range t.withLBs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, nil
}
