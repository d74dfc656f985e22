package ecs

import (
	"context"
	"slices"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

type attributesInput struct {
	Cluster    string            `json:"cluster"`
	Attributes []model.Attribute `json:"attributes"`
}

type attributesOutput struct {
	Attributes []model.Attribute `json:"attributes"`
}

// changeAttributes groups attributes by target instance and applies fn to
// each instance's attributes in one update.
func (a *API) changeAttributes(ctx context.Context, in *attributesInput, fn func(cur, change []model.Attribute) ([]model.Attribute, error)) (*attributesOutput, error) {
	if len(in.Attributes) == 0 || len(in.Attributes) > 10 {
		return nil, model.InvalidParameter("attributes must have between 1 and 10 items.")
	}
	c, err := a.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	byTarget := map[string][]model.Attribute{}
	var order []string
	for _, at := range in.Attributes {
		if at.TargetType != "" && at.TargetType != "container-instance" {
			return nil, model.InvalidParameter("targetType should be one of [container-instance]")
		}
		if at.TargetID == "" {
			return nil, model.InvalidParameter("Attribute %s needs a targetId (a container instance id or ARN).", at.Name)
		}
		cl, id, err := instanceID(at.TargetID)
		if err != nil {
			return nil, err
		}
		if cl != "" && cl != c.ClusterName {
			return nil, model.Errorf(model.CodeTargetNotFound, "Container instance %s is not in cluster %s.", at.TargetID, c.ClusterName)
		}
		if _, ok := byTarget[id]; !ok {
			order = append(order, id)
		}
		byTarget[id] = append(byTarget[id], at)
	}
	if err := validateAttributes(in.Attributes); err != nil {
		return nil, err
	}
	// Check every target before changing any, so that a bad one changes nothing.
	for _, id := range order {
		rec, err := a.State.GetInstance(ctx, c.ClusterName, id)
		if err != nil {
			return nil, err
		}
		if rec == nil || rec.Instance.Status == model.InstanceInactive {
			return nil, model.Errorf(model.CodeTargetNotFound, "Could not find container instance %s in cluster %s.", id, c.ClusterName)
		}
		if _, err := fn(rec.Instance.Attributes, byTarget[id]); err != nil {
			return nil, err
		}
	}
	out := &attributesOutput{Attributes: []model.Attribute{}}
	for _, id := range order {
		_, err := a.State.UpdateInstance(ctx, c.ClusterName, id, func(r *state.InstanceRecord) error {
			next, err := fn(r.Instance.Attributes, byTarget[id])
			r.Instance.Attributes = next
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, at := range byTarget[id] {
			at.TargetType = "container-instance"
			at.TargetID = a.instanceARN(c.ClusterName, id)
			out.Attributes = append(out.Attributes, at)
		}
	}
	return out, nil
}

// PutAttributes adds or replaces custom attributes on container instances.
func (a *API) PutAttributes(ctx context.Context, in *attributesInput) (*attributesOutput, error) {
	return a.changeAttributes(ctx, in, func(cur, change []model.Attribute) ([]model.Attribute, error) {
		next := state.PutAttributes(cur, change)
		custom := 0
		for _, at := range next {
			if !isBuiltinAttribute(at.Name) {
				custom++
			}
		}
		if custom > MaxCustomAttributes {
			return nil, model.Errorf(model.CodeAttributeLimitExceeded, "A container instance can have at most %d custom attributes; this would give it %d.", MaxCustomAttributes, custom)
		}
		return next, nil
	})
}

// DeleteAttributes removes attributes from container instances.
func (a *API) DeleteAttributes(ctx context.Context, in *attributesInput) (*attributesOutput, error) {
	return a.changeAttributes(ctx, in, func(cur, change []model.Attribute) ([]model.Attribute, error) {
		return slices.DeleteFunc(slices.Clone(cur), func(at model.Attribute) bool {
			return slices.ContainsFunc(change, func(d model.Attribute) bool { return d.Name == at.Name })
		}), nil
	})
}

type listAttributesInput struct {
	Cluster        string `json:"cluster"`
	TargetType     string `json:"targetType"`
	AttributeName  string `json:"attributeName"`
	AttributeValue string `json:"attributeValue"`
	listInput
}

type listAttributesOutput struct {
	Attributes []model.Attribute `json:"attributes"`
	NextToken  string            `json:"nextToken,omitempty"`
}

// ListAttributes lists the attributes of a cluster's container instances.
func (a *API) ListAttributes(ctx context.Context, in *listAttributesInput) (*listAttributesOutput, error) {
	if in.TargetType != "container-instance" {
		return nil, model.InvalidParameter("targetType should be one of [container-instance]")
	}
	if in.AttributeValue != "" && in.AttributeName == "" {
		return nil, model.InvalidParameter("attributeValue can only be given together with attributeName.")
	}
	limit, err := state.PageSize(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	c, err := a.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	all, err := a.State.ListInstances(ctx, c.ClusterName)
	if err != nil {
		return nil, err
	}
	var attrs []model.Attribute
	for _, v := range all {
		if v.Instance.Status == model.InstanceInactive {
			continue
		}
		for _, at := range v.Instance.Attributes {
			if (in.AttributeName == "" || at.Name == in.AttributeName) && (in.AttributeValue == "" || at.Value == in.AttributeValue) {
				attrs = append(attrs, model.Attribute{Name: at.Name, Value: at.Value, TargetType: "container-instance", TargetID: v.Instance.ContainerInstanceArn})
			}
		}
	}
	page, next, err := state.PageSlice(attrs, func(at model.Attribute) string { return at.TargetID + "\x00" + at.Name }, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	if page == nil {
		page = []model.Attribute{}
	}
	return &listAttributesOutput{Attributes: page, NextToken: next}, nil
}
