package controller

import (
	"context"
	"strconv"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// foldTargetHealth makes the load balancers' view of a service's running
// tasks part of their health, as ECS counts it: a task of a service with
// loadBalancers is healthy once every target group it is registered in finds
// it healthy (and its container health checks, if any, pass), unhealthy as
// soon as one finds it unhealthy, and of unknown health before that. A
// deployment then waits for healthy targets, and a task that fails a target
// group's checks past the grace period is replaced.
func (c *Services) foldTargetHealth(ctx context.Context, rec *state.ServiceRecord, tasks []state.TaskSummary) error {
	if !hasLoadBalancers(rec) {
		return nil
	}
	cfg, err := c.State.ReadELB(ctx)
	if err != nil {
		return err
	}
	// The target groups of the service's tasks (of all its task sets' and
	// deployments').
	groups := map[string]bool{}
	for _, lb := range rec.Service.LoadBalancers {
		groups[lb.TargetGroupArn] = true
	}
	for _, ts := range rec.Service.TaskSets {
		for _, lb := range ts.LoadBalancers {
			groups[lb.TargetGroupArn] = true
		}
	}
	for _, d := range rec.Deployments { // a blue/green deployment's own groups
		for _, lb := range d.LoadBalancers {
			groups[lb.TargetGroupArn] = true
		}
	}
	// The state of each task in each target group: "" when it is no
	// target there (yet).
	byTask := map[string]map[string]string{}
	for arn := range groups {
		tg := cfg.TargetGroups[arn]
		if tg == nil {
			continue
		}
		seen, err := c.State.ELBTargetHealths(ctx, tg.Arn, tg)
		if err != nil {
			return err
		}
		for _, t := range tg.Targets {
			if t.TaskArn == "" || t.Draining() {
				continue
			}
			if byTask[t.TaskArn] == nil {
				byTask[t.TaskArn] = map[string]string{}
			}
			h, ok := seen[targetKey(t)]
			state := "initial"
			if ok {
				state = h.State
			}
			byTask[t.TaskArn][tg.Arn] = state
		}
	}
	for i := range tasks {
		t := &tasks[i]
		lbs := taskLoadBalancers(rec, t.StartedBy)
		if t.LastStatus != model.TaskRunning || len(lbs) == 0 {
			continue
		}
		containerHealth := model.HealthHealthy
		if t.HasCheck {
			containerHealth = t.Health
		}
		t.HasCheck = true
		healthyTargets := true
		for _, lb := range lbs {
			switch byTask[t.Arn][lb.TargetGroupArn] {
			case "healthy":
			case "unhealthy":
				if t.UnhealthyTargetGroup == "" {
					t.UnhealthyTargetGroup = lb.TargetGroupArn
				}
				healthyTargets = false
			default:
				healthyTargets = false
			}
		}
		switch {
		case t.UnhealthyTargetGroup != "" || containerHealth == model.HealthUnhealthy:
			t.Health = model.HealthUnhealthy
		case healthyTargets && containerHealth == model.HealthHealthy:
			t.Health = model.HealthHealthy
		default:
			t.Health = model.HealthUnknown
		}
	}
	return nil
}

func targetKey(t state.ELBTarget) string {
	return t.ID + ":" + strconv.Itoa(int(t.Port))
}
