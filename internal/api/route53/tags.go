package route53

import (
	"context"
	"errors"
	"slices"

	"github.com/flotta-dev/flotta/internal/protocol/restxml"
	"github.com/flotta-dev/flotta/internal/state"
)

// Route 53's limits on tags.
const (
	maxTagsPerResource = 50
	maxTagsPerRequest  = 10
	maxTagKeyLen       = 128
	maxTagValueLen     = 256
)

// tagTarget reads the resource a tags path names: a hosted zone or a
// health check.
func tagTarget(r *restxml.Request) (kind, id string, err error) {
	switch typ, id := r.Path["ResourceType"], r.Path["ResourceId"]; typ {
	case "hostedzone":
		return typ, zoneID(id), nil
	case "healthcheck":
		return typ, id, nil
	default:
		return "", "", invalid("1 validation error detected: Value '%s' at 'resourceType' failed to satisfy constraint: Member must satisfy enum value set: [healthcheck, hostedzone]", typ)
	}
}

// editTags changes a tag map as a request says.
func editTags(tags map[string]string, in *ChangeTagsForResourceRequest) (map[string]string, error) {
	if tags == nil {
		tags = map[string]string{}
	}
	for _, k := range in.RemoveTagKeys {
		delete(tags, k)
	}
	for _, t := range in.AddTags {
		tags[t.Key] = t.Value
	}
	if len(tags) > maxTagsPerResource {
		return nil, invalid("The resource would have more than %d tags.", maxTagsPerResource)
	}
	return tags, nil
}

// ChangeTagsForResource adds and removes a zone's or a health check's tags.
func (a *API) ChangeTagsForResource(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	kind, id, err := tagTarget(r)
	if err != nil {
		return nil, err
	}
	var in ChangeTagsForResourceRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if len(in.AddTags) > maxTagsPerRequest || len(in.RemoveTagKeys) > maxTagsPerRequest {
		return nil, invalid("1 validation error detected: at most %d tags may be added and %d removed in one request", maxTagsPerRequest, maxTagsPerRequest)
	}
	for _, t := range in.AddTags {
		if t.Key == "" || len(t.Key) > maxTagKeyLen || len(t.Value) > maxTagValueLen {
			return nil, invalid("1 validation error detected: a tag key must have 1 to %d characters and a value at most %d", maxTagKeyLen, maxTagValueLen)
		}
	}
	if kind == "healthcheck" {
		_, err = a.State.UpdateR53HealthCheck(ctx, id, func(hc *state.R53HealthCheck) (err error) {
			hc.Tags, err = editTags(hc.Tags, &in)
			return err
		})
	} else {
		_, err = a.State.UpdateR53Zone(ctx, id, func(z *state.R53Zone) (err error) {
			z.Tags, err = editTags(z.Tags, &in)
			return err
		})
	}
	switch {
	case errors.Is(err, state.ErrR53ZoneNotFound):
		return nil, noSuchZone(id)
	case errors.Is(err, state.ErrR53HealthCheckNotFound):
		return nil, noSuchHealthCheck(id)
	case err != nil:
		return nil, err
	}
	return &restxml.Response{Body: &ChangeTagsForResourceResponse{Xmlns: Namespace}}, nil
}

// ListTagsForResource answers a zone's or a health check's tags, by key.
func (a *API) ListTagsForResource(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	kind, id, err := tagTarget(r)
	if err != nil {
		return nil, err
	}
	var tags map[string]string
	if kind == "healthcheck" {
		hc, err := a.State.GetR53HealthCheck(ctx, id)
		if errors.Is(err, state.ErrR53HealthCheckNotFound) {
			return nil, noSuchHealthCheck(id)
		}
		if err != nil {
			return nil, err
		}
		tags = hc.Tags
	} else {
		z, err := a.zone(ctx, id)
		if err != nil {
			return nil, err
		}
		tags = z.Tags
	}
	set := ResourceTagSet{ResourceType: kind, ResourceID: id, Tags: []Tag{}}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		set.Tags = append(set.Tags, Tag{Key: k, Value: tags[k]})
	}
	return &restxml.Response{Body: &ListTagsForResourceResponse{Xmlns: Namespace, ResourceTagSet: set}}, nil
}
