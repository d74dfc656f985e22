package controller

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// A blue/green, canary or linear deployment (a strategy that shifts
// traffic) runs the new revision (green) at full size beside the old one
// (blue), in the other target group of each load balancer entry with an
// advancedConfiguration, and moves production traffic to it by the
// production rule's weights, as ECS does. Its progress is the service
// record's Shift: the stages below, one after the other, each ended when
// its lifecycle hooks (run by the hooks controller) have succeeded:
//
//	RECONCILE_SERVICE   only when more than one old deployment runs
//	PRE_SCALE_UP        green has no task yet
//	SCALE_UP            green starts all its tasks; ends when they are healthy
//	POST_SCALE_UP
//	TEST_TRAFFIC_SHIFT  the test rule forwards to green
//	POST_TEST_TRAFFIC_SHIFT
//	PRODUCTION_TRAFFIC_SHIFT  the production rule's weights move step by
//	                    step (model.ProductionShift), each step baked
//	POST_PRODUCTION_TRAFFIC_SHIFT
//	BAKE_TIME           bakeTimeInMinutes with both revisions running
//	CLEAN_UP            blue's tasks stop; the deployment then completes
//
// The service controller writes the rules' weights (ShiftRecord.Weights)
// right after each decision, before it stops any task or writes the record
// that asks for them, so that blue is removed only once no traffic goes to
// it. A failed hook, the circuit breaker or
// StopServiceDeployment ROLLBACK roll back: traffic returns to blue at
// once, blue is the PRIMARY again and green's tasks stop.

// shifting says the service has a traffic shift under way.
func shifting(next *state.ServiceRecord) bool {
	return next.Shift != nil
}

// shift carries the traffic shift one reconcile further: it begins one for
// a new deployment, sets the desired counts of blue and green, moves
// through the stages that are done, and rolls back when a hook failed or a
// rollback was asked for. It returns the events that say what happened.
func (r round) shift(next *state.ServiceRecord) []string {
	if r.daemon || len(next.Deployments) == 0 {
		return nil
	}
	if !r.active {
		next.Shift = nil // the service is being deleted: everything stops
		return nil
	}
	var events []string
	primary := &next.Deployments[0]
	preferBlue := ""
	if sh := next.Shift; sh != nil && sh.Green != primary.ID && !(sh.RollingBack && sh.Blue == primary.ID) {
		// A newer deployment superseded this one: production traffic is
		// still (mostly) on blue, which stays blue.
		preferBlue = sh.Blue
		next.Shift = nil
	}
	if next.Shift == nil {
		ev := r.beginShift(next, preferBlue)
		if ev == "" {
			return nil
		}
		events = append(events, strings.Split(ev, "\n")...)
	}
	sh := next.Shift
	blue, green := deployment(next, sh.Blue), deployment(next, sh.Green)
	if sh.RollingBack {
		return append(events, r.rollingBack(next)...)
	}
	if green != nil && green.RolloutState == model.RolloutFailed {
		return events // the circuit breaker stopped it without a rollback
	}
	if green == nil || blue == nil {
		next.Shift = nil
		return events
	}
	if alarm, ok := r.alarmFiring(next); ok {
		reason := fmt.Sprintf("CloudWatch alarm %s is in ALARM state.", alarm.Name)
		if alarm.Reason != "" {
			reason = fmt.Sprintf("CloudWatch alarm %s is in ALARM state: %s", alarm.Name, alarm.Reason)
		}
		if next.Service.DeploymentConfiguration.Alarms.Rollback {
			sh.RollingBack, sh.Reason = true, reason
			return append(events, r.rollingBack(next)...)
		}
		// Without rollback the deployment fails where it stands.
		green.RolloutState, green.RolloutStateReason = model.RolloutFailed, reason
		if sd := serviceDeploymentByArn(next, sh.ServiceDeploymentArn); sd != nil {
			at := model.At(r.Now)
			sd.Status, sd.StatusReason, sd.StoppedAt, sd.UpdatedAt = model.SDStopped, reason, at, at
		}
		return append(events, fmt.Sprintf("(service %s) (deployment %s) deployment failed: %s", next.Service.ServiceName, sh.Green, reason))
	}
	for range len(state.ShiftStages) {
		ok, fail, evs := r.shiftStage(next)
		events = append(events, evs...)
		if fail != "" {
			sh.RollingBack, sh.Reason = true, fail
			return append(events, r.rollingBack(next)...)
		}
		if !ok || sh.Stage == model.StageCleanUp {
			break
		}
		events = append(events, enterStage(next, nextStage(sh.Stage), r.Now))
	}
	r.shiftCounts(next)
	return events
}

// beginShift starts a traffic shift for a new PRIMARY deployment of a
// service whose strategy shifts traffic, when an older deployment is
// there to be blue; it returns the event that says so, or "".
func (r round) beginShift(next *state.ServiceRecord, preferBlue string) string {
	svc := &next.Service
	dc := svc.DeploymentConfiguration
	primary := &next.Deployments[0]
	if dc == nil || !model.ShiftsTraffic(dc.Strategy) || primary.RolloutState != model.RolloutInProgress || primary.Rollback || len(next.Deployments) < 2 {
		return ""
	}
	blue := &next.Deployments[1]
	if d := deployment(next, preferBlue); d != nil && d != primary {
		blue = d
	}
	var pairs []state.ShiftPair
	lbs := slices.Clone(svc.LoadBalancers)
	for i, lb := range svc.LoadBalancers {
		ac := lb.AdvancedConfiguration
		if ac == nil || ac.AlternateTargetGroupArn == "" {
			continue
		}
		blueTG := lb.TargetGroupArn
		if i < len(blue.LoadBalancers) && blue.LoadBalancers[i].TargetGroupArn == ac.AlternateTargetGroupArn {
			blueTG = ac.AlternateTargetGroupArn
		}
		greenTG := ac.AlternateTargetGroupArn
		if blueTG == ac.AlternateTargetGroupArn {
			greenTG = lb.TargetGroupArn
		}
		lbs[i].TargetGroupArn = greenTG
		pairs = append(pairs, state.ShiftPair{Blue: blueTG, Green: greenTG, ProductionRule: ac.ProductionListenerRule, TestRule: ac.TestListenerRule})
	}
	if len(pairs) == 0 {
		return "" // validation keeps this from happening; deploy rolling then
	}
	primary.LoadBalancers = lbs
	next.Shift = &state.ShiftRecord{
		ServiceDeploymentArn: primary.ServiceDeploymentArn, Green: primary.ID, Blue: blue.ID,
		Strategy: dc.Strategy, Pairs: pairs,
	}
	first := model.StagePreScaleUp
	if len(next.Deployments) > 2 {
		first = model.StageReconcileService
	}
	stageEvent := enterStage(next, first, r.Now)
	groups := ""
	for i, p := range pairs {
		if i > 0 {
			groups += ", "
		}
		groups += "(target-group " + p.Green + ")"
	}
	return fmt.Sprintf("(service %s) (deployment %s) %s deployment started beside (deployment %s): the new tasks go to %s.",
		svc.ServiceName, primary.ID, dc.Strategy, blue.ID, groups) + "\n" + stageEvent
}

// enterStage begins a lifecycle stage: its hooks are to run (PENDING), or
// to wait for ContinueServiceDeployment (PAUSE hooks: AWAITING_ACTION). It
// returns the event that says so.
func enterStage(next *state.ServiceRecord, stage string, now time.Time) string {
	sh := next.Shift
	sh.Stage, sh.StageAt = stage, now
	sh.Hooks = nil
	if stage == model.StageProductionTrafficShift {
		sh.Stepped = false
	}
	if dc := next.Service.DeploymentConfiguration; dc != nil {
		for i := range dc.LifecycleHooks {
			h := &dc.LifecycleHooks[i]
			if !slices.Contains(h.LifecycleStages, stage) {
				continue
			}
			minutes, action := h.Timeout()
			run := state.HookRun{ID: hookID(sh.ServiceDeploymentArn, stage, i, now), Index: i, Stage: stage, Target: h.HookTargetArn,
				TargetType: orText(h.TargetType, model.HookTargetLambda), Status: state.HookPending,
				ExpiresAt: now.Add(time.Duration(minutes) * time.Minute), TimeoutAction: action}
			if h.Pause() {
				run.Status = state.HookAwaitingAction
			}
			sh.Hooks = append(sh.Hooks, run)
		}
	}
	if green := deployment(next, sh.Green); green != nil {
		if sd := next.ServiceDeploymentOf(green); sd != nil {
			sd.LifecycleStage = deploymentStage(stage)
			sd.UpdatedAt = model.At(now)
		}
	}
	return fmt.Sprintf("(service %s) (deployment %s) entered the %s lifecycle stage.", next.Service.ServiceName, sh.Green, stage)
}

// deploymentStage is the lifecycleStage a service deployment shows: ECS
// has no PRE_PRODUCTION_TRAFFIC_SHIFT there (only as a hook stage), so the
// hooks before each production step show as PRODUCTION_TRAFFIC_SHIFT.
func deploymentStage(stage string) string {
	if stage == model.StagePreProductionTrafficShift {
		return model.StageProductionTrafficShift
	}
	return stage
}

// hookID names one run of a hook: the same in every decision about it.
func hookID(deploymentArn, stage string, index int, at time.Time) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%s|%d|%d", deploymentArn, stage, index, at.UnixNano())
	return fmt.Sprintf("%016x", h.Sum64())
}

func nextStage(stage string) string {
	i := slices.Index(state.ShiftStages, stage)
	if i < 0 || i+1 >= len(state.ShiftStages) {
		return model.StageCleanUp
	}
	return state.ShiftStages[i+1]
}

// hooksDone says whether every hook of the current stage succeeded (or
// timed out with CONTINUE), or why one failed. A run past its expiry times
// out here (TIMED_OUT), whoever was running it.
func hooksDone(sh *state.ShiftRecord, now time.Time) (done bool, fail string) {
	done = true
	for i := range sh.Hooks {
		h := &sh.Hooks[i]
		if h.Status != state.HookSucceeded && h.Status != state.HookFailed && h.Status != state.HookTimedOut &&
			!h.ExpiresAt.IsZero() && !now.Before(h.ExpiresAt) {
			h.Status, h.EndedAt = state.HookTimedOut, now
		}
		switch h.Status {
		case state.HookSucceeded:
		case state.HookFailed:
			return false, fmt.Sprintf("Lifecycle hook %s failed at %s: %s", runName(h), h.Stage, orText(h.Reason, "no reason given"))
		case state.HookTimedOut:
			if h.TimeoutAction != model.HookContinue {
				return false, fmt.Sprintf("Lifecycle hook %s timed out at %s.", runName(h), h.Stage)
			}
		default:
			done = false
		}
	}
	return done, ""
}

// runName names a hook run in events and reasons.
func runName(h *state.HookRun) string {
	if h.TargetType == model.HookTargetPause {
		return "(pause " + h.ID + ")"
	}
	return hookName(h.Target)
}

// shiftStage works on the current stage: it reports whether the stage is
// done, or why the deployment must roll back, and the events of its steps.
func (r round) shiftStage(next *state.ServiceRecord) (done bool, fail string, events []string) {
	sh := next.Shift
	switch sh.Stage {
	case model.StageScaleUp:
		if !r.greenReady(next) {
			return false, "", nil
		}
	case model.StageProductionTrafficShift:
		// One step a visit; PRE_PRODUCTION_TRAFFIC_SHIFT's hooks come
		// before each, this stage's after each, then the step's bake.
		steps, _ := next.Service.DeploymentConfiguration.Schedule()
		if !sh.Stepped {
			sh.Step, sh.StepAt, sh.Stepped = min(sh.Step+1, len(steps)), r.Now, true
			events = append(events, r.stepEvent(next, steps))
		}
		if ok, fail := hooksDone(sh, r.Now); !ok {
			return false, fail, events
		}
		if sh.Step >= len(steps) {
			return true, "", events
		}
		if !sh.Promote && r.Now.Sub(sh.StepAt) < steps[sh.Step-1].Bake {
			return false, "", events
		}
		// The next step, one a decision: back to PRE_PRODUCTION_TRAFFIC_SHIFT,
		// and on at once when it has no hook to wait for.
		events = append(events, enterStage(next, model.StagePreProductionTrafficShift, r.Now))
		if ok, fail := hooksDone(sh, r.Now); !ok {
			return false, fail, events
		}
		events = append(events, enterStage(next, model.StageProductionTrafficShift, r.Now))
		sh.Step, sh.StepAt, sh.Stepped = sh.Step+1, r.Now, true
		events = append(events, r.stepEvent(next, steps))
		ok, fail := hooksDone(sh, r.Now)
		return ok && sh.Step >= len(steps), fail, events
	case model.StageBakeTime:
		_, bake := next.Service.DeploymentConfiguration.Schedule()
		if !sh.Promote && r.Now.Sub(sh.StageAt) < bake {
			return false, "", nil
		}
	case model.StageCleanUp:
		return true, "", nil
	}
	ok, fail := hooksDone(sh, r.Now)
	return ok, fail, nil
}

func (r round) stepEvent(next *state.ServiceRecord, steps []model.ShiftStep) string {
	sh := next.Shift
	return fmt.Sprintf("(service %s) (deployment %s) shifted %.1f%% of production traffic to the new revision (step %d of %d).",
		next.Service.ServiceName, sh.Green, steps[sh.Step-1].GreenPercent(), sh.Step, len(steps))
}

// greenReady says every task green wants runs, healthy (its targets
// included) and settled.
func (r round) greenReady(next *state.ServiceRecord) bool {
	green := deployment(next, next.Shift.Green)
	ready := 0
	for i := range r.Tasks {
		t := &r.Tasks[i]
		if t.StartedBy != green.ID || !active(t) || !healthy(t) || r.moving(t) {
			continue
		}
		if t.StartedAt == nil || r.Now.Sub(t.StartedAt.Time) >= SettleAfter {
			ready++
		}
	}
	return ready >= next.Service.DesiredCount // green's own count is 0 until SCALE_UP
}

// shiftCounts sets what blue and green run at the current stage: green
// nothing before SCALE_UP, then the service's desired count; blue the
// service's desired count until CLEAN_UP, then nothing.
func (r round) shiftCounts(next *state.ServiceRecord) {
	sh := next.Shift
	desired := next.Service.DesiredCount
	order := slices.Index(state.ShiftStages, sh.Stage)
	if green := deployment(next, sh.Green); green != nil {
		green.DesiredCount = desired
		if order < slices.Index(state.ShiftStages, model.StageScaleUp) {
			green.DesiredCount = 0
		}
	}
	if blue := deployment(next, sh.Blue); blue != nil {
		blue.DesiredCount = desired
		if sh.Stage == model.StageCleanUp {
			blue.DesiredCount = 0
		}
	}
}

// rollingBack carries out a rollback: blue becomes the PRIMARY again with
// the service's desired count (traffic is back on it as soon as the
// targets controller sees RollingBack), green is retired; once green's
// tasks are gone the service deployment ends ROLLBACK_SUCCESSFUL.
func (r round) rollingBack(next *state.ServiceRecord) []string {
	sh := next.Shift
	var events []string
	blue, green := deployment(next, sh.Blue), deployment(next, sh.Green)
	sd := serviceDeploymentByArn(next, sh.ServiceDeploymentArn)
	at := model.At(r.Now)
	if blue == nil {
		next.Shift = nil
		return nil
	}
	if next.Deployments[0].ID != blue.ID {
		// Put blue first, as PRIMARY; green and any other go.
		b := *blue
		b.Status, b.DesiredCount, b.UpdatedAt = model.DeploymentPrimary, next.Service.DesiredCount, at
		rest := []state.DeploymentRecord{b}
		for _, d := range next.Deployments {
			if d.ID == b.ID {
				continue
			}
			d.Status, d.DesiredCount, d.UpdatedAt = model.DeploymentActive, 0, at
			if d.ID == sh.Green {
				d.RolloutState, d.RolloutStateReason = model.RolloutFailed, sh.Reason
			}
			rest = append(rest, d)
		}
		next.Deployments = rest
		next.Service.TaskDefinition = b.TaskDefinition
		if sd != nil {
			sd.Status, sd.StatusReason, sd.UpdatedAt = model.SDRollbackInProgress, sh.Reason, at
			sd.Rollback = &model.Rollback{Reason: sh.Reason, StartedAt: at, ServiceRevisionArn: b.RevisionArn}
		}
		events = append(events, fmt.Sprintf("(service %s) (deployment %s) rolling back: %s Production traffic is back on (deployment %s).",
			next.Service.ServiceName, sh.Green, sh.Reason, b.ID))
		blue, green = &next.Deployments[0], deployment(next, sh.Green)
	}
	blue.DesiredCount = next.Service.DesiredCount
	if green != nil {
		green.DesiredCount = 0
		for i := range r.Tasks {
			if t := &r.Tasks[i]; t.StartedBy == green.ID && active(t) {
				return events
			}
		}
	}
	if sd != nil {
		sd.Status, sd.FinishedAt, sd.UpdatedAt = model.SDRollbackSuccessful, at, at
	}
	events = append(events, fmt.Sprintf("(service %s) (deployment %s) rollback completed.", next.Service.ServiceName, sh.Green))
	next.Shift = nil
	return events
}

// alarmFiring finds an alarm the deployment watches that is in ALARM.
func (r round) alarmFiring(next *state.ServiceRecord) (state.AlarmState, bool) {
	dc := next.Service.DeploymentConfiguration
	if dc == nil || dc.Alarms == nil || !dc.Alarms.Enable {
		return state.AlarmState{}, false
	}
	for _, name := range dc.Alarms.AlarmNames {
		if a, ok := r.Alarms[name]; ok && a.State == state.AlarmAlarm {
			return a, true
		}
	}
	return state.AlarmState{}, false
}

func serviceDeploymentByArn(next *state.ServiceRecord, arn string) *model.ServiceDeployment {
	for i := range next.ServiceDeployments {
		if next.ServiceDeployments[i].ServiceDeploymentArn == arn {
			return &next.ServiceDeployments[i]
		}
	}
	return nil
}

// endShift forgets a traffic shift whose deployment completed.
func endShift(next *state.ServiceRecord) {
	if sh := next.Shift; sh != nil && !sh.RollingBack && sh.Stage == model.StageCleanUp &&
		next.Deployments[0].ID == sh.Green && next.Deployments[0].RolloutState == model.RolloutCompleted {
		next.Shift = nil
	}
}
