package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/placement"
	"github.com/flotta-dev/flotta/internal/scheduler"
	"github.com/flotta-dev/flotta/internal/state"
)

// Services keeps every service's desired count running and carries out its
// deployments.
type Services struct {
	State     *state.State
	Scheduler *scheduler.Scheduler
	Logger    *slog.Logger
	// Resync re-reads every service this often, for timers (grace periods,
	// backoff) that no store change announces.
	Resync  time.Duration
	Workers int
	q       *queue
	// instanceStatus is each instance's last seen status (watch goroutine only).
	instanceStatus map[string]string
}

// Run reconciles services until ctx ends.
func (c *Services) Run(ctx context.Context) {
	if c.Resync == 0 {
		c.Resync = 2 * time.Second
	}
	if c.Workers == 0 {
		c.Workers = 4
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.q = newQueue()
	wg := runWorkers(ctx, c.q, c.Workers, c.reconcileKey)
	defer wg.Wait()
	for ctx.Err() == nil {
		rev, err := c.State.Revision(ctx)
		if err != nil {
			sleep(ctx, time.Second)
			continue
		}
		c.resync(ctx)
		c.watch(ctx, rev)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

// resync queues every service; an INACTIVE one costs one read.
func (c *Services) resync(ctx context.Context) {
	keys, err := c.State.ServiceKeys(ctx)
	if err != nil {
		if ctx.Err() == nil {
			c.Logger.Warn("list services", "err", err)
		}
		return
	}
	for _, k := range keys {
		c.q.add(k)
	}
}

// instanceChanged says whether an instance change matters to services: an
// instance that joins, leaves or changes status. Its reservations changing,
// as every placement does, does not.
func (c *Services) instanceChanged(ch state.InstanceChange) bool {
	if c.instanceStatus == nil {
		c.instanceStatus = map[string]string{}
	}
	if ch.Err != nil {
		return true
	}
	if ch.Record == nil {
		delete(c.instanceStatus, ch.ID)
		return true
	}
	old, known := c.instanceStatus[ch.ID]
	c.instanceStatus[ch.ID] = ch.Record.Instance.Status
	return !known || old != ch.Record.Instance.Status
}

// watch queues the services that store changes concern, until a watch ends.
func (c *Services) watch(ctx context.Context, rev int64) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	svcs, e1 := c.State.WatchServices(wctx, rev)
	tasks, e2 := c.State.WatchServiceTasks(wctx, rev)
	insts, e3 := c.State.WatchInstances(wctx, "", rev)
	sess, e4 := c.State.WatchSessions(wctx, rev)
	tick := time.NewTicker(c.Resync)
	defer tick.Stop()
	for {
		select {
		case batch, ok := <-svcs:
			if !ok {
				return
			}
			for _, ch := range batch {
				c.q.add(ch.Cluster + "/" + ch.Name)
			}
		case batch, ok := <-tasks:
			if !ok {
				return
			}
			for _, ch := range batch {
				c.q.add(ch.Cluster + "/" + ch.Service)
			}
		case batch, ok := <-insts:
			if !ok {
				return
			}
			changed := false
			for _, ch := range batch {
				changed = c.instanceChanged(ch) || changed
			}
			if changed {
				c.resync(ctx)
			}
		case _, ok := <-sess:
			if !ok {
				return
			}
			c.resync(ctx)
		case <-tick.C:
			c.resync(ctx)
		case err := <-e1:
			c.Logger.Warn("service watch ended", "err", err)
			return
		case err := <-e2:
			c.Logger.Warn("service task watch ended", "err", err)
			return
		case err := <-e3:
			c.Logger.Warn("instance watch ended", "err", err)
			return
		case err := <-e4:
			c.Logger.Warn("session watch ended", "err", err)
			return
		case <-ctx.Done():
			return
		}
	}
}

func (c *Services) reconcileKey(ctx context.Context, key string) {
	cluster, name, _ := strings.Cut(key, "/")
	if err := c.Reconcile(ctx, cluster, name); err != nil && ctx.Err() == nil {
		c.Logger.Warn("reconcile service", "cluster", cluster, "service", name, "err", err)
	}
}

// Reconcile brings one service one step closer to what it should be.
func (c *Services) Reconcile(ctx context.Context, cluster, name string) error {
	rec, err := c.State.GetService(ctx, cluster, name)
	if err != nil || rec == nil || rec.Service.Status == model.ServiceInactive {
		return err
	}
	tasks, err := c.State.ServiceTasks(ctx, cluster, name)
	if err != nil {
		return err
	}
	clusterRec, err := c.State.GetCluster(ctx, cluster)
	if err != nil || clusterRec == nil {
		return err
	}
	instances, defs, err := c.gather(ctx, rec, tasks)
	if err != nil {
		return err
	}
	if err := c.foldTargetHealth(ctx, rec, tasks); err != nil {
		return err
	}
	var alarms map[string]state.AlarmState
	if dc := rec.Service.DeploymentConfiguration; dc != nil && dc.Alarms != nil && dc.Alarms.Enable && model.ShiftsTraffic(dc.Strategy) && len(rec.Deployments) > 1 {
		if alarms, err = c.State.AlarmStates(ctx, dc.Alarms.AlarmNames); err != nil {
			return err
		}
	}
	plan := Decide(View{Service: *rec, Tasks: tasks, Instances: instances, Now: c.State.Now(), Alarms: alarms})
	if plan.Next.Shift != nil {
		// The rules' weights before anything else: the tasks this plan
		// stops (blue's, at CLEAN_UP) and the stage the record will show
		// must find the traffic already where the plan says (a request
		// sent to a group whose targets all began draining gets a 503).
		if err := c.applyShiftWeights(ctx, &plan.Next); err != nil {
			return err
		}
	}
	var events []model.ServiceEvent
	events = append(events, plan.Next.Service.Events...)
	// Stops first: they make room.
	var stopped []string
	for _, s := range plan.Stops {
		if _, err := c.State.StopTask(ctx, cluster, s.TaskID, s.Reason, model.StopServiceSchedulerInitiated); err != nil {
			return err
		}
		stopped = append(stopped, s.TaskID)
	}
	if len(stopped) > 0 {
		events = append(events, event(c.State, "(service %s) has stopped %d running tasks: %s.", name, len(stopped), taskList(stopped)))
	}
	var started []string
	for _, s := range plan.Starts {
		def := defs[s.Deployment]
		if def == nil {
			continue
		}
		ids, placeEvent, err := c.start(ctx, clusterRec, &plan.Next, def, s)
		if err != nil {
			return err
		}
		started = append(started, ids...)
		if placeEvent != "" && time.Since(rec.LastPlacementEvent) > 30*time.Second {
			events = append(events, event(c.State, "%s", placeEvent))
			plan.Next.LastPlacementEvent = c.State.Now()
		}
	}
	if len(started) > 0 {
		events = append(events, event(c.State, "(service %s) has started %d tasks: %s.", name, len(started), taskList(started)))
	}
	if len(events) == 0 && !plan.Rollback && sameRecord(plan.Next, *rec) {
		return nil // nothing to record: a steady service costs no writes
	}
	_, err = c.State.UpdateService(ctx, cluster, name, func(r *state.ServiceRecord) error {
		if r.Seq != rec.Seq || r.Service.Status != rec.Service.Status || r.Service.DesiredCount != rec.Service.DesiredCount {
			// Changed meanwhile (a new deployment, a new count): the next
			// reconcile starts from the new state.
			return errChanged
		}
		next := plan.Next
		keepHookRuns(&next, r)
		if plan.Rollback {
			if ev, ok := c.rollback(ctx, &next); ok {
				events = append(events, ev)
			}
		}
		next.Service.Events = append(reverse(events), r.Service.Events...)
		// Tags change without a new Seq (TagResource): keep the record's,
		// or a tag written since this reconcile read the service is lost.
		next.Service.Tags = r.Service.Tags
		*r = next
		return nil
	})
	if errors.Is(err, errChanged) {
		c.q.add(cluster + "/" + name)
		return nil
	}
	return err
}

// keepHookRuns keeps the hooks controller's record of the current stage's
// hook runs, written since this reconcile read the service (it does not
// change Seq): a plan changes the runs only when it enters a new stage.
func keepHookRuns(next, stored *state.ServiceRecord) {
	a, b := next.Shift, stored.Shift
	if a == nil || b == nil || a.ServiceDeploymentArn != b.ServiceDeploymentArn || a.Stage != b.Stage || a.StageAt != b.StageAt {
		return
	}
	a.Hooks = slices.Clone(b.Hooks)
}

// sameRecord says whether a planned record, whose events are only the new
// ones, leaves the stored record as it is.
func sameRecord(a, b state.ServiceRecord) bool {
	a.Service.Events = b.Service.Events
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

var errChanged = errors.New("service changed during reconcile")

func reverse(evs []model.ServiceEvent) []model.ServiceEvent {
	out := make([]model.ServiceEvent, len(evs))
	for i, e := range evs {
		out[len(evs)-1-i] = e
		if out[len(evs)-1-i].ID == "" {
			out[len(evs)-1-i].ID = state.NewID()
		}
	}
	return out
}

func event(s *state.State, format string, args ...any) model.ServiceEvent {
	return model.ServiceEvent{ID: state.NewID(), CreatedAt: model.At(s.Now()), Message: fmt.Sprintf(format, args...)}
}

// maxListedTasks bounds the tasks an event names: a service of 5,000 tasks
// starting at once makes one event, not one of 230 kB.
const maxListedTasks = 10

func taskList(ids []string) string {
	parts := make([]string, 0, min(len(ids), maxListedTasks)+1)
	for _, id := range ids[:min(len(ids), maxListedTasks)] {
		parts = append(parts, "(task "+id+")")
	}
	if len(ids) > maxListedTasks {
		parts = append(parts, fmt.Sprintf("and %d more", len(ids)-maxListedTasks))
	}
	return strings.Join(parts, " ")
}

// gather reads the instances a reconcile needs and the task definition of
// each deployment.
func (c *Services) gather(ctx context.Context, rec *state.ServiceRecord, tasks []state.TaskSummary) (map[string]InstanceInfo, map[string]*model.TaskDefinition, error) {
	defs := map[string]*model.TaskDefinition{}
	for _, d := range rec.Deployments {
		td, err := c.taskDefinition(ctx, d.TaskDefinition)
		if err != nil {
			return nil, nil, err
		}
		defs[d.ID] = td
	}
	for _, ts := range rec.Service.TaskSets {
		td, err := c.taskDefinition(ctx, ts.TaskDefinition)
		if err != nil {
			return nil, nil, err
		}
		defs[ts.ID] = td
	}
	instances := map[string]InstanceInfo{}
	if rec.Service.SchedulingStrategy == model.SchedulingDaemon {
		views, err := c.State.ListInstances(ctx, rec.Cluster)
		if err != nil {
			return nil, nil, err
		}
		// Rules that do not parse cannot say which instances a daemon
		// belongs on: every ACTIVE instance keeps its task, and the starts
		// say why no more can be placed.
		var req placement.Request
		var rulesErr error
		if len(rec.Deployments) > 0 && defs[rec.Deployments[0].ID] != nil {
			req, rulesErr = placementRequest(rec, defs[rec.Deployments[0].ID], 1)
		}
		for _, v := range views {
			n := scheduler.NodeOf(v.InstanceRecord, v.Connected)
			eligible := v.Instance.Status == model.InstanceActive && (rulesErr != nil || placement.StaticReason(n, &req) == "")
			instances[v.ID] = InstanceInfo{Status: v.Instance.Status, Connected: v.Connected, Eligible: eligible}
		}
		return instances, defs, nil
	}
	var ids []string
	for _, t := range tasks {
		if active(&t) {
			ids = append(ids, t.InstanceID)
		}
	}
	views, err := c.State.GetInstances(ctx, rec.Cluster, ids)
	if err != nil {
		return nil, nil, err
	}
	for id, v := range views {
		instances[id] = InstanceInfo{Status: v.Instance.Status, Connected: v.Connected, Eligible: true}
	}
	return instances, defs, nil
}

func (c *Services) taskDefinition(ctx context.Context, arn string) (*model.TaskDefinition, error) {
	ref, err := model.ParseTaskDefinitionRef(arn)
	if err != nil {
		return nil, err
	}
	rec, err := c.State.GetTaskDefinition(ctx, ref.Family, ref.Revision)
	if err != nil || rec == nil {
		return nil, err
	}
	return &rec.TaskDefinition, nil
}

// taskTags are the tags a service's new task gets: the service's or the
// task definition's (propagateTags), and, with enableECSManagedTags, the
// ones ECS adds itself.
func (c *Services) taskTags(ctx context.Context, rec *state.ServiceRecord, def *model.TaskDefinition) ([]model.Tag, error) {
	var tags []model.Tag
	switch rec.Service.PropagateTags {
	case "SERVICE":
		tags = append(tags, rec.Service.Tags...)
	case "TASK_DEFINITION":
		ref, err := model.ParseTaskDefinitionRef(def.TaskDefinitionArn)
		if err != nil {
			return nil, err
		}
		td, err := c.State.GetTaskDefinition(ctx, ref.Family, ref.Revision)
		if err != nil {
			return nil, err
		}
		if td != nil {
			tags = append(tags, td.Tags...)
		}
	}
	if rec.Service.EnableECSManagedTags {
		tags = append(tags, model.Tag{Key: "aws:ecs:clusterName", Value: rec.Cluster}, model.Tag{Key: "aws:ecs:serviceName", Value: rec.Name})
	}
	return tags, nil
}

// placementRequest describes a service's tasks to the engine. Its error, in
// ECS's words, says why the service's placement rules, or its task
// definition's, do not parse.
func placementRequest(rec *state.ServiceRecord, def *model.TaskDefinition, count int) (placement.Request, error) {
	cons, strats, err := placement.Rules(def, rec.Service.PlacementConstraints, rec.Service.PlacementStrategy)
	if err != nil {
		return placement.Request{}, err
	}
	return placement.Request{Demand: model.TaskDemand(def), Requires: def.RequiresAttributes, Group: "service:" + rec.Name, Count: count,
		Constraints: cons, Strategies: strats}, nil
}

// start places tasks of a deployment and returns their ids, and an event
// that explains a shortfall.
func (c *Services) start(ctx context.Context, cluster *model.Cluster, rec *state.ServiceRecord, def *model.TaskDefinition, s Start) ([]string, string, error) {
	tags, err := c.taskTags(ctx, rec, def)
	if err != nil {
		return nil, "", err
	}
	preq, err := placementRequest(rec, def, s.Count)
	if err != nil {
		return nil, invalidRulesEvent(rec.Name, err), nil
	}
	req := scheduler.Request{
		Placement: preq,
		Only:      s.Only,
		Build: func(inst *state.InstanceRecord) state.TaskRecord {
			return c.State.NewTaskRecord(cluster, def, inst, state.TaskOptions{StartedBy: s.Deployment, Group: "service:" + rec.Name,
				Tags: tags, EnableExecuteCommand: rec.Service.EnableExecuteCommand})
		},
	}
	res, err := c.Scheduler.Place(ctx, rec.Cluster, req)
	if errors.Is(err, scheduler.ErrNoInstances) {
		return nil, fmt.Sprintf("(service %s) was unable to place a task because no container instance met all of its requirements. Reason: No Container Instances were found in your cluster. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.", rec.Name), nil
	}
	if err != nil {
		return nil, "", err
	}
	var ids []string
	for _, t := range res.Tasks {
		ids = append(ids, t.ID)
	}
	if len(ids) < s.Count {
		return ids, unplacedEvent(rec.Name, res.Placement), nil
	}
	return ids, "", nil
}

// unplacedEvent says, in ECS's words, why a service's task fits nowhere,
// naming the filter that rejected the most instances.
func unplacedEvent(service string, r placement.Result) string {
	reason := r.ClosestReason()
	closest := ""
	for _, f := range r.Failures {
		if f.Reason == reason {
			_, closest, _ = model.ParseInstanceARN(f.ARN)
			break
		}
	}
	what := map[string]string{
		placement.ReasonMemory:    "has insufficient memory available",
		placement.ReasonCPU:       "has insufficient CPU units available",
		placement.ReasonPorts:     "is already using a port required by your task",
		placement.ReasonGPU:       "has insufficient GPU units available",
		placement.ReasonAttribute: "is missing an attribute required by your task",
		placement.ReasonAgent:     "has an agent that is not connected",
		placement.ReasonDraining:  "is draining",
		placement.ReasonMemberOf:  "does not satisfy a memberOf placement constraint",
		placement.ReasonDistinct:  "already runs a task of this service (distinctInstance)",
	}[reason]
	if what == "" {
		what = "was rejected: " + reason
	}
	if closest == "" {
		return fmt.Sprintf("(service %s) was unable to place a task because no container instance met all of its requirements. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.", service)
	}
	counts := make([]string, 0, len(r.Reasons))
	for k, v := range r.Reasons {
		counts = append(counts, fmt.Sprintf("%s: %d", k, v))
	}
	sort.Strings(counts)
	return fmt.Sprintf("(service %s) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance %s) %s. Instances rejected: %s. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.",
		service, closest, what, strings.Join(counts, ", "))
}

// invalidRulesEvent says, in ECS's words, that a service places no task
// because its placement rules do not parse.
func invalidRulesEvent(service string, err error) string {
	reason := err.Error()
	if e, ok := errors.AsType[*model.Error](err); ok {
		reason = e.Message
	}
	return fmt.Sprintf("(service %s) was unable to place a task because its placement constraints or strategy are invalid. Reason: %s For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.", service, reason)
}

// rollback starts a deployment of the last completed one's task definition.
func (c *Services) rollback(ctx context.Context, r *state.ServiceRecord) (model.ServiceEvent, bool) {
	failed := r.ServiceDeploymentOf(&r.Deployments[0])
	def, err := c.taskDefinition(ctx, r.LastCompleted.TaskDefinition)
	if err != nil || def == nil || failed == nil {
		c.Logger.Warn("cannot roll back", "service", r.Name, "err", err)
		return model.ServiceEvent{}, false
	}
	c.State.StartDeployment(r, def, failed, "ECS deployment circuit breaker: tasks failed to start.")
	return event(c.State, "(service %s) (deployment %s) is rolling back to %s.", r.Name, r.Deployments[1].ID, def.TaskDefinitionArn), true
}
