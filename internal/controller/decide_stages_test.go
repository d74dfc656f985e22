package controller

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// sum is a task of a deployment on instance i1, started an hour ago, with
// its status and edits.
func sum(id, dep, status string, edits ...func(*state.TaskSummary)) state.TaskSummary {
	t := state.TaskSummary{ID: id, StartedBy: dep, InstanceID: "i1", LastStatus: status, DesiredStatus: model.TaskRunning,
		StartedAt: model.At(now.Add(-time.Hour))}
	if status == model.TaskStopped {
		t.DesiredStatus = model.TaskStopped
	}
	for _, e := range edits {
		e(&t)
	}
	return t
}

func checked(health string) func(*state.TaskSummary) {
	return func(t *state.TaskSummary) { t.HasCheck, t.Health = true, health }
}
func on(inst string) func(*state.TaskSummary) {
	return func(t *state.TaskSummary) { t.InstanceID = inst }
}
func upFor(d time.Duration) func(*state.TaskSummary) {
	return func(t *state.TaskSummary) { t.StartedAt = model.At(now.Add(-d)) }
}
func neverStarted(t *state.TaskSummary)  { t.StartedAt = nil }
func told(t *state.TaskSummary)          { t.DesiredStatus = model.TaskStopped }
func protectedTask(t *state.TaskSummary) { t.ProtectedTill = model.At(now.Add(time.Hour)) }
func stopCode(code, reason string) func(*state.TaskSummary) {
	return func(t *state.TaskSummary) { t.StopCode, t.StoppedReason = code, reason }
}

func ids(ts []*state.TaskSummary) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

// instances: i1 and i2 ACTIVE (i2 not eligible for a daemon), i3 DRAINING,
// i4 ACTIVE but its agent not connected.
var instances = map[string]InstanceInfo{
	"i1": {Status: model.InstanceActive, Connected: true, Eligible: true},
	"i2": {Status: model.InstanceActive, Connected: true, Eligible: false},
	"i3": {Status: model.InstanceDraining, Connected: true, Eligible: true},
	"i4": {Status: model.InstanceActive, Connected: false, Eligible: true},
}

func TestForgetReaped(t *testing.T) {
	cases := []struct {
		counted []string
		known   []string
		want    []string
	}{
		{nil, []string{"a"}, nil},
		{[]string{"a", "b", "c"}, []string{"c", "a"}, []string{"a", "c"}},
		{[]string{"a"}, nil, nil},
	}
	for _, c := range cases {
		var ts []state.TaskSummary
		for _, id := range c.known {
			ts = append(ts, sum(id, "d", model.TaskStopped))
		}
		if got := forgetReaped(c.counted, ts); !slices.Equal(got, c.want) {
			t.Errorf("forgetReaped(%v, %v) = %v, want %v", c.counted, c.known, got, c.want)
		}
	}
}

func TestFindFailures(t *testing.T) {
	grace := time.Minute
	cases := []struct {
		name          string
		task          state.TaskSummary
		failed, stops bool
	}{
		{"an essential container exited", sum("t", "d", model.TaskStopped, stopCode(model.StopEssentialContainerExited, "exit 1")), true, false},
		{"it failed to start", sum("t", "d", model.TaskStopped, stopCode(model.StopTaskFailedToStart, "")), true, false},
		{"stopped with no code", sum("t", "d", model.TaskStopped), true, false},
		{"the scheduler stopped it", sum("t", "d", model.TaskStopped, stopCode(model.StopServiceSchedulerInitiated, "")), false, false},
		{"a user stopped it", sum("t", "d", model.TaskStopped, stopCode(model.StopUserInitiated, "")), false, false},
		{"its instance's health stopped it", sum("t", "d", model.TaskStopped, stopCode(model.StopInfrastructureHealth, "")), false, false},
		{"unhealthy past the grace period", sum("t", "d", model.TaskRunning, checked(model.HealthUnhealthy)), true, true},
		{"unhealthy, of no known start", sum("t", "d", model.TaskRunning, checked(model.HealthUnhealthy), neverStarted), true, true},
		{"unhealthy at the end of the grace period", sum("t", "d", model.TaskRunning, checked(model.HealthUnhealthy), upFor(grace)), true, true},
		{"unhealthy within the grace period", sum("t", "d", model.TaskRunning, checked(model.HealthUnhealthy), upFor(grace-time.Second)), false, false},
		{"unhealthy and already told to stop", sum("t", "d", model.TaskRunning, checked(model.HealthUnhealthy), told), false, false},
		{"unhealthy but still pending", sum("t", "d", model.TaskPending, checked(model.HealthUnhealthy)), false, false},
		{"healthy", sum("t", "d", model.TaskRunning, checked(model.HealthHealthy)), false, false},
		{"running with no check", sum("t", "d", model.TaskRunning), false, false},
	}
	for _, c := range cases {
		fs := findFailures([]state.TaskSummary{c.task}, grace, now)
		if failed := len(fs) == 1; failed != c.failed {
			t.Errorf("%s: failed %v, want %v", c.name, failed, c.failed)
		}
		stops := replaceUnhealthy(fs)
		if (len(stops) == 1) != c.stops || c.stops && stops[0] != (Stop{TaskID: "t", Reason: reasonUnhealthy}) {
			t.Errorf("%s: stops %+v, want a stop: %v", c.name, stops, c.stops)
		}
	}
	// Tasks that stopped come first.
	fs := findFailures([]state.TaskSummary{
		sum("sick", "d", model.TaskRunning, checked(model.HealthUnhealthy)),
		sum("gone", "d", model.TaskStopped, stopCode(model.StopEssentialContainerExited, "")),
	}, 0, now)
	if len(fs) != 2 || fs[0].task.ID != "gone" || fs[1].task.ID != "sick" || fs[0].unhealthy || !fs[1].unhealthy {
		t.Fatalf("order: %+v", fs)
	}
}

func TestCountFailures(t *testing.T) {
	failedTask := func(id, dep string) failure {
		ts := sum(id, dep, model.TaskStopped, stopCode(model.StopEssentialContainerExited, "Essential container in task exited"))
		return failure{task: &ts}
	}
	unhealthyTask := func(id, dep string) failure {
		ts := sum(id, dep, model.TaskRunning, checked(model.HealthUnhealthy))
		return failure{task: &ts, unhealthy: true}
	}
	cases := []struct {
		name       string
		counted    []string
		streak     int
		failed     []failure
		wantCount  []string
		wantFailed [2]int // new, old
		wantStreak int
		wantEvents []string
	}{
		{name: "none"},
		{name: "a stopped task and an unhealthy one, each in its deployment", failed: []failure{failedTask("a", "new"), unhealthyTask("b", "old")},
			wantCount: []string{"a", "b"}, wantFailed: [2]int{1, 1}, wantStreak: 2,
			wantEvents: []string{"(service web) (task a) failed: Essential container in task exited."}},
		{name: "counted once", counted: []string{"a", "b"}, streak: 2, failed: []failure{failedTask("a", "new"), unhealthyTask("b", "new")},
			wantCount: []string{"a", "b"}, wantStreak: 2},
		{name: "a task of no current deployment still counts in the streak", failed: []failure{failedTask("a", "gone")},
			wantCount: []string{"a"}, wantStreak: 1, wantEvents: []string{"(service web) (task a) failed: Essential container in task exited."}},
	}
	for _, c := range cases {
		r := service(2, 100, 200, "new", "old")
		r.Counted, r.FailStreak = slices.Clone(c.counted), c.streak
		r.Deployments[0].ServiceDeploymentArn = "sd-new"
		r.ServiceDeployments = []model.ServiceDeployment{{ServiceDeploymentArn: "sd-new", DeploymentCircuitBreaker: &model.ServiceDeploymentCircuitBreaker{}}}
		events := countFailures(&r, c.failed, now)
		if !slices.Equal(r.Counted, c.wantCount) || r.FailStreak != c.wantStreak ||
			r.Deployments[0].FailedTasks != c.wantFailed[0] || r.Deployments[1].FailedTasks != c.wantFailed[1] {
			t.Errorf("%s: counted %v streak %d failed %d/%d", c.name, r.Counted, r.FailStreak, r.Deployments[0].FailedTasks, r.Deployments[1].FailedTasks)
		}
		if diff := cmp.Diff(c.wantEvents, events); diff != "" {
			t.Errorf("%s: events (-want +got):\n%s", c.name, diff)
		}
		if want := now.Add(backoff(c.wantStreak)); c.wantStreak > c.streak && !r.NextStart.Equal(want) {
			t.Errorf("%s: next start %s, want %s", c.name, r.NextStart, want)
		}
		if got := r.ServiceDeployments[0].DeploymentCircuitBreaker.FailureCount; got != r.Deployments[0].FailedTasks {
			t.Errorf("%s: the circuit breaker counts %d failures, the deployment %d", c.name, got, r.Deployments[0].FailedTasks)
		}
	}
}

func TestBackoff(t *testing.T) {
	cases := map[int]time.Duration{0: 0, 1: 0, 2: time.Second, 3: 2 * time.Second, 4: 4 * time.Second, 7: 32 * time.Second, 8: time.Minute, 100: time.Minute}
	for streak, want := range cases {
		if got := backoff(streak); got != want {
			t.Errorf("backoff(%d) = %s, want %s", streak, got, want)
		}
	}
}

func TestCircuitBreaker(t *testing.T) {
	cases := []struct {
		name             string
		enable, rollback bool
		failed           int
		rollout          string
		completedBefore  bool
		isRollback       bool
		trips, rollsBack bool
		sdStatus         string
	}{
		{name: "disabled", rollback: true, failed: 3, rollout: model.RolloutInProgress, completedBefore: true},
		{name: "below the threshold", enable: true, failed: 2, rollout: model.RolloutInProgress},
		{name: "the rollout is over", enable: true, failed: 3, rollout: model.RolloutCompleted},
		{name: "without rollback", enable: true, failed: 3, rollout: model.RolloutInProgress, trips: true, sdStatus: model.SDStopped},
		{name: "rolls back", enable: true, rollback: true, failed: 3, rollout: model.RolloutInProgress, completedBefore: true,
			trips: true, rollsBack: true, sdStatus: model.SDInProgress},
		{name: "nothing to roll back to", enable: true, rollback: true, failed: 3, rollout: model.RolloutInProgress,
			trips: true, sdStatus: model.SDRollbackFailed},
		{name: "a rollback that fails does not roll back", enable: true, rollback: true, failed: 3, rollout: model.RolloutInProgress,
			completedBefore: true, isRollback: true, trips: true, sdStatus: model.SDRollbackFailed},
		{name: "a rollback fails, whatever the breaker's setting now", enable: true, failed: 3, rollout: model.RolloutInProgress,
			isRollback: true, trips: true, sdStatus: model.SDRollbackFailed},
	}
	for _, c := range cases {
		r := service(4, 100, 200, "new")
		r.Service.DeploymentConfiguration.DeploymentCircuitBreaker = &model.DeploymentCircuitBreaker{Enable: c.enable, Rollback: c.rollback}
		d := &r.Deployments[0]
		d.FailedTasks, d.RolloutState, d.Rollback, d.ServiceDeploymentArn = c.failed, c.rollout, c.isRollback, "sd"
		r.ServiceDeployments = []model.ServiceDeployment{{ServiceDeploymentArn: "sd", Status: model.SDInProgress,
			DeploymentCircuitBreaker: &model.ServiceDeploymentCircuitBreaker{Status: "MONITORING"}}}
		if c.completedBefore {
			r.LastCompleted = &state.DeploymentRecord{Deployment: model.Deployment{ID: "old"}}
		}
		if trips := breakerTrips(&r); trips != c.trips {
			t.Errorf("%s: trips %v, want %v", c.name, trips, c.trips)
		}
		if !c.trips {
			continue
		}
		rollback, event := tripBreaker(&r, now)
		sd := r.ServiceDeployments[0]
		if rollback != c.rollsBack || d.RolloutState != model.RolloutFailed || sd.Status != c.sdStatus || sd.DeploymentCircuitBreaker.Status != "TRIGGERED" ||
			event != "(service web) (deployment new) deployment failed: tasks failed to start." {
			t.Errorf("%s: rollback %v, rollout %s, service deployment %s (breaker %s), event %q", c.name, rollback, d.RolloutState, sd.Status,
				sd.DeploymentCircuitBreaker.Status, event)
		}
	}
}

func TestWhereTasksMayStay(t *testing.T) {
	cases := []struct {
		inst            string
		replica, daemon bool // moving
	}{
		{"i1", false, false},
		{"i2", false, true}, // no longer eligible for the daemon
		{"i3", true, true},  // draining
		{"i4", false, false},
		{"gone", true, true},
	}
	for _, c := range cases {
		task := sum("t", "d", model.TaskRunning, on(c.inst))
		replica := newRound(View{Service: service(1, 100, 200, "d"), Instances: instances})
		daemon := replica
		daemon.daemon = true
		if replica.moving(&task) != c.replica || daemon.moving(&task) != c.daemon {
			t.Errorf("%s: moving %v (daemon %v), want %v (%v)", c.inst, replica.moving(&task), daemon.moving(&task), c.replica, c.daemon)
		}
	}
}

func TestDesiredCountAndLimits(t *testing.T) {
	if n := daemonCount(instances); n != 2 {
		t.Errorf("daemon count %d, want 2 (i1 and i4: ACTIVE and eligible)", n)
	}
	cases := []struct {
		desired, min, max int
		status            string
		daemon            bool
		want              limits
	}{
		{4, 50, 200, model.ServiceActive, false, limits{minHealthy: 2, maxTotal: 8}},
		{3, 50, 200, model.ServiceActive, false, limits{minHealthy: 2, maxTotal: 6}}, // rounded up, and down
		{5, 100, 150, model.ServiceActive, false, limits{minHealthy: 5, maxTotal: 7}},
		{4, 100, 200, model.ServiceDraining, false, limits{minHealthy: 0, maxTotal: 8}},
		{0, 100, 200, model.ServiceActive, false, limits{minHealthy: 0, maxTotal: 0}},
		{4, -1, -1, model.ServiceActive, false, limits{minHealthy: 4, maxTotal: 8}}, // a replica's defaults: 100, 200
		{4, -1, -1, model.ServiceActive, true, limits{minHealthy: 0, maxTotal: 4}},  // a daemon's: 0, 100
	}
	for _, c := range cases {
		svc := service(c.desired, c.min, c.max).Service
		svc.Status = c.status
		if c.min < 0 {
			svc.DeploymentConfiguration = nil
		}
		if got := rollingLimits(&svc, c.desired, c.daemon); got != c.want {
			t.Errorf("%+v: %+v", c, got)
		}
	}
}

func TestAssign(t *testing.T) {
	deps := service(2, 100, 200, "new", "old").Deployments // new wants 2, old 0
	r := newRound(View{Service: service(2, 100, 200, "new", "old"), Instances: instances})
	cases := []struct {
		name       string
		tasks      []state.TaskSummary
		kept       map[string]int
		wantExcess []string
	}{
		{"the healthiest stay", []state.TaskSummary{
			sum("pending", "new", model.TaskPending),
			sum("starting", "new", model.TaskRunning, checked(model.HealthUnknown)),
			sum("healthy", "new", model.TaskRunning, checked(model.HealthHealthy)),
		}, map[string]int{"new": 2}, []string{"pending"}},
		{"none stays on a draining instance", []state.TaskSummary{
			sum("drained", "new", model.TaskRunning, on("i3")),
			sum("a", "new", model.TaskRunning),
		}, map[string]int{"new": 1}, []string{"drained"}},
		{"an old deployment keeps none, and tasks of no deployment go", []state.TaskSummary{
			sum("o", "old", model.TaskRunning),
			sum("x", "forgotten", model.TaskRunning),
			sum("a", "new", model.TaskRunning),
		}, map[string]int{"new": 1}, []string{"o", "x"}},
	}
	for _, c := range cases {
		serving := servingTasks(c.tasks, nil)
		kept, excess := assign(deps, serving, r.moving)
		if !cmp.Equal(kept, c.kept) || !slices.Equal(ids(excess), c.wantExcess) {
			t.Errorf("%s: kept %v, excess %v; want %v, %v", c.name, kept, ids(excess), c.kept, c.wantExcess)
		}
	}
	// Serving: active, and not being replaced.
	ts := []state.TaskSummary{sum("a", "new", model.TaskRunning), sum("b", "new", model.TaskRunning, told), sum("c", "new", model.TaskStopped),
		sum("d", "new", model.TaskRunning, checked(model.HealthUnhealthy))}
	if got := ids(servingTasks(ts, map[string]bool{"d": true})); !slices.Equal(got, []string{"a"}) {
		t.Errorf("serving %v, want [a]", got)
	}
}

func TestStarts(t *testing.T) {
	deps := func(states ...string) []state.DeploymentRecord {
		r := service(4, 100, 200, "new", "old")
		r.Deployments[1].DesiredCount = 2
		r.Deployments[0].RolloutState = states[0]
		return r.Deployments
	}
	cases := []struct {
		name     string
		deps     []state.DeploymentRecord
		kept     map[string]int
		running  int
		maxTotal int
		stalled  bool
		want     []Start
	}{
		{"what each lacks", deps(model.RolloutInProgress), map[string]int{"new": 1, "old": 1}, 2, 8, false,
			[]Start{{Deployment: "new", Count: 3}, {Deployment: "old", Count: 1}}},
		{"within the maximum, in order", deps(model.RolloutInProgress), map[string]int{}, 4, 8, false, []Start{{Deployment: "new", Count: 4}}},
		{"no room", deps(model.RolloutInProgress), map[string]int{}, 8, 8, false, nil},
		{"a stalled primary starts nothing", deps(model.RolloutFailed), map[string]int{"old": 2}, 2, 8, true, nil},
		{"a stalled primary leaves room to the others", deps(model.RolloutFailed), map[string]int{}, 0, 8, true, []Start{{Deployment: "old", Count: 2}}},
	}
	for _, c := range cases {
		if diff := cmp.Diff(c.want, replicaStarts(c.deps, c.kept, c.running, c.maxTotal, c.stalled)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}

	r := newRound(View{Service: service(0, 0, 100, "new"), Instances: instances})
	r.daemon = true
	daemonCases := []struct {
		name  string
		tasks []state.TaskSummary
		want  []Start
	}{
		{"every eligible, ACTIVE, connected instance", nil, []Start{{Deployment: "new", Count: 1, Only: []string{"i1"}}}},
		{"one that has a task", []state.TaskSummary{sum("a", "new", model.TaskRunning, on("i1"))}, nil},
		{"an old deployment's task makes way first", []state.TaskSummary{sum("a", "old", model.TaskRunning, on("i1"))}, nil},
	}
	for _, c := range daemonCases {
		got := daemonStarts("new", instances, servingTasks(c.tasks, nil), r.moving)
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("daemon: %s (-want +got):\n%s", c.name, diff)
		}
	}

	// Nothing starts during a backoff, nor for a service being deleted.
	rec := service(2, 100, 200, "new")
	if got := newRound(View{Service: rec, Instances: instances, Now: now}).starts(&rec, nil, nil, 4); len(got) != 1 {
		t.Fatalf("starts %+v", got)
	}
	rec.NextStart = now.Add(time.Second)
	if got := newRound(View{Service: rec, Instances: instances, Now: now}).starts(&rec, nil, nil, 4); got != nil {
		t.Errorf("started during a backoff: %+v", got)
	}
	rec = service(2, 100, 200, "new")
	rec.Service.Status = model.ServiceDraining
	if got := newRound(View{Service: rec, Instances: instances, Now: now}).starts(&rec, nil, nil, 4); got != nil {
		t.Errorf("a deleted service started tasks: %+v", got)
	}
}

func TestScaleDown(t *testing.T) {
	cases := []struct {
		name       string
		draining   bool
		minHealthy int
		serving    []state.TaskSummary
		excess     []string
		want       []Stop
	}{
		{"what does not serve goes first, within the minimum", false, 2, []state.TaskSummary{
			sum("h1", "old", model.TaskRunning), sum("h2", "old", model.TaskRunning), sum("h3", "new", model.TaskRunning),
			sum("p", "old", model.TaskPending), sum("u", "old", model.TaskRunning, checked(model.HealthUnknown)),
		}, []string{"h1", "h2", "p", "u"}, []Stop{
			{TaskID: "p", Reason: reasonReplaced}, {TaskID: "u", Reason: reasonReplaced}, {TaskID: "h1", Reason: reasonReplaced},
		}},
		{"the primary's own excess is a scale-in; a draining instance's a move", false, 0, []state.TaskSummary{
			sum("a", "new", model.TaskRunning), sum("b", "new", model.TaskRunning, on("i3")),
		}, []string{"a", "b"}, []Stop{
			{TaskID: "b", Reason: reasonMoved}, {TaskID: "a", Reason: "Scaling activity initiated by (deployment new)"},
		}},
		{"protected tasks are spared", false, 0, []state.TaskSummary{
			sum("a", "new", model.TaskRunning, protectedTask), sum("b", "new", model.TaskPending, protectedTask),
		}, []string{"a", "b"}, nil},
		{"not once the service is being deleted", true, 0, []state.TaskSummary{
			sum("a", "new", model.TaskRunning, protectedTask),
		}, []string{"a"}, []Stop{{TaskID: "a", Reason: "Scaling activity initiated by (deployment new)"}}},
	}
	for _, c := range cases {
		rec := service(1, 100, 200, "new")
		if c.draining {
			rec.Service.Status = model.ServiceDraining
		}
		r := newRound(View{Service: rec, Instances: instances, Now: now})
		serving := servingTasks(c.serving, nil)
		var excess []*state.TaskSummary
		for _, t := range serving {
			if slices.Contains(c.excess, t.ID) {
				excess = append(excess, t)
			}
		}
		if diff := cmp.Diff(c.want, r.scaleDown(serving, excess, c.minHealthy, "new")); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
}

func TestProgress(t *testing.T) {
	cases := []struct {
		name     string
		failed   int
		tasks    []state.TaskSummary
		stopping []string
		starting bool
		want     progress
		done     bool
	}{
		{"two tasks up for an hour", 0, []state.TaskSummary{sum("a", "new", model.TaskRunning), sum("b", "new", model.TaskRunning)},
			nil, false, progress{active: 2, healthy: 2, settled: 2, proven: 2}, true},
		{"up for less than SettleAfter", 0, []state.TaskSummary{sum("a", "new", model.TaskRunning), sum("b", "new", model.TaskRunning, upFor(SettleAfter-time.Millisecond))},
			nil, false, progress{active: 2, healthy: 2, settled: 1, proven: 1}, false},
		{"after failures, settled is not enough", 1, []state.TaskSummary{sum("a", "new", model.TaskRunning, upFor(SettleAfter)), sum("b", "new", model.TaskRunning)},
			nil, false, progress{active: 2, healthy: 2, settled: 2, proven: 1}, false},
		{"after failures, proven", 1, []state.TaskSummary{sum("a", "new", model.TaskRunning, upFor(StableAfter)), sum("b", "new", model.TaskRunning)},
			nil, false, progress{active: 2, healthy: 2, settled: 2, proven: 2}, true},
		{"no start time: settled, not proven", 0, []state.TaskSummary{sum("a", "new", model.TaskRunning, neverStarted), sum("b", "new", model.TaskRunning)},
			nil, false, progress{active: 2, healthy: 2, settled: 2, proven: 1}, true},
		{"an old task still runs", 0, []state.TaskSummary{sum("a", "new", model.TaskRunning), sum("b", "new", model.TaskRunning), sum("o", "old", model.TaskRunning)},
			nil, false, progress{active: 3, healthy: 2, settled: 2, proven: 2}, false},
		{"one being stopped, one moving, one not yet healthy", 0, []state.TaskSummary{sum("a", "new", model.TaskRunning), sum("b", "new", model.TaskRunning, on("i3")),
			sum("c", "new", model.TaskRunning, checked(model.HealthUnknown))}, []string{"a"}, false, progress{active: 3}, false},
		{"tasks still to start", 0, []state.TaskSummary{sum("a", "new", model.TaskRunning), sum("b", "new", model.TaskRunning)},
			nil, true, progress{active: 2, healthy: 2, settled: 2, proven: 2}, false},
	}
	for _, c := range cases {
		rec := service(2, 100, 200, "new", "old")
		rec.Deployments[0].FailedTasks = c.failed
		r := newRound(View{Service: rec, Tasks: c.tasks, Instances: instances, Now: now})
		stopping := map[string]bool{}
		for _, id := range c.stopping {
			stopping[id] = true
		}
		got := r.progress("new", stopping)
		if got != c.want || got.done(&rec.Deployments[0], c.starting) != c.done {
			t.Errorf("%s: %+v done %v, want %+v done %v", c.name, got, got.done(&rec.Deployments[0], c.starting), c.want, c.done)
		}
	}
}

func TestConclude(t *testing.T) {
	cases := []struct {
		name            string
		done, wasSteady bool
		rollout         string
		rollback        bool
		wantRollout     string
		wantSD          string
		wantSteady      bool
		wantEvents      int
		wantDeployments int
	}{
		{"in progress", false, false, model.RolloutInProgress, false, model.RolloutInProgress, model.SDInProgress, false, 0, 2},
		{"completes", true, false, model.RolloutInProgress, false, model.RolloutCompleted, model.SDSuccessful, true, 2, 1},
		{"a rollback completes", true, false, model.RolloutInProgress, true, model.RolloutCompleted, model.SDRollbackSuccessful, true, 2, 1},
		{"still steady", true, true, model.RolloutCompleted, false, model.RolloutCompleted, model.SDInProgress, true, 0, 1},
		{"a failed deployment, done, is steady", true, false, model.RolloutFailed, false, model.RolloutFailed, model.SDInProgress, true, 1, 1},
		{"no longer steady", false, true, model.RolloutCompleted, false, model.RolloutCompleted, model.SDInProgress, false, 0, 2},
	}
	for _, c := range cases {
		r := service(2, 100, 200, "new", "old")
		d := &r.Deployments[0]
		d.RolloutState, d.Rollback, d.ServiceDeploymentArn = c.rollout, c.rollback, "sd"
		r.ServiceDeployments = []model.ServiceDeployment{{ServiceDeploymentArn: "sd", Status: model.SDInProgress,
			DeploymentCircuitBreaker: &model.ServiceDeploymentCircuitBreaker{Status: "MONITORING"}}}
		events := conclude(&r, c.done, c.wasSteady, now)
		sd := r.ServiceDeployments[0]
		if r.Deployments[0].RolloutState != c.wantRollout || sd.Status != c.wantSD || r.Steady != c.wantSteady ||
			len(events) != c.wantEvents || len(r.Deployments) != c.wantDeployments {
			t.Errorf("%s: rollout %s, service deployment %s, steady %v, events %q, %d deployments", c.name, r.Deployments[0].RolloutState,
				sd.Status, r.Steady, events, len(r.Deployments))
		}
		if c.wantRollout == model.RolloutCompleted && c.rollout == model.RolloutInProgress &&
			(r.LastCompleted == nil || r.LastCompleted.ID != "new" || sd.DeploymentCircuitBreaker.Status != "MONITORING_COMPLETE" || sd.FinishedAt == nil) {
			t.Errorf("%s: last completed %+v, breaker %s, finished %v", c.name, r.LastCompleted, sd.DeploymentCircuitBreaker.Status, sd.FinishedAt)
		}
	}
}

func TestRecordCounts(t *testing.T) {
	r := service(3, 100, 200, "new", "old")
	r.Deployments[0].RevisionArn, r.Deployments[0].ServiceDeploymentArn = "rev-new", "sd"
	r.Deployments[1].RunningCount = 1
	r.ServiceDeployments = []model.ServiceDeployment{{ServiceDeploymentArn: "sd", TargetServiceRevision: &model.ServiceRevisionSummary{Arn: "rev-new"}}}
	ts := []state.TaskSummary{sum("a", "new", model.TaskRunning), sum("b", "new", model.TaskPending), sum("c", "new", model.TaskRunning, told),
		sum("d", "new", model.TaskStopped), sum("o", "old", model.TaskRunning)}
	recordCounts(&r, ts, now)
	n, o, rev := r.Deployments[0], r.Deployments[1], r.ServiceDeployments[0].TargetServiceRevision
	if n.RunningCount != 1 || n.PendingCount != 1 || o.RunningCount != 1 || r.Service.RunningCount != 2 || r.Service.PendingCount != 1 {
		t.Errorf("counts: new %d/%d old %d, service %d/%d", n.RunningCount, n.PendingCount, o.RunningCount, r.Service.RunningCount, r.Service.PendingCount)
	}
	if n.UpdatedAt == nil || o.UpdatedAt != nil {
		t.Errorf("updated: new %v, old %v (its counts did not change)", n.UpdatedAt, o.UpdatedAt)
	}
	if *rev != (model.ServiceRevisionSummary{Arn: "rev-new", RunningTaskCount: 1, PendingTaskCount: 1, RequestedTaskCount: 3}) {
		t.Errorf("target revision %+v", *rev)
	}
}

// TestDecideLeavesItsViewAlone: the record Decide plans has copies of its
// own of what it changes, down to the service deployments' counts.
func TestDecideLeavesItsViewAlone(t *testing.T) {
	r := service(2, 100, 200, "new")
	r.Service.DeploymentConfiguration.DeploymentCircuitBreaker = &model.DeploymentCircuitBreaker{Enable: true}
	r.Deployments[0].RevisionArn, r.Deployments[0].ServiceDeploymentArn = "rev", "sd"
	r.Counted = []string{"reaped"}
	r.ServiceDeployments = []model.ServiceDeployment{{ServiceDeploymentArn: "sd", Status: model.SDInProgress,
		DeploymentCircuitBreaker: &model.ServiceDeploymentCircuitBreaker{Status: "MONITORING"}, TargetServiceRevision: &model.ServiceRevisionSummary{Arn: "rev"}}}
	v := view(r, tasks("new", 2, model.TaskRunning, ""), []state.TaskSummary{sum("x", "new", model.TaskStopped, stopCode(model.StopEssentialContainerExited, ""))})
	before, _ := json.Marshal(v)
	p := Decide(v)
	after, _ := json.Marshal(v)
	if string(before) != string(after) {
		t.Fatalf("Decide changed its view:\n%s\n%s", before, after)
	}
	if sd := p.Next.ServiceDeployments[0]; sd.DeploymentCircuitBreaker.FailureCount != 1 || sd.TargetServiceRevision.RunningTaskCount != 2 {
		t.Fatalf("planned service deployment %+v %+v", sd.DeploymentCircuitBreaker, sd.TargetServiceRevision)
	}
}
