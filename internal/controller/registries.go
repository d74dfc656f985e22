package controller

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// Attributes ECS gives the Cloud Map instances of a service's tasks.
const (
	attrIPv4       = "AWS_INSTANCE_IPV4"
	attrPort       = "AWS_INSTANCE_PORT"
	attrInitHealth = "AWS_INIT_HEALTH_STATUS"
	attrZone       = "AVAILABILITY_ZONE"
	attrRegion     = "REGION"
	attrCluster    = "ECS_CLUSTER_NAME"
	attrService    = "ECS_SERVICE_NAME"
	attrFamily     = "ECS_TASK_DEFINITION_FAMILY"
	attrEC2        = "EC2_INSTANCE_ID"
)

// Registries keeps the Cloud Map instances of services' tasks as ECS keeps
// them: a task of a service with serviceRegistries is registered (instance
// id: the task's id) once it runs and, when its task definition has a
// health check, once it is healthy; it is deregistered as soon as it is to
// stop, stops, or fails its health check (in a Cloud Map service with a
// custom health check it stays, marked UNHEALTHY). The DNS server follows
// the instances, so a task's address is answered only while it may take
// traffic. The agent holds a stopping task's containers until its instance
// is gone (see the gateway), so no answer ever names a stopped task.
//
// It meets the other controllers only in the store: it reads services,
// their tasks and instances, and writes Cloud Map instances.
type Registries struct {
	State  *state.State
	Logger *slog.Logger
	// Every is how often it reconciles without a store change.
	Every time.Duration

	// withRegs holds the services known to have registries ("cluster/name"),
	// changed those to read again; every service is read every
	// rescanServices (scannedAt), and every Cloud Map service is swept for
	// instances no service wants any more.
	withRegs  map[string]bool
	changed   map[string]bool
	scannedAt time.Time
	// touched are the Cloud Map services that held tasks at the last pass:
	// one that no service names any more is emptied of them.
	touched map[string]bool
}

// Run reconciles until ctx ends.
func (r *Registries) Run(ctx context.Context) {
	if r.Every == 0 {
		r.Every = time.Second
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	f := &serviceFollower{State: r.State, Logger: r.Logger, What: "service registries", Every: r.Every, MinPass: minRegistriesPass,
		Reconcile: r.Reconcile, Changed: func(key string) {
			if r.changed == nil {
				r.changed = map[string]bool{}
			}
			r.changed[key] = true
		}}
	f.run(ctx)
}

// minRegistriesPass spaces the passes: a burst of task changes costs one.
const minRegistriesPass = 20 * time.Millisecond

// owner is the ECS service a Cloud Map instance was registered for.
func owner(inst *state.SDInstance) string {
	c, s := inst.Attributes[attrCluster], inst.Attributes[attrService]
	if c == "" || s == "" {
		return ""
	}
	return c + "/" + s
}

// Reconcile makes the instances of every Cloud Map service that services
// name match their tasks, once.
func (r *Registries) Reconcile(ctx context.Context) error {
	keys, sweep, err := r.servicesWithRegistries(ctx)
	if err != nil {
		return err
	}
	// wanted: Cloud Map service -> instance id -> the instance it should be.
	wanted := map[string]map[string]*state.SDInstance{}
	for _, key := range keys {
		cluster, name, _ := strings.Cut(key, "/")
		rec, err := r.State.GetService(ctx, cluster, name)
		if err != nil {
			return err
		}
		if rec == nil || rec.Service.Status == model.ServiceInactive || len(rec.Service.ServiceRegistries) == 0 {
			delete(r.withRegs, key)
			continue
		}
		if err := r.wantedOf(ctx, rec, wanted); err != nil {
			return err
		}
	}
	targets := map[string]bool{}
	for id := range wanted {
		targets[id] = true
	}
	for id := range r.touched {
		targets[id] = true
	}
	if sweep {
		all, err := r.State.ListSDServices(ctx)
		if err != nil {
			return err
		}
		for _, s := range all {
			targets[s.ID] = true
		}
	}
	next := map[string]bool{}
	for _, id := range slices.Sorted(maps.Keys(targets)) {
		held, err := r.apply(ctx, id, wanted[id])
		if err != nil {
			return err
		}
		if held {
			next[id] = true
		}
	}
	r.touched = next
	return nil
}

// wantedOf adds the instances one service's tasks should be to wanted.
func (r *Registries) wantedOf(ctx context.Context, rec *state.ServiceRecord, wanted map[string]map[string]*state.SDInstance) error {
	key := rec.Cluster + "/" + rec.Name
	summaries, err := r.State.ServiceTasks(ctx, rec.Cluster, rec.Name)
	if err != nil {
		return err
	}
	for _, reg := range rec.Service.ServiceRegistries {
		id, ok := reg.CloudMapServiceID()
		if !ok {
			continue
		}
		sd, err := r.State.GetSDService(ctx, id)
		if err != nil || sd == nil {
			continue // the Cloud Map service is gone: nothing to register in
		}
		if wanted[id] == nil {
			wanted[id] = map[string]*state.SDInstance{}
		}
		existing, err := r.State.ListSDInstances(ctx, id)
		if err != nil {
			return err
		}
		have := map[string]*state.SDInstance{}
		for i := range existing {
			have[existing[i].ID] = &existing[i]
		}
		for _, s := range summaries {
			if s.LastStatus != model.TaskRunning || s.DesiredStatus != model.TaskRunning {
				continue
			}
			healthy := !s.HasCheck || s.Health == model.HealthHealthy
			unhealthy := s.HasCheck && s.Health == model.HealthUnhealthy
			if !healthy && !(unhealthy && sd.HealthCheckCustom != nil) {
				continue
			}
			if cur := have[s.ID]; cur != nil && owner(cur) == key {
				w := *cur
				w.CustomHealth = customHealth(sd, unhealthy)
				wanted[id][s.ID] = &w
				continue
			}
			if unhealthy {
				continue // registered only once healthy
			}
			inst, ok, err := r.instanceOf(ctx, rec, s, sd, reg)
			if err != nil {
				return err
			}
			if ok {
				wanted[id][s.ID] = inst
			}
		}
	}
	return nil
}

// customHealth is the custom health status an instance should have: none
// unless the Cloud Map service takes custom health checks.
func customHealth(sd *state.SDService, unhealthy bool) string {
	switch {
	case sd.HealthCheckCustom == nil:
		return ""
	case unhealthy:
		return "UNHEALTHY"
	default:
		return "HEALTHY"
	}
}

// instanceOf is the Cloud Map instance of a running task: its own address
// in awsvpc mode, else its host's address; with the port an SRV record
// gives (the registry's port, or where its container port is published).
func (r *Registries) instanceOf(ctx context.Context, rec *state.ServiceRecord, s state.TaskSummary, sd *state.SDService, reg model.ServiceRegistry) (*state.SDInstance, bool, error) {
	task, err := r.State.GetTask(ctx, rec.Cluster, s.ID)
	if err != nil || task == nil {
		return nil, false, err
	}
	attrs := map[string]string{
		attrInitHealth: "HEALTHY",
		attrRegion:     r.State.Scope.Region,
		attrCluster:    rec.Cluster,
		attrService:    rec.Name,
		attrFamily:     task.Definition.Family,
	}
	srv := slices.ContainsFunc(sd.DnsRecords, func(d state.SDDnsRecord) bool { return d.Type == "SRV" })
	if addr := taskAddress(&task.Task); addr != "" {
		attrs[attrIPv4] = addr
		if srv {
			switch {
			case reg.Port != nil:
				attrs[attrPort] = strconv.Itoa(*reg.Port)
			case reg.ContainerPort != nil:
				attrs[attrPort] = strconv.Itoa(*reg.ContainerPort)
			}
		}
	} else {
		inst, err := r.State.GetInstance(ctx, rec.Cluster, s.InstanceID)
		if err != nil || inst == nil {
			return nil, false, err
		}
		for _, a := range inst.Instance.Attributes {
			switch a.Name {
			case model.AttrHostAddress:
				attrs[attrIPv4] = a.Value
			case model.AttrZone:
				attrs[attrZone] = a.Value
			}
		}
		attrs[attrEC2] = inst.Instance.Ec2InstanceID
		if reg.ContainerPort != nil {
			port := publishedPort(&task.Task, reg.ContainerName, *reg.ContainerPort)
			if port == 0 {
				return nil, false, nil // not published yet
			}
			attrs[attrPort] = strconv.Itoa(port)
		}
	}
	if attrs[attrIPv4] == "" || (srv && attrs[attrPort] == "") {
		return nil, false, nil
	}
	return &state.SDInstance{ServiceID: sd.ID, ID: s.ID, Attributes: attrs, CustomHealth: customHealth(sd, false)}, true, nil
}

// taskAddress is an awsvpc task's own address ("" for other modes).
func taskAddress(t *model.Task) string {
	for _, c := range t.Containers {
		for _, ni := range c.NetworkInterfaces {
			if ni.PrivateIpv4Address != "" {
				return ni.PrivateIpv4Address
			}
		}
	}
	return ""
}

// publishedPort is the host port a container's port is published on.
func publishedPort(t *model.Task, container string, port int) int {
	for _, c := range t.Containers {
		if c.Name != container {
			continue
		}
		for _, b := range c.NetworkBindings {
			if b.ContainerPort == port && b.HostPort != 0 && (b.Protocol == "" || b.Protocol == "tcp") {
				return b.HostPort
			}
		}
	}
	return 0
}

// apply makes one Cloud Map service's task instances what is wanted:
// registers the new ones, updates those whose health changed and
// deregisters those of tasks that are to stop, as well as those of
// services that no longer name it. It says whether tasks remain there.
func (r *Registries) apply(ctx context.Context, id string, want map[string]*state.SDInstance) (bool, error) {
	have, err := r.State.ListSDInstances(ctx, id)
	if err != nil {
		return false, nil // the Cloud Map service is gone, and its instances with it
	}
	held := false
	seen := map[string]bool{}
	for i := range have {
		cur := &have[i]
		o := owner(cur)
		if o == "" {
			continue // a user's own instance
		}
		seen[cur.ID] = true
		w := want[cur.ID]
		if w == nil {
			if _, err := r.State.DeleteSDInstance(ctx, id, cur.ID); err != nil {
				return false, err
			}
			r.Logger.Debug("deregistered a task from its service registry", "registry", id, "task", cur.ID, "service", o)
			continue
		}
		held = true
		if w.CustomHealth != cur.CustomHealth || !maps.Equal(w.Attributes, cur.Attributes) {
			if err := r.State.PutSDInstance(ctx, *w); err != nil {
				return false, err
			}
		}
	}
	for _, tid := range slices.Sorted(maps.Keys(want)) {
		if seen[tid] {
			continue
		}
		if err := r.State.PutSDInstance(ctx, *want[tid]); err != nil {
			return false, err
		}
		r.Logger.Debug("registered a task in its service registry", "registry", id, "task", tid)
		held = true
	}
	return held, nil
}

// servicesWithRegistries are the services to look at this pass, and
// whether this pass sweeps every Cloud Map service.
func (r *Registries) servicesWithRegistries(ctx context.Context) ([]string, bool, error) {
	now := time.Now()
	sweep := false
	if r.withRegs == nil || now.Sub(r.scannedAt) >= rescanServices {
		keys, err := r.State.ServiceKeys(ctx)
		if err != nil {
			return nil, false, err
		}
		r.withRegs, r.changed, r.scannedAt, sweep = map[string]bool{}, nil, now, true
		for _, k := range keys {
			r.withRegs[k] = true
		}
	}
	for k := range r.changed {
		r.withRegs[k] = true
	}
	r.changed = nil
	return slices.Sorted(maps.Keys(r.withRegs)), sweep, nil
}
