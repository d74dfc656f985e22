package ecs

import (
	"context"
	"strings"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// taggable is a resource whose tags can be read and rewritten.
type taggable struct {
	get    func(ctx context.Context) ([]model.Tag, error)
	update func(ctx context.Context, fn func([]model.Tag) ([]model.Tag, error)) error
}

// resource resolves an ARN to a taggable resource, or answers in ECS's words
// why it cannot.
func (a *API) resource(ctx context.Context, ref string) (*taggable, error) {
	if ref == "" {
		return nil, model.InvalidParameter("resourceArn is required.")
	}
	arn, err := model.ParseARN(ref)
	if err != nil || arn.Service != "ecs" {
		return nil, model.InvalidParameter("The ARN provided is invalid: %q is not an Amazon ECS resource ARN.", truncate(ref, 300))
	}
	kind, _, _ := strings.Cut(arn.Resource, "/")
	switch kind {
	case "cluster":
		c, err := a.activeCluster(ctx, ref)
		if err != nil {
			return nil, err
		}
		name := c.ClusterName
		return &taggable{
			get: func(context.Context) ([]model.Tag, error) { return c.Tags, nil },
			update: func(ctx context.Context, fn func([]model.Tag) ([]model.Tag, error)) error {
				_, err := a.State.UpdateCluster(ctx, name, func(c *model.Cluster) error {
					tags, err := fn(c.Tags)
					c.Tags = tags
					return err
				})
				return err
			},
		}, nil
	case "task-definition":
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
			return nil, notFound(ref)
		}
		return &taggable{
			get: func(context.Context) ([]model.Tag, error) { return rec.Tags, nil },
			update: func(ctx context.Context, fn func([]model.Tag) ([]model.Tag, error)) error {
				got, err := a.State.UpdateTaskDefinitionTags(ctx, r.Family, r.Revision, fn)
				if err == nil && got == nil {
					return notFound(ref)
				}
				return err
			},
		}, nil
	case "service", "task", "container-instance", "capacity-provider", "task-set", "service-deployment":
		// Flotta has none of these yet, so no such ARN can name a resource here.
		return nil, notFound(ref)
	}
	return nil, model.InvalidParameter("The ARN provided is invalid: %q is not a taggable Amazon ECS resource.", truncate(ref, 300))
}

func notFound(arn string) *model.Error {
	return model.Errorf(model.CodeResourceNotFound, "The specified resource wasn't found: %s.", truncate(arn, 300))
}

type tagResourceInput struct {
	ResourceArn string      `json:"resourceArn"`
	Tags        []model.Tag `json:"tags"`
}

type empty struct{}

// TagResource adds or overwrites tags.
func (a *API) TagResource(ctx context.Context, in *tagResourceInput) (*empty, error) {
	res, err := a.resource(ctx, in.ResourceArn)
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
	res, err := a.resource(ctx, in.ResourceArn)
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

type listTagsForResourceInput struct {
	ResourceArn string `json:"resourceArn"`
}

type listTagsForResourceOutput struct {
	Tags []model.Tag `json:"tags"`
}

// ListTagsForResource lists a resource's tags.
func (a *API) ListTagsForResource(ctx context.Context, in *listTagsForResourceInput) (*listTagsForResourceOutput, error) {
	res, err := a.resource(ctx, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	tags, err := res.get(ctx)
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = []model.Tag{}
	}
	return &listTagsForResourceOutput{Tags: tags}, nil
}
