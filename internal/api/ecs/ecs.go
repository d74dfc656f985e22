// Package ecs implements the Amazon ECS API operations. Each handler decodes
// its input, validates it (with the rules in package model), commits through
// package state, and answers in ECS's shapes and words. Handlers never talk to
// agents: what they commit, the scheduler and controllers act on.
package ecs

import (
	"context"
	"log/slog"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/iam"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/protocol/awsjson"
	"github.com/flotta-dev/flotta/internal/scheduler"
	"github.com/flotta-dev/flotta/internal/state"
)

// TargetPrefix is the X-Amz-Target prefix of ECS operations.
const TargetPrefix = flottaapi.ECSTarget

// DefaultCluster is the cluster an operation uses when none is named.
const DefaultCluster = "default"

// API serves the ECS operations of one account.
type API struct {
	State     *state.State
	Scheduler *scheduler.Scheduler
	Logger    *slog.Logger
	// PlanRollout works out what the service controller would do with a
	// changed service (the server wires in the controller's planner).
	PlanRollout func(ctx context.Context, next *state.ServiceRecord, newDeployment bool) (*flottaapi.RolloutPlan, error)
	// Endpoint is the URL agents and tools reach this server at.
	Endpoint func() string
	// PassRole decides whether the caller may hand a role to a service
	// (iam:PassRole with iam:PassedToService); nil lets everyone.
	PassRole func(ctx context.Context, role, service string) error
}

// The service principals roles are passed to: tasks' own roles and
// execution roles go to ecs-tasks, a service's load balancer role to ecs.
const (
	tasksPrincipal   = "ecs-tasks.amazonaws.com"
	servicePrincipal = "ecs.amazonaws.com"
)

// passRoles asks PassRole for each role that is set, before anything is
// written: a task definition's or a task's roles are handed to ECS when it
// is registered or run, as AWS checks them.
func (a *API) passRoles(ctx context.Context, service string, roles ...string) error {
	if a.PassRole == nil {
		return nil
	}
	for _, r := range roles {
		if r == "" {
			continue
		}
		if err := a.PassRole(ctx, r, service); err != nil {
			return err
		}
	}
	return nil
}

// Service returns the protocol binding of every operation this API answers.
func (a *API) Service() *awsjson.Service {
	return &awsjson.Service{
		TargetPrefix: TargetPrefix,
		SigningName:  "ecs",
		ActionPrefix: "ecs",
		Resources: func(ctx context.Context, op string, body []byte) ([]string, map[string][]string) {
			az := a.AuthzFor(ctx, op, body)
			return az.Resources, az.Context
		},
		InternalErrorCode: model.CodeServer,
		Ops: map[string]awsjson.HandlerFunc{
			"CreateCluster":                 awsjson.Op(a.CreateCluster),
			"DescribeClusters":              awsjson.Op(a.DescribeClusters),
			"ListClusters":                  awsjson.Op(a.ListClusters),
			"UpdateCluster":                 awsjson.Op(a.UpdateCluster),
			"UpdateClusterSettings":         awsjson.Op(a.UpdateClusterSettings),
			"DeleteCluster":                 awsjson.Op(a.DeleteCluster),
			"RegisterTaskDefinition":        awsjson.Op(a.RegisterTaskDefinition),
			"DescribeTaskDefinition":        awsjson.Op(a.DescribeTaskDefinition),
			"DeregisterTaskDefinition":      awsjson.Op(a.DeregisterTaskDefinition),
			"DeleteTaskDefinitions":         awsjson.Op(a.DeleteTaskDefinitions),
			"ListTaskDefinitions":           awsjson.Op(a.ListTaskDefinitions),
			"ListTaskDefinitionFamilies":    awsjson.Op(a.ListTaskDefinitionFamilies),
			"TagResource":                   awsjson.Op(a.TagResource),
			"UntagResource":                 awsjson.Op(a.UntagResource),
			"ListTagsForResource":           awsjson.Op(a.ListTagsForResource),
			"PutAccountSetting":             awsjson.Op(a.PutAccountSetting),
			"PutAccountSettingDefault":      awsjson.Op(a.PutAccountSettingDefault),
			"ListAccountSettings":           awsjson.Op(a.ListAccountSettings),
			"DeleteAccountSetting":          awsjson.Op(a.DeleteAccountSetting),
			"RegisterContainerInstance":     awsjson.Op(a.RegisterContainerInstance),
			"DeregisterContainerInstance":   awsjson.Op(a.DeregisterContainerInstance),
			"DescribeContainerInstances":    awsjson.Op(a.DescribeContainerInstances),
			"ListContainerInstances":        awsjson.Op(a.ListContainerInstances),
			"UpdateContainerInstancesState": awsjson.Op(a.UpdateContainerInstancesState),
			"PutAttributes":                 awsjson.Op(a.PutAttributes),
			"ListAttributes":                awsjson.Op(a.ListAttributes),
			"DeleteAttributes":              awsjson.Op(a.DeleteAttributes),
			"SubmitTaskStateChange":         awsjson.Op(a.SubmitTaskStateChange),
			"SubmitContainerStateChange":    awsjson.Op(a.SubmitContainerStateChange),
			"RunTask":                       awsjson.Op(a.RunTask),
			"StartTask":                     awsjson.Op(a.StartTask),
			"StopTask":                      awsjson.Op(a.StopTask),
			"DescribeTasks":                 awsjson.Op(a.DescribeTasks),
			"ListTasks":                     awsjson.Op(a.ListTasks),
			"CreateService":                 awsjson.Op(a.CreateService),
			"UpdateService":                 awsjson.Op(a.UpdateService),
			"DeleteService":                 awsjson.Op(a.DeleteService),
			"DescribeServices":              awsjson.Op(a.DescribeServices),
			"ListServices":                  awsjson.Op(a.ListServices),
			"ListServicesByNamespace":       awsjson.Op(a.ListServicesByNamespace),
			"DescribeServiceRevisions":      awsjson.Op(a.DescribeServiceRevisions),
			"DescribeServiceDeployments":    awsjson.Op(a.DescribeServiceDeployments),
			"ListServiceDeployments":        awsjson.Op(a.ListServiceDeployments),
			"StopServiceDeployment":         awsjson.Op(a.StopServiceDeployment),
			"ContinueServiceDeployment":     awsjson.Op(a.ContinueServiceDeployment),
			"UpdateTaskProtection":          awsjson.Op(a.UpdateTaskProtection),
			"GetTaskProtection":             awsjson.Op(a.GetTaskProtection),
			"DiscoverPollEndpoint":          awsjson.Op(a.DiscoverPollEndpoint),
			"CreateTaskSet":                 awsjson.Op(a.CreateTaskSet),
			"DescribeTaskSets":              awsjson.Op(a.DescribeTaskSets),
			"UpdateTaskSet":                 awsjson.Op(a.UpdateTaskSet),
			"UpdateServicePrimaryTaskSet":   awsjson.Op(a.UpdateServicePrimaryTaskSet),
			"DeleteTaskSet":                 awsjson.Op(a.DeleteTaskSet),
		},
	}
}

// FlottaOps are Flotta's own operations that the ECS handlers answer
// (served under Flotta's target prefix, not ECS's).
func (a *API) FlottaOps() map[string]awsjson.HandlerFunc {
	return map[string]awsjson.HandlerFunc{"PlanTasks": awsjson.Op(a.PlanTasks), "PlanServiceUpdate": awsjson.Op(a.PlanServiceUpdate),
		"PromoteServiceDeployment": awsjson.Op(a.PromoteServiceDeployment)}
}

// caller returns the verified principal's ARN, or the root's when the request
// came in without authentication (only possible in tests that wire no IAM).
func (a *API) caller(ctx context.Context) string {
	if p, ok := iam.PrincipalFrom(ctx); ok {
		return p.ARN
	}
	return a.State.Scope.RootARN()
}

func (a *API) callerIsRoot(ctx context.Context) bool {
	return a.caller(ctx) == a.State.Scope.RootARN()
}

// failure is ECS's per-item Failure.
type failure = flottaapi.Failure

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
