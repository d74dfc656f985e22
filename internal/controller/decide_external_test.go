package controller

import (
	"strings"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// externalService is an EXTERNAL service of desired tasks with a task set
// per scale, named a, b, c... in order.
func externalService(desired int, scales ...float64) state.ServiceRecord {
	r := state.ServiceRecord{Cluster: "c", Name: "web", Service: model.Service{ServiceName: "web", Status: model.ServiceActive,
		DesiredCount: desired, SchedulingStrategy: model.SchedulingReplica,
		DeploymentController: &model.DeploymentController{Type: model.DeploymentControllerExternal},
		DeploymentConfiguration: &model.DeploymentConfiguration{MinimumHealthyPercent: ptr(100), MaximumPercent: ptr(200),
			DeploymentCircuitBreaker: &model.DeploymentCircuitBreaker{}},
		TaskSets: []model.TaskSet{}}}
	for i, s := range scales {
		r.Service.TaskSets = append(r.Service.TaskSets, model.TaskSet{ID: string(rune('a' + i)), Status: model.TaskSetActive,
			Scale: &model.Scale{Value: s, Unit: model.ScalePercent}, StabilityStatus: model.StabilityStabilizing})
	}
	return r
}

func taskSetOf(p Plan, id string) *model.TaskSet { return p.Next.Service.TaskSetByID(id) }

func TestExternalServiceStartsEachTaskSetsShare(t *testing.T) {
	// desired 3: 100% is 3 tasks, 50% is ceil(1.5) = 2, 0% none; no
	// maximumPercent binds task sets: 5 start at once.
	p := Decide(view(externalService(3, 100, 50, 0)))
	if started(p, "a") != 3 || started(p, "b") != 2 || started(p, "c") != 0 || len(p.Stops) != 0 {
		t.Fatalf("starts %+v stops %+v", p.Starts, p.Stops)
	}
	for id, want := range map[string]int{"a": 3, "b": 2, "c": 0} {
		if got := taskSetOf(p, id).ComputedDesiredCount; got != want {
			t.Errorf("task set %s: computedDesiredCount %d, want %d", id, got, want)
		}
	}
	if len(p.Next.Deployments) != 0 {
		t.Fatalf("an EXTERNAL service got deployments: %+v", p.Next.Deployments)
	}
}

func TestExternalTaskSetsDoNotReplaceEachOther(t *testing.T) {
	// Blue (a) runs 4 at 100%; green (b) goes to 100% too: green starts 4
	// and blue keeps its 4 (nothing drains blue but its own scale).
	r := externalService(4, 100, 100)
	p := Decide(view(r, tasks("a", 4, model.TaskRunning, "")))
	if started(p, "b") != 4 || started(p, "a") != 0 || len(p.Stops) != 0 {
		t.Fatalf("starts %+v stops %+v", p.Starts, p.Stops)
	}
	if got := taskSetOf(p, "a").StabilityStatus; got != model.StabilitySteady {
		t.Fatalf("blue: %s, want STEADY_STATE", got)
	}
	if got := taskSetOf(p, "b").StabilityStatus; got != model.StabilityStabilizing {
		t.Fatalf("green: %s, want STABILIZING", got)
	}
	if p.Next.Steady {
		t.Fatal("the service is steady while green starts")
	}

	// Blue scaled to 50%: two of its tasks stop, as a scale-in of the task set.
	r = externalService(4, 50, 100)
	p = Decide(view(r, tasks("a", 4, model.TaskRunning, ""), tasks("b", 4, model.TaskRunning, "")))
	if len(p.Starts) != 0 || stoppedOf(p, "a-") != 2 || stoppedOf(p, "b-") != 0 {
		t.Fatalf("starts %+v stops %+v", p.Starts, p.Stops)
	}
	for _, s := range p.Stops {
		if s.Reason != "Scaling activity initiated by (task-set a)" {
			t.Fatalf("reason %q", s.Reason)
		}
	}
	if a := taskSetOf(p, "a"); a.RunningCount != 4 || a.ComputedDesiredCount != 2 {
		t.Fatalf("blue counts %+v", a)
	}
	if p.Next.Service.RunningCount != 8 {
		t.Fatalf("service runningCount %d", p.Next.Service.RunningCount)
	}
}

func TestExternalServiceSteadyState(t *testing.T) {
	r := externalService(2, 100, 0)
	p := Decide(view(r, tasks("a", 2, model.TaskRunning, "")))
	if len(p.Starts) != 0 || len(p.Stops) != 0 || !p.Next.Steady {
		t.Fatalf("starts %+v stops %+v steady %v", p.Starts, p.Stops, p.Next.Steady)
	}
	for _, id := range []string{"a", "b"} {
		if ts := taskSetOf(p, id); ts.StabilityStatus != model.StabilitySteady || ts.StabilityStatusAt == nil {
			t.Fatalf("task set %s: %+v", id, ts)
		}
	}
	if !hasMessage(p.Next.Service.Events, "(service web) has reached a steady state.") {
		t.Fatalf("events %+v", p.Next.Service.Events)
	}
	// Steady and stored so: a second reconcile changes nothing.
	again := Decide(view(p.Next, tasks("a", 2, model.TaskRunning, "")))
	if len(again.Next.Service.Events) != 0 || !sameRecord(again.Next, withoutEvents(p.Next)) {
		t.Fatalf("a steady service changed: %+v", again.Next.Service.Events)
	}
}

func withoutEvents(r state.ServiceRecord) state.ServiceRecord {
	r.Service.Events = nil
	return r
}

func hasMessage(evs []model.ServiceEvent, msg string) bool {
	for _, e := range evs {
		if strings.Contains(e.Message, msg) {
			return true
		}
	}
	return false
}

func TestExternalFailedTaskIsReplacedInItsTaskSet(t *testing.T) {
	r := externalService(2, 100, 100)
	ts := append(tasks("a", 1, model.TaskRunning, ""), tasks("b", 2, model.TaskRunning, "")...)
	dead := tasks("a", 1, model.TaskStopped, "")[0]
	dead.ID, dead.DesiredStatus, dead.StopCode, dead.StoppedReason = "a-dead", model.TaskStopped, "EssentialContainerExited", "Essential container in task exited"
	p := Decide(view(r, append(ts, dead)))
	if started(p, "a") != 1 || started(p, "b") != 0 || len(p.Stops) != 0 {
		t.Fatalf("starts %+v stops %+v", p.Starts, p.Stops)
	}
	if len(p.Next.Counted) != 1 || p.Next.Counted[0] != "a-dead" {
		t.Fatalf("counted %v", p.Next.Counted)
	}
	if !hasMessage(p.Next.Service.Events, "(task a-dead) failed") {
		t.Fatalf("events %+v", p.Next.Service.Events)
	}
	// Counted once: the next reconcile does not count it again.
	again := Decide(view(p.Next, append(ts, dead)))
	if len(again.Next.Counted) != 1 || hasMessage(again.Next.Service.Events, "failed") {
		t.Fatalf("counted twice: %v %+v", again.Next.Counted, again.Next.Service.Events)
	}

	// A task that fails its health checks is stopped and replaced.
	sick := tasks("b", 1, model.TaskRunning, model.HealthUnhealthy)
	sick[0].HasCheck = true
	fine := renamed(tasks("b", 1, model.TaskRunning, "")[0], "b-ok")
	p = Decide(view(r, tasks("a", 2, model.TaskRunning, ""), sick, []state.TaskSummary{fine}))
	if stoppedOf(p, "b-0") != 1 || started(p, "b") != 1 {
		t.Fatalf("starts %+v stops %+v", p.Starts, p.Stops)
	}
}

func renamed(t state.TaskSummary, id string) state.TaskSummary {
	t.ID = id
	return t
}

func TestExternalDeletedTaskSetDrainsAndGoes(t *testing.T) {
	r := externalService(2, 100, 100)
	r.Service.TaskSets[1].Status = model.TaskSetDraining
	p := Decide(view(r, tasks("a", 2, model.TaskRunning, ""), tasks("b", 2, model.TaskRunning, "")))
	if len(p.Starts) != 0 || stoppedOf(p, "b-") != 2 || stoppedOf(p, "a-") != 0 {
		t.Fatalf("starts %+v stops %+v", p.Starts, p.Stops)
	}
	if p.Stops[0].Reason != "Task set (task-set b) was deleted" {
		t.Fatalf("reason %q", p.Stops[0].Reason)
	}
	if b := taskSetOf(p, "b"); b == nil || b.ComputedDesiredCount != 0 {
		t.Fatalf("the draining task set: %+v", b)
	}
	// Its tasks stopped: it is gone.
	gone := tasks("b", 2, model.TaskStopped, "")
	for i := range gone {
		gone[i].DesiredStatus, gone[i].StopCode = model.TaskStopped, model.StopServiceSchedulerInitiated
	}
	p = Decide(view(p.Next, tasks("a", 2, model.TaskRunning, ""), gone))
	if taskSetOf(p, "b") != nil || len(p.Next.Service.TaskSets) != 1 {
		t.Fatalf("task sets %+v", p.Next.Service.TaskSets)
	}
	if !hasMessage(p.Next.Service.Events, "(service web) deleted (task-set b).") {
		t.Fatalf("events %+v", p.Next.Service.Events)
	}
}

func TestExternalServiceBackoffAndDeletion(t *testing.T) {
	r := externalService(2, 100)
	r.NextStart = now.Add(time.Minute)
	if p := Decide(view(r)); len(p.Starts) != 0 {
		t.Fatalf("started during backoff: %+v", p.Starts)
	}
	// DeleteService: the service drains, every task set stops its tasks,
	// and the service is INACTIVE once none is left.
	r = externalService(0, 100)
	r.Service.Status = model.ServiceDraining
	p := Decide(view(r, tasks("a", 2, model.TaskRunning, "")))
	if stoppedOf(p, "a-") != 2 || len(p.Starts) != 0 || p.Inactive {
		t.Fatalf("starts %+v stops %+v inactive %v", p.Starts, p.Stops, p.Inactive)
	}
	p = Decide(view(p.Next))
	if !p.Inactive || p.Next.Service.Status != model.ServiceInactive {
		t.Fatalf("inactive %v status %s", p.Inactive, p.Next.Service.Status)
	}
}

func TestComputedDesiredCount(t *testing.T) {
	for _, c := range []struct {
		scale   float64
		desired int
		want    int
	}{{100, 4, 4}, {50, 4, 2}, {50, 3, 2}, {0, 10, 0}, {33.3, 3, 1}, {7, 100, 7}, {0.1, 1, 1}, {100, 0, 0}, {10, 30, 3}} {
		if got := model.ComputedDesiredCount(&model.Scale{Value: c.scale, Unit: model.ScalePercent}, c.desired); got != c.want {
			t.Errorf("ceil(%v%% x %d) = %d, want %d", c.scale, c.desired, got, c.want)
		}
	}
}
