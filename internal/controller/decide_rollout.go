package controller

import (
	"fmt"
	"sort"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// daemonCount is a DAEMON service's desired count: one task per ACTIVE
// instance that its placement rules accept.
func daemonCount(instances map[string]InstanceInfo) int {
	n := 0
	for _, inst := range instances {
		if inst.Eligible && inst.Status == model.InstanceActive {
			n++
		}
	}
	return n
}

// limits bound a rolling deployment: the fewest healthy tasks it may leave
// (minimumHealthyPercent, none once the service is being deleted) and the
// most tasks it may run (maximumPercent).
type limits struct {
	minHealthy, maxTotal int
}

func rollingLimits(svc *model.Service, desired int, daemon bool) limits {
	minPct, maxPct := svc.DeploymentConfiguration.Percentages(daemon)
	l := limits{minHealthy: model.MinimumHealthy(desired, minPct), maxTotal: max(model.MaximumTasks(desired, maxPct), 0)}
	if svc.Status != model.ServiceActive {
		l.minHealthy = 0
	}
	return l
}

// servingTasks are the tasks that may serve: active, and not being
// replaced for failing their health checks.
func servingTasks(tasks []state.TaskSummary, stopping map[string]bool) []*state.TaskSummary {
	var out []*state.TaskSummary
	for i := range tasks {
		if t := &tasks[i]; active(t) && !stopping[t.ID] {
			out = append(out, t)
		}
	}
	return out
}

// assign decides which tasks each deployment keeps: up to its desired
// count, the healthiest first, none that must move. It returns how many
// each keeps, and the rest (excess), with the tasks of no current
// deployment (left from an older one).
func assign(deployments []state.DeploymentRecord, serving []*state.TaskSummary, moving func(*state.TaskSummary) bool) (kept map[string]int, excess []*state.TaskSummary) {
	kept = map[string]int{}
	current := map[string]bool{}
	for _, d := range deployments {
		current[d.ID] = true
		var mine []*state.TaskSummary
		for _, t := range serving {
			if t.StartedBy == d.ID {
				mine = append(mine, t)
			}
		}
		sort.SliceStable(mine, func(i, j int) bool { return keepRank(mine[i], moving) < keepRank(mine[j], moving) })
		want := d.DesiredCount
		for _, t := range mine {
			if want > 0 && !moving(t) {
				want--
				kept[d.ID]++
				continue
			}
			excess = append(excess, t)
		}
	}
	for _, t := range serving {
		if !current[t.StartedBy] {
			excess = append(excess, t)
		}
	}
	return kept, excess
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

// starts asks for the tasks that deployments lack. Nothing starts while
// the backoff lasts or once the service is being deleted, nor for a PRIMARY
// deployment that the circuit breaker failed (a rollback's excepted).
func (r round) starts(next *state.ServiceRecord, kept map[string]int, serving []*state.TaskSummary, maxTotal int) []Start {
	if r.Now.Before(next.NextStart) || !r.active {
		return nil
	}
	primary := &next.Deployments[0]
	stalled := primary.RolloutState == model.RolloutFailed && !primary.Rollback && primary.Status == model.DeploymentPrimary
	if r.daemon {
		if stalled {
			return nil
		}
		return daemonStarts(primary.ID, r.Instances, serving, r.moving)
	}
	// Every task that still runs counts against the maximum, even one being
	// replaced for failing its health checks, and one told to stop that has
	// not stopped yet.
	running := 0
	for i := range r.Tasks {
		if r.Tasks[i].LastStatus != model.TaskStopped {
			running++
		}
	}
	return replicaStarts(next.Deployments, kept, running, maxTotal, stalled)
}

// replicaStarts gives each deployment, in order, the tasks it lacks while
// the total stays within maxTotal; a stalled PRIMARY gets none.
func replicaStarts(deployments []state.DeploymentRecord, kept map[string]int, running, maxTotal int, stalled bool) []Start {
	var starts []Start
	for _, d := range deployments {
		if d.Status == model.DeploymentPrimary && stalled {
			continue
		}
		if n := min(d.DesiredCount-kept[d.ID], maxTotal-running); n > 0 {
			starts = append(starts, Start{Deployment: d.ID, Count: n})
			running += n
		}
	}
	return starts
}

// daemonStarts asks for the primary's task on each eligible, ACTIVE and
// connected instance where no task of the service stays; an old
// deployment's task there makes way first.
func daemonStarts(primaryID string, instances map[string]InstanceInfo, serving []*state.TaskSummary, moving func(*state.TaskSummary) bool) []Start {
	taken := map[string]bool{}
	for _, t := range serving {
		if !moving(t) {
			taken[t.InstanceID] = true
		}
	}
	ids := make([]string, 0, len(instances))
	for id := range instances {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var only []string
	for _, id := range ids {
		inst := instances[id]
		if inst.Eligible && inst.Status == model.InstanceActive && inst.Connected && !taken[id] {
			only = append(only, id)
		}
	}
	if len(only) == 0 {
		return nil
	}
	return []Start{{Deployment: primaryID, Count: len(only), Only: only}}
}

// scaleDown stops excess tasks, what does not serve first, never leaving
// fewer healthy tasks than minHealthy, and sparing protected tasks while
// the service is ACTIVE.
func (r round) scaleDown(serving, excess []*state.TaskSummary, minHealthy int, primaryID string) []Stop {
	healthyNow := 0
	for _, t := range serving {
		if healthy(t) {
			healthyNow++
		}
	}
	excess = append([]*state.TaskSummary(nil), excess...)
	sort.SliceStable(excess, func(i, j int) bool { return stopRank(excess[i], r.moving) < stopRank(excess[j], r.moving) })
	var stops []Stop
	for _, t := range excess {
		if protected(t, r.Now) && r.active {
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
		case r.moving(t):
			reason = reasonMoved
		case t.StartedBy == primaryID:
			reason = fmt.Sprintf(reasonScaleIn, primaryID)
		}
		stops = append(stops, Stop{TaskID: t.ID, Reason: reason})
	}
	return stops
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
