// Package events makes Flotta's event stream: every change to a task, a
// container instance, a service or one of its deployments, as an event in
// the EventBridge shapes ECS uses, read from the state's watches. An event's
// id is its place in the stream (the store revision of the change and its
// position there), so a reader that comes back with the last id it saw
// resumes exactly after it, for as long as the store keeps that history.
// Users' own schedulers and tools read the same stream as `flotta events`.
package events

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// Of converts one record change into its events, without their ids: a task
// or an instance change is one event; a service change is one per deployment
// whose rollout state moved and one per service action (a steady state, a
// placement failure, a new desired count). It is pure: the same change
// always gives the same events, which is what makes ids stable on replay.
func Of(scope model.Scope, c state.RecordChange) []flottaapi.Event {
	switch {
	case c.Task != nil:
		t := c.Task
		return []flottaapi.Event{event(scope, flottaapi.TaskStateChange, t.UpdatedAt, []string{t.Task.TaskArn},
			flottaapi.TaskDetail{Task: t.Task, UpdatedAt: stamp(t.UpdatedAt)})}
	case c.Instance != nil:
		r := c.Instance
		ci := r.Instance
		ci.RemainingResources = r.Remaining()
		ci.AgentConnected = c.Connected && ci.Status != model.InstanceInactive
		return []flottaapi.Event{event(scope, flottaapi.InstanceStateChange, r.UpdatedAt, []string{ci.ContainerInstanceArn},
			flottaapi.InstanceDetail{ContainerInstance: ci, UpdatedAt: stamp(r.UpdatedAt)})}
	case c.Service != nil:
		return serviceEvents(scope, c.Service, c.PrevService)
	}
	return nil
}

// serviceEvents compares a service with what it was.
func serviceEvents(scope model.Scope, now, prev *state.ServiceRecord) []flottaapi.Event {
	var out []flottaapi.Event
	arn := []string{now.Service.ServiceArn}
	at := now.UpdatedAt
	was := map[string]string{}
	if prev != nil {
		for _, d := range prev.Deployments {
			was[d.ID] = d.RolloutState
		}
	}
	for _, d := range now.Deployments {
		before, known := was[d.ID]
		if known && before == d.RolloutState {
			continue
		}
		detail := flottaapi.DeploymentDetail{EventType: "INFO", DeploymentID: d.ID, UpdatedAt: stamp(at), Reason: d.RolloutStateReason}
		switch d.RolloutState {
		case model.RolloutInProgress:
			detail.EventName = "SERVICE_DEPLOYMENT_IN_PROGRESS"
		case model.RolloutCompleted:
			detail.EventName = "SERVICE_DEPLOYMENT_COMPLETED"
		case model.RolloutFailed:
			detail.EventType, detail.EventName = "ERROR", "SERVICE_DEPLOYMENT_FAILED"
		default:
			continue
		}
		out = append(out, event(scope, flottaapi.DeploymentStateChange, at, arn, detail))
	}
	action := func(typ, name, reason string) {
		out = append(out, event(scope, flottaapi.ServiceAction, at, arn, flottaapi.ServiceActionDetail{EventType: typ, EventName: name,
			ClusterArn: now.Service.ClusterArn, CreatedAt: stamp(at), Reason: reason}))
	}
	if prev != nil && prev.Service.DesiredCount != now.Service.DesiredCount {
		action("INFO", "SERVICE_DESIRED_COUNT_UPDATED", "")
	}
	seen := map[string]bool{}
	if prev != nil {
		for _, e := range prev.Service.Events {
			seen[e.ID] = true
		}
	}
	// Service events are newest first: the new ones, oldest first.
	for _, e := range slices.Backward(now.Service.Events) {
		if seen[e.ID] {
			continue
		}
		switch {
		case strings.Contains(e.Message, "has reached a steady state."):
			action("INFO", "SERVICE_STEADY_STATE", "")
		case strings.Contains(e.Message, "was unable to place a task"):
			action("ERROR", "SERVICE_TASK_PLACEMENT_FAILURE", e.Message)
		}
	}
	return out
}

func event(scope model.Scope, detailType string, at time.Time, resources []string, detail any) flottaapi.Event {
	b, err := json.Marshal(detail)
	if err != nil {
		// Details are plain data; failing to encode one is a programming error.
		panic(err)
	}
	return flottaapi.Event{Version: "0", DetailType: detailType, Source: "aws.ecs", Account: scope.Account, Region: scope.Region,
		Time: stamp(at), Resources: resources, Detail: b}
}

// stamp is an event time as EventBridge writes one.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
