package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/placement"
	"github.com/flotta-dev/flotta/internal/scheduler"
	"github.com/flotta-dev/flotta/internal/state"
)

// stepTask carries a task hook one step: it places the hook's task, or,
// once the task has stopped, records the outcome.
func (h *Hooks) stepTask(ctx context.Context, rec *state.ServiceRecord, run state.HookRun) error {
	if run.TaskArn == "" {
		return h.startHookTask(ctx, rec, run)
	}
	cluster, id, err := model.ParseTaskARN(run.TaskArn)
	if err != nil {
		return h.fail(ctx, rec, run, fmt.Sprintf("Hook task %s: %v", run.TaskArn, err))
	}
	t, err := h.State.GetTask(ctx, cluster, id)
	if err != nil {
		return err
	}
	if t == nil {
		return h.fail(ctx, rec, run, fmt.Sprintf("Hook task %s is gone.", run.TaskArn))
	}
	if t.Task.LastStatus != model.TaskStopped {
		return nil
	}
	if reason := hookTaskFailure(t); reason != "" {
		return h.fail(ctx, rec, run, reason)
	}
	return h.succeed(ctx, rec, run)
}

// hookTaskFailure says why a stopped hook task failed, or "" when every
// essential container exited 0.
func hookTaskFailure(t *state.TaskRecord) string {
	exits := map[string]*int{}
	for _, c := range t.Task.Containers {
		exits[c.Name] = c.ExitCode
	}
	for _, c := range t.Definition.ContainerDefinitions {
		if !c.IsEssential() {
			continue
		}
		code := exits[c.Name]
		switch {
		case code == nil:
			reason := t.Task.StoppedReason
			if reason == "" {
				reason = "its container " + c.Name + " has no exit code"
			}
			return fmt.Sprintf("Hook task %s stopped: %s", t.Task.TaskArn, reason)
		case *code != 0:
			return fmt.Sprintf("Hook task %s exited with code %d (container %s)", t.Task.TaskArn, *code, c.Name)
		}
	}
	return ""
}

// startHookTask places one task of the hook's task definition in the
// service's cluster and records it on the run. The placement carries a
// client token made from the run, so that a pass that placed the task but
// did not record it (a crash, a lost leadership) finds the same task again
// instead of starting a second one.
func (h *Hooks) startHookTask(ctx context.Context, rec *state.ServiceRecord, run state.HookRun) error {
	if h.Scheduler == nil {
		return h.fail(ctx, rec, run, "Task lifecycle hooks need a scheduler; this server runs none.")
	}
	ref, err := model.ParseTaskDefinitionRef(run.Target)
	if err != nil {
		return h.fail(ctx, rec, run, fmt.Sprintf("Lifecycle hook %s: %v", run.Target, err))
	}
	td, err := h.State.GetTaskDefinition(ctx, ref.Family, ref.Revision)
	if err != nil {
		return err
	}
	if td == nil {
		return h.fail(ctx, rec, run, fmt.Sprintf("Unable to find task definition %s for lifecycle hook.", run.Target))
	}
	def := td.TaskDefinition
	if def.Status != model.TaskDefActive {
		return h.fail(ctx, rec, run, fmt.Sprintf("TaskDefinition is inactive: %s cannot start new tasks.", def.TaskDefinitionArn))
	}
	cluster, err := h.State.GetCluster(ctx, rec.Cluster)
	if err != nil {
		return err
	}
	if cluster == nil || cluster.Status != model.StatusActive {
		return h.fail(ctx, rec, run, fmt.Sprintf("Hook task of %s could not start: cluster %s is not active.", def.TaskDefinitionArn, rec.Cluster))
	}
	cons, strats, err := placement.Rules(&def, nil, nil)
	if err != nil {
		return h.fail(ctx, rec, run, fmt.Sprintf("Hook task of %s could not be placed: %v", def.TaskDefinitionArn, err))
	}
	group := "family:" + def.Family
	startedBy := hookStartedBy(rec.Shift)
	token := hookToken(rec.Shift, run)
	req := scheduler.Request{
		Placement: placement.Request{Demand: model.TaskDemand(&def), Requires: def.RequiresAttributes, Group: group, Count: 1,
			Constraints: cons, Strategies: strats},
		Build: func(inst *state.InstanceRecord) state.TaskRecord {
			return h.State.NewTaskRecord(cluster, &def, inst, state.TaskOptions{StartedBy: startedBy, Group: group})
		},
		ClientToken: token, TokenHash: token,
	}
	res, err := h.Scheduler.Place(ctx, rec.Cluster, req)
	if errors.Is(err, scheduler.ErrNoInstances) {
		return h.fail(ctx, rec, run, fmt.Sprintf("Hook task of %s could not be placed: No Container Instances were found in your cluster.", def.TaskDefinitionArn))
	}
	if err != nil {
		return err // tried again next pass, with the same token
	}
	var arn string
	switch {
	case res.TokenConflict != nil && len(res.TokenConflict.TaskArns) > 0:
		arn = res.TokenConflict.TaskArns[0]
	case len(res.Tasks) > 0:
		arn = res.Tasks[0].Task.TaskArn
	default:
		reason := res.Placement.ClosestReason()
		if reason == "" {
			reason = "no container instance met all of its requirements"
		}
		return h.fail(ctx, rec, run, fmt.Sprintf("Hook task of %s could not be placed: %s", def.TaskDefinitionArn, reason))
	}
	_, ok, err := h.change(ctx, rec, run, func(r *state.HookRun) string {
		r.TaskArn = arn
		_, id, _ := model.ParseTaskARN(arn)
		return fmt.Sprintf("(service %s) lifecycle hook %s at stage %s started 1 task: (task %s).", rec.Name, hookName(r.Target), r.Stage, id)
	})
	if err == nil && !ok {
		// The run moved on meanwhile (rolled back, stage changed): its
		// task has nothing left to tell.
		h.stopHookTask(ctx, arn, "Lifecycle hook run ended before its task started")
	}
	return err
}

// stopHookTask asks a hook's task to stop.
func (h *Hooks) stopHookTask(ctx context.Context, arn, reason string) {
	cluster, id, err := model.ParseTaskARN(arn)
	if err != nil {
		return
	}
	if _, err := h.State.StopTask(ctx, cluster, id, reason, model.StopServiceSchedulerInitiated); err != nil {
		h.Logger.Warn("stop hook task", "task", arn, "err", err)
	}
}

// hookStartedBy is the startedBy of a deployment's hook tasks:
// "ecs-hook/" and the service deployment's id.
func hookStartedBy(s *state.ShiftRecord) string {
	id := s.ServiceDeploymentArn
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		id = id[i+1:]
	}
	s2 := "ecs-hook/" + id
	return s2[:min(len(s2), 128)]
}

// hookToken is the client token of a run's task placement: one per run.
func hookToken(s *state.ShiftRecord, r state.HookRun) string {
	sum := sha256.Sum256([]byte(runKey(s, r) + "|" + r.StartedAt.UTC().Format(time.RFC3339Nano)))
	return "ecs-hook-" + hex.EncodeToString(sum[:20])
}
