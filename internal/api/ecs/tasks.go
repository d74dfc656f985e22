package ecs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/placement"
	"github.com/flotta-dev/flotta/internal/scheduler"
	"github.com/flotta-dev/flotta/internal/state"
)

type runTaskInput struct {
	Cluster              string                               `json:"cluster"`
	TaskDefinition       string                               `json:"taskDefinition"`
	Count                *int                                 `json:"count"`
	Group                string                               `json:"group"`
	StartedBy            string                               `json:"startedBy"`
	Overrides            *model.TaskOverride                  `json:"overrides"`
	Tags                 []model.Tag                          `json:"tags"`
	ClientToken          string                               `json:"clientToken"`
	LaunchType           string                               `json:"launchType"`
	CapacityProviders    []model.CapacityProviderStrategyItem `json:"capacityProviderStrategy"`
	PlacementConstraints []model.PlacementConstraint          `json:"placementConstraints"`
	PlacementStrategy    []model.PlacementStrategy            `json:"placementStrategy"`
	PropagateTags        string                               `json:"propagateTags"`
	EnableExecuteCommand bool                                 `json:"enableExecuteCommand"`
	NetworkConfiguration json.RawMessage                      `json:"networkConfiguration"`
}

type runTaskOutput struct {
	Tasks    []*model.Task `json:"tasks"`
	Failures []failure     `json:"failures"`
}

// taskRequest is what RunTask and StartTask have in common once validated.
type taskRequest struct {
	cluster   *model.Cluster
	def       model.TaskDefinition // overrides applied
	defTags   []model.Tag
	overrides *model.TaskOverride
	group     string
	startedBy string
	tags      []model.Tag
	execute   bool
}

func (a *API) prepareTaskRequest(ctx context.Context, clusterRef, tdRef string, o *model.TaskOverride, group, startedBy string, tags []model.Tag, propagate string) (*taskRequest, error) {
	if tdRef == "" {
		return nil, model.InvalidParameter("taskDefinition is required.")
	}
	if len(startedBy) > 128 {
		return nil, model.InvalidParameter("startedBy can be at most 128 characters long.")
	}
	if len(group) > 255 {
		return nil, model.InvalidParameter("group can be at most 255 characters long.")
	}
	if err := model.ValidateTags(nil, tags); err != nil {
		return nil, err
	}
	switch propagate {
	case "", "NONE", "TASK_DEFINITION":
	default:
		return nil, model.InvalidParameter("propagateTags should be one of [TASK_DEFINITION,NONE]")
	}
	c, err := a.activeCluster(ctx, clusterRef)
	if err != nil {
		return nil, err
	}
	rec, err := a.findTaskDefinition(ctx, tdRef)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, model.Client("Unable to find task definition %s.", model.Truncate(tdRef, 300))
	}
	if rec.TaskDefinition.Status != model.TaskDefActive {
		return nil, model.Client("TaskDefinition is inactive: %s cannot start new tasks.", rec.TaskDefinition.TaskDefinitionArn)
	}
	def, err := model.ApplyOverrides(rec.TaskDefinition, o)
	if err != nil {
		return nil, err
	}
	if o != nil {
		if err := a.passRoles(ctx, tasksPrincipal, o.TaskRoleArn, o.ExecutionRoleArn); err != nil {
			return nil, err
		}
	}
	if group == "" {
		group = "family:" + def.Family
	}
	tr := &taskRequest{cluster: c, def: def, overrides: o, group: group, startedBy: startedBy, tags: tags}
	if propagate == "TASK_DEFINITION" {
		tr.tags = model.MergeTags(rec.Tags, tags)
	}
	return tr, nil
}

// RunTask places count tasks and answers with them and with why the rest
// could not be placed.
func (a *API) RunTask(ctx context.Context, in *runTaskInput) (*runTaskOutput, error) {
	count := 1
	if in.Count != nil {
		count = *in.Count
	}
	if count < 1 || count > 10 {
		return nil, model.InvalidParameter("count must be between 1 and 10; got %d.", count)
	}
	switch in.LaunchType {
	case "", "EC2", "EXTERNAL":
	case "FARGATE", "MANAGED_INSTANCES":
		return nil, model.InvalidParameter("Launch type %s is not supported yet; run tasks on container instances (EC2).", in.LaunchType)
	default:
		// ECS's words (moto's test_run_task_exceptions has them).
		return nil, model.InvalidParameter("launch type should be one of [EC2,FARGATE,EXTERNAL]")
	}
	if len(in.ClientToken) > 64 {
		return nil, model.InvalidParameter("clientToken can be at most 64 characters long.")
	}
	tr, err := a.prepareTaskRequest(ctx, in.Cluster, in.TaskDefinition, in.Overrides, in.Group, in.StartedBy, in.Tags, in.PropagateTags)
	if err != nil {
		return nil, err
	}
	if err := checkStrategy(tr.cluster, in.LaunchType, in.CapacityProviders); err != nil {
		return nil, err
	}
	cons, strats, err := placement.Rules(&tr.def, in.PlacementConstraints, in.PlacementStrategy)
	if err != nil {
		return nil, err
	}
	tr.execute = in.EnableExecuteCommand
	req := a.schedulerRequest(tr, count, cons, strats)
	req.Placement.LaunchType = in.LaunchType
	if in.ClientToken != "" {
		b, _ := json.Marshal(struct {
			In  *runTaskInput
			Def string
		}{in, tr.def.TaskDefinitionArn})
		sum := sha256.Sum256(b)
		req.ClientToken, req.TokenHash = in.ClientToken, hex.EncodeToString(sum[:])
		if out, err := a.replayClientToken(ctx, tr.cluster.ClusterName, in.ClientToken, req.TokenHash); out != nil || err != nil {
			return out, err
		}
	}
	return a.schedule(ctx, tr, req, count)
}

// schedulerRequest describes tasks of tr to the scheduler.
func (a *API) schedulerRequest(tr *taskRequest, count int, cons []placement.Constraint, strats []placement.Strategy) scheduler.Request {
	return scheduler.Request{
		Placement: placement.Request{Demand: model.TaskDemand(&tr.def), Requires: tr.def.RequiresAttributes, Group: tr.group,
			Count: count, Constraints: cons, Strategies: strats},
		Build: func(inst *state.InstanceRecord) state.TaskRecord { return a.newTask(tr, inst) },
	}
}

// schedule submits a request and answers in RunTask's shape.
func (a *API) schedule(ctx context.Context, tr *taskRequest, req scheduler.Request, count int) (*runTaskOutput, error) {
	res, err := a.Scheduler.Place(ctx, tr.cluster.ClusterName, req)
	if errors.Is(err, scheduler.ErrNoInstances) {
		return nil, model.InvalidParameter("No Container Instances were found in your cluster.")
	}
	if err != nil {
		return nil, err
	}
	if res.TokenConflict != nil {
		return a.replayClientToken(ctx, tr.cluster.ClusterName, req.ClientToken, req.TokenHash)
	}
	out := &runTaskOutput{Tasks: []*model.Task{}, Failures: []failure{}}
	for i := range res.Tasks {
		t := res.Tasks[i].Task
		t.Tags = model.PresentTags(t.Tags, true) // a new task's tags, [] when none
		out.Tasks = append(out.Tasks, &t)
	}
	if len(res.Placement.Chosen) < count {
		for _, f := range res.Placement.Failures {
			out.Failures = append(out.Failures, failure{Arn: f.ARN, Reason: f.Reason})
		}
	}
	return out, nil
}

// replayClientToken answers a repeated RunTask with the tasks of the first
// one, and refuses a reused token with other parameters.
func (a *API) replayClientToken(ctx context.Context, cluster, token, hash string) (*runTaskOutput, error) {
	prev, err := a.State.GetClientToken(ctx, cluster, token)
	if err != nil || prev == nil {
		return nil, err
	}
	if prev.ParamsHash != hash {
		return nil, model.Errorf(model.CodeConflict, "The RunTask request could not be processed due to conflicts. The provided clientToken is already in use with a different RunTask request. The resourceIds are the existing task ARNs which are already associated with the clientToken: %s.", strings.Join(prev.TaskArns, ", "))
	}
	out := &runTaskOutput{Tasks: []*model.Task{}, Failures: []failure{}}
	for _, arn := range prev.TaskArns {
		t, err := a.lookupTask(ctx, cluster, arn)
		if err != nil {
			return nil, err
		}
		if t != nil {
			out.Tasks = append(out.Tasks, &t.Task)
		}
	}
	return out, nil
}

func (a *API) lookupTask(ctx context.Context, cluster, ref string) (*state.TaskRecord, error) {
	id, err := a.taskID(cluster, ref)
	if err != nil {
		return nil, err
	}
	return a.State.GetTask(ctx, cluster, id)
}

// newTask builds the record of a task placed on an instance.
func (a *API) newTask(tr *taskRequest, inst *state.InstanceRecord) state.TaskRecord {
	return a.State.NewTaskRecord(tr.cluster, &tr.def, inst, state.TaskOptions{Overrides: tr.overrides, StartedBy: tr.startedBy,
		Group: tr.group, Tags: tr.tags, EnableExecuteCommand: tr.execute})
}

type startTaskInput struct {
	Cluster            string              `json:"cluster"`
	TaskDefinition     string              `json:"taskDefinition"`
	ContainerInstances []string            `json:"containerInstances"`
	Group              string              `json:"group"`
	StartedBy          string              `json:"startedBy"`
	Overrides          *model.TaskOverride `json:"overrides"`
	Tags               []model.Tag         `json:"tags"`
	PropagateTags      string              `json:"propagateTags"`
}

// StartTask starts one task on each named container instance.
func (a *API) StartTask(ctx context.Context, in *startTaskInput) (*runTaskOutput, error) {
	tr, err := a.prepareTaskRequest(ctx, in.Cluster, in.TaskDefinition, in.Overrides, in.Group, in.StartedBy, in.Tags, in.PropagateTags)
	if err != nil {
		return nil, err
	}
	if len(in.ContainerInstances) == 0 {
		return nil, model.Client("Container Instances cannot be empty.")
	}
	if len(in.ContainerInstances) > 10 {
		return nil, model.InvalidParameter("containerInstances can have at most 10 items.")
	}
	var ids []string
	for _, ref := range in.ContainerInstances {
		cl, id, err := instanceID(ref)
		if err != nil {
			return nil, err
		}
		if cl != "" && cl != tr.cluster.ClusterName {
			return nil, model.InvalidParameter("Container instance %s is not in cluster %s.", ref, tr.cluster.ClusterName)
		}
		rec, err := a.State.GetInstance(ctx, tr.cluster.ClusterName, id)
		if err != nil {
			return nil, err
		}
		if rec == nil || rec.Instance.Status == model.InstanceInactive {
			return nil, model.InvalidParameter("Container instance %s was not found in cluster %s.", ref, tr.cluster.ClusterName)
		}
		ids = append(ids, id)
	}
	req := a.schedulerRequest(tr, len(ids), nil, nil)
	req.Only = ids
	return a.schedule(ctx, tr, req, len(ids))
}

type stopTaskInput struct {
	Cluster string `json:"cluster"`
	Task    string `json:"task"`
	Reason  string `json:"reason"`
}

type taskOutput struct {
	Task *model.Task `json:"task"`
}

// StopTask asks for a task to stop.
func (a *API) StopTask(ctx context.Context, in *stopTaskInput) (*taskOutput, error) {
	if in.Task == "" {
		return nil, model.InvalidParameter("task is required.")
	}
	if len(in.Reason) > 255 {
		return nil, model.InvalidParameter("reason can be at most 255 characters long.")
	}
	c, err := a.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	id, err := a.taskID(c.ClusterName, in.Task)
	if err != nil {
		return nil, err
	}
	reason := in.Reason
	if reason == "" {
		reason = "Task stopped by user"
	}
	rec, err := a.State.StopTask(ctx, c.ClusterName, id, reason, model.StopUserInitiated)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, model.InvalidParameter("The referenced task was not found.")
	}
	return &taskOutput{Task: &rec.Task}, nil
}

type describeTasksInput struct {
	Cluster string   `json:"cluster"`
	Tasks   []string `json:"tasks"`
	Include []string `json:"include"`
}

type describeTasksOutput struct {
	Tasks    []*model.Task `json:"tasks"`
	Failures []failure     `json:"failures"`
}

// DescribeTasks describes tasks by id or ARN; unknown ones are failures.
func (a *API) DescribeTasks(ctx context.Context, in *describeTasksInput) (*describeTasksOutput, error) {
	withTags, err := includeTags(in.Include)
	if err != nil {
		return nil, err
	}
	// The cluster first, as ECS does (a missing cluster is reported even
	// for an empty list).
	c, err := a.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	if len(in.Tasks) == 0 {
		return nil, model.InvalidParameter("Tasks cannot be empty.")
	}
	if len(in.Tasks) > 100 {
		return nil, model.InvalidParameter("taskIds can have at most 100 items.")
	}
	ids := make([]string, len(in.Tasks))
	for i, ref := range in.Tasks {
		if ids[i], err = a.taskID(c.ClusterName, ref); err != nil {
			return nil, err
		}
	}
	recs, err := a.State.GetTasks(ctx, c.ClusterName, ids)
	if err != nil {
		return nil, err
	}
	out := &describeTasksOutput{Tasks: []*model.Task{}, Failures: []failure{}}
	for i, id := range ids {
		r := recs[id]
		if r == nil {
			arn := in.Tasks[i]
			if !model.IsARN(arn) {
				arn = a.State.Scope.TaskARN(c.ClusterName, id)
			}
			out.Failures = append(out.Failures, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		t := r.Task
		t.Tags = model.PresentTags(t.Tags, withTags)
		out.Tasks = append(out.Tasks, &t)
	}
	return out, nil
}

type listTasksInput struct {
	Cluster           string `json:"cluster"`
	ContainerInstance string `json:"containerInstance"`
	Family            string `json:"family"`
	StartedBy         string `json:"startedBy"`
	ServiceName       string `json:"serviceName"`
	DesiredStatus     string `json:"desiredStatus"`
	LaunchType        string `json:"launchType"`
	listInput
}

type listTasksOutput struct {
	TaskArns  []string `json:"taskArns"`
	NextToken string   `json:"nextToken,omitempty"`
}

// ListTasks lists a cluster's tasks, by default those meant to be RUNNING.
func (a *API) ListTasks(ctx context.Context, in *listTasksInput) (*listTasksOutput, error) {
	f := state.TaskFilter{Family: in.Family, StartedBy: in.StartedBy, DesiredStatus: in.DesiredStatus, LaunchType: in.LaunchType}
	switch in.DesiredStatus {
	case "":
		f.DesiredStatus = model.TaskRunning
	case model.TaskRunning, model.TaskPending, model.TaskStopped:
	default:
		return nil, model.InvalidParameter("desiredStatus should be one of [RUNNING,PENDING,STOPPED]")
	}
	switch in.LaunchType {
	case "", "EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES":
	default:
		return nil, model.InvalidParameter("launch type should be one of [EC2,FARGATE,EXTERNAL]")
	}
	if in.Family != "" && !model.ValidName(in.Family) {
		return nil, model.InvalidParameter("family must match ^[a-zA-Z0-9\\-_]+$")
	}
	if in.ServiceName != "" {
		f.Group = "service:" + in.ServiceName
	}
	limit, err := state.PageSize(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	c, err := a.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	if in.ContainerInstance != "" {
		cl, id, err := instanceID(in.ContainerInstance)
		if err != nil {
			return nil, err
		}
		if cl != "" && cl != c.ClusterName {
			return nil, model.InvalidParameter("Container instance %s is not in cluster %s.", in.ContainerInstance, c.ClusterName)
		}
		f.InstanceID = id
	}
	arns, next, err := a.State.ListTaskARNs(ctx, c.ClusterName, f, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	if arns == nil {
		arns = []string{}
	}
	return &listTasksOutput{TaskArns: arns, NextToken: next}, nil
}
