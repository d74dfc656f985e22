package ecs

import (
	"context"
	"errors"
	"sort"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/placement"
	"github.com/flotta-dev/flotta/internal/scheduler"
)

// PlanTasks answers where RunTask would place its tasks, and why not, without
// placing anything: Flotta's dry run (`flotta run --dry-run`).
func (a *API) PlanTasks(ctx context.Context, in *runTaskInput) (*flottaapi.PlanTasksOutput, error) {
	count := 1
	if in.Count != nil {
		count = *in.Count
	}
	if count < 1 || count > 10 {
		return nil, model.InvalidParameter("count must be between 1 and 10; got %d.", count)
	}
	tr, err := a.prepareTaskRequest(ctx, in.Cluster, in.TaskDefinition, in.Overrides, in.Group, in.StartedBy, in.Tags, in.PropagateTags)
	if err != nil {
		return nil, err
	}
	cons, strats, err := placement.Rules(&tr.def, in.PlacementConstraints, in.PlacementStrategy)
	if err != nil {
		return nil, err
	}
	req := a.schedulerRequest(tr, count, cons, strats)
	req.Placement.LaunchType = in.LaunchType
	req.DryRun = true
	res, err := a.Scheduler.Place(ctx, tr.cluster.ClusterName, req)
	if errors.Is(err, scheduler.ErrNoInstances) {
		return nil, model.InvalidParameter("No Container Instances were found in your cluster.")
	}
	if err != nil {
		return nil, err
	}
	out := &flottaapi.PlanTasksOutput{Placements: []flottaapi.PlanPlacement{}, Failures: []failure{}, Reasons: []flottaapi.PlanReason{}}
	for _, n := range res.Placement.Chosen {
		out.Placements = append(out.Placements, flottaapi.PlanPlacement{ContainerInstanceArn: n.ARN, AvailabilityZone: n.Attributes[model.AttrZone]})
	}
	for _, f := range res.Placement.Failures {
		out.Failures = append(out.Failures, failure{Arn: f.ARN, Reason: f.Reason})
	}
	for reason, n := range res.Placement.Reasons {
		out.Reasons = append(out.Reasons, flottaapi.PlanReason{Reason: reason, Instances: n})
	}
	sort.Slice(out.Reasons, func(i, j int) bool { return out.Reasons[i].Instances > out.Reasons[j].Instances })
	return out, nil
}
