package servicediscovery

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// TagResourceInput is TagResource's request.
type TagResourceInput struct {
	ResourceARN string `json:"ResourceARN"`
	Tags        []Tag  `json:"Tags"`
}

// UntagResourceInput is UntagResource's request.
type UntagResourceInput struct {
	ResourceARN string   `json:"ResourceARN"`
	TagKeys     []string `json:"TagKeys"`
}

// ResourceInput is ListTagsForResource's request.
type ResourceInput struct {
	ResourceARN string `json:"ResourceARN"`
}

// ListTagsForResourceOutput is ListTagsForResource's answer.
type ListTagsForResourceOutput struct {
	Tags []Tag `json:"Tags"`
}

func errResourceNotFound(arn string) error {
	return withFields(errorf(codeResourceNotFound, "The operation can't be completed because the resource was not found: %s", arn),
		map[string]string{"ResourceName": arn})
}

// changeTags applies fn to the tags of the namespace or service an ARN names.
func (a *API) changeTags(ctx context.Context, arn string, fn func([]model.Tag) ([]model.Tag, error)) ([]model.Tag, error) {
	if arn == "" {
		return nil, invalid("ResourceARN is required.")
	}
	if len(arn) > 1011 {
		return nil, invalid("ResourceARN must be at most 1,011 characters long.")
	}
	prefix := a.arn("")
	rest, ok := strings.CutPrefix(arn, prefix)
	kind, id, _ := strings.Cut(rest, "/")
	var tags []model.Tag
	var err error
	switch {
	case ok && kind == "namespace":
		_, err = a.State.UpdateSDNamespace(ctx, id, func(ns *state.SDNamespace) error {
			if ns.Arn != arn {
				return state.ErrNotFound
			}
			ns.Tags, err = fn(slices.Clone(ns.Tags))
			tags = ns.Tags
			return err
		})
	case ok && kind == "service":
		_, err = a.State.UpdateSDService(ctx, id, func(s *state.SDService) error {
			if s.Arn != arn {
				return state.ErrNotFound
			}
			s.Tags, err = fn(slices.Clone(s.Tags))
			tags = s.Tags
			return err
		})
	default:
		return nil, errResourceNotFound(arn)
	}
	if errors.Is(err, state.ErrNotFound) {
		return nil, errResourceNotFound(arn)
	}
	return tags, err
}

// TagResource adds or replaces tags of a namespace or service.
func (a *API) TagResource(ctx context.Context, in *TagResourceInput) (*Empty, error) {
	add, err := checkTags(in.Tags, in.ResourceARN)
	if err != nil {
		return nil, err
	}
	if len(add) == 0 {
		return nil, invalid("Tags is required.")
	}
	_, err = a.changeTags(ctx, in.ResourceARN, func(cur []model.Tag) ([]model.Tag, error) {
		next := mergeTags(cur, add)
		if len(next) > maxTags {
			return nil, withFields(errorf(codeTooManyTags, "The resource can have at most %d tags.", maxTags), map[string]string{"ResourceName": in.ResourceARN})
		}
		return next, nil
	})
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}

// UntagResource removes tags of a namespace or service.
func (a *API) UntagResource(ctx context.Context, in *UntagResourceInput) (*Empty, error) {
	if in.TagKeys == nil {
		return nil, invalid("TagKeys is required.")
	}
	_, err := a.changeTags(ctx, in.ResourceARN, func(cur []model.Tag) ([]model.Tag, error) {
		return slices.DeleteFunc(cur, func(t model.Tag) bool { return slices.Contains(in.TagKeys, t.Key) }), nil
	})
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}

// ListTagsForResource tells a namespace's or service's tags.
func (a *API) ListTagsForResource(ctx context.Context, in *ResourceInput) (*ListTagsForResourceOutput, error) {
	tags, err := a.changeTags(ctx, in.ResourceARN, func(cur []model.Tag) ([]model.Tag, error) { return cur, errReadOnly })
	if errors.Is(err, errReadOnly) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return &ListTagsForResourceOutput{Tags: wireTags(tags)}, nil
}

// errReadOnly ends a read through changeTags before it writes.
var errReadOnly = errors.New("read only")
