package ecs

import (
	"context"
	"errors"
	"strings"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// SubmitTaskStateChange records what an agent says about one of its tasks.
func (a *API) SubmitTaskStateChange(ctx context.Context, in *flottaapi.SubmitTaskStateChangeInput) (*flottaapi.Acknowledgment, error) {
	rep := state.Report{Status: in.Status, Reason: in.Reason, StopCode: in.StopCode, HealthStatus: in.HealthStatus,
		Attachments: in.Attachments, PullStartedAt: in.PullStartedAt, PullStoppedAt: in.PullStoppedAt, ExecutionStoppedAt: in.ExecutionStoppedAt}
	for _, c := range in.Containers {
		rep.Containers = append(rep.Containers, c.Container())
	}
	return a.applyReport(ctx, in.Cluster, in.Task, rep)
}

// SubmitContainerStateChange records what an agent says about one container.
func (a *API) SubmitContainerStateChange(ctx context.Context, in *flottaapi.SubmitContainerStateChangeInput) (*flottaapi.Acknowledgment, error) {
	if in.ContainerName == "" {
		return nil, model.InvalidParameter("containerName is required.")
	}
	return a.applyReport(ctx, in.Cluster, in.Task, state.Report{Containers: []model.Container{in.Container()}})
}

func (a *API) applyReport(ctx context.Context, clusterRef, taskRef string, rep state.Report) (*flottaapi.Acknowledgment, error) {
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
	return &flottaapi.Acknowledgment{Acknowledgment: "ACK"}, nil
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
