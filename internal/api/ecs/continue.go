package ecs

import (
	"context"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

type continueServiceDeploymentInput struct {
	ServiceDeploymentArn string `json:"serviceDeploymentArn"`
	HookID               string `json:"hookId"`
	Action               string `json:"action"`
}

type continueServiceDeploymentOutput struct {
	ServiceDeploymentArn string `json:"serviceDeploymentArn"`
}

// ContinueServiceDeployment acts on a PAUSE lifecycle hook that holds a
// blue/green, canary or linear deployment: CONTINUE (the default) moves it
// to its next stage, ROLLBACK rolls it back to blue.
func (a *API) ContinueServiceDeployment(ctx context.Context, in *continueServiceDeploymentInput) (*continueServiceDeploymentOutput, error) {
	switch in.Action {
	case "":
		in.Action = model.HookContinue
	case model.HookContinue, model.HookRollback:
	default:
		return nil, model.InvalidParameter("action should be one of [CONTINUE,ROLLBACK]")
	}
	if in.ServiceDeploymentArn == "" {
		return nil, model.InvalidParameter("serviceDeploymentArn is required.")
	}
	if in.HookID == "" {
		return nil, model.InvalidParameter("hookId is required.")
	}
	rec, err := a.serviceOfARN(ctx, in.ServiceDeploymentArn, "service-deployment")
	if err != nil {
		return nil, err
	}
	notFound := model.Errorf(model.CodeServiceDeploymentNotFound, "The service deployment %s does not exist.", in.ServiceDeploymentArn)
	if rec == nil {
		return nil, notFound
	}
	_, err = a.State.UpdateService(ctx, rec.Cluster, rec.Name, func(r *state.ServiceRecord) error {
		var sd *model.ServiceDeployment
		for i := range r.ServiceDeployments {
			if r.ServiceDeployments[i].ServiceDeploymentArn == in.ServiceDeploymentArn {
				sd = &r.ServiceDeployments[i]
			}
		}
		if sd == nil {
			return notFound
		}
		sh := r.Shift
		if sh == nil || sh.ServiceDeploymentArn != in.ServiceDeploymentArn || sh.RollingBack {
			return model.InvalidParameter("The service deployment %s is not paused at a lifecycle hook.", in.ServiceDeploymentArn)
		}
		var run *state.HookRun
		for i := range sh.Hooks {
			if sh.Hooks[i].ID == in.HookID {
				run = &sh.Hooks[i]
			}
		}
		if run == nil || run.Status != state.HookAwaitingAction {
			return model.InvalidParameter("The lifecycle hook %s is not awaiting action in service deployment %s.", model.Truncate(in.HookID, 100), in.ServiceDeploymentArn)
		}
		now := a.State.Now()
		if in.Action == model.HookRollback {
			run.Status, run.EndedAt, run.Reason = state.HookFailed, now, "Rollback requested by ContinueServiceDeployment."
			sh.RollingBack, sh.Reason = true, "Rollback requested by user at lifecycle hook "+run.ID+"."
			sd.Status = model.SDRollbackRequested
		} else {
			run.Status, run.EndedAt = state.HookSucceeded, now
		}
		sd.UpdatedAt = model.At(now)
		r.Seq++ // the service controller plans anew from this
		a.State.AddEvent(r, "(service %s) lifecycle hook %s at stage %s: %s, as requested.", r.Name, run.ID, run.Stage, in.Action)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &continueServiceDeploymentOutput{ServiceDeploymentArn: in.ServiceDeploymentArn}, nil
}

// hookDetails are the lifecycleHookDetails of a service deployment: the
// hook runs of the stage it is at, while it is under way.
func hookDetails(r *state.ServiceRecord, arn string) []model.LifecycleHookDetail {
	sh := r.Shift
	if sh == nil || sh.ServiceDeploymentArn != arn {
		return nil
	}
	var out []model.LifecycleHookDetail
	for _, h := range sh.Hooks {
		d := model.LifecycleHookDetail{HookID: h.ID, Status: h.Status, TargetType: h.TargetType, TimeoutAction: h.TimeoutAction}
		if d.Status == state.HookPending {
			d.Status = state.HookInProgress // ECS's statuses have no PENDING
		}
		if h.TargetType != model.HookTargetPause {
			d.TargetArn = h.Target
		}
		if !h.ExpiresAt.IsZero() {
			d.ExpiresAt = model.At(h.ExpiresAt)
		}
		out = append(out, d)
	}
	return out
}
