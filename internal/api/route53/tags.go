package route53

import (
	"context"
	"errors"
	"net/http"
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

// tagTarget reads the resource a tags path names: hosted zones only
// (health checks are not served, so every one is NoSuchHealthCheck).
func tagTarget(r *restxml.Request) (string, error) {
	switch typ, id := r.Path["ResourceType"], r.Path["ResourceId"]; typ {
	case "hostedzone":
		return zoneID(id), nil
	case "healthcheck":
		return "", fail(CodeNoSuchHealthCheck, http.StatusNotFound, "No health check exists with the specified ID %s", id)
	default:
		return "", invalid("1 validation error detected: Value '%s' at 'resourceType' failed to satisfy constraint: Member must satisfy enum value set: [healthcheck, hostedzone]", typ)
	}
}

// ChangeTagsForResource adds and removes a zone's tags.
func (a *API) ChangeTagsForResource(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	id, err := tagTarget(r)
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
	_, err = a.State.UpdateR53Zone(ctx, id, func(z *state.R53Zone) error {
		if z.Tags == nil {
			z.Tags = map[string]string{}
		}
		for _, k := range in.RemoveTagKeys {
			delete(z.Tags, k)
		}
		for _, t := range in.AddTags {
			z.Tags[t.Key] = t.Value
		}
		if len(z.Tags) > maxTagsPerResource {
			return invalid("The resource would have more than %d tags.", maxTagsPerResource)
		}
		return nil
	})
	if errors.Is(err, state.ErrR53ZoneNotFound) {
		return nil, noSuchZone(id)
	}
	if err != nil {
		return nil, err
	}
	return &restxml.Response{Body: &ChangeTagsForResourceResponse{Xmlns: Namespace}}, nil
}

// ListTagsForResource answers a zone's tags, by key.
func (a *API) ListTagsForResource(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	id, err := tagTarget(r)
	if err != nil {
		return nil, err
	}
	z, err := a.zone(ctx, id)
	if err != nil {
		return nil, err
	}
	set := ResourceTagSet{ResourceType: "hostedzone", ResourceID: z.ID, Tags: []Tag{}}
	keys := make([]string, 0, len(z.Tags))
	for k := range z.Tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		set.Tags = append(set.Tags, Tag{Key: k, Value: z.Tags[k]})
	}
	return &restxml.Response{Body: &ListTagsForResourceResponse{Xmlns: Namespace, ResourceTagSet: set}}, nil
}
