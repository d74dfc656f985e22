package ecs

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/placement"
	"github.com/flotta-dev/flotta/internal/state"
)

// Task sets are the deployments of a service whose deployment controller is
// EXTERNAL: a tool outside Flotta creates them (CreateTaskSet), shares the
// service's desired count among them (UpdateTaskSet's scale), says which is
// the PRIMARY (UpdateServicePrimaryTaskSet) and deletes them
// (DeleteTaskSet). The service controller keeps each at its computed desired
// count and replaces its failed tasks; it never moves tasks from one task
// set to another on its own.
//
// ECS's words, and where they were found:
//   - "Amazon ECS only supports task set management on services configured
//     to use external deployment controllers." (InvalidParameterException,
//     the AWS CLI's answer quoted in hashicorp/terraform-provider-aws#30347)
//   - "N deployments exist on the service. Unable to create new TaskSet since
//     this exceeds the maximum limit." (aws-samples/ecs-bg-external-controller#6)
//   - "CreateTaskSet cannot have more than 1 load balancer" (quoted, cut
//     short, in aws/containers-roadmap#1380)
//   - "The specified task set does not exist." (moto's message for a task set
//     it cannot find; ECS's code is TaskSetNotFoundException)
//   - "TaskDefinition must be blank." (CreateService of an EXTERNAL service
//     with a task definition: aws/aws-cdk#6245, terraform-aws-modules/
//     terraform-aws-ecs#278)

func errNotExternal() error {
	return model.InvalidParameter("Amazon ECS only supports task set management on services configured to use external deployment controllers.")
}

func errTaskSetNotFound() error {
	return model.Errorf(model.CodeTaskSetNotFound, "The specified task set does not exist.")
}

func errServiceNotActive() error {
	return model.Errorf(model.CodeServiceNotActive, "Service was not ACTIVE.")
}

type createTaskSetInput struct {
	Service                  string                               `json:"service"`
	Cluster                  string                               `json:"cluster"`
	ExternalID               string                               `json:"externalId"`
	TaskDefinition           string                               `json:"taskDefinition"`
	NetworkConfiguration     json.RawMessage                      `json:"networkConfiguration"`
	LoadBalancers            []model.LoadBalancer                 `json:"loadBalancers"`
	ServiceRegistries        []json.RawMessage                    `json:"serviceRegistries"`
	LaunchType               string                               `json:"launchType"`
	CapacityProviderStrategy []model.CapacityProviderStrategyItem `json:"capacityProviderStrategy"`
	PlatformVersion          string                               `json:"platformVersion"`
	Scale                    *model.Scale                         `json:"scale"`
	ClientToken              string                               `json:"clientToken"`
	Tags                     []model.Tag                          `json:"tags"`
}

type taskSetOutput struct {
	TaskSet *model.TaskSet `json:"taskSet"`
}

// externalService reads the EXTERNAL service a task set call names, in
// ECS's order of refusals: the cluster, the service, its status (unless
// inactiveOK), its deployment controller.
func (a *API) externalService(ctx context.Context, clusterRef, serviceRef string, inactiveOK bool) (*model.Cluster, *state.ServiceRecord, error) {
	c, name, err := a.serviceRef(ctx, clusterRef, serviceRef)
	if err != nil {
		return nil, nil, err
	}
	rec, err := a.State.GetService(ctx, c.ClusterName, name)
	if err != nil {
		return nil, nil, err
	}
	if rec == nil {
		return nil, nil, model.ErrServiceNotFound()
	}
	if err := checkExternal(rec, inactiveOK); err != nil {
		return nil, nil, err
	}
	return c, rec, nil
}

// checkExternal refuses a service that is not ACTIVE (unless inactiveOK) or
// whose deployments are not a tool's own.
func checkExternal(r *state.ServiceRecord, inactiveOK bool) error {
	if r.Service.Status != model.ServiceActive && !inactiveOK {
		return errServiceNotActive()
	}
	if !r.Service.IsExternal() {
		return errNotExternal()
	}
	return nil
}

// taskSetID reads a task set id ("ecs-svc/123...") or ARN of a service; ""
// when an ARN names another cluster or service, or is not a task set's.
func taskSetID(ref, cluster, service string) string {
	if !model.IsARN(ref) {
		return ref
	}
	arn, err := model.ParseARN(ref)
	if err != nil || arn.Service != "ecs" {
		return ""
	}
	parts := strings.SplitN(arn.Resource, "/", 4)
	if len(parts) != 4 || parts[0] != "task-set" || parts[1] != cluster || parts[2] != service {
		return ""
	}
	return parts[3]
}

// checkTaskSetLaunch refuses what task sets on container instances cannot
// have, as CreateService does for services.
func checkTaskSetLaunch(in *createTaskSetInput) error {
	switch in.LaunchType {
	case "", "EC2", "EXTERNAL":
	case "FARGATE", "MANAGED_INSTANCES":
		return model.InvalidParameter("Launch type %s is not supported yet; run task sets on container instances (EC2).", in.LaunchType)
	default:
		return model.Client("launch type should be one of [EC2,FARGATE,EXTERNAL]")
	}
	if len(in.CapacityProviderStrategy) > 0 {
		return model.InvalidParameter("Capacity provider strategies are not supported yet; run task sets on container instances (EC2).")
	}
	if len(in.ServiceRegistries) > 0 {
		return model.InvalidParameter("Service registries are not supported yet.")
	}
	if len(in.LoadBalancers) > 1 {
		return model.InvalidParameter("CreateTaskSet cannot have more than 1 load balancer.")
	}
	return nil
}

// CreateTaskSet adds a task set to an EXTERNAL service. It starts ACTIVE:
// the tool makes it PRIMARY when it chooses.
func (a *API) CreateTaskSet(ctx context.Context, in *createTaskSetInput) (*taskSetOutput, error) {
	if err := checkTaskSetLaunch(in); err != nil {
		return nil, err
	}
	if err := model.ValidateScale(in.Scale); err != nil {
		return nil, err
	}
	if err := model.ValidateTags(nil, in.Tags); err != nil {
		return nil, err
	}
	c, cur, err := a.externalService(ctx, in.Cluster, in.Service, false)
	if err != nil {
		return nil, err
	}
	if in.TaskDefinition == "" {
		return nil, model.InvalidParameter("taskDefinition is required.")
	}
	td, err := a.activeTaskDefinition(ctx, in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	if _, _, err := placement.Rules(&td.TaskDefinition, cur.Service.PlacementConstraints, cur.Service.PlacementStrategy); err != nil {
		return nil, err
	}
	if err := a.checkLoadBalancers(ctx, in.LoadBalancers, &td.TaskDefinition); err != nil {
		return nil, err
	}
	scale := model.Scale{Value: 0, Unit: model.ScalePercent}
	if in.Scale != nil {
		scale.Value = in.Scale.Value
	}
	now := model.At(a.State.Now())
	id := state.NewTaskSetID()
	ts := model.TaskSet{
		ID: id, TaskSetArn: a.State.TaskSetARN(c.ClusterName, cur.Name, id), ServiceArn: cur.Service.ServiceArn, ClusterArn: c.ClusterArn,
		ExternalID: in.ExternalID, Status: model.TaskSetActive, TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
		CreatedAt: now, UpdatedAt: now, LaunchType: "EC2", NetworkConfiguration: in.NetworkConfiguration,
		LoadBalancers: append([]model.LoadBalancer{}, in.LoadBalancers...), ServiceRegistries: []json.RawMessage{},
		Scale: &scale, StabilityStatus: model.StabilityStabilizing, StabilityStatusAt: now, Tags: in.Tags,
	}
	var out model.TaskSet
	rec, err := a.State.UpdateService(ctx, c.ClusterName, cur.Name, func(r *state.ServiceRecord) error {
		if err := checkExternal(r, false); err != nil {
			return err
		}
		if n := len(r.Service.TaskSets); n >= model.MaxTaskSets {
			return model.InvalidParameter("%d deployments exist on the service. Unable to create new TaskSet since this exceeds the maximum limit.", n)
		}
		r.Service.TaskSets = append(r.Service.TaskSets, ts)
		a.State.TaskSetsChanged(r)
		a.State.AddEvent(r, "(service %s) created (task-set %s) of %s.", r.Name, id, ts.TaskDefinition)
		out = *r.Service.TaskSetByID(id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, model.ErrServiceNotFound()
	}
	return &taskSetOutput{TaskSet: presentTaskSet(out, true)}, nil
}

// presentTaskSet shapes a task set for an answer.
func presentTaskSet(ts model.TaskSet, withTags bool) *model.TaskSet {
	ts.Tags = model.PresentTags(ts.Tags, withTags)
	if ts.LoadBalancers == nil {
		ts.LoadBalancers = []model.LoadBalancer{}
	}
	if ts.ServiceRegistries == nil {
		ts.ServiceRegistries = []json.RawMessage{}
	}
	return &ts
}

type describeTaskSetsInput struct {
	Cluster  string   `json:"cluster"`
	Service  string   `json:"service"`
	TaskSets []string `json:"taskSets"`
	Include  []string `json:"include"`
}

type describeTaskSetsOutput struct {
	TaskSets []*model.TaskSet `json:"taskSets"`
	Failures []failure        `json:"failures"`
}

// DescribeTaskSets describes the task sets named, or all of a service's;
// those it cannot find are failures with reason MISSING.
func (a *API) DescribeTaskSets(ctx context.Context, in *describeTaskSetsInput) (*describeTaskSetsOutput, error) {
	withTags, err := includeTags(in.Include)
	if err != nil {
		return nil, err
	}
	c, rec, err := a.externalService(ctx, in.Cluster, in.Service, true)
	if err != nil {
		return nil, err
	}
	if rec.Service.Status == model.ServiceInactive {
		return nil, errServiceNotActive()
	}
	out := &describeTaskSetsOutput{TaskSets: []*model.TaskSet{}, Failures: []failure{}}
	if len(in.TaskSets) == 0 {
		for _, ts := range rec.Service.TaskSets {
			out.TaskSets = append(out.TaskSets, presentTaskSet(ts, withTags))
		}
		return out, nil
	}
	for _, ref := range in.TaskSets {
		ts := rec.Service.TaskSetByID(taskSetID(ref, c.ClusterName, rec.Name))
		if ts == nil {
			out.Failures = append(out.Failures, failure{Arn: ref, Reason: "MISSING"})
			continue
		}
		out.TaskSets = append(out.TaskSets, presentTaskSet(*ts, withTags))
	}
	return out, nil
}

// changeTaskSet applies change to one task set of an EXTERNAL service, in
// the guarded transaction of its service record, and returns it as it is
// after the change.
func (a *API) changeTaskSet(ctx context.Context, clusterRef, serviceRef, ref string, change func(r *state.ServiceRecord, ts *model.TaskSet) error) (*model.TaskSet, error) {
	c, cur, err := a.externalService(ctx, clusterRef, serviceRef, false)
	if err != nil {
		return nil, err
	}
	if ref == "" {
		return nil, model.InvalidParameter("taskSet is required.")
	}
	id := taskSetID(ref, c.ClusterName, cur.Name)
	var out model.TaskSet
	rec, err := a.State.UpdateService(ctx, c.ClusterName, cur.Name, func(r *state.ServiceRecord) error {
		if err := checkExternal(r, false); err != nil {
			return err
		}
		ts := r.Service.TaskSetByID(id)
		if ts == nil || id == "" {
			return errTaskSetNotFound()
		}
		if err := change(r, ts); err != nil {
			return err
		}
		ts.UpdatedAt = model.At(a.State.Now())
		a.State.TaskSetsChanged(r)
		out = *r.Service.TaskSetByID(id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, model.ErrServiceNotFound()
	}
	return presentTaskSet(out, false), nil
}

// errTaskSetDraining refuses to change a task set that is being deleted.
func errTaskSetDraining(id string) error {
	return model.InvalidParameter("The task set %s is being deleted (DRAINING) and cannot be changed.", id)
}

type updateTaskSetInput struct {
	Cluster string       `json:"cluster"`
	Service string       `json:"service"`
	TaskSet string       `json:"taskSet"`
	Scale   *model.Scale `json:"scale"`
}

// UpdateTaskSet changes a task set's scale, its share of the service's
// desired count.
func (a *API) UpdateTaskSet(ctx context.Context, in *updateTaskSetInput) (*taskSetOutput, error) {
	if in.Scale == nil {
		return nil, model.InvalidParameter("scale is required.")
	}
	if err := model.ValidateScale(in.Scale); err != nil {
		return nil, err
	}
	ts, err := a.changeTaskSet(ctx, in.Cluster, in.Service, in.TaskSet, func(r *state.ServiceRecord, ts *model.TaskSet) error {
		if ts.Status == model.TaskSetDraining {
			return errTaskSetDraining(ts.ID)
		}
		ts.Scale = &model.Scale{Value: in.Scale.Value, Unit: model.ScalePercent}
		a.State.AddEvent(r, "(service %s) scaled (task-set %s) to %v percent.", r.Name, ts.ID, in.Scale.Value)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &taskSetOutput{TaskSet: ts}, nil
}

type updateServicePrimaryTaskSetInput struct {
	Cluster        string `json:"cluster"`
	Service        string `json:"service"`
	PrimaryTaskSet string `json:"primaryTaskSet"`
}

// UpdateServicePrimaryTaskSet makes a task set the service's PRIMARY (the
// one before becomes ACTIVE): the service then shows its task definition,
// launch type, load balancers and network configuration. No task moves.
func (a *API) UpdateServicePrimaryTaskSet(ctx context.Context, in *updateServicePrimaryTaskSetInput) (*taskSetOutput, error) {
	if in.PrimaryTaskSet == "" {
		return nil, model.InvalidParameter("primaryTaskSet is required.")
	}
	ts, err := a.changeTaskSet(ctx, in.Cluster, in.Service, in.PrimaryTaskSet, func(r *state.ServiceRecord, ts *model.TaskSet) error {
		if ts.Status == model.TaskSetDraining {
			return errTaskSetDraining(ts.ID)
		}
		for i := range r.Service.TaskSets {
			if o := &r.Service.TaskSets[i]; o.Status == model.TaskSetPrimary {
				o.Status = model.TaskSetActive
			}
		}
		ts.Status = model.TaskSetPrimary
		s := &r.Service
		s.TaskDefinition, s.LaunchType = ts.TaskDefinition, ts.LaunchType
		s.LoadBalancers = append([]model.LoadBalancer{}, ts.LoadBalancers...)
		s.NetworkConfiguration = ts.NetworkConfiguration
		a.State.AddEvent(r, "(service %s) updated the primary task set to (task-set %s).", r.Name, ts.ID)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &taskSetOutput{TaskSet: ts}, nil
}

type deleteTaskSetInput struct {
	Cluster string `json:"cluster"`
	Service string `json:"service"`
	TaskSet string `json:"taskSet"`
	Force   bool   `json:"force"`
}

// DeleteTaskSet deletes a task set: it goes DRAINING, its tasks are
// deregistered from its target groups and stop, and then it is gone. A
// task set still scaled above 0 needs force.
func (a *API) DeleteTaskSet(ctx context.Context, in *deleteTaskSetInput) (*taskSetOutput, error) {
	ts, err := a.changeTaskSet(ctx, in.Cluster, in.Service, in.TaskSet, func(r *state.ServiceRecord, ts *model.TaskSet) error {
		if ts.Status == model.TaskSetDraining {
			return nil
		}
		if !in.Force && ts.Scale != nil && ts.Scale.Value > 0 {
			return model.InvalidParameter("The task set cannot be deleted while it is scaled above 0; scale it to 0 first, or use force.")
		}
		if ts.Status == model.TaskSetPrimary {
			// A service without a primary task set shows no task set fields.
			s := &r.Service
			s.TaskDefinition, s.LoadBalancers, s.NetworkConfiguration = "", []model.LoadBalancer{}, nil
		}
		ts.Status = model.TaskSetDraining
		a.State.AddEvent(r, "(service %s) is deleting (task-set %s).", r.Name, ts.ID)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &taskSetOutput{TaskSet: ts}, nil
}

// updateExternalService is UpdateService for an EXTERNAL service, and says
// whether the service named is one (ok false: the caller goes on, and
// refuses what it must). Such a service takes the desired count, the
// health-check grace period and the settings of no task set; a new task
// definition, load balancers, network configuration or launch type come
// with a new task set. ECS refuses the task definition of a CODE_DEPLOY
// service in words ("Unable to update task definition on services with a
// CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new
// deployment.") that Flotta follows for EXTERNAL.
func (a *API) updateExternalService(ctx context.Context, in *serviceInput) (*serviceOutput, bool, error) {
	c, name, err := a.serviceRef(ctx, in.Cluster, in.Service)
	if err != nil {
		return nil, false, nil
	}
	cur, err := a.State.GetService(ctx, c.ClusterName, name)
	if err != nil || cur == nil || !cur.Service.IsExternal() {
		return nil, false, nil
	}
	refuse := func(what string) error {
		return model.InvalidParameter("Unable to update %s on services with a EXTERNAL deployment controller. Create a task set to deploy it.", what)
	}
	switch {
	case in.TaskDefinition != "":
		return nil, true, refuse("task definition")
	case in.LoadBalancers != nil:
		return nil, true, refuse("load balancers")
	case in.ServiceRegistries != nil:
		return nil, true, refuse("service registries")
	case len(in.NetworkConfiguration) > 0 && string(in.NetworkConfiguration) != "null":
		return nil, true, refuse("network configuration")
	case in.LaunchType != "" || len(in.CapacityProviderStrategy) > 0:
		return nil, true, refuse("launch type")
	case in.ForceNewDeployment:
		return nil, true, refuse("deployments (forceNewDeployment)")
	}
	if err := a.checkServiceSettings(in, false); err != nil {
		return nil, true, err
	}
	if in.PlacementConstraints != nil || in.PlacementStrategy != nil {
		if _, _, err := placement.Rules(&model.TaskDefinition{}, in.PlacementConstraints, in.PlacementStrategy); err != nil {
			return nil, true, err
		}
	}
	rec, err := a.State.UpdateService(ctx, c.ClusterName, name, func(r *state.ServiceRecord) error {
		s := &r.Service
		if s.Status != model.ServiceActive {
			return errServiceNotActive()
		}
		if in.DesiredCount != nil {
			s.DesiredCount = *in.DesiredCount
		}
		if in.DeploymentConfiguration != nil {
			s.DeploymentConfiguration = deploymentConfiguration(in.DeploymentConfiguration, false)
		}
		if in.PlacementConstraints != nil {
			s.PlacementConstraints = toConstraints(in.PlacementConstraints)
		}
		if in.PlacementStrategy != nil {
			s.PlacementStrategy = toStrategies(in.PlacementStrategy, false)
		}
		if in.HealthCheckGracePeriodSeconds != nil {
			s.HealthCheckGracePeriodSeconds = in.HealthCheckGracePeriodSeconds
		}
		if in.EnableExecuteCommand != nil {
			s.EnableExecuteCommand = *in.EnableExecuteCommand
		}
		if in.EnableECSManagedTags != nil {
			s.EnableECSManagedTags = *in.EnableECSManagedTags
		}
		if in.PropagateTags != "" {
			s.PropagateTags = in.PropagateTags
		}
		// Every task set's computed desired count follows the new count.
		a.State.TaskSetsChanged(r)
		return nil
	})
	if err != nil {
		return nil, true, err
	}
	if rec == nil {
		return nil, true, model.ErrServiceNotFound()
	}
	return &serviceOutput{Service: presentService(rec, true)}, true, nil
}
