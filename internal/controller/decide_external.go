package controller

import (
	"fmt"
	"slices"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// Reasons the service controller stops a task set's tasks.
const (
	reasonTaskSetScaleIn = "Scaling activity initiated by (task-set %s)"
	reasonTaskSetDeleted = "Task set (task-set %s) was deleted"
)

// decideExternal computes one reconcile of an EXTERNAL service, whose
// deployments a tool outside makes as task sets. Each task set is kept at
// its computed desired count (its scale's share of the service's desired
// count, rounded up) on its own: there is no rollout between task sets, so
// no maximumPercent or minimumHealthyPercent binds them, and nothing moves
// from one to another unless the tool says so. Failed tasks count once each
// (for the service's backoff) and are replaced; a task set being deleted
// (DRAINING) stops its tasks and leaves the service once none is left.
// Worked example: desired 4, task set A at 100% and B at 0%: A runs 4; B
// scaled to 50% starts 2, A runs 4 still; A scaled to 50% stops 2.
func decideExternal(v View) Plan {
	next := startingRecord(v)
	next.Service.TaskSets = slices.Clone(v.Service.Service.TaskSets)
	state.RecomputeTaskSets(&next.Service)
	r := newRound(v)

	failed := findFailures(v.Tasks, gracePeriod(&next.Service), v.Now)
	events := countFailures(&next, failed, v.Now)
	stops := replaceUnhealthy(failed)

	sets := make([]state.DeploymentRecord, 0, len(next.Service.TaskSets))
	for _, ts := range next.Service.TaskSets {
		sets = append(sets, state.DeploymentRecord{Deployment: model.Deployment{ID: ts.ID, DesiredCount: ts.ComputedDesiredCount}})
	}
	serving := servingTasks(v.Tasks, stopSet(stops))
	kept, excess := assign(sets, serving, r.moving)
	var starts []Start
	if r.active && !v.Now.Before(next.NextStart) {
		for _, d := range sets {
			if n := d.DesiredCount - kept[d.ID]; n > 0 {
				starts = append(starts, Start{Deployment: d.ID, Count: n})
			}
		}
	}
	for _, s := range r.scaleDown(serving, excess, 0, "") {
		ts := next.Service.TaskSetByID(startedBy(v.Tasks, s.TaskID))
		switch {
		case s.Reason == reasonMoved:
		case ts != nil && ts.Status == model.TaskSetDraining:
			s.Reason = fmt.Sprintf(reasonTaskSetDeleted, ts.ID)
		case ts != nil:
			s.Reason = fmt.Sprintf(reasonTaskSetScaleIn, ts.ID)
		}
		stops = append(stops, s)
	}
	for _, t := range serving {
		if healthy(t) && t.StartedAt != nil && v.Now.Sub(t.StartedAt.Time) >= StableAfter {
			next.FailStreak = 0
			break
		}
	}

	p := Plan{Starts: starts, Stops: stops}
	events = append(events, settleTaskSets(&next, v, starts, stopSet(stops))...)
	if next.Service.Status == model.ServiceDraining && len(serving) == 0 {
		p.Inactive = true
		next.Service.Status = model.ServiceInactive
	}
	at := model.At(v.Now)
	for _, msg := range events {
		next.Service.Events = append(next.Service.Events, model.ServiceEvent{CreatedAt: at, Message: msg})
	}
	p.Next = next
	return p
}

// startedBy is the deployment or task set that started a task, "" if the
// task is unknown.
func startedBy(tasks []state.TaskSummary, id string) string {
	for i := range tasks {
		if tasks[i].ID == id {
			return tasks[i].StartedBy
		}
	}
	return ""
}

// settleTaskSets counts each task set's running and pending tasks (and the
// service's), judges its stability, removes the deleted task sets whose
// tasks have all stopped, and says whether the service is steady. A task
// set is STEADY_STATE when exactly its computed desired count of its tasks
// runs, all healthy, and nothing is to start or stop for it. It returns the
// events that say what changed.
func settleTaskSets(next *state.ServiceRecord, v View, starts []Start, stopping map[string]bool) []string {
	var events []string
	name := next.Service.ServiceName
	at := model.At(v.Now)
	svc := &next.Service
	svc.RunningCount, svc.PendingCount = 0, 0
	steady := true
	kept := svc.TaskSets[:0:0]
	for _, ts := range svc.TaskSets {
		running, pending, healthyN, live := 0, 0, 0, 0
		churn := slices.ContainsFunc(starts, func(s Start) bool { return s.Deployment == ts.ID })
		for i := range v.Tasks {
			t := &v.Tasks[i]
			if t.StartedBy != ts.ID || !active(t) {
				continue
			}
			live++
			if t.LastStatus == model.TaskRunning {
				running++
			} else {
				pending++
			}
			if healthy(t) && !stopping[t.ID] {
				healthyN++
			}
			churn = churn || stopping[t.ID]
		}
		if ts.Status == model.TaskSetDraining && live == 0 {
			events = append(events, fmt.Sprintf("(service %s) deleted (task-set %s).", name, ts.ID))
			continue
		}
		if running != ts.RunningCount || pending != ts.PendingCount {
			ts.RunningCount, ts.PendingCount, ts.UpdatedAt = running, pending, at
		}
		stability := model.StabilityStabilizing
		if !churn && live == ts.ComputedDesiredCount && healthyN == live {
			stability = model.StabilitySteady
		}
		if stability != ts.StabilityStatus {
			ts.StabilityStatus, ts.StabilityStatusAt = stability, at
		}
		steady = steady && stability == model.StabilitySteady
		svc.RunningCount += running
		svc.PendingCount += pending
		kept = append(kept, ts)
	}
	svc.TaskSets = kept
	next.Steady = steady && svc.Status == model.ServiceActive
	if next.Steady && !v.Service.Steady {
		events = append(events, "(service "+name+") has reached a steady state.")
	}
	return events
}
