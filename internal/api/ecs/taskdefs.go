package ecs

import (
	"context"
	"errors"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

type registerTaskDefinitionInput struct {
	model.TaskDefinition
	Tags []model.Tag `json:"tags"`
}

type taskDefinitionOutput struct {
	TaskDefinition *model.TaskDefinition `json:"taskDefinition"`
	Tags           []model.Tag           `json:"tags,omitempty"`
}

// RegisterTaskDefinition validates a task definition and stores it as the
// next revision of its family.
func (a *API) RegisterTaskDefinition(ctx context.Context, in *registerTaskDefinitionInput) (*taskDefinitionOutput, error) {
	td := in.TaskDefinition
	// Members that ECS computes are not the caller's to set.
	td.TaskDefinitionArn, td.Revision, td.Status = "", 0, ""
	td.RegisteredAt, td.RegisteredBy, td.DeregisteredAt, td.DeleteRequestedAt = nil, "", nil, nil
	td.Compatibilities, td.RequiresAttributes = nil, nil
	if err := model.PrepareTaskDefinition(&td); err != nil {
		return nil, err
	}
	if err := model.ValidateTags(nil, in.Tags); err != nil {
		return nil, err
	}
	if err := a.passRoles(ctx, tasksPrincipal, td.TaskRoleArn, td.ExecutionRoleArn); err != nil {
		return nil, err
	}
	rec, err := a.State.RegisterTaskDefinition(ctx, td, in.Tags, a.caller(ctx))
	if err != nil {
		return nil, err
	}
	tags := rec.Tags
	if tags == nil {
		tags = []model.Tag{}
	}
	return &taskDefinitionOutput{TaskDefinition: &rec.TaskDefinition, Tags: tags}, nil
}

type describeTaskDefinitionInput struct {
	TaskDefinition *string  `json:"taskDefinition"`
	Include        []string `json:"include"`
}

// DescribeTaskDefinition describes a revision, or a family's latest ACTIVE one.
func (a *API) DescribeTaskDefinition(ctx context.Context, in *describeTaskDefinitionInput) (*taskDefinitionOutput, error) {
	withTags, err := includeTags(in.Include)
	if err != nil {
		return nil, err
	}
	if in.TaskDefinition == nil || *in.TaskDefinition == "" {
		return nil, model.InvalidParameter("taskDefinition is required.")
	}
	rec, err := a.findTaskDefinition(ctx, *in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, model.ErrTaskDefinitionNotFound()
	}
	out := &taskDefinitionOutput{TaskDefinition: &rec.TaskDefinition}
	if withTags {
		out.Tags = rec.Tags
		if out.Tags == nil {
			out.Tags = []model.Tag{}
		}
	}
	return out, nil
}

// findTaskDefinition resolves a reference to a stored revision, nil if none.
func (a *API) findTaskDefinition(ctx context.Context, ref string) (*state.TaskDefRecord, error) {
	r, found, err := a.taskDefRef(ref)
	if err != nil || !found {
		return nil, err
	}
	return a.State.GetTaskDefinition(ctx, r.Family, r.Revision)
}

// exactRevision resolves a reference that must name a revision.
func (a *API) exactRevision(ref string) (model.TaskDefinitionRef, bool, error) {
	r, found, err := a.taskDefRef(ref)
	if err != nil {
		return r, false, err
	}
	if r.Revision == 0 {
		return r, false, model.Client("Revision is missing.")
	}
	return r, found, nil
}

type deregisterTaskDefinitionInput struct {
	TaskDefinition *string `json:"taskDefinition"`
}

// DeregisterTaskDefinition marks a revision INACTIVE.
func (a *API) DeregisterTaskDefinition(ctx context.Context, in *deregisterTaskDefinitionInput) (*taskDefinitionOutput, error) {
	if in.TaskDefinition == nil || *in.TaskDefinition == "" {
		return nil, model.InvalidParameter("taskDefinition is required.")
	}
	r, found, err := a.exactRevision(*in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	var rec *state.TaskDefRecord
	if found {
		if rec, err = a.State.DeregisterTaskDefinition(ctx, r.Family, r.Revision); err != nil {
			return nil, err
		}
	}
	if rec == nil {
		return nil, model.ErrTaskDefinitionNotFound()
	}
	return &taskDefinitionOutput{TaskDefinition: &rec.TaskDefinition}, nil
}

type deleteTaskDefinitionsInput struct {
	TaskDefinitions []string `json:"taskDefinitions"`
}

type deleteTaskDefinitionsOutput struct {
	TaskDefinitions []model.TaskDefinition `json:"taskDefinitions"`
	Failures        []failure              `json:"failures"`
}

// DeleteTaskDefinitions moves INACTIVE revisions to DELETE_IN_PROGRESS. Each
// item succeeds or fails on its own.
func (a *API) DeleteTaskDefinitions(ctx context.Context, in *deleteTaskDefinitionsInput) (*deleteTaskDefinitionsOutput, error) {
	if len(in.TaskDefinitions) == 0 {
		return nil, model.InvalidParameter("taskDefinitions must name at least one task definition.")
	}
	if len(in.TaskDefinitions) > 10 {
		return nil, model.InvalidParameter("taskDefinitions can have at most 10 items.")
	}
	// Each failure names the identifier as given and says why in its
	// reason, as ECS does (and as moto's tests of it expect).
	out := &deleteTaskDefinitionsOutput{TaskDefinitions: []model.TaskDefinition{}, Failures: []failure{}}
	for _, ref := range in.TaskDefinitions {
		r, found, err := a.exactRevision(ref)
		if err != nil {
			out.Failures = append(out.Failures, failure{Arn: ref, Reason: "The specified task definition identifier is invalid. Specify a valid name or ARN and try again."})
			continue
		}
		var rec *state.TaskDefRecord
		if found {
			rec, err = a.State.DeleteTaskDefinition(ctx, r.Family, r.Revision)
		}
		var refusal *model.Error
		switch {
		case errors.As(err, &refusal):
			out.Failures = append(out.Failures, failure{Arn: ref, Reason: refusal.Message})
		case err != nil:
			return nil, err
		case rec == nil:
			out.Failures = append(out.Failures, failure{Arn: ref, Reason: "The specified task definition does not exist. Specify a valid account, family, revision and try again."})
		default:
			out.TaskDefinitions = append(out.TaskDefinitions, rec.TaskDefinition)
		}
	}
	return out, nil
}

type listTaskDefinitionsInput struct {
	FamilyPrefix string `json:"familyPrefix"`
	Status       string `json:"status"`
	Sort         string `json:"sort"`
	listInput
}

type listTaskDefinitionsOutput struct {
	TaskDefinitionArns []string `json:"taskDefinitionArns"`
	NextToken          string   `json:"nextToken,omitempty"`
}

// ListTaskDefinitions lists revision ARNs by status, optionally of one family.
func (a *API) ListTaskDefinitions(ctx context.Context, in *listTaskDefinitionsInput) (*listTaskDefinitionsOutput, error) {
	status := in.Status
	switch status {
	case "":
		status = model.TaskDefActive
	case model.TaskDefActive, model.TaskDefInactive, model.TaskDefDeleteInProgress:
	default:
		return nil, model.InvalidParameter("status should be one of [ACTIVE,INACTIVE,DELETE_IN_PROGRESS]")
	}
	desc := false
	switch in.Sort {
	case "", "ASC":
	case "DESC":
		desc = true
	default:
		return nil, model.InvalidParameter("sort should be one of [ASC,DESC]")
	}
	if in.FamilyPrefix != "" && !model.ValidName(in.FamilyPrefix) {
		return nil, model.InvalidParameter("familyPrefix must match ^[a-zA-Z0-9\\-_]{1,255}$, but was %q.", model.Truncate(in.FamilyPrefix, 300))
	}
	limit, err := state.PageSize(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	arns, next, err := a.State.ListTaskDefinitions(ctx, in.FamilyPrefix, status, desc, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	if arns == nil {
		arns = []string{}
	}
	return &listTaskDefinitionsOutput{TaskDefinitionArns: arns, NextToken: next}, nil
}

type listTaskDefinitionFamiliesInput struct {
	FamilyPrefix string `json:"familyPrefix"`
	Status       string `json:"status"`
	listInput
}

type listTaskDefinitionFamiliesOutput struct {
	Families  []string `json:"families"`
	NextToken string   `json:"nextToken,omitempty"`
}

// ListTaskDefinitionFamilies lists family names.
func (a *API) ListTaskDefinitionFamilies(ctx context.Context, in *listTaskDefinitionFamiliesInput) (*listTaskDefinitionFamiliesOutput, error) {
	status := in.Status
	switch status {
	case "":
		status = model.TaskDefActive
	case model.TaskDefActive, model.TaskDefInactive, "ALL":
	default:
		return nil, model.InvalidParameter("status should be one of [ACTIVE,INACTIVE,ALL]")
	}
	if in.FamilyPrefix != "" && !model.ValidName(in.FamilyPrefix) {
		return nil, model.InvalidParameter("familyPrefix must match ^[a-zA-Z0-9\\-_]{1,255}$, but was %q.", model.Truncate(in.FamilyPrefix, 300))
	}
	limit, err := state.PageSize(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	fams, next, err := a.State.ListTaskDefinitionFamilies(ctx, in.FamilyPrefix, status, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	if fams == nil {
		fams = []string{}
	}
	return &listTaskDefinitionFamiliesOutput{Families: fams, NextToken: next}, nil
}
