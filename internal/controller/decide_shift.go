package controller

import (
	"fmt"
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
// before the record that asks for them, so that blue is removed only once
// no traffic goes to it. A failed hook, the circuit breaker or
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

// enterStage begins a lifecycle stage: its hooks are to run (PENDING). It
// returns the event that says so.
func enterStage(next *state.ServiceRecord, stage string, now time.Time) string {
	sh := next.Shift
	sh.Stage, sh.StageAt = stage, now
	sh.Hooks = nil
	if dc := next.Service.DeploymentConfiguration; dc != nil {
		for i, h := range dc.LifecycleHooks {
			if slices.Contains(h.LifecycleStages, stage) {
				sh.Hooks = append(sh.Hooks, state.HookRun{Index: i, Stage: stage, Target: h.HookTargetArn, Status: state.HookPending})
			}
		}
	}
	if green := deployment(next, sh.Green); green != nil {
		if sd := next.ServiceDeploymentOf(green); sd != nil {
			sd.LifecycleStage = stage
			sd.UpdatedAt = model.At(now)
		}
	}
	return fmt.Sprintf("(service %s) (deployment %s) entered the %s lifecycle stage.", next.Service.ServiceName, sh.Green, stage)
}

func nextStage(stage string) string {
	i := slices.Index(state.ShiftStages, stage)
	if i < 0 || i+1 >= len(state.ShiftStages) {
		return model.StageCleanUp
	}
	return state.ShiftStages[i+1]
}

// hooksDone says whether every hook of the current stage succeeded, or
// why one failed.
func hooksDone(sh *state.ShiftRecord) (done bool, fail string) {
	done = true
	for _, h := range sh.Hooks {
		switch h.Status {
		case state.HookSucceeded:
		case state.HookFailed:
			return false, fmt.Sprintf("Lifecycle hook %s failed at %s: %s", h.Target, h.Stage, orText(h.Reason, "no reason given"))
		default:
			done = false
		}
	}
	return done, ""
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
		steps, _ := next.Service.DeploymentConfiguration.Schedule()
		if sh.Step == 0 {
			sh.Step, sh.StepAt = 1, r.Now
			events = append(events, r.stepEvent(next, steps))
		}
		if ok, fail := hooksDone(sh); !ok {
			return false, fail, events
		}
		if sh.Step < len(steps) {
			if !sh.Promote && r.Now.Sub(sh.StepAt) < steps[sh.Step-1].Bake {
				return false, "", events
			}
			if sh.Promote {
				sh.Step = len(steps)
			} else {
				sh.Step++
			}
			sh.StepAt = r.Now
			events = append(events, r.stepEvent(next, steps))
			return sh.Step == len(steps) && steps[sh.Step-1].Bake == 0, "", events
		}
		return true, "", events
	case model.StageBakeTime:
		_, bake := next.Service.DeploymentConfiguration.Schedule()
		if !sh.Promote && r.Now.Sub(sh.StageAt) < bake {
			return false, "", nil
		}
	case model.StageCleanUp:
		return true, "", nil
	}
	ok, fail := hooksDone(sh)
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
	return ready >= green.DesiredCount
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
