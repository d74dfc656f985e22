package model

import (
	"strings"
	"unicode/utf8"
)

// Tag is a key/value label on a resource.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// MaxTags is how many tags one resource may carry.
const MaxTags = 50

// ValidateTags checks tags being added to a resource that already carries
// existing ones, with ECS's limits: at most 50 in all, keys of 1 to 128
// characters, values of at most 256, and no "aws:" prefix, which is reserved.
func ValidateTags(existing, adding []Tag) error {
	if len(adding) > MaxTags {
		// Refused before any work proportional to the request's size.
		return InvalidParameter("A resource can have at most %d tags; this request adds %d.", MaxTags, len(adding))
	}
	seen := map[string]bool{}
	for _, t := range adding {
		n := utf8.RuneCountInString(t.Key)
		if n < 1 || n > 128 {
			return InvalidParameter("Tag keys must be between 1 and 128 characters long; %q is %d.", Truncate(t.Key, 140), n)
		}
		if utf8.RuneCountInString(t.Value) > 256 {
			return InvalidParameter("Tag values must be at most 256 characters long; the value of tag %q is longer.", t.Key)
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return InvalidParameter("Tag keys beginning with 'aws:' are reserved for AWS use; %q cannot be set.", t.Key)
		}
		if seen[t.Key] {
			return InvalidParameter("Tag key %q appears more than once.", t.Key)
		}
		seen[t.Key] = true
	}
	total := len(MergeTags(existing, adding))
	if total > MaxTags {
		return InvalidParameter("A resource can have at most %d tags; this request would leave it with %d.", MaxTags, total)
	}
	return nil
}

// PresentTags is a resource's tags in an answer: none unless they were
// asked for, and then a list, empty or not (`"tags": []`).
func PresentTags(tags []Tag, asked bool) []Tag {
	if !asked {
		return nil
	}
	if tags == nil {
		return []Tag{}
	}
	return tags
}

// MergeTags returns existing with adding applied: the tags added first, in
// the order given, then the existing ones they do not overwrite (the order
// ECS answers in, as moto's test_ecs_service_tag_resource_overwrites_tag
// expects).
func MergeTags(existing, adding []Tag) []Tag {
	out := make([]Tag, 0, len(existing)+len(adding))
	seen := make(map[string]bool, len(adding))
	for _, t := range adding {
		if !seen[t.Key] {
			out = append(out, t)
			seen[t.Key] = true
		}
	}
	for _, t := range existing {
		if !seen[t.Key] {
			out = append(out, t)
		}
	}
	return out
}

// RemoveTags returns existing without the given keys.
func RemoveTags(existing []Tag, keys []string) []Tag {
	drop := map[string]bool{}
	for _, k := range keys {
		drop[k] = true
	}
	var out []Tag
	for _, t := range existing {
		if !drop[t.Key] {
			out = append(out, t)
		}
	}
	return out
}
