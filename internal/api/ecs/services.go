package ecs

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/placement"
	"github.com/flotta-dev/flotta/internal/state"
)

var serviceNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)

type serviceInput struct {
	Cluster                       string                               `json:"cluster"`
	ServiceName                   string                               `json:"serviceName"`
	Service                       string                               `json:"service"`
	TaskDefinition                string                               `json:"taskDefinition"`
	LoadBalancers                 []model.LoadBalancer                 `json:"loadBalancers"`
	ServiceRegistries             []model.ServiceRegistry              `json:"serviceRegistries"`
	DesiredCount                  *int                                 `json:"desiredCount"`
	LaunchType                    string                               `json:"launchType"`
	CapacityProviderStrategy      []model.CapacityProviderStrategyItem `json:"capacityProviderStrategy"`
	DeploymentConfiguration       *model.DeploymentConfiguration       `json:"deploymentConfiguration"`
	PlacementConstraints          []model.PlacementConstraint          `json:"placementConstraints"`
	PlacementStrategy             []model.PlacementStrategy            `json:"placementStrategy"`
	NetworkConfiguration          json.RawMessage                      `json:"networkConfiguration"`
	HealthCheckGracePeriodSeconds *int                                 `json:"healthCheckGracePeriodSeconds"`
	SchedulingStrategy            string                               `json:"schedulingStrategy"`
	DeploymentController          *model.DeploymentController          `json:"deploymentController"`
	Tags                          []model.Tag                          `json:"tags"`
	EnableECSManagedTags          *bool                                `json:"enableECSManagedTags"`
	PropagateTags                 string                               `json:"propagateTags"`
	EnableExecuteCommand          *bool                                `json:"enableExecuteCommand"`
	ForceNewDeployment            bool                                 `json:"forceNewDeployment"`
	Role                          string                               `json:"role"`
	ClientToken                   string                               `json:"clientToken"`
}

type serviceOutput struct {
	Service *model.Service `json:"service"`
}

// checkServiceSettings validates what CreateService and UpdateService share.
func (a *API) checkServiceSettings(in *serviceInput, daemon bool) error {
	if in.DesiredCount != nil && *in.DesiredCount < 0 {
		return model.InvalidParameter("desiredCount must be 0 or more; got %d.", *in.DesiredCount)
	}
	if in.DesiredCount != nil && *in.DesiredCount > a.State.Quotas().TasksPerService {
		return model.ErrDesiredCountLimit()
	}
	if daemon && in.DesiredCount != nil {
		return model.InvalidParameter("The daemon scheduling strategy does not support a desired count for services.")
	}
	if err := model.ValidateDeploymentConfiguration(in.DeploymentConfiguration, daemon); err != nil {
		return err
	}
	// A blue/green, linear or canary strategy needs a load balancer with an
	// advancedConfiguration: checked where the request gives both, as
	// CreateService does (an UpdateService may give only one of them).
	if in.Service == "" || (in.DeploymentConfiguration != nil && in.LoadBalancers != nil) {
		strategy := ""
		if in.DeploymentConfiguration != nil {
			strategy = in.DeploymentConfiguration.Strategy
		}
		if err := model.CheckStrategyLoadBalancers(strategy, in.LoadBalancers); err != nil {
			return err
		}
	}
	switch in.LaunchType {
	case "", "EC2", "EXTERNAL":
	case "FARGATE", "MANAGED_INSTANCES":
		return model.InvalidParameter("Launch type %s is not supported yet; run services on container instances (EC2).", in.LaunchType)
	default:
		// ECS's words (moto's test_create_service_errors has them).
		return model.Client("launch type should be one of [EC2,FARGATE]")
	}
	if g := in.HealthCheckGracePeriodSeconds; g != nil && (*g < 0 || *g > 2147483647) {
		return model.InvalidParameter("healthCheckGracePeriodSeconds must be between 0 and 2147483647.")
	}
	switch in.PropagateTags {
	case "", "NONE", "SERVICE", "TASK_DEFINITION":
	default:
		return model.InvalidParameter("propagateTags should be one of [TASK_DEFINITION,SERVICE,NONE]")
	}
	return nil
}

// activeTaskDefinition resolves a task definition a service may run.
func (a *API) activeTaskDefinition(ctx context.Context, ref string) (*state.TaskDefRecord, error) {
	rec, err := a.findTaskDefinition(ctx, ref)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, model.Client("TaskDefinition not found.")
	}
	if rec.TaskDefinition.Status != model.TaskDefActive {
		return nil, model.Client("TaskDefinition is inactive: %s cannot start new tasks.", rec.TaskDefinition.TaskDefinitionArn)
	}
	return rec, nil
}

// CreateService creates a service and its first deployment.
func (a *API) CreateService(ctx context.Context, in *serviceInput) (*serviceOutput, error) {
	if in.ServiceName == "" {
		return nil, model.InvalidParameter("serviceName is required.")
	}
	if !serviceNameRE.MatchString(in.ServiceName) {
		return nil, model.InvalidParameter("Service name %q is invalid: up to 255 letters, numbers, hyphens and underscores.", model.Truncate(in.ServiceName, 300))
	}
	scheduling := in.SchedulingStrategy
	switch scheduling {
	case "":
		scheduling = model.SchedulingReplica
	case model.SchedulingReplica, model.SchedulingDaemon:
	default:
		return nil, model.InvalidParameter("schedulingStrategy should be one of [REPLICA,DAEMON]")
	}
	daemon := scheduling == model.SchedulingDaemon
	if err := a.checkServiceSettings(in, daemon); err != nil {
		return nil, err
	}
	if err := a.passRoles(ctx, servicePrincipal, in.Role); err != nil {
		return nil, err
	}
	external, err := deploymentControllerOf(in, daemon)
	if err != nil {
		return nil, err
	}
	if err := model.ValidateTags(nil, in.Tags); err != nil {
		return nil, err
	}
	c, err := a.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	if err := checkStrategy(c, in.LaunchType, in.CapacityProviderStrategy); err != nil {
		return nil, err
	}
	var td *state.TaskDefRecord
	if !external {
		if in.TaskDefinition == "" {
			return nil, model.InvalidParameter("taskDefinition is required.")
		}
		if td, err = a.activeTaskDefinition(ctx, in.TaskDefinition); err != nil {
			return nil, err
		}
		if _, _, err := placement.Rules(&td.TaskDefinition, in.PlacementConstraints, in.PlacementStrategy); err != nil {
			return nil, err
		}
		if err := a.checkLoadBalancers(ctx, in.LoadBalancers, &td.TaskDefinition); err != nil {
			return nil, err
		}
		if err := a.checkServiceRegistries(ctx, in.ServiceRegistries, &td.TaskDefinition); err != nil {
			return nil, err
		}
	} else if len(in.ServiceRegistries) > 0 {
		return nil, model.InvalidParameter("Service registries are not supported for services with the EXTERNAL deployment controller: give them to task sets.")
	} else if _, _, err := placement.Rules(&model.TaskDefinition{}, in.PlacementConstraints, in.PlacementStrategy); err != nil {
		return nil, err
	}
	lbs := in.LoadBalancers
	if lbs == nil {
		lbs = []model.LoadBalancer{}
	}
	regs := in.ServiceRegistries
	if regs == nil {
		regs = []model.ServiceRegistry{}
	}
	desired := 0
	if in.DesiredCount != nil {
		desired = *in.DesiredCount
	}
	svc := model.Service{
		ServiceArn: a.State.ServiceARN(c.ClusterName, in.ServiceName), ServiceName: in.ServiceName, ClusterArn: c.ClusterArn,
		LoadBalancers: lbs, ServiceRegistries: regs, Status: model.ServiceActive,
		DesiredCount: desired, LaunchType: "EC2",
		DeploymentConfiguration: deploymentConfiguration(in.DeploymentConfiguration, daemon),
		Events:                  []model.ServiceEvent{}, CreatedAt: model.At(a.State.Now()),
		PlacementConstraints: toConstraints(in.PlacementConstraints), PlacementStrategy: toStrategies(in.PlacementStrategy, daemon),
		NetworkConfiguration: in.NetworkConfiguration, HealthCheckGracePeriodSeconds: in.HealthCheckGracePeriodSeconds,
		SchedulingStrategy: scheduling, DeploymentController: &model.DeploymentController{Type: model.DeploymentControllerECS},
		Tags: in.Tags, CreatedBy: a.caller(ctx), PropagateTags: orNone(in.PropagateTags), RoleArn: in.Role,
	}
	if in.EnableECSManagedTags != nil {
		svc.EnableECSManagedTags = *in.EnableECSManagedTags
	}
	if in.EnableExecuteCommand != nil {
		svc.EnableExecuteCommand = *in.EnableExecuteCommand
	}
	if external {
		// An EXTERNAL service runs nothing of its own: its task sets bring
		// the task definition, launch type and load balancers.
		svc.LaunchType = ""
		svc.DeploymentController.Type = model.DeploymentControllerExternal
		svc.TaskSets = []model.TaskSet{}
	}
	rec := state.ServiceRecord{Cluster: c.ClusterName, Name: in.ServiceName, Service: svc, ClientToken: in.ClientToken}
	if !external {
		a.State.StartDeployment(&rec, &td.TaskDefinition, nil, "")
	}
	existing, err := a.State.CreateService(ctx, rec)
	if err != nil {
		return nil, err
	}
	if existing != nil {
		// A retried request (same token, or the same recipe when no token
		// was given) gets the service it created; anything else is a clash.
		if sameCreate(existing, &rec) {
			return &serviceOutput{Service: presentService(existing, true)}, nil
		}
		return nil, model.InvalidParameter("Creation of service was not idempotent. A service named %s already exists in cluster %s.", in.ServiceName, c.ClusterName)
	}
	return &serviceOutput{Service: presentService(&rec, true)}, nil
}

// deploymentControllerOf checks a CreateService request's deployment
// controller, and says whether it is EXTERNAL. Such a service leaves to its
// task sets what they carry: ECS refuses a task definition for it in these
// words ("TaskDefinition must be blank.", seen in aws/aws-cdk#6245), and
// Flotta the other task set fields in the same form.
func deploymentControllerOf(in *serviceInput, daemon bool) (bool, error) {
	dc := in.DeploymentController
	if dc == nil {
		return false, nil
	}
	switch dc.Type {
	case model.DeploymentControllerECS:
		return false, nil
	case model.DeploymentControllerExternal:
	case model.DeploymentControllerCodeDeploy:
		return false, model.InvalidParameter("Deployment controller CODE_DEPLOY is not supported; use ECS, or EXTERNAL with task sets.")
	default:
		return false, model.InvalidParameter("deploymentController.type should be one of [ECS,CODE_DEPLOY,EXTERNAL]")
	}
	switch {
	case daemon:
		return false, model.InvalidParameter("The EXTERNAL deployment controller does not support the DAEMON scheduling strategy.")
	case in.TaskDefinition != "":
		return false, model.InvalidParameter("TaskDefinition must be blank.")
	case len(in.LoadBalancers) > 0:
		return false, model.InvalidParameter("LoadBalancers must be blank.")
	case in.LaunchType != "":
		return false, model.InvalidParameter("LaunchType must be blank.")
	case len(in.CapacityProviderStrategy) > 0:
		return false, model.InvalidParameter("CapacityProviderStrategy must be blank.")
	case len(in.NetworkConfiguration) > 0 && string(in.NetworkConfiguration) != "null":
		return false, model.InvalidParameter("NetworkConfiguration must be blank.")
	}
	return true, nil
}

// sameCreate says whether a CreateService request repeats the one that made
// an existing service.
func sameCreate(existing, req *state.ServiceRecord) bool {
	if existing.ClientToken != "" || req.ClientToken != "" {
		return existing.ClientToken == req.ClientToken
	}
	e, r := existing.Service, req.Service
	return e.TaskDefinition == r.TaskDefinition && e.DesiredCount == r.DesiredCount && e.SchedulingStrategy == r.SchedulingStrategy
}

func orNone(s string) string {
	if s == "" {
		return "NONE"
	}
	return s
}

// deploymentConfiguration fills in ECS's defaults.
func deploymentConfiguration(c *model.DeploymentConfiguration, daemon bool) *model.DeploymentConfiguration {
	out := model.DeploymentConfiguration{}
	if c != nil {
		out = *c
	}
	minH, maxP := out.Percentages(daemon)
	out.MinimumHealthyPercent, out.MaximumPercent = &minH, &maxP
	if out.DeploymentCircuitBreaker == nil {
		out.DeploymentCircuitBreaker = &model.DeploymentCircuitBreaker{}
	}
	if out.Strategy == "" {
		out.Strategy = "ROLLING"
	}
	// Canary and linear settings show ECS's documented defaults.
	out.WithTrafficShiftDefaults()
	return &out
}

// toConstraints keeps a service's constraints, an empty list for none.
func toConstraints(in []model.PlacementConstraint) []model.PlacementConstraint {
	return append([]model.PlacementConstraint{}, in...)
}

// toStrategies keeps a service's strategies; a REPLICA service without any
// spreads over availability zones, then instances, as ECS does.
func toStrategies(in []model.PlacementStrategy, daemon bool) []model.PlacementStrategy {
	out := append([]model.PlacementStrategy{}, in...)
	if len(out) == 0 && !daemon {
		out = []model.PlacementStrategy{{Type: "spread", Field: "attribute:ecs.availability-zone"}, {Type: "spread", Field: "instanceId"}}
	}
	return out
}

// presentService shapes a service for an answer.
func presentService(r *state.ServiceRecord, withTags bool) *model.Service {
	s := r.Service
	if s.IsExternal() {
		// A tool deploys it: it shows task sets, not deployments.
		s.TaskSets = make([]model.TaskSet, 0, len(r.Service.TaskSets))
		for _, ts := range r.Service.TaskSets {
			s.TaskSets = append(s.TaskSets, *presentTaskSet(ts, false))
		}
	}
	s.Deployments = make([]model.Deployment, 0, len(r.Deployments))
	for _, d := range r.Deployments {
		s.Deployments = append(s.Deployments, d.Deployment)
	}
	s.CurrentServiceRevisions = nil
	for _, d := range r.Deployments {
		s.CurrentServiceRevisions = append(s.CurrentServiceRevisions, model.ServiceRevisionSummary{Arn: d.RevisionArn,
			RequestedTaskCount: d.DesiredCount, RunningTaskCount: d.RunningCount, PendingTaskCount: d.PendingCount})
	}
	s.Tags = model.PresentTags(s.Tags, withTags)
	return &s
}

// serviceRef resolves a service name or ARN in a cluster.
func (a *API) serviceRef(ctx context.Context, clusterRef, ref string) (*model.Cluster, string, error) {
	if ref == "" {
		return nil, "", model.InvalidParameter("service is required.")
	}
	c, err := a.activeCluster(ctx, clusterRef)
	if err != nil {
		return nil, "", err
	}
	name := ref
	if model.IsARN(ref) {
		arn, err := model.ParseARN(ref)
		parts := strings.Split(arn.Resource, "/")
		if err != nil || arn.Service != "ecs" || parts[0] != "service" || len(parts) < 2 {
			return nil, "", model.InvalidParameter("Invalid service identifier %q.", model.Truncate(ref, 300))
		}
		name = parts[len(parts)-1]
		if len(parts) == 3 && parts[1] != c.ClusterName {
			return nil, "", model.InvalidParameter("Invalid identifier: Identifier is for cluster %s. Your cluster is %s", parts[1], c.ClusterName)
		}
	}
	if !serviceNameRE.MatchString(name) {
		return nil, "", model.InvalidParameter("Invalid service identifier %q.", model.Truncate(ref, 300))
	}
	return c, name, nil
}

// UpdateService changes a service; a new task definition, forceNewDeployment
// or new placement settings start a new deployment.
func (a *API) UpdateService(ctx context.Context, in *serviceInput) (*serviceOutput, error) {
	if out, ok, err := a.updateExternalService(ctx, in); ok {
		return out, err
	}
	c, cur, td, err := a.updateTarget(ctx, in)
	if err != nil {
		return nil, err
	}
	name, daemon := cur.Name, cur.Service.SchedulingStrategy == model.SchedulingDaemon
	rec, err := a.State.UpdateService(ctx, c.ClusterName, name, func(r *state.ServiceRecord) error {
		_, err := a.applyServiceUpdate(r, in, td, daemon)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &serviceOutput{Service: presentService(rec, true)}, nil
}

// updateTarget checks an UpdateService request against the service it
// names, and returns the service and the task definition it would run.
func (a *API) updateTarget(ctx context.Context, in *serviceInput) (*model.Cluster, *state.ServiceRecord, *state.TaskDefRecord, error) {
	c, name, err := a.serviceRef(ctx, in.Cluster, in.Service)
	if err != nil {
		return nil, nil, nil, err
	}
	cur, err := a.State.GetService(ctx, c.ClusterName, name)
	if err != nil {
		return nil, nil, nil, err
	}
	if cur == nil {
		return nil, nil, nil, model.ErrServiceNotFound()
	}
	daemon := cur.Service.SchedulingStrategy == model.SchedulingDaemon
	if err := a.checkServiceSettings(in, daemon); err != nil {
		return nil, nil, nil, err
	}
	if err := checkStrategy(c, in.LaunchType, in.CapacityProviderStrategy); err != nil {
		return nil, nil, nil, err
	}
	var td *state.TaskDefRecord
	if in.TaskDefinition != "" {
		if td, err = a.activeTaskDefinition(ctx, in.TaskDefinition); err != nil {
			return nil, nil, nil, err
		}
	} else if td, err = a.findTaskDefinition(ctx, cur.Service.TaskDefinition); err != nil || td == nil {
		if err == nil {
			err = model.Client("TaskDefinition not found.")
		}
		return nil, nil, nil, err
	}
	if in.PlacementConstraints != nil || in.PlacementStrategy != nil {
		if _, _, err := placement.Rules(&td.TaskDefinition, in.PlacementConstraints, in.PlacementStrategy); err != nil {
			return nil, nil, nil, err
		}
	}
	// The load balancers, new or kept, must fit the task definition that
	// will run.
	lbs := cur.Service.LoadBalancers
	if in.LoadBalancers != nil {
		lbs = in.LoadBalancers
	}
	if err := a.checkLoadBalancers(ctx, lbs, &td.TaskDefinition); err != nil {
		return nil, nil, nil, err
	}
	regs := cur.Service.ServiceRegistries
	if in.ServiceRegistries != nil {
		regs = in.ServiceRegistries
	}
	if err := a.checkServiceRegistries(ctx, regs, &td.TaskDefinition); err != nil {
		return nil, nil, nil, err
	}
	// The strategy, new or kept, must have the load balancers it shifts
	// traffic with (a deploymentConfiguration replaces the whole one).
	strategy := ""
	if dc := cur.Service.DeploymentConfiguration; dc != nil {
		strategy = dc.Strategy
	}
	if in.DeploymentConfiguration != nil {
		strategy = in.DeploymentConfiguration.Strategy
	}
	if err := model.CheckStrategyLoadBalancers(strategy, lbs); err != nil {
		return nil, nil, nil, err
	}
	return c, cur, td, nil
}

// applyServiceUpdate changes a service record as UpdateService asks, and
// says whether that starts a new deployment.
func (a *API) applyServiceUpdate(r *state.ServiceRecord, in *serviceInput, td *state.TaskDefRecord, daemon bool) (bool, error) {
	s := &r.Service
	if s.Status != model.ServiceActive {
		return false, model.Errorf(model.CodeServiceNotActive, "Service was not ACTIVE.")
	}
	redeploy := in.ForceNewDeployment || td.TaskDefinition.TaskDefinitionArn != s.TaskDefinition
	if in.DesiredCount != nil {
		s.DesiredCount = *in.DesiredCount
		if len(r.Deployments) > 0 {
			r.Deployments[0].DesiredCount = *in.DesiredCount
		}
	}
	if in.DeploymentConfiguration != nil {
		s.DeploymentConfiguration = deploymentConfiguration(in.DeploymentConfiguration, daemon)
	}
	if in.PlacementConstraints != nil {
		s.PlacementConstraints = toConstraints(in.PlacementConstraints)
		redeploy = true
	}
	if in.PlacementStrategy != nil {
		s.PlacementStrategy = toStrategies(in.PlacementStrategy, daemon)
		redeploy = true
	}
	if in.NetworkConfiguration != nil {
		s.NetworkConfiguration = in.NetworkConfiguration
		redeploy = true
	}
	if in.HealthCheckGracePeriodSeconds != nil {
		s.HealthCheckGracePeriodSeconds = in.HealthCheckGracePeriodSeconds
	}
	if in.ServiceRegistries != nil {
		// As in ECS, a change of service registries is a new deployment.
		s.ServiceRegistries = in.ServiceRegistries
		redeploy = true
	}
	if in.LoadBalancers != nil {
		// A change of target groups is a new deployment, as in ECS: the
		// new tasks register with the new groups.
		s.LoadBalancers = in.LoadBalancers
		redeploy = true
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
	if redeploy {
		a.State.StartDeployment(r, &td.TaskDefinition, nil, "")
	}
	r.Steady = false
	return redeploy, nil
}

// PlanServiceUpdate answers what an UpdateService with the same input would
// do, step by step, without doing it.
func (a *API) PlanServiceUpdate(ctx context.Context, in *serviceInput) (*flottaapi.RolloutPlan, error) {
	if a.PlanRollout == nil {
		return nil, model.Errorf(model.CodeServer, "This server cannot plan rollouts.")
	}
	_, cur, td, err := a.updateTarget(ctx, in)
	if err != nil {
		return nil, err
	}
	next, err := copyRecord(cur)
	if err != nil {
		return nil, err
	}
	redeploy, err := a.applyServiceUpdate(next, in, td, cur.Service.SchedulingStrategy == model.SchedulingDaemon)
	if err != nil {
		return nil, err
	}
	return a.PlanRollout(ctx, next, redeploy)
}

func copyRecord(r *state.ServiceRecord) (*state.ServiceRecord, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var out state.ServiceRecord
	return &out, json.Unmarshal(b, &out)
}

type deleteServiceInput struct {
	Cluster string `json:"cluster"`
	Service string `json:"service"`
	Force   bool   `json:"force"`
}

// DeleteService drains a service: its tasks stop, and then it is INACTIVE.
func (a *API) DeleteService(ctx context.Context, in *deleteServiceInput) (*serviceOutput, error) {
	c, name, err := a.serviceRef(ctx, in.Cluster, in.Service)
	if err != nil {
		return nil, err
	}
	rec, err := a.State.UpdateService(ctx, c.ClusterName, name, func(r *state.ServiceRecord) error {
		s := &r.Service
		if s.Status != model.ServiceActive {
			return model.Errorf(model.CodeServiceNotActive, "Service was not ACTIVE.")
		}
		if s.SchedulingStrategy == model.SchedulingReplica && s.DesiredCount > 0 && !in.Force {
			return model.InvalidParameter("The service cannot be stopped while it is scaled above 0.")
		}
		s.Status, s.DesiredCount = model.ServiceDraining, 0
		for i := range r.Deployments {
			r.Deployments[i].DesiredCount = 0
		}
		r.Steady = false
		return nil
	})
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, model.ErrServiceNotFound()
	}
	return &serviceOutput{Service: presentService(rec, true)}, nil
}

type describeServicesInput struct {
	Cluster  string   `json:"cluster"`
	Services []string `json:"services"`
	Include  []string `json:"include"`
}

type describeServicesOutput struct {
	Services []*model.Service `json:"services"`
	Failures []failure        `json:"failures"`
}

// DescribeServices describes up to 10 services.
func (a *API) DescribeServices(ctx context.Context, in *describeServicesInput) (*describeServicesOutput, error) {
	withTags, err := includeTags(in.Include)
	if err != nil {
		return nil, err
	}
	if len(in.Services) == 0 {
		return nil, model.InvalidParameter("services can not be empty.")
	}
	if len(in.Services) > 10 {
		return nil, model.InvalidParameter("service names can have at most 10 items.")
	}
	out := &describeServicesOutput{Services: []*model.Service{}, Failures: []failure{}}
	for _, ref := range in.Services {
		c, name, err := a.serviceRef(ctx, in.Cluster, ref)
		if err != nil {
			return nil, err
		}
		rec, err := a.State.GetService(ctx, c.ClusterName, name)
		if err != nil {
			return nil, err
		}
		if rec == nil {
			// ECS names a missing service without its cluster (seen in real
			// answers, e.g. aws-actions/amazon-ecs-deploy-task-definition#312).
			out.Failures = append(out.Failures, failure{Arn: a.State.Scope.ShortServiceARN(name), Reason: "MISSING"})
			continue
		}
		out.Services = append(out.Services, presentService(rec, withTags))
	}
	return out, nil
}

type listServicesInput struct {
	Cluster            string `json:"cluster"`
	LaunchType         string `json:"launchType"`
	SchedulingStrategy string `json:"schedulingStrategy"`
	listInput
}

type listServicesOutput struct {
	ServiceArns []string `json:"serviceArns"`
	NextToken   string   `json:"nextToken,omitempty"`
}

// ListServices lists a cluster's services, 10 a page by default.
func (a *API) ListServices(ctx context.Context, in *listServicesInput) (*listServicesOutput, error) {
	switch in.SchedulingStrategy {
	case "", model.SchedulingReplica, model.SchedulingDaemon:
	default:
		return nil, model.InvalidParameter("schedulingStrategy should be one of [REPLICA,DAEMON]")
	}
	limit, err := state.PageSize(in.MaxResults, 10, 100)
	if err != nil {
		return nil, err
	}
	c, err := a.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	arns, next, err := a.State.ListServiceARNs(ctx, c.ClusterName, func(r *state.ServiceRecord) bool {
		return (in.SchedulingStrategy == "" || r.Service.SchedulingStrategy == in.SchedulingStrategy) &&
			(in.LaunchType == "" || r.Service.LaunchType == in.LaunchType)
	}, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	if arns == nil {
		arns = []string{}
	}
	return &listServicesOutput{ServiceArns: arns, NextToken: next}, nil
}
