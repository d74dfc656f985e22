package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/scheduler"
	"github.com/flotta-dev/flotta/internal/state"
)

// maxPlanSteps bounds the simulation.
const maxPlanSteps = 200

// PlanRollout works out what the service controller would do with next, a
// service record as an UpdateService would leave it, from the tasks that run
// now. The first step is exact (the scheduler's dry run places its tasks);
// later steps assume that new tasks turn healthy and old ones stop between
// steps, and that a stopped task frees room for one new task.
func PlanRollout(ctx context.Context, st *state.State, sched *scheduler.Scheduler, next *state.ServiceRecord, newDeployment bool) (*flottaapi.RolloutPlan, error) {
	c := &Services{State: st, Scheduler: sched}
	tasks, err := st.ServiceTasks(ctx, next.Cluster, next.Name)
	if err != nil {
		return nil, err
	}
	instances, defs, err := c.gather(ctx, next, tasks)
	if err != nil {
		return nil, err
	}
	if len(next.Deployments) == 0 || defs[next.Deployments[0].ID] == nil {
		return nil, errors.New("the service has no deployment to plan")
	}
	primary := next.Deployments[0]
	def := defs[primary.ID]
	svc := &next.Service
	minPct, maxPct := svc.DeploymentConfiguration.Percentages(svc.SchedulingStrategy == model.SchedulingDaemon)
	plan := &flottaapi.RolloutPlan{NewDeployment: newDeployment, DesiredCount: svc.DesiredCount, TaskDefinition: def.TaskDefinitionArn,
		MinimumHealthyTasks: model.MinimumHealthy(svc.DesiredCount, minPct), MaximumTasks: model.MaximumTasks(svc.DesiredCount, maxPct),
		Starts: []flottaapi.PlannedTask{}, Stops: []flottaapi.PlannedTask{}, Steps: []flottaapi.RolloutStep{}}
	live := 0
	for i := range tasks {
		if active(&tasks[i]) {
			live++
			if tasks[i].LastStatus == model.TaskRunning {
				plan.RunningCount++
			}
		}
	}

	// How many tasks of the new revision fit now, and where.
	preq, err := placementRequest(next, def, max(1, svc.DesiredCount))
	if err != nil {
		return nil, err
	}
	res, err := sched.Place(ctx, next.Cluster, scheduler.Request{Placement: preq, DryRun: true})
	if err != nil && !errors.Is(err, scheduler.ErrNoInstances) {
		return nil, err
	}
	free := len(res.Placement.Chosen)
	plan.Capacity = free

	now := st.Now()
	view := View{Service: *next, Tasks: append([]state.TaskSummary(nil), tasks...), Instances: instances, Now: now}
	// Tasks that run now count as past their grace period.
	for i := range view.Tasks {
		view.Tasks[i].EverRan = view.Tasks[i].EverRan || view.Tasks[i].LastStatus == model.TaskRunning
	}
	seq := 0
	for step := 0; step < maxPlanSteps; step++ {
		p := Decide(view)
		startN := 0
		for _, s := range p.Starts {
			startN += s.Count
		}
		if len(p.Stops) == 0 && startN == 0 {
			break
		}
		// Stops first: they make room.
		healthyAfterStops := 0
		stopped := map[string]bool{}
		for _, s := range p.Stops {
			stopped[s.TaskID] = true
		}
		kept := view.Tasks[:0:0]
		for _, t := range view.Tasks {
			if stopped[t.ID] {
				if step == 0 {
					plan.Stops = append(plan.Stops, flottaapi.PlannedTask{Task: t.Arn, Instance: st.Scope.InstanceARN(next.Cluster, t.InstanceID), TaskDefinition: defName(defs, next, t.StartedBy)})
				}
				free++
				continue
			}
			if active(&t) && healthy(&t) {
				healthyAfterStops++
			}
			kept = append(kept, t)
		}
		placed := 0
		for _, s := range p.Starts {
			n := min(s.Count, free)
			for i := 0; i < n; i++ {
				seq++
				// Where later steps place is not worked out: any instance
				// that runs the service will do for the arithmetic.
				inst := "planned-instance"
				if len(res.Placement.Chosen) > 0 {
					node := res.Placement.Chosen[placed%len(res.Placement.Chosen)]
					inst = node.ID
					if step == 0 && placed < len(res.Placement.Chosen) {
						plan.Starts = append(plan.Starts, flottaapi.PlannedTask{Instance: node.ARN, AvailabilityZone: node.Attributes[model.AttrZone], TaskDefinition: defName(defs, next, s.Deployment)})
					}
				}
				if _, ok := view.Instances[inst]; !ok {
					view.Instances[inst] = InstanceInfo{Status: model.InstanceActive, Connected: true, Eligible: true}
				}
				kept = append(kept, state.TaskSummary{ID: fmt.Sprintf("planned-%d", seq), InstanceID: inst, LastStatus: model.TaskRunning,
					DesiredStatus: model.TaskRunning, Health: model.HealthHealthy, StartedBy: s.Deployment, EverRan: true,
					StartedAt: model.At(now.Add(-24 * time.Hour))})
				placed++
			}
			free -= n
		}
		if step == 0 {
			plan.CapacityNeeded = startN
		}
		view.Tasks = kept
		view.Service = p.Next
		view.Service.Service.Events = nil
		alive := 0
		for i := range kept {
			if active(&kept[i]) {
				alive++
			}
		}
		plan.Steps = append(plan.Steps, flottaapi.RolloutStep{Stop: len(p.Stops), Start: placed, MinHealthy: healthyAfterStops, Tasks: alive})
		if placed == 0 && len(p.Stops) == 0 {
			break
		}
		if placed < startN && len(p.Stops) == 0 {
			plan.Stalls = true
			plan.Note = fmt.Sprintf("The cluster has room for %d more task(s) of %s, and the rollout may not stop more old tasks (minimumHealthyPercent %d): it would wait for capacity.",
				placed, defName(defs, next, primary.ID), minPct)
			break
		}
	}
	if len(plan.Steps) == maxPlanSteps {
		plan.Stalls = true
		plan.Note = "The rollout did not finish within the planned steps."
	}
	if !plan.Stalls && plan.Capacity < plan.CapacityNeeded {
		plan.Note = fmt.Sprintf("Capacity for %d of the %d new tasks the first step would start at maximumPercent %d: the rollout takes more, smaller steps.",
			plan.Capacity, plan.CapacityNeeded, maxPct)
	}
	return plan, nil
}

// defName names the task definition of a deployment.
func defName(defs map[string]*model.TaskDefinition, rec *state.ServiceRecord, deployment string) string {
	if d := defs[deployment]; d != nil {
		return d.TaskDefinitionArn
	}
	for _, d := range rec.Deployments {
		if d.ID == deployment {
			return d.TaskDefinition
		}
	}
	return ""
}
