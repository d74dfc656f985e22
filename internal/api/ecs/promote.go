package ecs

import (
	"context"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// promoteInput names the service whose deployment to promote.
type promoteInput struct {
	Cluster string `json:"cluster"`
	Service string `json:"service"`
}

// promoteOutput is the deployment promoted and the stage it was at.
type promoteOutput struct {
	ServiceDeploymentArn string `json:"serviceDeploymentArn"`
	LifecycleStage       string `json:"lifecycleStage"`
	Strategy             string `json:"strategy"`
}

// PromoteServiceDeployment skips the bakes that remain of a service's
// blue/green, canary or linear deployment (`flotta service promote`): the
// remaining traffic steps follow each other at once and the old revision
// goes without its bake. ECS has no such operation; CodeDeploy's
// "reroute traffic now" and Argo Rollouts' promote are the ideas. The
// service controller reads ShiftRecord.Promote.
func (a *API) PromoteServiceDeployment(ctx context.Context, in *promoteInput) (*promoteOutput, error) {
	c, name, err := a.serviceRef(ctx, in.Cluster, in.Service)
	if err != nil {
		return nil, err
	}
	out := &promoteOutput{}
	rec, err := a.State.UpdateService(ctx, c.ClusterName, name, func(r *state.ServiceRecord) error {
		if r.Service.Status != model.ServiceActive {
			return model.Errorf(model.CodeServiceNotActive, "Service was not ACTIVE.")
		}
		if r.Shift == nil {
			return model.InvalidParameter("The service has no blue/green, canary or linear deployment in progress.")
		}
		if r.Shift.RollingBack {
			return model.InvalidParameter("The service's %s deployment is rolling back; there is nothing to promote.", r.Shift.Strategy)
		}
		r.Shift.Promote = true
		r.Seq++ // a reconcile planned from the record before this must not overwrite it
		out.ServiceDeploymentArn, out.LifecycleStage, out.Strategy = r.Shift.ServiceDeploymentArn, r.Shift.Stage, r.Shift.Strategy
		return nil
	})
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, model.ErrServiceNotFound()
	}
	return out, nil
}
