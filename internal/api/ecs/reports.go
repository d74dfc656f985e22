package ecs

import (
	"context"
	"errors"
	"strings"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// containerStateChange is one container in a SubmitTaskStateChange. Beyond
// ECS's members, Flotta's agent also reports health and network interfaces.
type containerStateChange struct {
	ContainerName     string                   `json:"containerName"`
	ImageDigest       string                   `json:"imageDigest"`
	RuntimeID         string                   `json:"runtimeId"`
	ExitCode          *int                     `json:"exitCode"`
	NetworkBindings   []model.NetworkBinding   `json:"networkBindings"`
	Reason            string                   `json:"reason"`
	Status            string                   `json:"status"`
	HealthStatus      string                   `json:"healthStatus"`
	NetworkInterfaces []model.NetworkInterface `json:"networkInterfaces"`
}

func (c containerStateChange) container() model.Container {
	return model.Container{Name: c.ContainerName, ImageDigest: c.ImageDigest, RuntimeID: c.RuntimeID, ExitCode: c.ExitCode,
		NetworkBindings: c.NetworkBindings, Reason: c.Reason, LastStatus: c.Status, HealthStatus: c.HealthStatus,
		NetworkInterfaces: c.NetworkInterfaces}
}

type submitTaskStateChangeInput struct {
	Cluster            string                 `json:"cluster"`
	Task               string                 `json:"task"`
	Status             string                 `json:"status"`
	Reason             string                 `json:"reason"`
	Containers         []containerStateChange `json:"containers"`
	PullStartedAt      *model.Time            `json:"pullStartedAt"`
	PullStoppedAt      *model.Time            `json:"pullStoppedAt"`
	ExecutionStoppedAt *model.Time            `json:"executionStoppedAt"`
	// Flotta's extensions.
	StopCode     string             `json:"stopCode"`
	HealthStatus string             `json:"healthStatus"`
	Attachments  []model.Attachment `json:"taskAttachments"`
}

type acknowledgment struct {
	Acknowledgment string `json:"acknowledgment"`
}

// SubmitTaskStateChange records what an agent says about one of its tasks.
func (a *API) SubmitTaskStateChange(ctx context.Context, in *submitTaskStateChangeInput) (*acknowledgment, error) {
	rep := state.Report{Status: in.Status, Reason: in.Reason, StopCode: in.StopCode, HealthStatus: in.HealthStatus,
		Attachments: in.Attachments, PullStartedAt: in.PullStartedAt, PullStoppedAt: in.PullStoppedAt, ExecutionStoppedAt: in.ExecutionStoppedAt}
	for _, c := range in.Containers {
		rep.Containers = append(rep.Containers, c.container())
	}
	return a.applyReport(ctx, in.Cluster, in.Task, rep)
}

type submitContainerStateChangeInput struct {
	Cluster string `json:"cluster"`
	Task    string `json:"task"`
	containerStateChange
}

// SubmitContainerStateChange records what an agent says about one container.
func (a *API) SubmitContainerStateChange(ctx context.Context, in *submitContainerStateChangeInput) (*acknowledgment, error) {
	if in.ContainerName == "" {
		return nil, model.InvalidParameter("containerName is required.")
	}
	return a.applyReport(ctx, in.Cluster, in.Task, state.Report{Containers: []model.Container{in.container()}})
}

func (a *API) applyReport(ctx context.Context, clusterRef, taskRef string, rep state.Report) (*acknowledgment, error) {
	if taskRef == "" {
		return nil, model.InvalidParameter("task is required.")
	}
	c, err := a.activeCluster(ctx, clusterRef)
	if err != nil {
		return nil, err
	}
	id, err := a.taskID(c.ClusterName, taskRef)
	if err != nil {
		return nil, err
	}
	t, err := a.State.GetTask(ctx, c.ClusterName, id)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, model.InvalidParameter("The referenced task was not found.")
	}
	inst, err := a.State.GetInstance(ctx, c.ClusterName, t.InstanceID)
	if err != nil {
		return nil, err
	}
	if inst == nil || (inst.Principal != a.caller(ctx) && !a.callerIsRoot(ctx)) {
		return nil, model.Errorf(model.CodeAccessDenied, "%s is not the agent of the container instance that runs task %s.", a.caller(ctx), taskRef)
	}
	if rep.Status == "" {
		rep.Status = t.Task.LastStatus
	}
	if _, err := a.State.ApplyReport(ctx, c.ClusterName, id, t.InstanceID, rep); err != nil {
		if errors.Is(err, state.ErrNotYourTask) {
			return nil, model.Errorf(model.CodeAccessDenied, "Task %s is not assigned to this container instance.", taskRef)
		}
		return nil, err
	}
	return &acknowledgment{Acknowledgment: "ACK"}, nil
}

// taskID resolves a task id or ARN within a cluster.
func (a *API) taskID(cluster, ref string) (string, error) {
	if !model.IsARN(ref) {
		if ref == "" || strings.Contains(ref, "/") || len(ref) > 64 {
			return "", model.InvalidParameter("Invalid task identifier %q.", model.Truncate(ref, 300))
		}
		return ref, nil
	}
	arn, err := model.ParseARN(ref)
	if err != nil || arn.Service != "ecs" {
		return "", model.InvalidParameter("Invalid task identifier %q.", model.Truncate(ref, 300))
	}
	cl, id, err := state.SplitTaskARN(arn.Resource)
	if err != nil {
		return "", model.InvalidParameter("Invalid task identifier %q: expected arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID.", model.Truncate(ref, 300))
	}
	if cl != cluster {
		return "", model.InvalidParameter("Invalid identifier: Identifier is for cluster %s. Your cluster is %s", cl, cluster)
	}
	return id, nil
}
