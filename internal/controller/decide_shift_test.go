package controller

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// shiftSim runs the service controller's decisions in simulated time: the
// tasks it starts run and are healthy at once, those it stops stop.
type shiftSim struct {
	t      *testing.T
	rec    state.ServiceRecord
	tasks  []state.TaskSummary
	now    time.Time
	n      int
	events []string
	// stages are the stages in the order they were entered, and steps the
	// production steps with the time they were made.
	stages []string
	steps  []simStep
	alarms map[string]state.AlarmState
}

type simStep struct {
	at         time.Duration
	step       int
	blue, gree int
}

func float(f float64) *float64 { return &f }

var stageEntered = regexp.MustCompile(`entered the ([A-Z_]+) lifecycle stage`)

// newShiftSim is a service of 4 tasks of deployment "blue" just updated to
// deployment "green" with the given deployment configuration, behind one
// load balancer with an alternate target group.
func newShiftSim(t *testing.T, dc model.DeploymentConfiguration) *shiftSim {
	rec := service(4, 100, 200, "green", "blue")
	dc.MinimumHealthyPercent, dc.MaximumPercent = ptr(100), ptr(200)
	dc.DeploymentCircuitBreaker = &model.DeploymentCircuitBreaker{Enable: true, Rollback: true}
	rec.Service.DeploymentConfiguration = &dc
	rec.Service.LoadBalancers = []model.LoadBalancer{{TargetGroupArn: "tg-1", ContainerName: "web", ContainerPort: ptr(80),
		AdvancedConfiguration: &model.AdvancedConfiguration{AlternateTargetGroupArn: "tg-2", ProductionListenerRule: "rule-prod", TestListenerRule: "rule-test"}}}
	rec.Deployments[0].ServiceDeploymentArn = "sd-green"
	rec.Deployments[0].TaskDefinition = "def:2"
	rec.Deployments[1].ServiceDeploymentArn = "sd-blue"
	rec.Deployments[1].TaskDefinition = "def:1"
	rec.Service.TaskDefinition = "def:2"
	rec.ServiceDeployments = []model.ServiceDeployment{{ServiceDeploymentArn: "sd-green", Status: model.SDInProgress,
		TargetServiceRevision: &model.ServiceRevisionSummary{}}}
	s := &shiftSim{t: t, rec: rec, now: now}
	s.tasks = tasks("blue", 4, model.TaskRunning, "")
	return s
}

// reconcile runs one decision and applies it.
func (s *shiftSim) reconcile() Plan {
	v := view(s.rec, s.tasks)
	v.Now, v.Alarms = s.now, s.alarms
	p := Decide(v)
	for _, st := range p.Stops {
		for i := range s.tasks {
			if s.tasks[i].ID == st.TaskID {
				s.tasks[i].LastStatus, s.tasks[i].DesiredStatus = model.TaskStopped, model.TaskStopped
			}
		}
	}
	for _, st := range p.Starts {
		for range st.Count {
			s.n++
			s.tasks = append(s.tasks, state.TaskSummary{ID: fmt.Sprintf("%s-new-%d", st.Deployment, s.n), InstanceID: "i1",
				LastStatus: model.TaskRunning, DesiredStatus: model.TaskRunning, StartedBy: st.Deployment, StartedAt: model.At(s.now)})
		}
	}
	for _, e := range p.Next.Service.Events {
		s.events = append(s.events, e.Message)
		if m := stageEntered.FindStringSubmatch(e.Message); m != nil {
			s.stages = append(s.stages, m[1])
		}
	}
	p.Next.Service.Events = nil
	s.rec = p.Next
	if sh := s.rec.Shift; sh != nil {
		if sh.Step > 0 && (len(s.steps) == 0 || s.steps[len(s.steps)-1].step != sh.Step) {
			steps, _ := s.rec.Service.DeploymentConfiguration.Schedule()
			prod, _ := sh.Weights(sh.Pairs[0], steps)
			s.steps = append(s.steps, simStep{at: s.now.Sub(now), step: sh.Step, blue: prod[sh.Pairs[0].Blue], gree: prod[sh.Pairs[0].Green]})
		}
	}
	return p
}

// run reconciles every tick until the shift ends or limit passes.
func (s *shiftSim) run(tick, limit time.Duration, each func()) {
	s.t.Helper()
	for end := s.now.Add(limit); s.now.Before(end); s.now = s.now.Add(tick) {
		s.reconcile()
		if each != nil {
			each()
		}
		if s.rec.Shift == nil && len(s.stages) > 0 {
			return
		}
	}
	s.t.Fatalf("the shift did not end within %v; stages %v, shift %+v", limit, s.stages, s.rec.Shift)
}

func (s *shiftSim) running(dep string) int {
	n := 0
	for _, t := range s.tasks {
		if t.StartedBy == dep && active(&t) {
			n++
		}
	}
	return n
}

// TestLinearScheduleAsECSDocumentsIt: LINEAR 10% every 6 minutes moves
// production traffic in ten steps six minutes apart, with no bake after
// the tenth; green starts at full size before any traffic moves, blue
// goes only after the bake time, and the deployment succeeds.
func TestLinearScheduleAsECSDocumentsIt(t *testing.T) {
	s := newShiftSim(t, model.DeploymentConfiguration{Strategy: model.StrategyLinear, BakeTimeInMinutes: ptr(20),
		LinearConfiguration: &model.LinearConfiguration{StepPercent: float(10), StepBakeTimeInMinutes: ptr(6)}})
	var firstStepAt, cleanAt time.Duration
	s.run(time.Second, 3*time.Hour, func() {
		sh := s.rec.Shift
		if sh == nil {
			return
		}
		if sh.Step > 0 && firstStepAt == 0 {
			firstStepAt = s.now.Sub(now)
			if s.running("green") != 4 {
				t.Fatalf("traffic moved to green while it runs %d of 4 tasks", s.running("green"))
			}
		}
		if sh.Stage == model.StageCleanUp && cleanAt == 0 {
			cleanAt = s.now.Sub(now)
		}
		if sh.Stage != model.StageCleanUp && s.running("blue") != 4 {
			t.Fatalf("blue runs %d tasks at %s, want 4 until CLEAN_UP", s.running("blue"), sh.Stage)
		}
	})
	wantStages := []string{model.StagePreScaleUp, model.StageScaleUp, model.StagePostScaleUp, model.StageTestTrafficShift, model.StagePostTestTrafficShift}
	for range 10 { // PRE_PRODUCTION_TRAFFIC_SHIFT's hooks come before every step
		wantStages = append(wantStages, model.StagePreProductionTrafficShift, model.StageProductionTrafficShift)
	}
	wantStages = append(wantStages, model.StagePostProductionTrafficShift, model.StageBakeTime, model.StageCleanUp)
	if !slices.Equal(s.stages, wantStages) {
		t.Fatalf("stages %v, want %v", s.stages, wantStages)
	}
	if len(s.steps) != 10 {
		t.Fatalf("%d production steps, want 10: %+v", len(s.steps), s.steps)
	}
	for i, st := range s.steps {
		wantAt := firstStepAt + time.Duration(i)*6*time.Minute
		if st.at != wantAt || st.step != i+1 {
			t.Errorf("step %d at %v, want step %d at %v", st.step, st.at, i+1, wantAt)
		}
		// ALB weights in lowest terms: green's share is (i+1) tenths.
		if st.gree*10 != (i+1)*(st.blue+st.gree) {
			t.Errorf("step %d weights blue %d green %d", st.step, st.blue, st.gree)
		}
	}
	if last := s.steps[9].at; cleanAt != last+20*time.Minute {
		t.Errorf("CLEAN_UP at %v, want the 100%% step (%v) + 20 min of bake time", cleanAt, last)
	}
	green := s.rec.Deployments[0]
	if len(s.rec.Deployments) != 1 || green.ID != "green" || green.RolloutState != model.RolloutCompleted {
		t.Fatalf("deployments %+v", s.rec.Deployments)
	}
	if sd := s.rec.ServiceDeployments[0]; sd.Status != model.SDSuccessful || sd.LifecycleStage != model.StageCleanUp {
		t.Fatalf("service deployment %s at %s", sd.Status, sd.LifecycleStage)
	}
	if s.running("blue") != 0 || s.running("green") != 4 {
		t.Fatalf("blue %d green %d", s.running("blue"), s.running("green"))
	}
	if lbs := green.LoadBalancers; len(lbs) != 1 || lbs[0].TargetGroupArn != "tg-2" {
		t.Fatalf("green's tasks register with %+v, want the alternate group tg-2", lbs)
	}
}

// TestDayLongBakesInSimulatedTime: bakes of 24 h (canary and deployment)
// pass in simulated time, and the canary holds its share for all of it.
func TestDayLongBakesInSimulatedTime(t *testing.T) {
	s := newShiftSim(t, model.DeploymentConfiguration{Strategy: model.StrategyCanary, BakeTimeInMinutes: ptr(1440),
		CanaryConfiguration: &model.CanaryConfiguration{CanaryPercent: float(10), CanaryBakeTimeInMinutes: ptr(1440)}})
	start := time.Now()
	s.run(time.Minute, 72*time.Hour, nil)
	if len(s.steps) != 2 || s.steps[1].at-s.steps[0].at != 24*time.Hour || s.steps[0].gree*10 != s.steps[0].blue+s.steps[0].gree {
		t.Fatalf("canary steps %+v, want 10%% then 100%% 24 h later", s.steps)
	}
	if s.rec.ServiceDeployments[0].Status != model.SDSuccessful {
		t.Fatalf("service deployment %s", s.rec.ServiceDeployments[0].Status)
	}
	t.Logf("72 h of deployment decided in %v", time.Since(start))
}

// TestBlueGreenTestTrafficFirst: before production moves, the test rule
// sends test traffic to green while production stays on blue.
func TestBlueGreenTestTrafficFirst(t *testing.T) {
	s := newShiftSim(t, model.DeploymentConfiguration{Strategy: model.StrategyBlueGreen,
		LifecycleHooks: []model.DeploymentLifecycleHook{{HookTargetArn: "https://hooks.test/check", LifecycleStages: []string{model.StagePostTestTrafficShift}}}})
	seen := false
	s.run(time.Second, time.Hour, func() {
		sh := s.rec.Shift
		if sh == nil || sh.Stage != model.StagePostTestTrafficShift {
			return
		}
		if s.now.Sub(sh.StageAt) >= 10*time.Second {
			sh.Hooks[0].Status = state.HookSucceeded // the hooks controller's part
		}
		steps, _ := s.rec.Service.DeploymentConfiguration.Schedule()
		prod, test := sh.Weights(sh.Pairs[0], steps)
		if prod["tg-1"] != 1 || prod["tg-2"] != 0 || test["tg-1"] != 0 || test["tg-2"] != 1 {
			t.Fatalf("after the test traffic shift: production %v test %v", prod, test)
		}
		seen = true
	})
	if !seen || len(s.steps) != 1 || s.steps[0].gree != 1 || s.steps[0].blue != 0 {
		t.Fatalf("seen %v, steps %+v", seen, s.steps)
	}
}

// TestFailedHookRollsBackBeforeProduction: a hook that fails at
// POST_TEST_TRAFFIC_SHIFT rolls back with production traffic never having
// reached green; blue is the PRIMARY again, green's tasks stop, and the
// service deployment ends ROLLBACK_SUCCESSFUL.
func TestFailedHookRollsBackBeforeProduction(t *testing.T) {
	s := newShiftSim(t, model.DeploymentConfiguration{Strategy: model.StrategyCanary,
		LifecycleHooks: []model.DeploymentLifecycleHook{{HookTargetArn: "https://hooks.test/check", LifecycleStages: []string{model.StagePostTestTrafficShift}}}})
	s.run(time.Second, time.Hour, func() {
		sh := s.rec.Shift
		if sh == nil || sh.Stage != model.StagePostTestTrafficShift || sh.RollingBack {
			return
		}
		if len(sh.Hooks) != 1 || sh.Hooks[0].Status == state.HookSucceeded {
			t.Fatalf("hooks at %s: %+v", sh.Stage, sh.Hooks)
		}
		if sh.Hooks[0].Status == state.HookPending && s.now.Sub(sh.StageAt) >= 30*time.Second {
			// The hooks controller's part: the hook ran and failed.
			sh.Hooks[0].Status, sh.Hooks[0].Reason = state.HookFailed, "answered 500"
		}
	})
	if len(s.steps) != 0 {
		t.Fatalf("production traffic moved: %+v", s.steps)
	}
	if d := s.rec.Deployments; len(d) != 1 || d[0].ID != "blue" || d[0].Status != model.DeploymentPrimary || s.rec.Service.TaskDefinition != "def:1" {
		t.Fatalf("after the rollback: deployments %+v, task definition %s", d, s.rec.Service.TaskDefinition)
	}
	sd := s.rec.ServiceDeployments[0]
	if sd.Status != model.SDRollbackSuccessful || sd.Rollback == nil || !strings.Contains(sd.Rollback.Reason, "answered 500") {
		t.Fatalf("service deployment %+v", sd)
	}
	if s.running("green") != 0 || s.running("blue") != 4 {
		t.Fatalf("blue %d green %d", s.running("blue"), s.running("green"))
	}
}

// TestRollbackDuringBakeSendsTrafficBack: a rollback asked for during the
// canary's bake (StopServiceDeployment, or an alarm) puts all production
// and test traffic back on blue at the next decision.
func TestRollbackDuringBakeSendsTrafficBack(t *testing.T) {
	s := newShiftSim(t, model.DeploymentConfiguration{Strategy: model.StrategyCanary,
		CanaryConfiguration: &model.CanaryConfiguration{CanaryPercent: float(10), CanaryBakeTimeInMinutes: ptr(10)}})
	asked := false
	s.run(time.Second, time.Hour, func() {
		sh := s.rec.Shift
		if sh == nil {
			return
		}
		if !asked && sh.Step == 1 && s.now.Sub(sh.StepAt) > time.Minute {
			sh.RollingBack, sh.Reason = true, "Rollback requested by user."
			asked = true
			s.reconcile()
			steps, _ := s.rec.Service.DeploymentConfiguration.Schedule()
			if sh := s.rec.Shift; sh != nil {
				prod, test := sh.Weights(sh.Pairs[0], steps)
				if prod["tg-2"] != 0 || test["tg-2"] != 0 {
					t.Fatalf("after the rollback production %v test %v", prod, test)
				}
			}
		}
	})
	if !asked || len(s.steps) != 1 || s.rec.Deployments[0].ID != "blue" || s.rec.ServiceDeployments[0].Status != model.SDRollbackSuccessful {
		t.Fatalf("asked %v steps %+v deployments %+v sd %s", asked, s.steps, s.rec.Deployments, s.rec.ServiceDeployments[0].Status)
	}
}

// TestPromoteSkipsTheBakes: promote ends the canary's bake and the
// deployment's bake time at once.
func TestPromoteSkipsTheBakes(t *testing.T) {
	s := newShiftSim(t, model.DeploymentConfiguration{Strategy: model.StrategyCanary, BakeTimeInMinutes: ptr(60),
		CanaryConfiguration: &model.CanaryConfiguration{CanaryPercent: float(10), CanaryBakeTimeInMinutes: ptr(60)}})
	s.run(time.Second, time.Hour, func() {
		if sh := s.rec.Shift; sh != nil && sh.Step == 1 && !sh.Promote {
			sh.Promote = true
		}
	})
	if len(s.steps) != 2 || s.steps[1].at-s.steps[0].at > 2*time.Second {
		t.Fatalf("steps %+v", s.steps)
	}
}

// TestKeepHookRuns: a plan made before the hooks controller recorded a
// run's outcome does not undo it, unless the plan enters a new stage.
func TestKeepHookRuns(t *testing.T) {
	at := now
	stored := &state.ServiceRecord{Shift: &state.ShiftRecord{ServiceDeploymentArn: "sd", Stage: model.StagePreScaleUp, StageAt: at,
		Hooks: []state.HookRun{{Index: 0, Status: state.HookSucceeded}}}}
	planned := &state.ServiceRecord{Shift: &state.ShiftRecord{ServiceDeploymentArn: "sd", Stage: model.StagePreScaleUp, StageAt: at,
		Hooks: []state.HookRun{{Index: 0, Status: state.HookPending}}}}
	keepHookRuns(planned, stored)
	if planned.Shift.Hooks[0].Status != state.HookSucceeded {
		t.Fatalf("the recorded outcome was lost: %+v", planned.Shift.Hooks)
	}
	entered := &state.ServiceRecord{Shift: &state.ShiftRecord{ServiceDeploymentArn: "sd", Stage: model.StageScaleUp, StageAt: at.Add(time.Second),
		Hooks: []state.HookRun{{Index: 1, Status: state.HookPending}}}}
	keepHookRuns(entered, stored)
	if len(entered.Shift.Hooks) != 1 || entered.Shift.Hooks[0].Index != 1 || entered.Shift.Hooks[0].Status != state.HookPending {
		t.Fatalf("a new stage's runs were replaced: %+v", entered.Shift.Hooks)
	}
}

// succeedPending plays the hooks controller: every PENDING run of the
// current stage succeeds, and each is counted by stage.
func (s *shiftSim) succeedPending(seen map[string]map[string]bool) {
	sh := s.rec.Shift
	if sh == nil {
		return
	}
	for i := range sh.Hooks {
		if h := &sh.Hooks[i]; h.Status == state.HookPending {
			h.Status = state.HookSucceeded
			if seen[h.Stage] == nil {
				seen[h.Stage] = map[string]bool{}
			}
			seen[h.Stage][h.ID] = true
		}
	}
}

// TestHooksAroundEveryProductionStep: PRE_PRODUCTION_TRAFFIC_SHIFT hooks
// run before, and PRODUCTION_TRAFFIC_SHIFT hooks after, every step of a
// linear deployment, as ECS runs them.
func TestHooksAroundEveryProductionStep(t *testing.T) {
	s := newShiftSim(t, model.DeploymentConfiguration{Strategy: model.StrategyLinear,
		LinearConfiguration: &model.LinearConfiguration{StepPercent: float(50), StepBakeTimeInMinutes: ptr(1)},
		LifecycleHooks: []model.DeploymentLifecycleHook{{HookTargetArn: "https://hooks.test/check",
			LifecycleStages: []string{model.StagePreProductionTrafficShift, model.StageProductionTrafficShift}}}})
	seen := map[string]map[string]bool{}
	s.run(time.Second, time.Hour, func() { s.succeedPending(seen) })
	if len(seen[model.StagePreProductionTrafficShift]) != 2 || len(seen[model.StageProductionTrafficShift]) != 2 || len(s.steps) != 2 {
		t.Fatalf("hook runs by stage %v, steps %+v; want 2 of each around 2 steps", seen, s.steps)
	}
	if s.rec.ServiceDeployments[0].Status != model.SDSuccessful {
		t.Fatalf("service deployment %s", s.rec.ServiceDeployments[0].Status)
	}
}

// TestPauseHooks: a PAUSE hook holds its stage until it is continued (here
// as ContinueServiceDeployment would) and times out with its action:
// ROLLBACK by default, CONTINUE when asked.
func TestPauseHooks(t *testing.T) {
	pause := func(minutes int, action string) model.DeploymentConfiguration {
		return model.DeploymentConfiguration{Strategy: model.StrategyBlueGreen, LifecycleHooks: []model.DeploymentLifecycleHook{{
			TargetType: model.HookTargetPause, LifecycleStages: []string{model.StagePostScaleUp},
			TimeoutConfiguration: &model.HookTimeoutConfiguration{TimeoutInMinutes: ptr(minutes), Action: action}}}}
	}
	// Continued after 20 minutes: the deployment goes on and succeeds.
	s := newShiftSim(t, pause(60, ""))
	var heldFor time.Duration
	s.run(time.Second, 2*time.Hour, func() {
		sh := s.rec.Shift
		if sh == nil || sh.Stage != model.StagePostScaleUp {
			return
		}
		if sh.Hooks[0].Status != state.HookAwaitingAction || sh.Hooks[0].ID == "" || !sh.Hooks[0].ExpiresAt.Equal(sh.StageAt.Add(time.Hour)) {
			t.Fatalf("the pause hook's run: %+v", sh.Hooks[0])
		}
		if heldFor = s.now.Sub(sh.StageAt); heldFor >= 20*time.Minute {
			sh.Hooks[0].Status = state.HookSucceeded
		}
	})
	if heldFor < 20*time.Minute || s.rec.ServiceDeployments[0].Status != model.SDSuccessful || len(s.steps) != 1 {
		t.Fatalf("held %v, service deployment %s, steps %+v", heldFor, s.rec.ServiceDeployments[0].Status, s.steps)
	}

	// Never continued: after 5 minutes it rolls back (the default action).
	s = newShiftSim(t, pause(5, ""))
	s.run(time.Second, time.Hour, nil)
	sd := s.rec.ServiceDeployments[0]
	if sd.Status != model.SDRollbackSuccessful || sd.Rollback == nil || !strings.Contains(sd.Rollback.Reason, "timed out at POST_SCALE_UP") || len(s.steps) != 0 {
		t.Fatalf("a pause that timed out: %+v, steps %+v", sd, s.steps)
	}

	// Never continued, with timeout action CONTINUE: on after 5 minutes.
	s = newShiftSim(t, pause(5, model.HookContinue))
	s.run(time.Second, time.Hour, nil)
	if s.rec.ServiceDeployments[0].Status != model.SDSuccessful || len(s.steps) != 1 {
		t.Fatalf("a pause that timed out with CONTINUE: %s, steps %+v", s.rec.ServiceDeployments[0].Status, s.steps)
	}
}

// TestGreenScalesUpAfterAPauseBeforeIt: a deployment held before SCALE_UP
// (green then has no task and wants none) still waits, once continued, for
// all of green's tasks before any traffic moves.
func TestGreenScalesUpAfterAPauseBeforeIt(t *testing.T) {
	s := newShiftSim(t, model.DeploymentConfiguration{Strategy: model.StrategyBlueGreen, LifecycleHooks: []model.DeploymentLifecycleHook{{
		TargetType: model.HookTargetPause, LifecycleStages: []string{model.StagePreScaleUp}}}})
	s.run(time.Second, time.Hour, func() {
		sh := s.rec.Shift
		if sh == nil {
			return
		}
		if sh.Stage == model.StagePreScaleUp && s.now.Sub(sh.StageAt) >= 10*time.Second {
			sh.Hooks[0].Status = state.HookSucceeded
		}
		if sh.Step > 0 && len(s.steps) == 1 {
			up := 0 // green's tasks that ran before this decision moved traffic
			for _, tk := range s.tasks {
				if tk.StartedBy == "green" && active(&tk) && tk.StartedAt.Before(s.now) {
					up++
				}
			}
			if up != 4 {
				t.Fatalf("traffic moved while %d of green's 4 tasks were up", up)
			}
		}
	})
	if len(s.steps) != 1 || s.rec.ServiceDeployments[0].Status != model.SDSuccessful {
		t.Fatalf("steps %+v, service deployment %s", s.steps, s.rec.ServiceDeployments[0].Status)
	}
}

// TestAlarmDuringTheBakeRollsBack: an alarm the deployment watches going
// to ALARM during the canary's bake sends traffic back to blue at that
// decision and rolls back; without rollback the deployment stops, failed.
func TestAlarmDuringTheBakeRollsBack(t *testing.T) {
	dc := func(rollback bool) model.DeploymentConfiguration {
		return model.DeploymentConfiguration{Strategy: model.StrategyCanary,
			CanaryConfiguration: &model.CanaryConfiguration{CanaryPercent: float(10), CanaryBakeTimeInMinutes: ptr(10)},
			Alarms:              &model.DeploymentAlarms{AlarmNames: []string{"p99-latency", "errors"}, Enable: true, Rollback: rollback}}
	}
	s := newShiftSim(t, dc(true))
	s.alarms = map[string]state.AlarmState{"p99-latency": {Name: "p99-latency", State: state.AlarmOK}}
	fired := false
	s.run(time.Second, time.Hour, func() {
		sh := s.rec.Shift
		if fired || sh == nil || sh.Step != 1 || s.now.Sub(sh.StepAt) < 2*time.Minute {
			return
		}
		fired = true
		s.alarms["errors"] = state.AlarmState{Name: "errors", State: state.AlarmAlarm, Reason: "Threshold Crossed"}
		s.reconcile()
		steps, _ := s.rec.Service.DeploymentConfiguration.Schedule()
		if sh := s.rec.Shift; sh != nil {
			if prod, _ := sh.Weights(sh.Pairs[0], steps); prod["tg-2"] != 0 {
				t.Fatalf("after the alarm, production weights %v", prod)
			}
		}
	})
	sd := s.rec.ServiceDeployments[0]
	if !fired || sd.Status != model.SDRollbackSuccessful || sd.Rollback == nil || sd.Rollback.Reason != "CloudWatch alarm errors is in ALARM state: Threshold Crossed" ||
		s.rec.Deployments[0].ID != "blue" {
		t.Fatalf("after the alarm: %+v, deployments %+v", sd, s.rec.Deployments)
	}

	// Without rollback: stopped where it stood.
	s = newShiftSim(t, dc(false))
	s.alarms = map[string]state.AlarmState{"errors": {Name: "errors", State: state.AlarmAlarm}}
	for range 30 {
		s.reconcile()
		s.now = s.now.Add(time.Second)
	}
	sd = s.rec.ServiceDeployments[0]
	if sd.Status != model.SDStopped || !strings.Contains(sd.StatusReason, "errors is in ALARM") || s.rec.Deployments[0].RolloutState != model.RolloutFailed || len(s.steps) != 0 {
		t.Fatalf("an alarm without rollback: %+v, deployments %+v, steps %+v", sd, s.rec.Deployments, s.steps)
	}
}

// TestCircuitBreakerRollsBackAShift: green's tasks failing trip the
// circuit breaker; the shift rolls back to blue, which kept running.
func TestCircuitBreakerRollsBackAShift(t *testing.T) {
	s := newShiftSim(t, model.DeploymentConfiguration{Strategy: model.StrategyBlueGreen})
	s.run(time.Second, time.Hour, func() {
		// Every green task exits with an error as soon as it starts.
		for i := range s.tasks {
			tk := &s.tasks[i]
			if tk.StartedBy == "green" && tk.LastStatus == model.TaskRunning {
				tk.LastStatus, tk.DesiredStatus, tk.StopCode, tk.StoppedReason = model.TaskStopped, model.TaskStopped, "EssentialContainerExited", "Essential container in task exited"
				tk.StoppedAt = model.At(s.now)
			}
		}
	})
	sd := s.rec.ServiceDeployments[0]
	if sd.Status != model.SDRollbackSuccessful || s.rec.Deployments[0].ID != "blue" || s.running("blue") != 4 || len(s.steps) != 0 {
		t.Fatalf("after the breaker: %+v, deployments %+v, blue running %d, steps %+v", sd, s.rec.Deployments, s.running("blue"), s.steps)
	}
}
