package controller

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// failure is a task that failed: it stopped on its own (an essential
// container exited, it could not start), or it runs but has failed its
// health checks past the grace period and must be replaced.
type failure struct {
	task *state.TaskSummary
	// unhealthy says the task still runs, failing its health checks.
	unhealthy bool
}

// findFailures lists the failed tasks, those that stopped first. A task
// that the scheduler, a user or an instance's health stopped did not fail.
func findFailures(tasks []state.TaskSummary, grace time.Duration, now time.Time) []failure {
	var stopped, unhealthy []failure
	for i := range tasks {
		t := &tasks[i]
		switch {
		case t.LastStatus == model.TaskStopped:
			switch t.StopCode {
			case model.StopServiceSchedulerInitiated, model.StopUserInitiated, model.StopInfrastructureHealth:
			default:
				stopped = append(stopped, failure{task: t})
			}
		case active(t) && t.LastStatus == model.TaskRunning && t.Health == model.HealthUnhealthy &&
			(t.StartedAt == nil || now.Sub(t.StartedAt.Time) >= grace):
			unhealthy = append(unhealthy, failure{task: t, unhealthy: true})
		}
	}
	return append(stopped, unhealthy...)
}

// gracePeriod is how long a service's new tasks may fail health checks.
func gracePeriod(svc *model.Service) time.Duration {
	if g := svc.HealthCheckGracePeriodSeconds; g != nil {
		return time.Duration(*g) * time.Second
	}
	return 0
}

// countFailures is where failures count, each once (next.Counted remembers
// it): against the deployment that started the task, which the circuit
// breaker of the PRIMARY's service deployment reads, and in the service's
// failure streak, which spaces the next starts (backoff). It returns the
// events that announce the tasks that stopped.
func countFailures(next *state.ServiceRecord, failed []failure, now time.Time) []string {
	var events []string
	for _, f := range failed {
		t := f.task
		if slices.Contains(next.Counted, t.ID) {
			continue
		}
		next.Counted = append(next.Counted, t.ID)
		if d := deployment(next, t.StartedBy); d != nil {
			d.FailedTasks++
		}
		next.FailStreak++
		next.NextStart = now.Add(backoff(next.FailStreak))
		if !f.unhealthy {
			events = append(events, fmt.Sprintf("(service %s) (task %s) failed: %s.", next.Service.ServiceName, t.ID, orText(t.StoppedReason, "it stopped")))
		}
	}
	if len(next.Deployments) == 0 {
		return events // an EXTERNAL service: no deployment, no circuit breaker
	}
	primary := &next.Deployments[0]
	if sd := next.ServiceDeploymentOf(primary); sd != nil && sd.DeploymentCircuitBreaker != nil {
		sd.DeploymentCircuitBreaker.FailureCount = primary.FailedTasks
	}
	return events
}

// backoff spaces the starts of a service whose tasks keep failing.
func backoff(streak int) time.Duration {
	if streak <= 1 {
		return 0
	}
	d := time.Second << min(streak-2, 6)
	return min(d, time.Minute)
}

// replaceUnhealthy stops the tasks that fail their health checks; the
// deployment that owns them starts others.
func replaceUnhealthy(failed []failure) []Stop {
	var stops []Stop
	for _, f := range failed {
		if f.unhealthy {
			reason := reasonUnhealthy
			if tg := f.task.UnhealthyTargetGroup; tg != "" {
				reason = fmt.Sprintf(reasonUnhealthyTarget, tg)
			}
			stops = append(stops, Stop{TaskID: f.task.ID, Reason: reason})
		}
	}
	return stops
}

// breakerTrips says the circuit breaker fails the PRIMARY deployment: it is
// enabled, the rollout is in progress and enough of its tasks failed.
func breakerTrips(next *state.ServiceRecord) bool {
	cb := next.Service.DeploymentConfiguration.DeploymentCircuitBreaker
	primary := &next.Deployments[0]
	return cb != nil && cb.Enable && primary.RolloutState == model.RolloutInProgress &&
		primary.FailedTasks >= model.CircuitBreakerThreshold(primary.DesiredCount)
}

// tripBreaker fails the PRIMARY deployment, and says whether to roll back to
// the last completed one (the rollback then ends its service deployment);
// without a rollback, the service deployment ends here. It returns the
// event that says so.
func tripBreaker(next *state.ServiceRecord, now time.Time) (rollback bool, event string) {
	cb := next.Service.DeploymentConfiguration.DeploymentCircuitBreaker
	primary := &next.Deployments[0]
	primary.RolloutState = model.RolloutFailed
	primary.RolloutStateReason = "ECS deployment circuit breaker: tasks failed to start."
	event = fmt.Sprintf("(service %s) (deployment %s) deployment failed: tasks failed to start.", next.Service.ServiceName, primary.ID)
	sd := next.ServiceDeploymentOf(primary)
	if sd != nil && sd.DeploymentCircuitBreaker != nil {
		sd.DeploymentCircuitBreaker.Status = "TRIGGERED"
	}
	if cb.Rollback && next.LastCompleted != nil && !primary.Rollback {
		return true, event
	}
	if sd != nil {
		status := model.SDStopped
		if cb.Rollback || primary.Rollback {
			status = model.SDRollbackFailed
		}
		at := model.At(now)
		sd.Status, sd.StatusReason, sd.StoppedAt, sd.UpdatedAt = status, "Tasks failed to start.", at, at
	}
	return false, event
}

func orText(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}
