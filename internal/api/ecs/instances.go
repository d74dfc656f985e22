package ecs

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/iam"
	"github.com/flotta-dev/flotta/internal/iam/policy"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/placement"
	"github.com/flotta-dev/flotta/internal/scheduler"
	"github.com/flotta-dev/flotta/internal/state"
)

var (
	attrNameRE  = regexp.MustCompile(`^[a-zA-Z0-9_\-./\\]{1,128}$`)
	attrValueRE = regexp.MustCompile(`^[a-zA-Z0-9_\-.@/\\: ]{1,128}$`)
)

// MaxCustomAttributes is how many custom attributes an instance may carry.
const MaxCustomAttributes = 10

func isBuiltinAttribute(name string) bool {
	return strings.HasPrefix(name, "ecs.") || strings.HasPrefix(name, "com.amazonaws.ecs.")
}

func validateAttributes(attrs []model.Attribute) error {
	for _, a := range attrs {
		if !attrNameRE.MatchString(a.Name) {
			return model.InvalidParameter("Invalid attribute name %q: up to 128 letters, numbers, hyphens, underscores, periods and slashes.", model.Truncate(a.Name, 140))
		}
		if a.Value != "" && !attrValueRE.MatchString(a.Value) {
			return model.InvalidParameter("Invalid value %q for attribute %s: up to 128 letters, numbers, spaces and - _ . @ / \\ :.", model.Truncate(a.Value, 140), a.Name)
		}
	}
	return nil
}

// instanceID resolves a container instance id or ARN within a cluster.
func instanceID(ref string) (cluster, id string, err error) {
	if !model.IsARN(ref) {
		if ref == "" || strings.Contains(ref, "/") {
			return "", "", model.InvalidParameter("Invalid container instance identifier %q.", model.Truncate(ref, 300))
		}
		return "", ref, nil
	}
	cluster, id, err = model.ParseInstanceARN(ref)
	if err != nil {
		return "", "", model.InvalidParameter("Invalid container instance identifier %q: expected an id or arn:aws:ecs:REGION:ACCOUNT:container-instance/CLUSTER/ID.", model.Truncate(ref, 300))
	}
	return cluster, id, nil
}

func (a *API) instanceARN(cluster, id string) string {
	return a.State.Scope.InstanceARN(cluster, id)
}

// identityDocument is what an agent says about its machine.
type identityDocument struct {
	InstanceID       string `json:"instanceId"`
	AvailabilityZone string `json:"availabilityZone"`
	InstanceType     string `json:"instanceType"`
}

// RegisterContainerInstance registers (or re-registers) the caller's machine.
func (a *API) RegisterContainerInstance(ctx context.Context, in *flottaapi.RegisterContainerInstanceInput) (*flottaapi.ContainerInstanceOutput, error) {
	c, err := a.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	var doc identityDocument
	if in.InstanceIdentityDocument != "" {
		if err := json.Unmarshal([]byte(in.InstanceIdentityDocument), &doc); err != nil {
			return nil, model.InvalidParameter("instanceIdentityDocument is not a JSON document: %v.", err)
		}
	}
	cpu := model.FindResource(in.TotalResources, model.ResourceCPU)
	mem := model.FindResource(in.TotalResources, model.ResourceMemory)
	if cpu.IntegerValue <= 0 || mem.IntegerValue <= 0 {
		return nil, model.InvalidParameter("totalResources must give CPU and MEMORY as positive INTEGER resources.")
	}
	if err := validateAttributes(in.Attributes); err != nil {
		return nil, err
	}
	if err := model.ValidateTags(nil, in.Tags); err != nil {
		return nil, err
	}
	attrs := state.PutAttributes(nil, in.Attributes)
	if doc.AvailabilityZone != "" {
		attrs = state.PutAttributes(attrs, []model.Attribute{{Name: model.AttrZone, Value: doc.AvailabilityZone}})
	}
	if doc.InstanceType != "" {
		attrs = state.PutAttributes(attrs, []model.Attribute{{Name: model.AttrInstanceType, Value: doc.InstanceType}})
	}
	custom := 0
	for _, at := range attrs {
		if !isBuiltinAttribute(at.Name) {
			custom++
		}
	}
	if custom > MaxCustomAttributes {
		return nil, model.Errorf(model.CodeAttributeLimitExceeded, "A container instance can have at most %d custom attributes; this registration has %d.", MaxCustomAttributes, custom)
	}
	principal := a.caller(ctx)
	resources := []model.Resource{
		model.IntResource(model.ResourceCPU, cpu.IntegerValue),
		model.IntResource(model.ResourceMemory, mem.IntegerValue),
		model.PortsResource(model.ResourcePorts, model.FindResource(in.TotalResources, model.ResourcePorts).StringSetValue),
		model.PortsResource(model.ResourcePortsUDP, model.FindResource(in.TotalResources, model.ResourcePortsUDP).StringSetValue),
	}
	if g := model.FindResource(in.TotalResources, model.ResourceGPU); g.IntegerValue > 0 {
		resources = append(resources, model.IntResource(model.ResourceGPU, g.IntegerValue))
	}

	// Re-registration: by ARN, or by the same machine id, as ECS does.
	existingID := ""
	if in.ContainerInstanceArn != "" {
		cl, id, err := instanceID(in.ContainerInstanceArn)
		if err != nil {
			return nil, err
		}
		if cl != "" && cl != c.ClusterName {
			return nil, model.InvalidParameter("Container instance %s belongs to cluster %s, not %s.", in.ContainerInstanceArn, cl, c.ClusterName)
		}
		existingID = id
	} else if doc.InstanceID != "" {
		id, err := a.State.InstanceOfMachine(ctx, c.ClusterName, doc.InstanceID)
		if err != nil {
			return nil, err
		}
		if id != "" {
			if rec, err := a.State.GetInstance(ctx, c.ClusterName, id); err != nil {
				return nil, err
			} else if rec != nil && rec.Instance.Status != model.InstanceInactive {
				existingID = id
			}
		}
	}
	if existingID != "" {
		rec, err := a.State.UpdateInstance(ctx, c.ClusterName, existingID, func(r *state.InstanceRecord) error {
			if r.Principal != principal && !a.callerIsRoot(ctx) {
				return model.Errorf(model.CodeAccessDenied, "%s cannot re-register container instance %s, which belongs to another agent.", principal, r.Instance.ContainerInstanceArn)
			}
			if r.Instance.Status == model.InstanceInactive {
				r.Instance.Status = model.InstanceActive
			}
			r.Instance.RegisteredResources = resources
			r.Instance.Attributes = mergeCustom(r.Instance.Attributes, attrs)
			r.Instance.VersionInfo = in.VersionInfo
			return nil
		})
		if err != nil {
			return nil, err
		}
		if rec == nil {
			return nil, model.InvalidParameter("Container instance %s was not found in cluster %s.", in.ContainerInstanceArn, c.ClusterName)
		}
		return &flottaapi.ContainerInstanceOutput{ContainerInstance: a.presentInstance(ctx, rec, true)}, nil
	}
	id := state.NewID()
	ec2ID := doc.InstanceID
	if ec2ID == "" {
		ec2ID = id
	}
	rec := state.InstanceRecord{
		Cluster: c.ClusterName, ID: id, Principal: principal,
		Instance: model.ContainerInstance{
			ContainerInstanceArn: a.instanceARN(c.ClusterName, id),
			Ec2InstanceID:        ec2ID,
			VersionInfo:          in.VersionInfo,
			RegisteredResources:  resources,
			Status:               model.InstanceActive,
			Attributes:           attrs,
			RegisteredAt:         model.At(a.State.Now()),
			Tags:                 in.Tags,
			AgentUpdateStatus:    "",
		},
	}
	if err := a.State.PutInstance(ctx, rec); err != nil {
		return nil, err
	}
	a.Logger.Info("container instance registered", "cluster", c.ClusterName, "instance", id, "principal", principal)
	return &flottaapi.ContainerInstanceOutput{ContainerInstance: a.presentInstance(ctx, &rec, true)}, nil
}

// mergeCustom keeps the custom attributes set with PutAttributes and takes
// everything else from the agent's registration.
func mergeCustom(current, registered []model.Attribute) []model.Attribute {
	out := append([]model.Attribute(nil), registered...)
	for _, at := range current {
		if !isBuiltinAttribute(at.Name) {
			out = state.PutAttributes(out, []model.Attribute{at})
		}
	}
	return out
}

// presentInstance fills what is derived: remaining resources, connectivity and task counts.
func (a *API) presentInstance(ctx context.Context, r *state.InstanceRecord, withTags bool) *model.ContainerInstance {
	out := r.Instance
	out.RemainingResources = r.Remaining()
	if out.Attributes == nil {
		out.Attributes = []model.Attribute{}
	}
	connected, err := a.State.AgentConnected(ctx, r.ID)
	if err != nil {
		a.Logger.Warn("read agent session", "instance", r.ID, "err", err)
	}
	out.AgentConnected = connected && r.Instance.Status != model.InstanceInactive
	running, pending, err := a.State.CountInstanceTasks(ctx, r.Cluster, r.ID)
	if err != nil {
		a.Logger.Warn("count instance tasks", "instance", r.ID, "err", err)
	}
	out.RunningTasksCount, out.PendingTasksCount = running, pending
	out.Tags = model.PresentTags(out.Tags, withTags)
	return &out
}

type deregisterContainerInstanceInput struct {
	Cluster           string `json:"cluster"`
	ContainerInstance string `json:"containerInstance"`
	Force             bool   `json:"force"`
}

// DeregisterContainerInstance takes an instance out of its cluster. With
// tasks still on it, it needs force; those tasks are then stopped.
func (a *API) DeregisterContainerInstance(ctx context.Context, in *deregisterContainerInstanceInput) (*flottaapi.ContainerInstanceOutput, error) {
	c, id, err := a.clusterAndInstance(ctx, in.Cluster, in.ContainerInstance)
	if err != nil {
		return nil, err
	}
	if callerIsAgent(ctx) {
		// An agent deregisters its own instance, no other.
		own, err := a.State.GetInstance(ctx, c, id)
		if err != nil {
			return nil, err
		}
		if own != nil && own.Principal != a.caller(ctx) {
			return nil, iam.AccessDenied(a.caller(ctx), "ecs:DeregisterContainerInstance", own.Instance.ContainerInstanceArn, policy.Result{})
		}
	}
	running, pending, err := a.State.CountInstanceTasks(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if running+pending > 0 && !in.Force {
		return nil, model.InvalidParameter("Found running tasks on the instance.")
	}
	rec, err := a.State.UpdateInstance(ctx, c, id, func(r *state.InstanceRecord) error {
		r.Instance.Status = model.InstanceInactive
		return nil
	})
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, model.InvalidParameter("Container instance %s was not found in cluster %s.", in.ContainerInstance, c)
	}
	if err := a.State.OrphanInstanceTasks(ctx, c, id, "Container instance deregistered"); err != nil {
		return nil, err
	}
	if iam.IsAgent(rec.Principal) {
		// The instance's agent has nothing left to do: its credentials end
		// now (a retry of this call deletes what a failure here left).
		if _, err := a.State.DeleteAccessKeysOf(ctx, rec.Principal); err != nil {
			return nil, err
		}
	}
	return &flottaapi.ContainerInstanceOutput{ContainerInstance: a.presentInstance(ctx, rec, true)}, nil
}

// clusterAndInstance resolves a cluster reference and an instance reference.
func (a *API) clusterAndInstance(ctx context.Context, clusterRef, instanceRef string) (string, string, error) {
	if instanceRef == "" {
		return "", "", model.InvalidParameter("containerInstance is required.")
	}
	cl, id, err := instanceID(instanceRef)
	if err != nil {
		return "", "", err
	}
	c, err := a.activeCluster(ctx, clusterRef)
	if err != nil {
		return "", "", err
	}
	if cl != "" && cl != c.ClusterName {
		return "", "", model.InvalidParameter("Container instance %s is not in cluster %s.", instanceRef, c.ClusterName)
	}
	return c.ClusterName, id, nil
}

type describeContainerInstancesInput struct {
	Cluster            string   `json:"cluster"`
	ContainerInstances []string `json:"containerInstances"`
	Include            []string `json:"include"`
}

type describeContainerInstancesOutput struct {
	ContainerInstances []*model.ContainerInstance `json:"containerInstances"`
	Failures           []failure                  `json:"failures"`
}

// DescribeContainerInstances describes instances by id or ARN.
func (a *API) DescribeContainerInstances(ctx context.Context, in *describeContainerInstancesInput) (*describeContainerInstancesOutput, error) {
	withTags := false
	for _, inc := range in.Include {
		switch inc {
		case "TAGS":
			withTags = true
		case "CONTAINER_INSTANCE_HEALTH":
		default:
			return nil, model.InvalidParameter("include should be one of [TAGS,CONTAINER_INSTANCE_HEALTH]")
		}
	}
	// The cluster first, as ECS does (a missing cluster is reported even
	// for an empty list).
	c, err := a.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	if len(in.ContainerInstances) == 0 {
		return nil, model.Client("Container Instances cannot be empty.")
	}
	if len(in.ContainerInstances) > 100 {
		return nil, model.InvalidParameter("instanceIds can have at most 100 items.")
	}
	out := &describeContainerInstancesOutput{ContainerInstances: []*model.ContainerInstance{}, Failures: []failure{}}
	for _, ref := range in.ContainerInstances {
		cl, id, err := instanceID(ref)
		var rec *state.InstanceRecord
		if err == nil && (cl == "" || cl == c.ClusterName) {
			if rec, err = a.State.GetInstance(ctx, c.ClusterName, id); err != nil {
				return nil, err
			}
		}
		if rec == nil {
			arn := ref
			if !model.IsARN(ref) {
				arn = a.instanceARN(c.ClusterName, ref)
			}
			out.Failures = append(out.Failures, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		out.ContainerInstances = append(out.ContainerInstances, a.presentInstance(ctx, rec, withTags))
	}
	return out, nil
}

type listContainerInstancesInput struct {
	Cluster string `json:"cluster"`
	Filter  string `json:"filter"`
	Status  string `json:"status"`
	listInput
}

type listContainerInstancesOutput struct {
	ContainerInstanceArns []string `json:"containerInstanceArns"`
	NextToken             string   `json:"nextToken,omitempty"`
}

// ListContainerInstances lists a cluster's instances, optionally by status.
func (a *API) ListContainerInstances(ctx context.Context, in *listContainerInstancesInput) (*listContainerInstancesOutput, error) {
	switch in.Status {
	case "", model.InstanceActive, model.InstanceDraining, model.InstanceRegistering, "DEREGISTERING", "REGISTRATION_FAILED":
	default:
		return nil, model.InvalidParameter("status should be one of [ACTIVE,DRAINING,REGISTERING,DEREGISTERING,REGISTRATION_FAILED]")
	}
	var filter *placement.Query
	if in.Filter != "" {
		q, err := placement.Parse(in.Filter)
		if err != nil {
			return nil, model.InvalidParameter("Invalid filter %q: %v.", model.Truncate(in.Filter, 300), err)
		}
		filter = q
	}
	limit, err := state.PageSize(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	c, err := a.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	var keep func(r *state.InstanceRecord) (bool, error)
	if filter != nil {
		keep = func(r *state.InstanceRecord) (bool, error) {
			connected, err := a.State.AgentConnected(ctx, r.ID)
			if err != nil {
				return false, err
			}
			return filter.Match(scheduler.NodeOf(r, connected)), nil
		}
	}
	arns, next, err := a.State.ListInstanceARNs(ctx, c.ClusterName, in.Status, keep, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	if arns == nil {
		arns = []string{}
	}
	return &listContainerInstancesOutput{ContainerInstanceArns: arns, NextToken: next}, nil
}

type updateContainerInstancesStateInput struct {
	Cluster            string   `json:"cluster"`
	ContainerInstances []string `json:"containerInstances"`
	Status             string   `json:"status"`
}

// UpdateContainerInstancesState sets instances ACTIVE or DRAINING.
func (a *API) UpdateContainerInstancesState(ctx context.Context, in *updateContainerInstancesStateInput) (*describeContainerInstancesOutput, error) {
	if in.Status != model.InstanceActive && in.Status != model.InstanceDraining {
		return nil, model.InvalidParameter("status should be one of [ACTIVE,DRAINING]")
	}
	if len(in.ContainerInstances) == 0 || len(in.ContainerInstances) > 10 {
		return nil, model.InvalidParameter("containerInstances must name between 1 and 10 container instances.")
	}
	c, err := a.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	out := &describeContainerInstancesOutput{ContainerInstances: []*model.ContainerInstance{}, Failures: []failure{}}
	for _, ref := range in.ContainerInstances {
		cl, id, err := instanceID(ref)
		var rec *state.InstanceRecord
		if err == nil && (cl == "" || cl == c.ClusterName) {
			rec, err = a.State.UpdateInstance(ctx, c.ClusterName, id, func(r *state.InstanceRecord) error {
				if r.Instance.Status == model.InstanceInactive {
					return model.InvalidParameter("Container instance %s is deregistered.", ref)
				}
				r.Instance.Status = in.Status
				return nil
			})
			if refusal, ok := err.(*model.Error); ok {
				out.Failures = append(out.Failures, failure{Arn: ref, Reason: "INACTIVE", Detail: refusal.Message})
				continue
			}
			if err != nil {
				return nil, err
			}
		}
		if rec == nil {
			out.Failures = append(out.Failures, failure{Arn: ref, Reason: "MISSING"})
			continue
		}
		out.ContainerInstances = append(out.ContainerInstances, a.presentInstance(ctx, rec, false))
	}
	return out, nil
}

// callerIsAgent says whether the caller is an agent identity.
func callerIsAgent(ctx context.Context) bool {
	p, _ := iam.PrincipalFrom(ctx)
	return iam.IsAgent(p.ARN)
}

type discoverPollEndpointInput struct {
	Cluster           string `json:"cluster"`
	ContainerInstance string `json:"containerInstance"`
}

type discoverPollEndpointOutput struct {
	Endpoint               string `json:"endpoint"`
	TelemetryEndpoint      string `json:"telemetryEndpoint"`
	ServiceConnectEndpoint string `json:"serviceConnectEndpoint"`
}

// DiscoverPollEndpoint tells an agent where to poll: here. One server
// answers the agent protocol, telemetry and everything else.
func (a *API) DiscoverPollEndpoint(ctx context.Context, in *discoverPollEndpointInput) (*discoverPollEndpointOutput, error) {
	if _, _, err := a.clusterName(in.Cluster); err != nil {
		return nil, err
	}
	if in.ContainerInstance != "" {
		if _, _, err := instanceID(in.ContainerInstance); err != nil {
			return nil, err
		}
	}
	if a.Endpoint == nil {
		return nil, model.Errorf(model.CodeServer, "This server does not know its own endpoint.")
	}
	e := a.Endpoint() + "/"
	return &discoverPollEndpointOutput{Endpoint: e, TelemetryEndpoint: e, ServiceConnectEndpoint: e}, nil
}
