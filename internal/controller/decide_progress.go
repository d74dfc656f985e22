package controller

import (
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// progress is how far the PRIMARY deployment has come.
type progress struct {
	// active counts the tasks of every deployment that have not stopped.
	active int
	// healthy counts the primary's tasks that are healthy, stay where they
	// are and are not being stopped; settled those of them up for
	// SettleAfter, proven those up for StableAfter.
	healthy, settled, proven int
}

// progress measures the primary deployment. A task with no start time
// cannot be judged: it counts as settled, never as proven.
func (r round) progress(primaryID string, stopping map[string]bool) progress {
	var p progress
	for i := range r.Tasks {
		t := &r.Tasks[i]
		if !active(t) {
			continue
		}
		p.active++
		if t.StartedBy != primaryID || !healthy(t) || r.moving(t) || stopping[t.ID] {
			continue
		}
		p.healthy++
		if t.StartedAt == nil {
			p.settled++
			continue
		}
		up := r.Now.Sub(t.StartedAt.Time)
		if up >= SettleAfter {
			p.settled++
		}
		if up >= StableAfter {
			p.proven++
		}
	}
	return p
}

// done says the deployment is complete: exactly its desired count of tasks
// is active, all of them its own, healthy and up for SettleAfter, and none
// is to start. A deployment whose tasks have failed must show that they
// stay up for StableAfter: a container that crashes a moment after it
// starts is RUNNING for that moment, and must not complete the deployment
// (which would end the circuit breaker's watch).
func (p progress) done(d *state.DeploymentRecord, starting bool) bool {
	want := d.DesiredCount
	return p.active == want && p.healthy == want && p.settled == want && !starting &&
		(d.FailedTasks == 0 || p.proven == want)
}

// conclude completes the PRIMARY deployment once it is done, retires the
// others, and records whether the service is in a steady state (done, and
// no rollout in progress). It returns the events that say so.
func conclude(next *state.ServiceRecord, done, wasSteady bool, now time.Time) []string {
	var events []string
	primary := &next.Deployments[0]
	name := next.Service.ServiceName
	if done && primary.RolloutState == model.RolloutInProgress {
		primary.RolloutState = model.RolloutCompleted
		primary.RolloutStateReason = "ECS deployment " + primary.ID + " completed."
		if sd := next.ServiceDeploymentOf(primary); sd != nil {
			sd.Status = model.SDSuccessful
			if primary.Rollback {
				sd.Status = model.SDRollbackSuccessful
			}
			at := model.At(now)
			sd.FinishedAt, sd.UpdatedAt = at, at
			if sd.DeploymentCircuitBreaker != nil && sd.DeploymentCircuitBreaker.Status == "MONITORING" {
				sd.DeploymentCircuitBreaker.Status = "MONITORING_COMPLETE"
			}
		}
		completed := *primary
		next.LastCompleted = &completed
		events = append(events, "(service "+name+") (deployment "+primary.ID+") deployment completed.")
	}
	if done && len(next.Deployments) > 1 {
		next.Deployments = next.Deployments[:1]
	}
	next.Steady = done && primary.RolloutState != model.RolloutInProgress
	if next.Steady && !wasSteady {
		events = append(events, "(service "+name+") has reached a steady state.")
	}
	return events
}

// recordCounts fills in each deployment's running and pending tasks, the
// service's, and those of each service deployment's target revision.
func recordCounts(next *state.ServiceRecord, tasks []state.TaskSummary, now time.Time) {
	svc := &next.Service
	svc.RunningCount, svc.PendingCount = 0, 0
	for i := range next.Deployments {
		d := &next.Deployments[i]
		wasRunning, wasPending := d.RunningCount, d.PendingCount
		d.RunningCount, d.PendingCount = 0, 0
		for j := range tasks {
			t := &tasks[j]
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
			d.UpdatedAt = model.At(now)
		}
		svc.RunningCount += d.RunningCount
		svc.PendingCount += d.PendingCount
		if sd := next.ServiceDeploymentOf(d); sd != nil && sd.TargetServiceRevision != nil && sd.TargetServiceRevision.Arn == d.RevisionArn {
			sd.TargetServiceRevision.RunningTaskCount = d.RunningCount
			sd.TargetServiceRevision.PendingTaskCount = d.PendingCount
			sd.TargetServiceRevision.RequestedTaskCount = d.DesiredCount
		}
	}
}
