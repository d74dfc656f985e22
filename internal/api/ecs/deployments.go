package ecs

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// serviceOfARN finds the service record behind a service-revision or
// service-deployment ARN (resource "KIND/CLUSTER/SERVICE/ID").
func (a *API) serviceOfARN(ctx context.Context, ref, kind string) (*state.ServiceRecord, error) {
	arn, err := model.ParseARN(ref)
	parts := strings.Split(arn.Resource, "/")
	if err != nil || arn.Service != "ecs" || len(parts) != 4 || parts[0] != kind {
		return nil, model.InvalidParameter("Invalid %s ARN %q.", kind, model.Truncate(ref, 300))
	}
	return a.State.GetService(ctx, parts[1], parts[2])
}

type describeServiceRevisionsInput struct {
	ServiceRevisionArns []string `json:"serviceRevisionArns"`
}

type describeServiceRevisionsOutput struct {
	ServiceRevisions []model.ServiceRevision `json:"serviceRevisions"`
	Failures         []failure               `json:"failures"`
}

// DescribeServiceRevisions describes service revisions by ARN.
func (a *API) DescribeServiceRevisions(ctx context.Context, in *describeServiceRevisionsInput) (*describeServiceRevisionsOutput, error) {
	if len(in.ServiceRevisionArns) == 0 || len(in.ServiceRevisionArns) > 20 {
		return nil, model.InvalidParameter("serviceRevisionArns must name between 1 and 20 service revisions.")
	}
	out := &describeServiceRevisionsOutput{ServiceRevisions: []model.ServiceRevision{}, Failures: []failure{}}
	for _, ref := range in.ServiceRevisionArns {
		rec, err := a.serviceOfARN(ctx, ref, "service-revision")
		if err != nil {
			return nil, err
		}
		found := false
		if rec != nil {
			for _, r := range rec.Revisions {
				if r.ServiceRevisionArn == ref {
					out.ServiceRevisions = append(out.ServiceRevisions, r)
					found = true
				}
			}
		}
		if !found {
			out.Failures = append(out.Failures, failure{Arn: ref, Reason: "MISSING"})
		}
	}
	return out, nil
}

type describeServiceDeploymentsInput struct {
	ServiceDeploymentArns []string `json:"serviceDeploymentArns"`
}

type describeServiceDeploymentsOutput struct {
	ServiceDeployments []model.ServiceDeployment `json:"serviceDeployments"`
	Failures           []failure                 `json:"failures"`
}

// DescribeServiceDeployments describes service deployments by ARN.
func (a *API) DescribeServiceDeployments(ctx context.Context, in *describeServiceDeploymentsInput) (*describeServiceDeploymentsOutput, error) {
	if len(in.ServiceDeploymentArns) == 0 || len(in.ServiceDeploymentArns) > 20 {
		return nil, model.InvalidParameter("serviceDeploymentArns must name between 1 and 20 service deployments.")
	}
	out := &describeServiceDeploymentsOutput{ServiceDeployments: []model.ServiceDeployment{}, Failures: []failure{}}
	for _, ref := range in.ServiceDeploymentArns {
		rec, err := a.serviceOfARN(ctx, ref, "service-deployment")
		if err != nil {
			return nil, err
		}
		found := false
		if rec != nil {
			for _, sd := range rec.ServiceDeployments {
				if sd.ServiceDeploymentArn == ref {
					sd.LifecycleHookDetails = hookDetails(rec, ref)
					out.ServiceDeployments = append(out.ServiceDeployments, sd)
					found = true
				}
			}
		}
		if !found {
			out.Failures = append(out.Failures, failure{Arn: ref, Reason: "MISSING"})
		}
	}
	return out, nil
}

type listServiceDeploymentsInput struct {
	Cluster   string   `json:"cluster"`
	Service   string   `json:"service"`
	Status    []string `json:"status"`
	CreatedAt *struct {
		Before *model.Time `json:"before"`
		After  *model.Time `json:"after"`
	} `json:"createdAt"`
	listInput
}

type serviceDeploymentBrief struct {
	ServiceDeploymentArn     string      `json:"serviceDeploymentArn"`
	ServiceArn               string      `json:"serviceArn"`
	ClusterArn               string      `json:"clusterArn"`
	StartedAt                *model.Time `json:"startedAt,omitempty"`
	CreatedAt                *model.Time `json:"createdAt,omitempty"`
	FinishedAt               *model.Time `json:"finishedAt,omitempty"`
	TargetServiceRevisionArn string      `json:"targetServiceRevisionArn,omitempty"`
	Status                   string      `json:"status"`
	StatusReason             string      `json:"statusReason,omitempty"`
}

type listServiceDeploymentsOutput struct {
	ServiceDeployments []serviceDeploymentBrief `json:"serviceDeployments"`
	NextToken          string                   `json:"nextToken,omitempty"`
}

// ListServiceDeployments lists a service's deployments, newest first.
func (a *API) ListServiceDeployments(ctx context.Context, in *listServiceDeploymentsInput) (*listServiceDeploymentsOutput, error) {
	c, name, err := a.serviceRef(ctx, in.Cluster, in.Service)
	if err != nil {
		return nil, err
	}
	limit, err := state.PageSize(in.MaxResults, 20, 100)
	if err != nil {
		return nil, err
	}
	rec, err := a.State.GetService(ctx, c.ClusterName, name)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, model.ErrServiceNotFound()
	}
	var all []serviceDeploymentBrief
	for _, sd := range rec.ServiceDeployments {
		if len(in.Status) > 0 && !contains(in.Status, sd.Status) {
			continue
		}
		if in.CreatedAt != nil && sd.CreatedAt != nil {
			if in.CreatedAt.Before != nil && !sd.CreatedAt.Before(in.CreatedAt.Before.Time) ||
				in.CreatedAt.After != nil && !sd.CreatedAt.After(in.CreatedAt.After.Time) {
				continue
			}
		}
		b := serviceDeploymentBrief{ServiceDeploymentArn: sd.ServiceDeploymentArn, ServiceArn: sd.ServiceArn, ClusterArn: sd.ClusterArn,
			StartedAt: sd.StartedAt, CreatedAt: sd.CreatedAt, FinishedAt: sd.FinishedAt, Status: sd.Status, StatusReason: sd.StatusReason}
		if sd.TargetServiceRevision != nil {
			b.TargetServiceRevisionArn = sd.TargetServiceRevision.Arn
		}
		all = append(all, b)
	}
	// Newest first: the paging key is the creation time counted backwards.
	newestFirst := func(b serviceDeploymentBrief) string {
		return fmt.Sprintf("%020d/%s", math.MaxInt64-b.CreatedAt.UnixNano(), b.ServiceDeploymentArn)
	}
	page, next, err := state.PageSlice(all, newestFirst, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	if page == nil {
		page = []serviceDeploymentBrief{}
	}
	return &listServiceDeploymentsOutput{ServiceDeployments: page, NextToken: next}, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type stopServiceDeploymentInput struct {
	ServiceDeploymentArn string `json:"serviceDeploymentArn"`
	StopType             string `json:"stopType"`
}

type stopServiceDeploymentOutput struct {
	ServiceDeploymentArn string `json:"serviceDeploymentArn"`
}

// StopServiceDeployment rolls an in-progress deployment back to the last
// completed one (ROLLBACK, the default), or stops it where it stands (ABORT).
func (a *API) StopServiceDeployment(ctx context.Context, in *stopServiceDeploymentInput) (*stopServiceDeploymentOutput, error) {
	stopType := in.StopType
	switch stopType {
	case "":
		stopType = "ROLLBACK"
	case "ROLLBACK", "ABORT":
	default:
		return nil, model.InvalidParameter("stopType should be one of [ABORT,ROLLBACK]")
	}
	rec, err := a.serviceOfARN(ctx, in.ServiceDeploymentArn, "service-deployment")
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, model.Errorf(model.CodeServiceDeploymentNotFound, "The service deployment %s does not exist.", in.ServiceDeploymentArn)
	}
	var prevDef *state.TaskDefRecord
	if stopType == "ROLLBACK" && rec.LastCompleted != nil {
		if prevDef, err = a.findTaskDefinition(ctx, rec.LastCompleted.TaskDefinition); err != nil {
			return nil, err
		}
	}
	_, err = a.State.UpdateService(ctx, rec.Cluster, rec.Name, func(r *state.ServiceRecord) error {
		var sd *model.ServiceDeployment
		for i := range r.ServiceDeployments {
			if r.ServiceDeployments[i].ServiceDeploymentArn == in.ServiceDeploymentArn {
				sd = &r.ServiceDeployments[i]
			}
		}
		if sd == nil {
			return model.Errorf(model.CodeServiceDeploymentNotFound, "The service deployment %s does not exist.", in.ServiceDeploymentArn)
		}
		if sd.Status != model.SDInProgress && sd.Status != model.SDPending {
			return model.Errorf(model.CodeConflict, "The service deployment is %s; only a deployment in progress can be stopped.", sd.Status)
		}
		now := model.At(a.State.Now())
		if sh := r.Shift; sh != nil && sh.ServiceDeploymentArn == sd.ServiceDeploymentArn && stopType == "ROLLBACK" {
			// A blue/green, canary or linear deployment rolls back to blue,
			// which still runs: the service controller sends the traffic
			// back and removes green (a new Seq makes it reconcile anew).
			if !sh.RollingBack {
				sh.RollingBack, sh.Reason = true, "Rollback requested by user."
			}
			sd.Status, sd.UpdatedAt = model.SDRollbackRequested, now
			r.Seq++
			a.State.AddEvent(r, "(service %s) is rolling back to (deployment %s), as requested.", r.Name, sh.Blue)
			return nil
		}
		if stopType == "ABORT" {
			r.Shift = nil // the traffic stays where it is
			r.Seq++       // a reconcile planned from the record before this must not overwrite it
			// Freeze every deployment at what it runs now.
			for i := range r.Deployments {
				d := &r.Deployments[i]
				d.DesiredCount = d.RunningCount + d.PendingCount
				if d.Status == model.DeploymentPrimary {
					d.RolloutState, d.RolloutStateReason = model.RolloutFailed, "Deployment stopped by user (ABORT)."
				}
			}
			sd.Status, sd.StatusReason, sd.StoppedAt, sd.UpdatedAt = model.SDStopped, "Stopped by user (ABORT).", now, now
			a.State.AddEvent(r, "(service %s) deployment %s was stopped where it stood (ABORT).", r.Name, r.Deployments[0].ID)
			return nil
		}
		if prevDef == nil {
			return model.Errorf(model.CodeConflict, "The service has no completed deployment to roll back to.")
		}
		sd.Status = model.SDRollbackRequested
		if len(r.Deployments) > 0 {
			r.Deployments[0].RolloutState, r.Deployments[0].RolloutStateReason = model.RolloutFailed, "Rollback requested by user."
		}
		a.State.StartDeployment(r, &prevDef.TaskDefinition, sd, "Rollback requested by user.")
		a.State.AddEvent(r, "(service %s) is rolling back to %s, as requested.", r.Name, prevDef.TaskDefinition.TaskDefinitionArn)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &stopServiceDeploymentOutput{ServiceDeploymentArn: in.ServiceDeploymentArn}, nil
}

type taskProtectionInput struct {
	Cluster           string   `json:"cluster"`
	Tasks             []string `json:"tasks"`
	ProtectionEnabled *bool    `json:"protectionEnabled"`
	ExpiresInMinutes  *int     `json:"expiresInMinutes"`
}

type protectedTask struct {
	TaskArn           string      `json:"taskArn"`
	ProtectionEnabled bool        `json:"protectionEnabled"`
	ExpirationDate    *model.Time `json:"expirationDate,omitempty"`
}

type taskProtectionOutput struct {
	ProtectedTasks []protectedTask `json:"protectedTasks"`
	Failures       []failure       `json:"failures"`
}

// UpdateTaskProtection protects tasks from scale-in (or stops protecting them).
func (a *API) UpdateTaskProtection(ctx context.Context, in *taskProtectionInput) (*taskProtectionOutput, error) {
	if in.ProtectionEnabled == nil {
		return nil, model.InvalidParameter("protectionEnabled is required.")
	}
	minutes := 120
	if in.ExpiresInMinutes != nil {
		minutes = *in.ExpiresInMinutes
	}
	if minutes < 1 || minutes > 2880 {
		return nil, model.InvalidParameter("expiresInMinutes must be between 1 and 2880; got %d.", minutes)
	}
	return a.taskProtection(ctx, in, func(r *state.TaskRecord) {
		if *in.ProtectionEnabled {
			r.ProtectedTill = model.At(a.State.Now().Add(time.Duration(minutes) * time.Minute))
		} else {
			r.ProtectedTill = nil
		}
	})
}

// GetTaskProtection says which tasks are protected from scale-in.
func (a *API) GetTaskProtection(ctx context.Context, in *taskProtectionInput) (*taskProtectionOutput, error) {
	return a.taskProtection(ctx, in, nil)
}

func (a *API) taskProtection(ctx context.Context, in *taskProtectionInput, change func(*state.TaskRecord)) (*taskProtectionOutput, error) {
	if len(in.Tasks) == 0 || len(in.Tasks) > 10 {
		return nil, model.InvalidParameter("tasks must name between 1 and 10 tasks.")
	}
	c, err := a.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	out := &taskProtectionOutput{ProtectedTasks: []protectedTask{}, Failures: []failure{}}
	for _, ref := range in.Tasks {
		id, err := a.taskID(c.ClusterName, ref)
		if err != nil {
			return nil, err
		}
		var rec *state.TaskRecord
		if change != nil {
			rec, err = a.State.ProtectTask(ctx, c.ClusterName, id, change)
		} else {
			rec, err = a.State.GetTask(ctx, c.ClusterName, id)
		}
		if err != nil {
			return nil, err
		}
		if rec == nil {
			out.Failures = append(out.Failures, failure{Arn: a.State.Scope.TaskARN(c.ClusterName, id), Reason: "MISSING"})
			continue
		}
		pt := protectedTask{TaskArn: rec.Task.TaskArn}
		if rec.ProtectedTill != nil && rec.ProtectedTill.After(a.State.Now()) {
			pt.ProtectionEnabled, pt.ExpirationDate = true, rec.ProtectedTill
		}
		out.ProtectedTasks = append(out.ProtectedTasks, pt)
	}
	return out, nil
}
