package ecs

import (
	"context"
	"errors"
	"strings"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// taggable is a resource whose tags can be read and rewritten.
type taggable struct {
	tags []model.Tag
	// missing is the answer when the resource is gone.
	missing error
	// rewrite applies change to the resource's tags in one transaction and
	// says whether the resource was still there.
	rewrite func(ctx context.Context, change func(*[]model.Tag) error) (found bool, err error)
}

// update rewrites the tags with fn, or answers missing.
func (t *taggable) update(ctx context.Context, fn func([]model.Tag) ([]model.Tag, error)) error {
	found, err := t.rewrite(ctx, func(tags *[]model.Tag) error {
		next, err := fn(*tags)
		*tags = next
		return err
	})
	if err == nil && !found {
		return t.missing
	}
	return err
}

// tagOp names the tagging operation, where ECS answers a missing resource
// differently for listing and for changing tags.
type tagOp int

const (
	changeTags tagOp = iota
	listTags
)

// resource resolves an ARN to a taggable resource (a cluster, task
// definition, service, task or container instance), or answers in ECS's
// words why it cannot.
func (a *API) resource(ctx context.Context, ref string, op tagOp) (*taggable, error) {
	if ref == "" {
		return nil, model.InvalidParameter("resourceArn is required.")
	}
	arn, err := model.ParseARN(ref)
	if err != nil || arn.Service != "ecs" {
		return nil, model.InvalidParameter("The ARN provided is invalid: %q is not an Amazon ECS resource ARN.", model.Truncate(ref, 300))
	}
	kind, rest, _ := strings.Cut(arn.Resource, "/")
	switch kind {
	case "cluster":
		c, err := a.activeCluster(ctx, ref)
		if err != nil {
			return nil, err
		}
		return &taggable{tags: c.Tags, missing: model.ErrClusterNotFound(),
			rewrite: func(ctx context.Context, change func(*[]model.Tag) error) (bool, error) {
				got, err := a.State.UpdateCluster(ctx, c.ClusterName, func(c *model.Cluster) error { return change(&c.Tags) })
				return got != nil, err
			}}, nil
	case "task-definition":
		return a.taggableTaskDefinition(ctx, ref, op)
	case "service", "task", "container-instance":
		// Only the long form, which names the cluster, can be tagged
		// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-account-settings.html).
		cluster, id, ok := strings.Cut(rest, "/")
		if !ok || cluster == "" || id == "" || strings.Contains(id, "/") {
			return nil, model.InvalidParameter("Long arn format must be used for tagging operations")
		}
		if !a.State.Scope.Owns(arn) {
			return nil, notFound(ref)
		}
		c, err := a.activeCluster(ctx, cluster)
		if err != nil {
			return nil, err
		}
		switch kind {
		case "service":
			return a.taggableService(ctx, c.ClusterName, id)
		case "task":
			return a.taggableTask(ctx, ref, c.ClusterName, id)
		default:
			return a.taggableInstance(ctx, ref, c.ClusterName, id)
		}
	case "capacity-provider", "task-set", "service-deployment":
		// Flotta has none of these yet, so no such ARN can name a resource here.
		return nil, notFound(ref)
	}
	return nil, model.InvalidParameter("The ARN provided is invalid: %q is not a taggable Amazon ECS resource.", model.Truncate(ref, 300))
}

func (a *API) taggableTaskDefinition(ctx context.Context, ref string, op tagOp) (*taggable, error) {
	r, found, err := a.exactRevision(ref)
	if err != nil {
		return nil, err
	}
	var rec *state.TaskDefRecord
	if found {
		if rec, err = a.State.GetTaskDefinition(ctx, r.Family, r.Revision); err != nil {
			return nil, err
		}
	}
	if rec == nil {
		if op == listTags {
			return nil, model.ErrTaskDefinitionNotFound()
		}
		return nil, notFound(ref)
	}
	return &taggable{tags: rec.Tags, missing: notFound(ref),
		rewrite: func(ctx context.Context, change func(*[]model.Tag) error) (bool, error) {
			got, err := a.State.UpdateTaskDefinitionTags(ctx, r.Family, r.Revision, change)
			return got != nil, err
		}}, nil
}

func (a *API) taggableService(ctx context.Context, cluster, name string) (*taggable, error) {
	rec, err := a.State.GetService(ctx, cluster, name)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, model.ErrServiceNotFound()
	}
	return &taggable{tags: rec.Service.Tags, missing: model.ErrServiceNotFound(),
		rewrite: func(ctx context.Context, change func(*[]model.Tag) error) (bool, error) {
			got, err := a.State.UpdateService(ctx, cluster, name, func(r *state.ServiceRecord) error { return change(&r.Service.Tags) })
			return got != nil, err
		}}, nil
}

func (a *API) taggableTask(ctx context.Context, ref, cluster, id string) (*taggable, error) {
	rec, err := a.State.GetTask(ctx, cluster, id)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, notFound(ref)
	}
	return &taggable{tags: rec.Task.Tags, missing: notFound(ref),
		rewrite: func(ctx context.Context, change func(*[]model.Tag) error) (bool, error) {
			got, err := a.State.UpdateTaskTags(ctx, cluster, id, change)
			return got != nil, err
		}}, nil
}

func (a *API) taggableInstance(ctx context.Context, ref, cluster, id string) (*taggable, error) {
	rec, err := a.State.GetInstance(ctx, cluster, id)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, notFound(ref)
	}
	return &taggable{tags: rec.Instance.Tags, missing: notFound(ref),
		rewrite: func(ctx context.Context, change func(*[]model.Tag) error) (bool, error) {
			got, err := a.State.UpdateInstance(ctx, cluster, id, func(r *state.InstanceRecord) error { return change(&r.Instance.Tags) })
			return got != nil, err
		}}, nil
}

func notFound(arn string) *model.Error {
	return model.Errorf(model.CodeResourceNotFound, "The specified resource wasn't found: %s.", model.Truncate(arn, 300))
}

type tagResourceInput struct {
	ResourceArn string      `json:"resourceArn"`
	Tags        []model.Tag `json:"tags"`
}

type empty struct{}

// TagResource adds or overwrites tags.
func (a *API) TagResource(ctx context.Context, in *tagResourceInput) (*empty, error) {
	res, err := a.resource(ctx, in.ResourceArn, changeTags)
	if err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, model.InvalidParameter("tags is required.")
	}
	err = res.update(ctx, func(cur []model.Tag) ([]model.Tag, error) {
		if err := model.ValidateTags(cur, in.Tags); err != nil {
			return nil, err
		}
		return model.MergeTags(cur, in.Tags), nil
	})
	if err != nil {
		return nil, err
	}
	return &empty{}, nil
}

type untagResourceInput struct {
	ResourceArn string   `json:"resourceArn"`
	TagKeys     []string `json:"tagKeys"`
}

// UntagResource removes tags by key.
func (a *API) UntagResource(ctx context.Context, in *untagResourceInput) (*empty, error) {
	res, err := a.resource(ctx, in.ResourceArn, changeTags)
	if err != nil {
		return nil, err
	}
	if in.TagKeys == nil {
		return nil, model.InvalidParameter("tagKeys is required.")
	}
	for _, k := range in.TagKeys {
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, model.InvalidParameter("Tag keys beginning with 'aws:' are reserved for AWS use; %q cannot be removed.", k)
		}
	}
	err = res.update(ctx, func(cur []model.Tag) ([]model.Tag, error) {
		return model.RemoveTags(cur, in.TagKeys), nil
	})
	if err != nil {
		return nil, err
	}
	return &empty{}, nil
}

// ResourceTags are the tags of the ECS resource arn names, for policies that
// test aws:ResourceTag/KEY; nil when there is no such resource (or the ARN
// is not one ECS can tag).
func (a *API) ResourceTags(ctx context.Context, arn string) (map[string]string, error) {
	res, err := a.resource(ctx, arn, listTags)
	var me *model.Error
	if errors.As(err, &me) {
		return nil, nil
	}
	if err != nil || len(res.tags) == 0 {
		return nil, err
	}
	out := make(map[string]string, len(res.tags))
	for _, t := range res.tags {
		out[t.Key] = t.Value
	}
	return out, nil
}

type listTagsForResourceInput struct {
	ResourceArn string `json:"resourceArn"`
}

type listTagsForResourceOutput struct {
	Tags []model.Tag `json:"tags"`
}

// ListTagsForResource lists a resource's tags.
func (a *API) ListTagsForResource(ctx context.Context, in *listTagsForResourceInput) (*listTagsForResourceOutput, error) {
	res, err := a.resource(ctx, in.ResourceArn, listTags)
	if err != nil {
		return nil, err
	}
	return &listTagsForResourceOutput{Tags: model.PresentTags(res.tags, true)}, nil
}

// includeTags reads a Describe call's include, whose only member is TAGS.
func includeTags(include []string) (bool, error) {
	for _, inc := range include {
		if inc != "TAGS" {
			return false, model.InvalidParameter("include should be one of [TAGS]")
		}
	}
	return len(include) > 0, nil
}
