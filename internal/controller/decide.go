package controller

import (
	"math"
	"slices"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// InstanceInfo is what the service controller needs to know of an instance.
type InstanceInfo struct {
	Status    string
	Connected bool
	// Eligible says a DAEMON service's task belongs there (filters pass).
	Eligible bool
}

// View is everything one reconcile of a service looks at.
type View struct {
	Service   state.ServiceRecord
	Tasks     []state.TaskSummary
	Instances map[string]InstanceInfo
	Now       time.Time
	// Alarms are the states of the alarms a traffic shift watches
	// (deploymentConfiguration.alarms), by name.
	Alarms map[string]state.AlarmState
}

// Start asks for tasks of a deployment; Only names instances (DAEMON).
type Start struct {
	Deployment string
	Count      int
	Only       []string
}

// Stop asks for a task to stop.
type Stop struct {
	TaskID string
	Reason string
}

// Plan is what a reconcile decided: tasks to stop and to start, and the
// service record as it should be (counts, rollout states, events).
type Plan struct {
	Next   state.ServiceRecord
	Starts []Start
	Stops  []Stop
	// Rollback asks for a rollback to the last completed deployment.
	Rollback bool
	// Inactive says the deleted service has no task left.
	Inactive bool
}

// StableAfter is how long a task of a deployment that has seen failures must
// have run before it counts as proof that the deployment works.
const StableAfter = 10 * time.Second

// SettleAfter is how long every task of a deployment must have run before
// the deployment completes, failures seen or not: a container that crashes
// a moment after it starts is RUNNING for that moment, and its agent's
// report of the crash may reach the controller just after the report that it
// runs. Completing on that moment would end the circuit breaker's watch
// over a revision that crash-loops. The service resync (2 s) comes back to
// complete it.
const SettleAfter = time.Second

// Reasons a service stops its tasks, in ECS's words.
const (
	reasonUnhealthy       = "Task failed container health checks"
	reasonUnhealthyTarget = "Task failed ELB health checks in (target-group %s)"
	reasonScaleIn         = "Scaling activity initiated by (deployment %s)"
	reasonReplaced        = "Task replaced by a new deployment"
	reasonMoved           = "Task moved off a container instance that is draining or gone"
)

// Decide computes one reconcile of a REPLICA or DAEMON service: the ECS
// rolling deployment. Every deployment has a desired count (the PRIMARY the
// service's, the others 0 while they drain). A deployment short of tasks
// starts some, never beyond maximumPercent of the service's desired count in
// all; a deployment with too many stops some, never leaving fewer healthy
// tasks than minimumHealthyPercent (rounded up) — unhealthy and pending tasks
// can always go. Failed tasks of the PRIMARY count towards the circuit
// breaker. Worked example: desired 4, minimum 50%, maximum 200%: the new
// deployment may start 4 tasks at once (8 in all); old tasks may be stopped
// while at least 2 tasks are healthy.
//
// Decide is a pipeline of pure stages, in this order: count the failures
// (once each) and replace unhealthy tasks; let the circuit breaker judge the
// PRIMARY; work out the desired count and the limits; decide which tasks
// each deployment keeps (none on an instance that is draining or gone);
// start what is missing within maximumPercent; stop the excess within
// minimumHealthyPercent; then judge progress: completion and steady state.
// An EXTERNAL service's task sets are decided apart (decideExternal).
func Decide(v View) Plan {
	if v.Service.Service.IsExternal() {
		return decideExternal(v)
	}
	next := startingRecord(v)
	if len(next.Deployments) == 0 {
		return Plan{Next: next}
	}
	r := newRound(v)
	primary := &next.Deployments[0]

	failed := findFailures(v.Tasks, gracePeriod(&next.Service), v.Now)
	events := countFailures(&next, failed, v.Now)
	stops := replaceUnhealthy(failed)

	if breakerTrips(&next) {
		rollback, event := tripBreaker(&next, v.Now)
		events = append(events, event)
		if sh := next.Shift; sh != nil && !sh.RollingBack {
			// A traffic shift rolls back to blue, which still runs.
			if next.Service.DeploymentConfiguration.DeploymentCircuitBreaker.Rollback {
				sh.RollingBack, sh.Reason = true, "ECS deployment circuit breaker: tasks failed to start."
			}
		} else if rollback {
			return finish(v, next, events, Plan{Stops: stops, Rollback: true})
		}
	}
	events = append(events, r.shift(&next)...)
	primary = &next.Deployments[0] // a rollback of a shift puts blue first

	desired := next.Service.DesiredCount
	if r.daemon {
		desired = daemonCount(v.Instances)
		if r.active {
			next.Service.DesiredCount, primary.DesiredCount = desired, desired
		}
	}
	lim := rollingLimits(&next.Service, desired, r.daemon)
	if shifting(&next) {
		// Green starts at full size beside blue, whatever maximumPercent
		// says; each deployment still starts only what it lacks.
		lim.maxTotal = math.MaxInt32
	}

	serving := servingTasks(v.Tasks, stopSet(stops))
	kept, excess := assign(next.Deployments, serving, r.moving)
	starts := r.starts(&next, kept, serving, lim.maxTotal)
	stops = append(stops, r.scaleDown(serving, excess, lim.minHealthy, primary.ID)...)

	prog := r.progress(primary.ID, stopSet(stops))
	if prog.proven > 0 {
		next.FailStreak = 0
	}
	p := Plan{Starts: starts, Stops: stops}
	if next.Service.Status == model.ServiceDraining {
		if len(serving) == 0 {
			p.Inactive = true
			next.Service.Status = model.ServiceInactive
		}
		return finish(v, next, events, p)
	}
	events = append(events, conclude(&next, prog.done(primary, len(starts) > 0), v.Service.Steady, v.Now)...)
	endShift(&next)
	return finish(v, next, events, p)
}

// round is what the stages of one reconcile read and never change: the
// view, and what follows from it for every stage.
type round struct {
	View
	daemon bool
	// active says the service is ACTIVE: not being deleted.
	active bool
}

func newRound(v View) round {
	svc := &v.Service.Service
	return round{View: v, daemon: svc.SchedulingStrategy == model.SchedulingDaemon, active: svc.Status == model.ServiceActive}
}

// moving says a task must leave its instance: the instance is gone or not
// ACTIVE (draining), or, for a daemon, no longer eligible.
func (r round) moving(t *state.TaskSummary) bool {
	inst, ok := r.Instances[t.InstanceID]
	if !ok || inst.Status != model.InstanceActive {
		return true
	}
	return r.daemon && !inst.Eligible
}

// startingRecord is the record a reconcile changes: the service as stored,
// with copies of its own of what the stages change, no events yet (the
// caller prepends the new ones to the stored), and the failures of tasks
// that the reaper removed forgotten: they will not be seen again.
func startingRecord(v View) state.ServiceRecord {
	next := v.Service
	next.Deployments = slices.Clone(v.Service.Deployments)
	next.ServiceDeployments = slices.Clone(v.Service.ServiceDeployments)
	for i := range next.ServiceDeployments {
		sd := &next.ServiceDeployments[i]
		if cb := sd.DeploymentCircuitBreaker; cb != nil {
			c := *cb
			sd.DeploymentCircuitBreaker = &c
		}
		if rev := sd.TargetServiceRevision; rev != nil {
			c := *rev
			sd.TargetServiceRevision = &c
		}
	}
	if sh := v.Service.Shift; sh != nil {
		c := *sh
		c.Pairs, c.Hooks = slices.Clone(sh.Pairs), slices.Clone(sh.Hooks)
		next.Shift = &c
	}
	next.Counted = forgetReaped(v.Service.Counted, v.Tasks)
	next.Service.Events = nil
	return next
}

// forgetReaped keeps the counted failures whose tasks are still known.
func forgetReaped(counted []string, tasks []state.TaskSummary) []string {
	present := make(map[string]bool, len(tasks))
	for i := range tasks {
		present[tasks[i].ID] = true
	}
	var out []string
	for _, id := range counted {
		if present[id] {
			out = append(out, id)
		}
	}
	return out
}

// finish fills in the counts and the new events, and completes the plan.
func finish(v View, next state.ServiceRecord, events []string, p Plan) Plan {
	recordCounts(&next, v.Tasks, v.Now)
	at := model.At(v.Now)
	for _, msg := range events {
		next.Service.Events = append(next.Service.Events, model.ServiceEvent{CreatedAt: at, Message: msg})
	}
	p.Next = next
	return p
}

func active(t *state.TaskSummary) bool {
	return t.LastStatus != model.TaskStopped && t.DesiredStatus != model.TaskStopped
}

func healthy(t *state.TaskSummary) bool {
	return t.LastStatus == model.TaskRunning && (!t.HasCheck || t.Health == model.HealthHealthy)
}

func protected(t *state.TaskSummary, now time.Time) bool {
	return t.ProtectedTill != nil && t.ProtectedTill.After(now)
}

// stopSet is the set of tasks that stops name.
func stopSet(stops []Stop) map[string]bool {
	set := make(map[string]bool, len(stops))
	for _, s := range stops {
		set[s.TaskID] = true
	}
	return set
}

// deployment finds a deployment of the record by id, nil if none.
func deployment(next *state.ServiceRecord, id string) *state.DeploymentRecord {
	for i := range next.Deployments {
		if next.Deployments[i].ID == id {
			return &next.Deployments[i]
		}
	}
	return nil
}
