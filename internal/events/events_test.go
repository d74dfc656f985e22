package events

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

var scope = model.Scope{Partition: "aws", Region: "eu-west-1", Account: "123456789012"}

var at = time.Date(2026, 12, 2, 10, 30, 0, 123456789, time.UTC)

func TestTaskChangeIsOneTaskStateChange(t *testing.T) {
	arn := "arn:aws:ecs:eu-west-1:123456789012:task/web/0123456789abcdef"
	got := Of(scope, state.RecordChange{Revision: 7, Task: &state.TaskRecord{Cluster: "web", UpdatedAt: at,
		Task: model.Task{TaskArn: arn, LastStatus: "RUNNING", DesiredStatus: "RUNNING", Version: 3}}})
	if len(got) != 1 {
		t.Fatalf("want one event, got %d", len(got))
	}
	ev := got[0]
	if ev.DetailType != flottaapi.TaskStateChange || ev.Source != "aws.ecs" || ev.Version != "0" || ev.Account != scope.Account ||
		ev.Region != scope.Region || ev.Time != "2026-12-02T10:30:00.123Z" || len(ev.Resources) != 1 || ev.Resources[0] != arn {
		t.Fatalf("envelope: %+v", ev)
	}
	var d map[string]any
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		t.Fatal(err)
	}
	if d["taskArn"] != arn || d["lastStatus"] != "RUNNING" || d["version"] != 3.0 || d["updatedAt"] != "2026-12-02T10:30:00.123Z" {
		t.Fatalf("detail is the task as DescribeTasks shows it, and when it changed: %s", ev.Detail)
	}
	if ev.ID != "" {
		t.Fatalf("Of leaves ids to the stream, got %q", ev.ID)
	}
}

func TestServiceChangeEvents(t *testing.T) {
	svc := func(desired int, events []model.ServiceEvent, deps ...state.DeploymentRecord) *state.ServiceRecord {
		return &state.ServiceRecord{Cluster: "web", Name: "api", UpdatedAt: at, Deployments: deps,
			Service: model.Service{ServiceArn: "arn:aws:ecs:eu-west-1:123456789012:service/web/api",
				ClusterArn: "arn:aws:ecs:eu-west-1:123456789012:cluster/web", DesiredCount: desired, Events: events}}
	}
	dep := func(id, rollout, reason string) state.DeploymentRecord {
		return state.DeploymentRecord{Deployment: model.Deployment{ID: id, RolloutState: rollout, RolloutStateReason: reason}}
	}
	steady := model.ServiceEvent{ID: "e2", Message: "(service api) has reached a steady state."}
	unplaced := model.ServiceEvent{ID: "e3", Message: "(service api) was unable to place a task because no container instance met all of its requirements."}
	started := model.ServiceEvent{ID: "e1", Message: "(service api) has started 2 tasks: (task a) (task b)."}
	type want struct{ detailType, name string }
	for _, tc := range []struct {
		name      string
		prev, now *state.ServiceRecord
		want      []want
	}{
		{"a new service starts its first deployment", nil, svc(2, nil, dep("ecs-svc/1", model.RolloutInProgress, "")),
			[]want{{flottaapi.DeploymentStateChange, "SERVICE_DEPLOYMENT_IN_PROGRESS"}}},
		{"a rewrite that changes nothing visible makes no event",
			svc(2, []model.ServiceEvent{started}, dep("ecs-svc/1", model.RolloutInProgress, "")),
			svc(2, []model.ServiceEvent{started}, dep("ecs-svc/1", model.RolloutInProgress, "")), nil},
		{"a completed deployment and a steady state, in the order they happened",
			svc(2, []model.ServiceEvent{started}, dep("ecs-svc/1", model.RolloutInProgress, "")),
			svc(2, []model.ServiceEvent{steady, started}, dep("ecs-svc/1", model.RolloutCompleted, "ECS deployment ecs-svc/1 completed.")),
			[]want{{flottaapi.DeploymentStateChange, "SERVICE_DEPLOYMENT_COMPLETED"}, {flottaapi.ServiceAction, "SERVICE_STEADY_STATE"}}},
		{"a failed deployment is an error, and a new desired count an action",
			svc(2, nil, dep("ecs-svc/2", model.RolloutInProgress, ""), dep("ecs-svc/1", model.RolloutCompleted, "")),
			svc(3, []model.ServiceEvent{unplaced}, dep("ecs-svc/2", model.RolloutFailed, "circuit breaker"), dep("ecs-svc/1", model.RolloutCompleted, "")),
			[]want{{flottaapi.DeploymentStateChange, "SERVICE_DEPLOYMENT_FAILED"}, {flottaapi.ServiceAction, "SERVICE_DESIRED_COUNT_UPDATED"},
				{flottaapi.ServiceAction, "SERVICE_TASK_PLACEMENT_FAILURE"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Of(scope, state.RecordChange{Revision: 9, Service: tc.now, PrevService: tc.prev})
			if len(got) != len(tc.want) {
				t.Fatalf("want %d events, got %d: %+v", len(tc.want), len(got), got)
			}
			for i, w := range tc.want {
				var d struct {
					EventName, EventType, Reason string
				}
				if err := json.Unmarshal(got[i].Detail, &d); err != nil {
					t.Fatal(err)
				}
				if got[i].DetailType != w.detailType || d.EventName != w.name {
					t.Errorf("event %d: want %s %s, got %s %s", i, w.detailType, w.name, got[i].DetailType, d.EventName)
				}
				if (d.EventName == "SERVICE_DEPLOYMENT_FAILED" || d.EventName == "SERVICE_TASK_PLACEMENT_FAILURE") != (d.EventType == "ERROR") {
					t.Errorf("event %d: %s has type %s", i, d.EventName, d.EventType)
				}
			}
			again := Of(scope, state.RecordChange{Revision: 9, Service: tc.now, PrevService: tc.prev})
			for i := range got {
				if string(got[i].Detail) != string(again[i].Detail) || got[i].Time != again[i].Time {
					t.Fatalf("Of must be pure: event %d differs on the second call", i)
				}
			}
		})
	}
}

func TestCursors(t *testing.T) {
	for _, s := range []string{"12-0", "12-7", "12-*", "0-*"} {
		p, err := parseCursor(s)
		if err != nil || p.String() != s {
			t.Errorf("cursor %q: parsed %v, %v", s, p, err)
		}
	}
	for _, s := range []string{"", "12", "-1-0", "12-x", "12--1", "a-0", "12-0-1"} {
		if _, err := parseCursor(s); !model.IsCode(err, model.CodeInvalidParameter) {
			t.Errorf("cursor %q: want InvalidParameterException, got %v", s, err)
		}
	}
	if !(position{5, 0}).after(position{4, end}) || (position{5, 0}).after(position{5, end}) || !(position{5, end}).after(position{5, 3}) {
		t.Error("positions order by revision, then by index, with end after every index")
	}
}
