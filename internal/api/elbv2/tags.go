package elbv2

import (
	"context"
	"slices"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

type tagIn struct {
	Key   string
	Value string
}

// checkTags adds tags to cur, or refuses them in ELB's words: a key once
// per request, 1-128 characters, values up to 256, at most
// MaxTagsPerResource, none under the reserved aws: prefix.
func checkTags(cur []model.Tag, add []tagIn) ([]model.Tag, error) {
	seen := map[string]bool{}
	out := slices.Clone(cur)
	for _, t := range add {
		switch {
		case t.Key == "" || len(t.Key) > 128:
			return nil, invalid("Tag keys must be between 1 and 128 characters long")
		case len(t.Value) > 256:
			return nil, invalid("Tag values cannot be longer than 256 characters")
		case len(t.Key) >= 4 && t.Key[:4] == "aws:":
			return nil, invalid("Tag keys cannot start with 'aws:'")
		case seen[t.Key]:
			return nil, fail(CodeDuplicateTagKeys, "Tag key '%s' is duplicated", t.Key)
		}
		seen[t.Key] = true
		if i := slices.IndexFunc(out, func(m model.Tag) bool { return m.Key == t.Key }); i >= 0 {
			out[i].Value = t.Value
		} else {
			out = append(out, model.Tag{Key: t.Key, Value: t.Value})
		}
	}
	if len(out) > MaxTagsPerResource {
		return nil, fail(CodeTooManyTags, "The quota for the number of tags that can be assigned to a load balancing resource has been reached")
	}
	return out, nil
}

// taggable finds the tags of any ELB resource by ARN.
func taggable(cfg *state.ELBConfig, arn string) (*[]model.Tag, error) {
	switch {
	case resourceOf(arn, "loadbalancer") != "":
		lb, err := findLoadBalancer(cfg, arn)
		if err != nil {
			return nil, err
		}
		return &lb.Tags, nil
	case resourceOf(arn, "targetgroup") != "":
		tg, err := findTargetGroup(cfg, arn)
		if err != nil {
			return nil, err
		}
		return &tg.Tags, nil
	case resourceOf(arn, "listener") != "":
		l, err := findListener(cfg, arn)
		if err != nil {
			return nil, err
		}
		return &l.Tags, nil
	case resourceOf(arn, "listener-rule") != "":
		r, _, err := findRule(cfg, arn)
		if err != nil {
			return nil, err
		}
		if r == nil {
			return nil, fail(CodeOperationNotPermitted, "Default rules cannot be tagged")
		}
		return &r.Tags, nil
	}
	return nil, invalid("'%s' is not a valid load balancing resource ARN", arn)
}

type addTagsIn struct {
	ResourceArns []string
	Tags         []tagIn
}

// AddTags adds or replaces tags on up to 20 resources, all or none.
func (a *API) AddTags(ctx context.Context, in *addTagsIn) (*struct{}, error) {
	if len(in.ResourceArns) == 0 {
		return nil, needed("resourceArns")
	}
	if len(in.ResourceArns) > 20 {
		return nil, invalid("1 validation error detected: Value at 'resourceArns' failed to satisfy constraint: Member must have length less than or equal to 20")
	}
	if len(in.Tags) == 0 {
		return nil, needed("tags")
	}
	_, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		for _, arn := range in.ResourceArns {
			tags, err := taggable(tx.Config, arn)
			if err != nil {
				return err
			}
			if *tags, err = checkTags(*tags, in.Tags); err != nil {
				return err
			}
		}
		return nil
	})
	return nil, err
}

type removeTagsIn struct {
	ResourceArns []string
	TagKeys      []string
}

// RemoveTags removes tags by key from resources, all or none.
func (a *API) RemoveTags(ctx context.Context, in *removeTagsIn) (*struct{}, error) {
	if len(in.ResourceArns) == 0 {
		return nil, needed("resourceArns")
	}
	if len(in.TagKeys) == 0 {
		return nil, needed("tagKeys")
	}
	_, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		for _, arn := range in.ResourceArns {
			tags, err := taggable(tx.Config, arn)
			if err != nil {
				return err
			}
			*tags = slices.DeleteFunc(*tags, func(t model.Tag) bool { return slices.Contains(in.TagKeys, t.Key) })
		}
		return nil
	})
	return nil, err
}

type describeTagsIn struct {
	ResourceArns []string
}

// TagDescription is ELB's TagDescription.
type TagDescription struct {
	ResourceArn string `xml:"ResourceArn"`
	Tags        []Tag  `xml:"Tags"`
}

type describeTagsOut struct {
	TagDescriptions []TagDescription `xml:"TagDescriptions"`
}

// DescribeTags reads the tags of up to 20 resources.
func (a *API) DescribeTags(ctx context.Context, in *describeTagsIn) (*describeTagsOut, error) {
	if len(in.ResourceArns) == 0 {
		return nil, needed("resourceArns")
	}
	if len(in.ResourceArns) > 20 {
		return nil, invalid("1 validation error detected: Value at 'resourceArns' failed to satisfy constraint: Member must have length less than or equal to 20")
	}
	cfg, err := a.read(ctx)
	if err != nil {
		return nil, err
	}
	out := &describeTagsOut{TagDescriptions: []TagDescription{}}
	for _, arn := range in.ResourceArns {
		tags, err := taggable(cfg, arn)
		if err != nil {
			return nil, err
		}
		out.TagDescriptions = append(out.TagDescriptions, TagDescription{ResourceArn: arn, Tags: tagsOut(*tags)})
	}
	return out, nil
}
