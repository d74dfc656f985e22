package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func ptr(n int) *int { return &n }

func service(desired, minPct, maxPct int, deps ...string) state.ServiceRecord {
	r := state.ServiceRecord{Cluster: "c", Name: "web", Service: model.Service{ServiceName: "web", Status: model.ServiceActive,
		DesiredCount: desired, SchedulingStrategy: model.SchedulingReplica,
		DeploymentConfiguration: &model.DeploymentConfiguration{MinimumHealthyPercent: ptr(minPct), MaximumPercent: ptr(maxPct),
			DeploymentCircuitBreaker: &model.DeploymentCircuitBreaker{}}}}
	for i, id := range deps {
		d := state.DeploymentRecord{Deployment: model.Deployment{ID: id, Status: model.DeploymentActive, RolloutState: model.RolloutCompleted}}
		if i == 0 {
			d.Status, d.DesiredCount, d.RolloutState = model.DeploymentPrimary, desired, model.RolloutInProgress
		}
		r.Deployments = append(r.Deployments, d)
	}
	return r
}

func tasks(dep string, n int, status, health string) []state.TaskSummary {
	var out []state.TaskSummary
	for i := 0; i < n; i++ {
		out = append(out, state.TaskSummary{ID: fmt.Sprintf("%s-%d", dep, i), InstanceID: "i1", LastStatus: status,
			DesiredStatus: model.TaskRunning, Health: health, StartedBy: dep, StartedAt: model.At(now.Add(-time.Hour))})
	}
	return out
}

func view(r state.ServiceRecord, ts ...[]state.TaskSummary) View {
	v := View{Service: r, Now: now, Instances: map[string]InstanceInfo{
		"i1": {Status: model.InstanceActive, Connected: true, Eligible: true},
		"i2": {Status: model.InstanceActive, Connected: true, Eligible: true},
		"i3": {Status: model.InstanceDraining, Connected: true, Eligible: true},
	}}
	for _, t := range ts {
		v.Tasks = append(v.Tasks, t...)
	}
	return v
}

func started(p Plan, dep string) int {
	n := 0
	for _, s := range p.Starts {
		if s.Deployment == dep {
			n += s.Count
		}
	}
	return n
}

func stoppedOf(p Plan, prefix string) int {
	n := 0
	for _, s := range p.Stops {
		if strings.HasPrefix(s.TaskID, prefix) {
			n++
		}
	}
	return n
}

func TestNewServiceStartsItsTasks(t *testing.T) {
	p := Decide(view(service(4, 100, 200, "new")))
	if started(p, "new") != 4 || len(p.Stops) != 0 {
		t.Fatalf("starts %+v stops %+v", p.Starts, p.Stops)
	}
}

func TestSteadyState(t *testing.T) {
	r := service(4, 100, 200, "new")
	p := Decide(view(r, tasks("new", 4, "RUNNING", "")))
	if len(p.Starts)+len(p.Stops) != 0 || !p.Next.Steady || p.Next.Deployments[0].RolloutState != model.RolloutCompleted {
		t.Fatalf("plan %+v", p)
	}
	if len(p.Next.Service.Events) != 2 || !strings.Contains(p.Next.Service.Events[1].Message, "has reached a steady state.") {
		t.Fatalf("events %+v", p.Next.Service.Events)
	}
	if p.Next.Service.RunningCount != 4 || p.Next.LastCompleted == nil {
		t.Fatalf("counts %d, last completed %v", p.Next.Service.RunningCount, p.Next.LastCompleted)
	}
	// Tasks with a health check count only once HEALTHY.
	unknown := tasks("new", 4, "RUNNING", model.HealthUnknown)
	for i := range unknown {
		unknown[i].HasCheck = true
	}
	if p := Decide(view(r, unknown)); p.Next.Steady {
		t.Fatal("tasks whose checks have not passed are not a steady state")
	}
}

func TestRollingUpdateRespectsTheLimits(t *testing.T) {
	cases := []struct {
		name            string
		min, max        int
		old, new        []state.TaskSummary
		wantStart       int
		wantStopOld     int
		wantTotalAtMost int
	}{
		{"50/200 from 4 old: start 4, stop 2", 50, 200, tasks("old", 4, "RUNNING", ""), nil, 4, 2, 8},
		{"100/200: start 4, stop none until new are healthy", 100, 200, tasks("old", 4, "RUNNING", ""), nil, 4, 0, 8},
		{"50/100: no room, stop 2 first", 50, 100, tasks("old", 4, "RUNNING", ""), nil, 0, 2, 4},
		{"100/200 once 2 new are healthy: stop 2 old", 100, 200, tasks("old", 4, "RUNNING", ""),
			append(tasks("new", 2, "RUNNING", ""), tasks("new2", 0, "", "")...), 2, 2, 8},
		{"pending old tasks always go", 100, 200, tasks("old", 2, "PENDING", ""), nil, 4, 2, 8},
	}
	for _, c := range cases {
		r := service(4, c.min, c.max, "new", "old")
		p := Decide(view(r, c.old, c.new))
		if got := started(p, "new"); got != c.wantStart {
			t.Errorf("%s: started %d, want %d", c.name, got, c.wantStart)
		}
		if got := stoppedOf(p, "old"); got != c.wantStopOld {
			t.Errorf("%s: stopped %d old, want %d", c.name, got, c.wantStopOld)
		}
		if total := len(c.old) + len(c.new) + started(p, "new"); total > c.wantTotalAtMost {
			t.Errorf("%s: %d tasks would run, more than %d", c.name, total, c.wantTotalAtMost)
		}
	}
	// Completion: the new tasks healthy, the old gone.
	r := service(4, 50, 200, "new", "old")
	p := Decide(view(r, tasks("new", 4, "RUNNING", "")))
	if len(p.Next.Deployments) != 1 || p.Next.Deployments[0].RolloutState != model.RolloutCompleted {
		t.Fatalf("after the old tasks are gone: %+v", p.Next.Deployments)
	}
}

func TestCircuitBreakerRollsBack(t *testing.T) {
	r := service(4, 100, 200, "new", "old")
	r.Service.DeploymentConfiguration.DeploymentCircuitBreaker = &model.DeploymentCircuitBreaker{Enable: true, Rollback: true}
	r.LastCompleted = &state.DeploymentRecord{Deployment: model.Deployment{ID: "old", TaskDefinition: "arn:td:1"}}
	failed := tasks("new", 3, "STOPPED", "")
	for i := range failed {
		failed[i].StopCode, failed[i].StoppedReason = model.StopEssentialContainerExited, "Essential container in task exited"
	}
	p := Decide(view(r, tasks("old", 4, "RUNNING", ""), failed))
	if !p.Rollback || p.Next.Deployments[0].RolloutState != model.RolloutFailed || p.Next.Deployments[0].FailedTasks != 3 {
		t.Fatalf("rollback %v, deployment %+v", p.Rollback, p.Next.Deployments[0].Deployment)
	}
	// Each failure counts once.
	again := Decide(View{Service: p.Next, Tasks: append(tasks("old", 4, "RUNNING", ""), failed...), Instances: view(r).Instances, Now: now})
	if again.Next.Deployments[0].FailedTasks != 3 {
		t.Fatalf("failures counted twice: %d", again.Next.Deployments[0].FailedTasks)
	}
	// Tasks stopped by the scheduler or a user are not failures.
	ok := tasks("new", 3, "STOPPED", "")
	for i := range ok {
		ok[i].StopCode = model.StopServiceSchedulerInitiated
	}
	if p := Decide(view(service(4, 100, 200, "new"), ok)); p.Next.Deployments[0].FailedTasks != 0 {
		t.Fatal("scheduler stops counted as failures")
	}
	if model.CircuitBreakerThreshold(4) != 3 || model.CircuitBreakerThreshold(10) != 5 || model.CircuitBreakerThreshold(1000) != 200 {
		t.Fatal("threshold formula")
	}
}

func TestUnhealthyTasksAreReplacedAfterTheGracePeriod(t *testing.T) {
	r := service(2, 100, 200, "new")
	r.Service.HealthCheckGracePeriodSeconds = ptr(60)
	sick := tasks("new", 2, "RUNNING", model.HealthUnhealthy)
	sick[0].StartedAt = model.At(now.Add(-10 * time.Second)) // still in its grace period
	p := Decide(view(r, sick))
	if len(p.Stops) != 1 || p.Stops[0].TaskID != "new-1" || p.Stops[0].Reason != reasonUnhealthy {
		t.Fatalf("stops %+v", p.Stops)
	}
	if started(p, "new") != 1 || p.Next.Deployments[0].FailedTasks != 1 {
		t.Fatalf("starts %+v, failed %d", p.Starts, p.Next.Deployments[0].FailedTasks)
	}
}

func TestScaleInSparesProtectedTasks(t *testing.T) {
	r := service(2, 100, 200, "new")
	ts := tasks("new", 4, "RUNNING", "")
	ts[0].ProtectedTill = model.At(now.Add(time.Hour))
	ts[1].ProtectedTill = model.At(now.Add(time.Hour))
	p := Decide(view(r, ts))
	if len(p.Stops) != 2 {
		t.Fatalf("stops %+v", p.Stops)
	}
	for _, s := range p.Stops {
		if s.TaskID == "new-0" || s.TaskID == "new-1" {
			t.Fatalf("a protected task was stopped: %+v", p.Stops)
		}
	}
}

func TestDrainingInstanceTasksMove(t *testing.T) {
	r := service(2, 50, 200, "new")
	ts := tasks("new", 2, "RUNNING", "")
	ts[1].InstanceID = "i3" // draining
	p := Decide(view(r, ts))
	if started(p, "new") != 1 || stoppedOf(p, "new-1") != 1 {
		t.Fatalf("starts %+v stops %+v", p.Starts, p.Stops)
	}
	// With minimum 100%, the task on the draining instance waits for its replacement.
	r = service(2, 100, 200, "new")
	p = Decide(view(r, ts))
	if started(p, "new") != 1 || len(p.Stops) != 0 {
		t.Fatalf("min 100: starts %+v stops %+v", p.Starts, p.Stops)
	}
}

func TestDaemonOnePerEligibleInstance(t *testing.T) {
	r := service(0, 0, 100, "d")
	r.Service.SchedulingStrategy = model.SchedulingDaemon
	ts := tasks("d", 1, "RUNNING", "")
	ts = append(ts, state.TaskSummary{ID: "d-x", InstanceID: "i3", LastStatus: "RUNNING", DesiredStatus: "RUNNING", StartedBy: "d"})
	p := Decide(view(r, ts))
	if len(p.Starts) != 1 || len(p.Starts[0].Only) != 1 || p.Starts[0].Only[0] != "i2" {
		t.Fatalf("daemon starts %+v", p.Starts)
	}
	if len(p.Stops) != 1 || p.Stops[0].TaskID != "d-x" {
		t.Fatalf("daemon stops %+v (the draining instance's task must go)", p.Stops)
	}
	if p.Next.Service.DesiredCount != 2 {
		t.Fatalf("desired %d, want 2 eligible instances", p.Next.Service.DesiredCount)
	}
}

func TestDeletedServiceDrains(t *testing.T) {
	r := service(0, 100, 200, "new")
	r.Service.Status = model.ServiceDraining
	r.Deployments[0].DesiredCount = 0
	p := Decide(view(r, tasks("new", 3, "RUNNING", "")))
	if len(p.Stops) != 3 || p.Inactive {
		t.Fatalf("stops %+v inactive %v", p.Stops, p.Inactive)
	}
	if p := Decide(view(r)); !p.Inactive || p.Next.Service.Status != model.ServiceInactive {
		t.Fatalf("an empty draining service must turn INACTIVE: %+v", p)
	}
}

func TestFailingTasksBackOff(t *testing.T) {
	r := service(1, 100, 200, "new")
	var failed []state.TaskSummary
	for i := 0; i < 4; i++ {
		failed = append(failed, state.TaskSummary{ID: fmt.Sprint("f", i), StartedBy: "new", LastStatus: "STOPPED", DesiredStatus: "STOPPED",
			StopCode: model.StopTaskFailedToStart})
	}
	p := Decide(view(r, failed))
	if len(p.Starts) != 0 || !p.Next.NextStart.After(now) {
		t.Fatalf("after 4 failures the service must back off: starts %+v, next %s", p.Starts, p.Next.NextStart)
	}
}

// TestFlappingTasksDoNotCompleteADeployment: tasks that crash a moment after
// they start are RUNNING for that moment; a deployment that has seen
// failures completes only once its tasks have stayed up for StableAfter.
func TestFlappingTasksDoNotCompleteADeployment(t *testing.T) {
	r := service(2, 100, 200, "new")
	r.Service.DeploymentConfiguration.DeploymentCircuitBreaker = &model.DeploymentCircuitBreaker{Enable: true}
	r.Deployments[0].FailedTasks = 1
	fresh := tasks("new", 2, "RUNNING", "")
	for i := range fresh {
		fresh[i].StartedAt = model.At(now.Add(-200 * time.Millisecond))
	}
	p := Decide(view(r, fresh))
	if p.Next.Deployments[0].RolloutState != model.RolloutInProgress || p.Next.Steady {
		t.Fatalf("a deployment with failures completed on tasks 200ms old: %+v", p.Next.Deployments[0].Deployment)
	}
	// The same tasks, up for longer than StableAfter: now it completes.
	for i := range fresh {
		fresh[i].StartedAt = model.At(now.Add(-StableAfter - time.Second))
	}
	p = Decide(view(r, fresh))
	if p.Next.Deployments[0].RolloutState != model.RolloutCompleted || p.Next.FailStreak != 0 {
		t.Fatalf("stable tasks did not complete the deployment: %+v", p.Next.Deployments[0].Deployment)
	}
	// A deployment without failures waits only for SettleAfter: its tasks'
	// crash, if they crash at once, may not have been reported yet.
	r.Deployments[0].FailedTasks = 0
	for i := range fresh {
		fresh[i].StartedAt = model.At(now.Add(-200 * time.Millisecond))
	}
	if p := Decide(view(r, fresh)); p.Next.Deployments[0].RolloutState != model.RolloutInProgress {
		t.Fatal("a deployment completed on tasks 200ms old")
	}
	for i := range fresh {
		fresh[i].StartedAt = model.At(now.Add(-SettleAfter))
	}
	if p := Decide(view(r, fresh)); p.Next.Deployments[0].RolloutState != model.RolloutCompleted {
		t.Fatal("a clean deployment waited for more than SettleAfter")
	}
}

// TestStoppingTasksCountAgainstTheMaximum: a task told to stop runs until it
// has stopped, and leaves no room for a replacement before that.
func TestStoppingTasksCountAgainstTheMaximum(t *testing.T) {
	r := service(4, 50, 100, "new")
	running := tasks("new", 2, "RUNNING", "")
	leaving := tasks("old", 2, "RUNNING", "")
	for i := range leaving {
		leaving[i].DesiredStatus = model.TaskStopped
	}
	if p := Decide(view(r, running, leaving)); started(p, "new") != 0 {
		t.Fatalf("started %d while 2 tasks were still stopping (max 4)", started(p, "new"))
	}
	for i := range leaving {
		leaving[i].LastStatus = model.TaskStopped
		leaving[i].StopCode = model.StopServiceSchedulerInitiated
	}
	if p := Decide(view(r, running, leaving)); started(p, "new") != 2 {
		t.Fatalf("started %d once they stopped, want 2", started(p, "new"))
	}
}

// TestCountedFailuresAreForgottenWithTheirTasks: a failure counts once while
// its task is known, and is forgotten when the reaper removes the task.
func TestCountedFailuresAreForgottenWithTheirTasks(t *testing.T) {
	r := service(2, 100, 200, "new")
	failed := tasks("new", 1, "STOPPED", "")
	failed[0].ID, failed[0].StopCode = "crashed", model.StopEssentialContainerExited
	p := Decide(view(r, tasks("new", 2, "RUNNING", ""), failed))
	if len(p.Next.Counted) != 1 || p.Next.Deployments[0].FailedTasks != 1 {
		t.Fatalf("counted %v, failed %d", p.Next.Counted, p.Next.Deployments[0].FailedTasks)
	}
	// Scheduler stops are not failures and are not remembered.
	moved := tasks("old", 1, "STOPPED", "")
	moved[0].StopCode = model.StopServiceSchedulerInitiated
	p = Decide(View{Service: p.Next, Tasks: append(append(tasks("new", 2, "RUNNING", ""), failed...), moved...), Instances: view(r).Instances, Now: now})
	if len(p.Next.Counted) != 1 || p.Next.Deployments[0].FailedTasks != 1 {
		t.Fatalf("counted %v, failed %d", p.Next.Counted, p.Next.Deployments[0].FailedTasks)
	}
	// Reaped: forgotten, and not counted again.
	p = Decide(View{Service: p.Next, Tasks: tasks("new", 2, "RUNNING", ""), Instances: view(r).Instances, Now: now})
	if len(p.Next.Counted) != 0 || p.Next.Deployments[0].FailedTasks != 1 {
		t.Fatalf("counted %v, failed %d", p.Next.Counted, p.Next.Deployments[0].FailedTasks)
	}
}
