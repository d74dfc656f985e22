package controller

import (
	"fmt"
	"slices"
	"sort"
	"strings"
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
	reasonUnhealthy = "Task failed container health checks"
	reasonScaleIn   = "Scaling activity initiated by (deployment %s)"
	reasonReplaced  = "Task replaced by a new deployment"
	reasonMoved     = "Task moved off a container instance that is draining or gone"
)

func active(t *state.TaskSummary) bool {
	return t.LastStatus != model.TaskStopped && t.DesiredStatus != model.TaskStopped
}

func healthy(t *state.TaskSummary) bool {
	return t.LastStatus == model.TaskRunning && (!t.HasCheck || t.Health == model.HealthHealthy)
}

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
func Decide(v View) Plan {
	p := Plan{Next: v.Service}
	next := &p.Next
	next.Deployments = slices.Clone(v.Service.Deployments)
	next.ServiceDeployments = slices.Clone(v.Service.ServiceDeployments)
	// Failures already counted, forgetting tasks the reaper has removed:
	// they will not be seen again.
	present := make(map[string]bool, len(v.Tasks))
	for i := range v.Tasks {
		present[v.Tasks[i].ID] = true
	}
	next.Counted = nil
	for _, id := range v.Service.Counted {
		if present[id] {
			next.Counted = append(next.Counted, id)
		}
	}
	next.Service.Events = nil // new events only; the caller prepends them
	svc := &next.Service
	daemon := svc.SchedulingStrategy == model.SchedulingDaemon
	now := v.Now
	nowT := model.At(now)
	if len(next.Deployments) == 0 {
		return p
	}
	primary := &next.Deployments[0]
	byID := map[string]*state.DeploymentRecord{}
	for i := range next.Deployments {
		byID[next.Deployments[i].ID] = &next.Deployments[i]
	}
	grace := 0 * time.Second
	if g := svc.HealthCheckGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}

	// Failures: tasks that stopped on their own, counted once.
	for i := range v.Tasks {
		t := &v.Tasks[i]
		if t.LastStatus != model.TaskStopped || slices.Contains(next.Counted, t.ID) {
			continue
		}
		switch t.StopCode {
		case model.StopServiceSchedulerInitiated, model.StopUserInitiated, model.StopInfrastructureHealth:
			continue // not a failure
		}
		next.Counted = append(next.Counted, t.ID)
		if d := byID[t.StartedBy]; d != nil {
			d.FailedTasks++
		}
		next.FailStreak++
		next.NextStart = now.Add(backoff(next.FailStreak))
		addEvent(p.Next.Service.ServiceName, &p, nowT, "(service %s) (task %s) failed: %s.", svc.ServiceName, t.ID, orText(t.StoppedReason, "it stopped"))
	}

	// Unhealthy tasks past their grace period are replaced (and are failures).
	unhealthy := map[string]bool{}
	for i := range v.Tasks {
		t := &v.Tasks[i]
		if !active(t) || t.LastStatus != model.TaskRunning || t.Health != model.HealthUnhealthy {
			continue
		}
		if t.StartedAt != nil && now.Sub(t.StartedAt.Time) < grace {
			continue
		}
		unhealthy[t.ID] = true
		p.Stops = append(p.Stops, Stop{TaskID: t.ID, Reason: reasonUnhealthy})
		if !slices.Contains(next.Counted, t.ID) {
			next.Counted = append(next.Counted, t.ID)
			if d := byID[t.StartedBy]; d != nil {
				d.FailedTasks++
			}
			next.FailStreak++
			next.NextStart = now.Add(backoff(next.FailStreak))
		}
	}

	// The circuit breaker.
	cb := svc.DeploymentConfiguration.DeploymentCircuitBreaker
	if cb != nil && cb.Enable && primary.RolloutState == model.RolloutInProgress &&
		primary.FailedTasks >= model.CircuitBreakerThreshold(primary.DesiredCount) {
		primary.RolloutState = model.RolloutFailed
		primary.RolloutStateReason = "ECS deployment circuit breaker: tasks failed to start."
		sd := next.ServiceDeploymentOf(primary)
		addEvent(svc.ServiceName, &p, nowT, "(service %s) (deployment %s) deployment failed: tasks failed to start.", svc.ServiceName, primary.ID)
		if sd != nil && sd.DeploymentCircuitBreaker != nil {
			sd.DeploymentCircuitBreaker.Status = "TRIGGERED"
			sd.DeploymentCircuitBreaker.FailureCount = primary.FailedTasks
		}
		if cb.Rollback && next.LastCompleted != nil && !primary.Rollback {
			p.Rollback = true
			return finishCounts(v, &p)
		}
		if sd != nil {
			status := model.SDStopped
			if cb.Rollback || primary.Rollback {
				status = model.SDRollbackFailed
			}
			sd.Status, sd.StatusReason, sd.StoppedAt, sd.UpdatedAt = status, "Tasks failed to start.", nowT, nowT
		}
	}
	if sd := next.ServiceDeploymentOf(primary); sd != nil && sd.DeploymentCircuitBreaker != nil {
		sd.DeploymentCircuitBreaker.FailureCount = primary.FailedTasks
	}

	// Where tasks may stay: instances that are gone, draining or (for a
	// daemon) no longer eligible make their tasks move.
	moving := func(t *state.TaskSummary) bool {
		inst, ok := v.Instances[t.InstanceID]
		if !ok || inst.Status != model.InstanceActive {
			return true
		}
		return daemon && !inst.Eligible
	}

	var all []*state.TaskSummary
	for i := range v.Tasks {
		if t := &v.Tasks[i]; active(t) && !unhealthy[t.ID] {
			all = append(all, t)
		}
	}
	desired := svc.DesiredCount
	if daemon {
		desired = 0
		for _, inst := range v.Instances {
			if inst.Eligible && inst.Status == model.InstanceActive {
				desired++
			}
		}
		if svc.Status == model.ServiceActive {
			svc.DesiredCount = desired
			primary.DesiredCount = desired
		}
	}
	minPct, maxPct := svc.DeploymentConfiguration.Percentages(daemon)
	minHealthy := model.MinimumHealthy(desired, minPct)
	maxTotal := max(model.MaximumTasks(desired, maxPct), 0)
	if svc.Status != model.ServiceActive {
		minHealthy = 0
	}

	// Which tasks each deployment keeps; the rest are excess.
	stopping := map[string]bool{}
	for _, s := range p.Stops {
		stopping[s.TaskID] = true
	}
	var excess []*state.TaskSummary
	keptBy := map[string]int{}
	for _, d := range next.Deployments {
		var mine []*state.TaskSummary
		for _, t := range all {
			if t.StartedBy == d.ID {
				mine = append(mine, t)
			}
		}
		sort.SliceStable(mine, func(i, j int) bool { return keepRank(mine[i], moving) < keepRank(mine[j], moving) })
		want := d.DesiredCount
		for _, t := range mine {
			if want > 0 && !moving(t) {
				want--
				keptBy[d.ID]++
				continue
			}
			excess = append(excess, t)
		}
	}
	// Tasks of no current deployment (left from an older one) are excess too.
	for _, t := range all {
		if byID[t.StartedBy] == nil {
			excess = append(excess, t)
		}
	}

	// Starts: every task that still runs counts against the maximum, even
	// one being replaced for failing its health checks, and one told to stop
	// that has not stopped yet.
	total := 0
	for i := range v.Tasks {
		if v.Tasks[i].LastStatus != model.TaskStopped {
			total++
		}
	}
	stalled := primary.RolloutState == model.RolloutFailed && !primary.Rollback && primary.Status == model.DeploymentPrimary
	canStart := !now.Before(next.NextStart) && svc.Status == model.ServiceActive
	if daemon {
		if canStart && !stalled {
			var only []string
			have := map[string]bool{}
			for _, t := range all {
				if t.StartedBy == primary.ID && !moving(t) {
					have[t.InstanceID] = true
				}
			}
			busy := map[string]bool{}
			for _, t := range all {
				if t.StartedBy != primary.ID && !moving(t) {
					busy[t.InstanceID] = true
				}
			}
			ids := make([]string, 0, len(v.Instances))
			for id := range v.Instances {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			for _, id := range ids {
				inst := v.Instances[id]
				if inst.Eligible && inst.Status == model.InstanceActive && inst.Connected && !have[id] && !busy[id] {
					only = append(only, id)
				}
			}
			if len(only) > 0 {
				p.Starts = append(p.Starts, Start{Deployment: primary.ID, Count: len(only), Only: only})
			}
		}
	} else if canStart {
		for _, d := range next.Deployments {
			if d.Status == model.DeploymentPrimary && stalled {
				continue
			}
			n := min(d.DesiredCount-keptBy[d.ID], maxTotal-total)
			if n > 0 {
				p.Starts = append(p.Starts, Start{Deployment: d.ID, Count: n})
				total += n
			}
		}
	}

	// Stops, within the minimum healthy.
	healthyNow := 0
	for _, t := range all {
		if healthy(t) {
			healthyNow++
		}
	}
	sort.SliceStable(excess, func(i, j int) bool { return stopRank(excess[i], moving) < stopRank(excess[j], moving) })
	for _, t := range excess {
		if stopping[t.ID] || protected(t, now) && svc.Status == model.ServiceActive {
			continue
		}
		if healthy(t) {
			if healthyNow-1 < minHealthy {
				continue
			}
			healthyNow--
		}
		reason := reasonReplaced
		switch {
		case moving(t):
			reason = reasonMoved
		case t.StartedBy == primary.ID:
			reason = fmt.Sprintf(reasonScaleIn, primary.ID)
		}
		p.Stops = append(p.Stops, Stop{TaskID: t.ID, Reason: reason})
		stopping[t.ID] = true
	}

	// Progress and completion: the deployment is done when exactly its
	// desired count of tasks is active, all of them its own and healthy,
	// and up for SettleAfter. A deployment whose tasks have failed must
	// show that they stay up for StableAfter: a container that crashes a
	// moment after it starts is RUNNING for that moment, and must not
	// complete the deployment (which would end the circuit breaker's
	// watch) nor reset the backoff.
	activeCount, primaryHealthy, primarySettled, primaryProven := 0, 0, 0, 0
	for i := range v.Tasks {
		t := &v.Tasks[i]
		if !active(t) {
			continue
		}
		activeCount++
		if t.StartedBy == primary.ID && healthy(t) && !moving(t) && !stopping[t.ID] {
			primaryHealthy++
			up := time.Duration(1<<63 - 1) // a task with no start time cannot be judged: settled
			if t.StartedAt != nil {
				up = now.Sub(t.StartedAt.Time)
			}
			if up >= SettleAfter {
				primarySettled++
			}
			if t.StartedAt != nil && up >= StableAfter {
				primaryProven++
			}
		}
	}
	if primaryProven > 0 {
		next.FailStreak = 0
	}
	done := activeCount == primary.DesiredCount && primaryHealthy == primary.DesiredCount && len(p.Starts) == 0 &&
		primarySettled == primary.DesiredCount && (primary.FailedTasks == 0 || primaryProven == primary.DesiredCount)
	if svc.Status == model.ServiceDraining {
		if len(all) == 0 {
			p.Inactive = true
			svc.Status = model.ServiceInactive
		}
		return finishCounts(v, &p)
	}
	if done && primary.RolloutState == model.RolloutInProgress {
		primary.RolloutState = model.RolloutCompleted
		primary.RolloutStateReason = "ECS deployment " + primary.ID + " completed."
		if sd := next.ServiceDeploymentOf(primary); sd != nil {
			sd.Status = model.SDSuccessful
			if primary.Rollback {
				sd.Status = model.SDRollbackSuccessful
			}
			sd.FinishedAt, sd.UpdatedAt = nowT, nowT
			if sd.DeploymentCircuitBreaker != nil && sd.DeploymentCircuitBreaker.Status == "MONITORING" {
				sd.DeploymentCircuitBreaker.Status = "MONITORING_COMPLETE"
			}
		}
		completed := *primary
		next.LastCompleted = &completed
		addEvent(svc.ServiceName, &p, nowT, "(service %s) (deployment %s) deployment completed.", svc.ServiceName, primary.ID)
	}
	if done && len(next.Deployments) > 1 {
		next.Deployments = next.Deployments[:1]
	}
	steady := done && primary.RolloutState != model.RolloutInProgress
	if steady && !v.Service.Steady {
		addEvent(svc.ServiceName, &p, nowT, "(service %s) has reached a steady state.", svc.ServiceName)
	}
	next.Steady = steady
	return finishCounts(v, &p)
}

// keepRank orders a deployment's tasks by how much it wants to keep them.
func keepRank(t *state.TaskSummary, moving func(*state.TaskSummary) bool) int {
	switch {
	case moving(t):
		return 3
	case healthy(t):
		return 0
	case t.LastStatus == model.TaskRunning:
		return 1
	}
	return 2
}

// stopRank orders excess tasks: what does not serve goes first.
func stopRank(t *state.TaskSummary, moving func(*state.TaskSummary) bool) int {
	switch {
	case t.LastStatus != model.TaskRunning:
		return 0
	case !healthy(t):
		return 1
	case moving(t):
		return 2
	}
	return 3
}

func protected(t *state.TaskSummary, now time.Time) bool {
	return t.ProtectedTill != nil && t.ProtectedTill.After(now)
}

// backoff spaces the starts of a service whose tasks keep failing.
func backoff(streak int) time.Duration {
	if streak <= 1 {
		return 0
	}
	d := time.Second << min(streak-2, 6)
	return min(d, time.Minute)
}

// finishCounts fills the running and pending counts.
func finishCounts(v View, p *Plan) Plan {
	next := &p.Next
	stopping := map[string]bool{}
	for _, s := range p.Stops {
		stopping[s.TaskID] = true
	}
	svc := &next.Service
	svc.RunningCount, svc.PendingCount = 0, 0
	for i := range next.Deployments {
		d := &next.Deployments[i]
		wasRunning, wasPending := d.RunningCount, d.PendingCount
		d.RunningCount, d.PendingCount = 0, 0
		for j := range v.Tasks {
			t := &v.Tasks[j]
			if t.StartedBy != d.ID || !active(t) {
				continue
			}
			if t.LastStatus == model.TaskRunning {
				d.RunningCount++
			} else {
				d.PendingCount++
			}
		}
		if d.RunningCount != wasRunning || d.PendingCount != wasPending {
			d.UpdatedAt = model.At(v.Now)
		}
		svc.RunningCount += d.RunningCount
		svc.PendingCount += d.PendingCount
		if sd := next.ServiceDeploymentOf(d); sd != nil && sd.TargetServiceRevision != nil && sd.TargetServiceRevision.Arn == d.RevisionArn {
			sd.TargetServiceRevision.RunningTaskCount = d.RunningCount
			sd.TargetServiceRevision.PendingTaskCount = d.PendingCount
			sd.TargetServiceRevision.RequestedTaskCount = d.DesiredCount
		}
	}
	return *p
}

func addEvent(service string, p *Plan, at *model.Time, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.Next.Service.Events = append(p.Next.Service.Events, model.ServiceEvent{CreatedAt: at, Message: msg})
}

func orText(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}
