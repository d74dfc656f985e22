package ecs

import (
	"context"
	"strconv"
	"strings"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/protocol/awsjson"
	"github.com/flotta-dev/flotta/internal/state"
)

// What each ECS action is authorized on, after AWS's service authorization
// reference ("Actions, resources, and condition keys for Amazon Elastic
// Container Service"). The resources and keys follow its actions table; where
// the table names no resource type the action is checked against "*".
//
// Every ARN here is built from this server's scope and names that a handler
// would accept, never copied from the request: the handlers ignore the
// account and region of a service, task or container instance ARN and act on
// this account's resource of that name, so that resource is what must be
// authorized. A reference the handler would refuse makes the call "*", which
// a policy that names resources does not allow; the handler then refuses it.

// Authz is what one ECS call is authorized on: IAM evaluates the action
// against each resource in turn, with the same condition context.
type Authz struct {
	// Resources are the ARNs the action is checked against, or "*" when
	// the action supports no resource-level permission (ListClusters,
	// RegisterTaskDefinition's family before it exists, account settings).
	Resources []string
	// Context holds the request's condition keys that the action supports:
	// "ecs:cluster", "ecs:service", "ecs:task-definition",
	// "ecs:container-instances", "ecs:capacity-provider" (ARNs),
	// "ecs:enable-execute-command" and the other flags ("true" or "false"),
	// "ecs:account-setting", "aws:RequestTag/KEY" and "aws:TagKeys".
	// A key with several values (a call about several clusters) lists them
	// all; an absent key is one the request does not carry.
	Context map[string][]string
}

// anyResource is the resource of an action that supports no resource-level
// permission, and of a request whose references cannot be read.
const anyResource = "*"

// LatestRevision says which revision is the latest ACTIVE one of a task
// definition family, or 0 when there is none or it cannot be told.
type LatestRevision func(family string) int

// AuthzFor says what operation op, with its JSON body, is authorized on in
// this server's account. A task definition named by family alone is
// authorized as its latest ACTIVE revision, as ECS has done since March 2024.
// It never fails: what it cannot read it authorizes on "*", and the handler
// refuses the request afterwards.
func (a *API) AuthzFor(ctx context.Context, op string, body []byte) Authz {
	return ResolveAuthz(a.State.Scope, op, body, func(family string) int {
		rec, err := a.State.GetTaskDefinition(ctx, family, 0)
		if err != nil || rec == nil {
			return 0
		}
		return rec.TaskDefinition.Revision
	})
}

// ResolveAuthz is AuthzFor without the store: scope gives the partition,
// region and account of the ARNs, and latest (which may be nil) resolves a
// bare family. Without a revision a family is authorized as
// task-definition/FAMILY:*, which only a policy granting the whole family
// (or everything) allows. Operations it does not know are "*".
func ResolveAuthz(scope model.Scope, op string, body []byte, latest LatestRevision) Authz {
	rule, ok := authzRules[op]
	if !ok {
		return Authz{Resources: []string{anyResource}, Context: map[string][]string{}}
	}
	b := &authzBuilder{scope: scope, latest: latest, ctx: map[string][]string{}}
	if !rule(b, body) {
		return Authz{Resources: []string{anyResource}, Context: map[string][]string{}}
	}
	if len(b.resources) == 0 {
		b.resources = []string{anyResource}
	}
	return Authz{Resources: b.resources, Context: b.ctx}
}

// authzBuilder collects one call's resources and condition keys.
type authzBuilder struct {
	scope     model.Scope
	latest    LatestRevision
	resources []string
	ctx       map[string][]string
}

// authzRule reads a body into b; false means the body could not be decoded.
type authzRule func(b *authzBuilder, body []byte) bool

func (b *authzBuilder) resource(arn string) {
	for _, r := range b.resources {
		if r == arn {
			return
		}
	}
	b.resources = append(b.resources, arn)
}

func (b *authzBuilder) set(key string, values ...string) {
	for _, v := range values {
		dup := false
		for _, have := range b.ctx[key] {
			dup = dup || have == v
		}
		if !dup {
			b.ctx[key] = append(b.ctx[key], v)
		}
	}
}

func (b *authzBuilder) arn(resource string) string {
	return model.ARN{Partition: b.scope.Partition, Service: "ecs", Region: b.scope.Region, Account: b.scope.Account,
		Resource: resource}.String()
}

// cluster reads a cluster reference as the handlers do ("" is the default
// cluster) and returns its ARN, or false for one they would refuse.
func (b *authzBuilder) cluster(ref string) (name, arn string, ok bool) {
	name = ref
	if ref == "" {
		name = DefaultCluster
	} else if model.IsARN(ref) {
		a, err := model.ParseARN(ref)
		if err != nil || a.Service != "ecs" || !strings.HasPrefix(a.Resource, "cluster/") {
			return "", "", false
		}
		name = strings.TrimPrefix(a.Resource, "cluster/")
	}
	if !model.ValidName(name) {
		return "", "", false
	}
	return name, b.scope.ClusterARN(name), true
}

// serviceARN reads a service name or ARN (short or long form) in a cluster.
func (b *authzBuilder) serviceARN(cluster, ref string) (string, bool) {
	name := ref
	if model.IsARN(ref) {
		a, err := model.ParseARN(ref)
		parts := strings.Split(a.Resource, "/")
		if err != nil || a.Service != "ecs" || parts[0] != "service" || len(parts) < 2 {
			return "", false
		}
		if len(parts) == 3 && parts[1] != cluster {
			return "", false
		}
		name = parts[len(parts)-1]
	}
	if !serviceNameRE.MatchString(name) {
		return "", false
	}
	return b.arn("service/" + cluster + "/" + name), true
}

// taskARN reads a task id or ARN in a cluster, as taskID does.
func (b *authzBuilder) taskARN(cluster, ref string) (string, bool) {
	id := ref
	if model.IsARN(ref) {
		a, err := model.ParseARN(ref)
		if err != nil || a.Service != "ecs" {
			return "", false
		}
		cl, tid, err := state.SplitTaskARN(a.Resource)
		if err != nil || cl != cluster {
			return "", false
		}
		id = tid
	} else if ref == "" || strings.Contains(ref, "/") || len(ref) > 64 {
		return "", false
	}
	return b.scope.TaskARN(cluster, id), true
}

// instanceARN reads a container instance id or ARN in a cluster.
func (b *authzBuilder) instanceARN(cluster, ref string) (string, bool) {
	cl, id, err := instanceID(ref)
	if err != nil || cl != "" && cl != cluster {
		return "", false
	}
	return b.scope.InstanceARN(cluster, id), true
}

// taskDefinitionARN reads "family", "family:revision" or an ARN; a family
// alone is its latest ACTIVE revision, or FAMILY:* when that is unknown.
func (b *authzBuilder) taskDefinitionARN(ref string) (string, bool) {
	r, err := model.ParseTaskDefinitionRef(ref)
	if err != nil {
		return "", false
	}
	if r.Revision == 0 && b.latest != nil {
		r.Revision = b.latest(r.Family)
	}
	if r.Revision == 0 {
		return b.arn("task-definition/" + r.Family + ":*"), true
	}
	return b.scope.TaskDefinitionARN(r.Family, r.Revision), true
}

// capacityProviderARN reads a capacity provider name or ARN.
func (b *authzBuilder) capacityProviderARN(ref string) (string, bool) {
	name := ref
	if model.IsARN(ref) {
		a, err := model.ParseARN(ref)
		if err != nil || a.Service != "ecs" || !strings.HasPrefix(a.Resource, "capacity-provider/") {
			return "", false
		}
		name = strings.TrimPrefix(a.Resource, "capacity-provider/")
	}
	if !model.ValidName(name) {
		return "", false
	}
	return b.arn("capacity-provider/" + name), true
}

// clusterResource makes the cluster the call's resource and ecs:cluster
// (when withKey) its condition; an unreadable cluster makes it "*".
func (b *authzBuilder) clusterResource(ref string, withKey bool) (name string, ok bool) {
	name, arn, ok := b.cluster(ref)
	if !ok {
		b.resource(anyResource)
		return "", false
	}
	b.resource(arn)
	if withKey {
		b.set("ecs:cluster", arn)
	}
	return name, true
}

// clusterKey sets ecs:cluster alone; false (and "*") for an unreadable one.
func (b *authzBuilder) clusterKey(ref string) (name string, ok bool) {
	name, arn, ok := b.cluster(ref)
	if !ok {
		b.resource(anyResource)
		return "", false
	}
	b.set("ecs:cluster", arn)
	return name, true
}

func (b *authzBuilder) add(arn string, ok bool) {
	if !ok {
		arn = anyResource
	}
	b.resource(arn)
}

func (b *authzBuilder) requestTags(tags []model.Tag) {
	for _, t := range tags {
		b.set("aws:RequestTag/"+t.Key, t.Value)
		b.set("aws:TagKeys", t.Key)
	}
}

func (b *authzBuilder) capacityProviders(items []model.CapacityProviderStrategyItem, names ...string) {
	for _, it := range items {
		names = append(names, it.CapacityProvider)
	}
	for _, n := range names {
		if arn, ok := b.capacityProviderARN(n); ok {
			b.set("ecs:capacity-provider", arn)
		}
	}
}

func (b *authzBuilder) flag(key string, v *bool) {
	if v != nil {
		b.set(key, strconv.FormatBool(*v))
	}
}

// decoded wraps a rule over the handler's own input shape, decoded as the
// handler decodes it, so that both read the same request.
func decoded[In any](fn func(b *authzBuilder, in *In)) authzRule {
	return func(b *authzBuilder, body []byte) bool {
		in := new(In)
		if awsjson.Decode(body, in) != nil {
			return false
		}
		fn(b, in)
		return true
	}
}

// noResource is an action with no resource-level permission and no keys.
var noResource = decoded(func(*authzBuilder, *struct{}) {})

// ecsExecFlag is StartTask's enableExecuteCommand, which its handler does
// not read but ECS's condition key reports.
type ecsExecFlag struct {
	EnableExecuteCommand bool `json:"enableExecuteCommand"`
}

// authzRules holds one rule per operation of Service() and FlottaOps().
var authzRules = map[string]authzRule{
	// Clusters.
	"CreateCluster": decoded(func(b *authzBuilder, in *createClusterInput) {
		b.clusterResource(in.ClusterName, false)
		b.requestTags(in.Tags)
		b.capacityProviders(in.DefaultCapacityProviderStrategy, in.CapacityProviders...)
	}),
	"DescribeClusters": decoded(func(b *authzBuilder, in *describeClustersInput) {
		if len(in.Clusters) == 0 {
			b.clusterResource("", false)
		}
		for _, ref := range in.Clusters {
			b.clusterResource(ref, false)
		}
	}),
	"ListClusters": noResource,
	"UpdateCluster": decoded(func(b *authzBuilder, in *updateClusterInput) {
		b.requiredCluster(in.Cluster)
	}),
	"UpdateClusterSettings": decoded(func(b *authzBuilder, in *updateClusterSettingsInput) {
		b.requiredCluster(in.Cluster)
	}),
	"DeleteCluster": decoded(func(b *authzBuilder, in *deleteClusterInput) {
		b.requiredCluster(in.Cluster)
	}),

	// Task definitions.
	"RegisterTaskDefinition": decoded(func(b *authzBuilder, in *registerTaskDefinitionInput) {
		if model.ValidName(in.Family) {
			b.resource(b.arn("task-definition/" + in.Family + ":*"))
		}
		b.requestTags(in.Tags)
		b.set("ecs:compute-compatibility", in.RequiresCompatibilities...)
		privileged := false
		for _, c := range in.ContainerDefinitions {
			privileged = privileged || c.Privileged != nil && *c.Privileged
		}
		b.set("ecs:privileged", strconv.FormatBool(privileged))
		if n, err := model.ParseTaskCPU(in.Cpu); in.Cpu != "" && err == nil {
			b.set("ecs:task-cpu", strconv.Itoa(n))
		}
		if n, err := model.ParseTaskMemory(in.Memory); in.Memory != "" && err == nil {
			b.set("ecs:task-memory", strconv.Itoa(n))
		}
	}),
	"DescribeTaskDefinition":     noResource,
	"DeregisterTaskDefinition":   noResource,
	"ListTaskDefinitions":        noResource,
	"ListTaskDefinitionFamilies": noResource,
	"DeleteTaskDefinitions": decoded(func(b *authzBuilder, in *deleteTaskDefinitionsInput) {
		for _, ref := range in.TaskDefinitions {
			r, err := model.ParseTaskDefinitionRef(ref)
			b.add(b.scope.TaskDefinitionARN(r.Family, r.Revision), err == nil && r.Revision > 0)
		}
	}),

	// Tags.
	"TagResource": decoded(func(b *authzBuilder, in *tagResourceInput) {
		b.add(b.taggable(in.ResourceArn))
		b.requestTags(in.Tags)
	}),
	"UntagResource": decoded(func(b *authzBuilder, in *untagResourceInput) {
		b.add(b.taggable(in.ResourceArn))
		b.set("aws:TagKeys", in.TagKeys...)
	}),
	"ListTagsForResource": decoded(func(b *authzBuilder, in *listTagsForResourceInput) {
		b.add(b.taggable(in.ResourceArn))
	}),

	// Account settings.
	"PutAccountSetting": decoded(func(b *authzBuilder, in *putAccountSettingInput) {
		b.set("ecs:account-setting", in.Name)
	}),
	"PutAccountSettingDefault": decoded(func(b *authzBuilder, in *putAccountSettingDefaultInput) {
		b.set("ecs:account-setting", in.Name)
	}),
	"DeleteAccountSetting": decoded(func(b *authzBuilder, in *deleteAccountSettingInput) {
		b.set("ecs:account-setting", in.Name)
	}),
	"ListAccountSettings": noResource,

	// Container instances and the agent's calls.
	"RegisterContainerInstance": decoded(func(b *authzBuilder, in *flottaapi.RegisterContainerInstanceInput) {
		b.clusterResource(in.Cluster, false)
		b.requestTags(in.Tags)
	}),
	"DeregisterContainerInstance": decoded(func(b *authzBuilder, in *deregisterContainerInstanceInput) {
		b.clusterResource(in.Cluster, false)
	}),
	"DescribeContainerInstances": decoded(func(b *authzBuilder, in *describeContainerInstancesInput) {
		b.instances(in.Cluster, in.ContainerInstances)
	}),
	"UpdateContainerInstancesState": decoded(func(b *authzBuilder, in *updateContainerInstancesStateInput) {
		b.instances(in.Cluster, in.ContainerInstances)
	}),
	"ListContainerInstances": decoded(func(b *authzBuilder, in *listContainerInstancesInput) {
		b.clusterResource(in.Cluster, false)
	}),
	"PutAttributes":    decoded(attributeTargets),
	"DeleteAttributes": decoded(attributeTargets),
	"ListAttributes": decoded(func(b *authzBuilder, in *listAttributesInput) {
		b.clusterResource(in.Cluster, false)
	}),
	"SubmitTaskStateChange": decoded(func(b *authzBuilder, in *flottaapi.SubmitTaskStateChangeInput) {
		b.clusterResource(in.Cluster, false)
	}),
	"SubmitContainerStateChange": decoded(func(b *authzBuilder, in *flottaapi.SubmitContainerStateChangeInput) {
		b.clusterResource(in.Cluster, false)
	}),
	"DiscoverPollEndpoint": noResource,

	// Tasks.
	"RunTask":   decoded(runTaskAuthz),
	"PlanTasks": decoded(runTaskAuthz),
	"StartTask": func(b *authzBuilder, body []byte) bool {
		var exec ecsExecFlag
		if awsjson.Decode(body, &exec) != nil {
			return false
		}
		return decoded(func(b *authzBuilder, in *startTaskInput) {
			b.add(b.taskDefinitionARN(in.TaskDefinition))
			cluster, ok := b.clusterKey(in.Cluster)
			if ok {
				for _, ref := range in.ContainerInstances {
					if arn, ok := b.instanceARN(cluster, ref); ok {
						b.set("ecs:container-instances", arn)
					} else {
						b.resource(anyResource)
					}
				}
			}
			b.set("ecs:enable-execute-command", strconv.FormatBool(exec.EnableExecuteCommand))
			b.requestTags(in.Tags)
		})(b, body)
	},
	"StopTask": decoded(func(b *authzBuilder, in *stopTaskInput) {
		b.tasks(in.Cluster, []string{in.Task})
	}),
	"DescribeTasks": decoded(func(b *authzBuilder, in *describeTasksInput) {
		b.tasks(in.Cluster, in.Tasks)
	}),
	"ListTasks": decoded(func(b *authzBuilder, in *listTasksInput) {
		// The reference lists container-instance* with ecs:cluster: a call
		// filtered by instance is checked on that instance, any other on
		// "*" with the cluster as its condition, as ECS's own examples do.
		cluster, ok := b.clusterKey(in.Cluster)
		if ok && in.ContainerInstance != "" {
			b.add(b.instanceARN(cluster, in.ContainerInstance))
		}
	}),
	"UpdateTaskProtection": decoded(func(b *authzBuilder, in *taskProtectionInput) {
		b.tasks(in.Cluster, in.Tasks)
	}),
	"GetTaskProtection": decoded(func(b *authzBuilder, in *taskProtectionInput) {
		b.tasks(in.Cluster, in.Tasks)
	}),

	// Services.
	"CreateService": decoded(func(b *authzBuilder, in *serviceInput) {
		cluster, ok := b.clusterKey(in.Cluster)
		if ok {
			b.add(b.serviceARN(cluster, in.ServiceName))
		}
		b.serviceKeys(in)
		if in.EnableExecuteCommand == nil {
			b.set("ecs:enable-execute-command", "false")
		}
		b.requestTags(in.Tags)
	}),
	"UpdateService":     decoded(updateServiceAuthz),
	"PlanServiceUpdate": decoded(updateServiceAuthz),
	// Promoting a deployment changes the service as UpdateService does.
	"PromoteServiceDeployment": decoded(func(b *authzBuilder, in *promoteInput) {
		b.services(in.Cluster, []string{in.Service})
	}),
	"DeleteService": decoded(func(b *authzBuilder, in *deleteServiceInput) {
		b.services(in.Cluster, []string{in.Service})
	}),
	"DescribeServices": decoded(func(b *authzBuilder, in *describeServicesInput) {
		b.services(in.Cluster, in.Services)
	}),
	"ListServicesByNamespace": noResource,
	"ListServices": decoded(func(b *authzBuilder, in *listServicesInput) {
		b.clusterKey(in.Cluster)
	}),
	"ListServiceDeployments": decoded(func(b *authzBuilder, in *listServiceDeploymentsInput) {
		b.services(in.Cluster, []string{in.Service})
	}),
	"DescribeServiceRevisions": decoded(func(b *authzBuilder, in *describeServiceRevisionsInput) {
		for _, ref := range in.ServiceRevisionArns {
			b.serviceChild(ref, "service-revision")
		}
	}),
	"DescribeServiceDeployments": decoded(func(b *authzBuilder, in *describeServiceDeploymentsInput) {
		for _, ref := range in.ServiceDeploymentArns {
			b.serviceChild(ref, "service-deployment")
		}
	}),
	"StopServiceDeployment": decoded(func(b *authzBuilder, in *stopServiceDeploymentInput) {
		b.serviceChild(in.ServiceDeploymentArn, "service-deployment")
	}),
	"ContinueServiceDeployment": decoded(func(b *authzBuilder, in *continueServiceDeploymentInput) {
		b.serviceChild(in.ServiceDeploymentArn, "service-deployment")
	}),

	// Task sets: the reference checks CreateTaskSet, DescribeTaskSets and
	// UpdateServicePrimaryTaskSet on the service, UpdateTaskSet and
	// DeleteTaskSet on the task set, each with ecs:cluster and ecs:service.
	"CreateTaskSet": decoded(func(b *authzBuilder, in *createTaskSetInput) {
		b.serviceWithKey(in.Cluster, in.Service)
		if in.TaskDefinition != "" {
			if arn, ok := b.taskDefinitionARN(in.TaskDefinition); ok {
				b.set("ecs:task-definition", arn)
			} else {
				b.resource(anyResource)
			}
		}
		b.capacityProviders(in.CapacityProviderStrategy)
		b.requestTags(in.Tags)
	}),
	"DescribeTaskSets": decoded(func(b *authzBuilder, in *describeTaskSetsInput) {
		b.serviceWithKey(in.Cluster, in.Service)
	}),
	"UpdateServicePrimaryTaskSet": decoded(func(b *authzBuilder, in *updateServicePrimaryTaskSetInput) {
		b.serviceWithKey(in.Cluster, in.Service)
	}),
	"UpdateTaskSet": decoded(func(b *authzBuilder, in *updateTaskSetInput) {
		b.taskSet(in.Cluster, in.Service, in.TaskSet)
	}),
	"DeleteTaskSet": decoded(func(b *authzBuilder, in *deleteTaskSetInput) {
		b.taskSet(in.Cluster, in.Service, in.TaskSet)
	}),
}

// serviceWithKey makes a service the call's resource, with ecs:cluster and
// ecs:service; it returns the cluster's name and the service's, or false
// (and "*") for references the handlers would refuse.
func (b *authzBuilder) serviceWithKey(clusterRef, ref string) (cluster, name string, ok bool) {
	cluster, ok = b.clusterKey(clusterRef)
	if !ok {
		return "", "", false
	}
	arn, ok := b.serviceARN(cluster, ref)
	if !ok {
		b.resource(anyResource)
		return "", "", false
	}
	b.resource(arn)
	b.set("ecs:service", arn)
	return cluster, arn[strings.LastIndex(arn, "/")+1:], true
}

// taskSet makes a task set (an id or an ARN of the service named) the
// call's resource, with ecs:cluster and ecs:service.
func (b *authzBuilder) taskSet(clusterRef, serviceRef, ref string) {
	cluster, ok := b.clusterKey(clusterRef)
	if !ok {
		return
	}
	svc, ok := b.serviceARN(cluster, serviceRef)
	if !ok {
		b.resource(anyResource)
		return
	}
	name := svc[strings.LastIndex(svc, "/")+1:]
	b.set("ecs:service", svc)
	id := taskSetID(ref, cluster, name)
	if id == "" || strings.ContainsAny(id, "*?") {
		b.resource(anyResource)
		return
	}
	b.resource(b.arn("task-set/" + cluster + "/" + name + "/" + id))
}

func (b *authzBuilder) requiredCluster(ref *string) {
	if ref == nil || *ref == "" {
		b.resource(anyResource)
		return
	}
	b.clusterResource(*ref, false)
}

// instances are the container instances of a call, each with ecs:cluster.
func (b *authzBuilder) instances(clusterRef string, refs []string) {
	cluster, ok := b.clusterKey(clusterRef)
	if !ok {
		return
	}
	for _, ref := range refs {
		b.add(b.instanceARN(cluster, ref))
	}
}

// tasks are the tasks of a call, each with ecs:cluster.
func (b *authzBuilder) tasks(clusterRef string, refs []string) {
	cluster, ok := b.clusterKey(clusterRef)
	if !ok {
		return
	}
	for _, ref := range refs {
		b.add(b.taskARN(cluster, ref))
	}
}

// services are the services of a call, each with ecs:cluster.
func (b *authzBuilder) services(clusterRef string, refs []string) {
	cluster, ok := b.clusterKey(clusterRef)
	if !ok {
		return
	}
	for _, ref := range refs {
		b.add(b.serviceARN(cluster, ref))
	}
}

// serviceChild authorizes a service revision or deployment ARN
// (KIND/CLUSTER/SERVICE/ID): the reference requires both the service and
// the child, with ecs:cluster and ecs:service.
func (b *authzBuilder) serviceChild(ref, kind string) {
	a, err := model.ParseARN(ref)
	parts := strings.Split(a.Resource, "/")
	if err != nil || a.Service != "ecs" || len(parts) != 4 || parts[0] != kind ||
		!model.ValidName(parts[1]) || !serviceNameRE.MatchString(parts[2]) || parts[3] == "" {
		b.resource(anyResource)
		return
	}
	service := b.arn("service/" + parts[1] + "/" + parts[2])
	b.resource(service)
	b.resource(b.arn(strings.Join(parts, "/")))
	b.set("ecs:cluster", b.scope.ClusterARN(parts[1]))
	b.set("ecs:service", service)
}

// taggable reads the resourceArn of the tagging operations, for the kinds
// that ECS tags.
func (b *authzBuilder) taggable(ref string) (string, bool) {
	a, err := model.ParseARN(ref)
	if err != nil || a.Service != "ecs" {
		return "", false
	}
	kind, rest, _ := strings.Cut(a.Resource, "/")
	parts := strings.Split(rest, "/")
	switch kind {
	case "cluster":
		_, arn, ok := b.cluster(ref)
		return arn, ok
	case "task-definition":
		r, err := model.ParseTaskDefinitionRef(ref)
		if err != nil || r.Revision == 0 {
			return "", false
		}
		return b.scope.TaskDefinitionARN(r.Family, r.Revision), true
	case "capacity-provider":
		return b.capacityProviderARN(ref)
	case "service", "task", "container-instance":
		if len(parts) != 2 || !model.ValidName(parts[0]) {
			return "", false
		}
		switch kind {
		case "service":
			return b.serviceARN(parts[0], ref)
		case "task":
			return b.taskARN(parts[0], ref)
		default:
			return b.instanceARN(parts[0], ref)
		}
	case "task-set":
		if len(parts) != 3 || !model.ValidName(parts[0]) || !serviceNameRE.MatchString(parts[1]) ||
			parts[2] == "" || strings.ContainsAny(parts[2], "*?") {
			return "", false
		}
		return b.arn("task-set/" + rest), true
	}
	return "", false
}

func attributeTargets(b *authzBuilder, in *attributesInput) {
	cluster, ok := b.clusterKey(in.Cluster)
	if !ok {
		return
	}
	for _, at := range in.Attributes {
		if at.TargetType != "" && at.TargetType != "container-instance" {
			b.resource(anyResource)
			continue
		}
		b.add(b.instanceARN(cluster, at.TargetID))
	}
}

func runTaskAuthz(b *authzBuilder, in *runTaskInput) {
	b.add(b.taskDefinitionARN(in.TaskDefinition))
	b.clusterKey(in.Cluster)
	b.capacityProviders(in.CapacityProviders)
	b.set("ecs:enable-execute-command", strconv.FormatBool(in.EnableExecuteCommand))
	b.requestTags(in.Tags)
}

func updateServiceAuthz(b *authzBuilder, in *serviceInput) {
	b.services(in.Cluster, []string{in.Service})
	b.serviceKeys(in)
}

// serviceKeys are the condition keys CreateService and UpdateService take
// from what the request sets.
func (b *authzBuilder) serviceKeys(in *serviceInput) {
	if in.TaskDefinition != "" {
		if arn, ok := b.taskDefinitionARN(in.TaskDefinition); ok {
			b.set("ecs:task-definition", arn)
		} else {
			b.resource(anyResource)
		}
	}
	b.capacityProviders(in.CapacityProviderStrategy)
	b.flag("ecs:enable-execute-command", in.EnableExecuteCommand)
	b.flag("ecs:enable-ecs-managed-tags", in.EnableECSManagedTags)
	if in.PropagateTags != "" {
		b.set("ecs:propagate-tags", in.PropagateTags)
	}
}
