package secretsmanager

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// Filter narrows ListSecrets: a key (name, description, tag-key, tag-value,
// all, or primary-region and owning-service, which Flotta's secrets lack) and values, each a prefix, or with a leading "!" a prefix that
// must not match.
type Filter struct {
	Key    string   `json:"Key"`
	Values []string `json:"Values"`
}

// ListSecretsInput is ListSecrets' request.
type ListSecretsInput struct {
	MaxResults             *int     `json:"MaxResults"`
	NextToken              string   `json:"NextToken"`
	IncludePlannedDeletion bool     `json:"IncludePlannedDeletion"`
	Filters                []Filter `json:"Filters"`
	SortOrder              string   `json:"SortOrder"`
	SortBy                 string   `json:"SortBy"`
}

// SecretListEntry is what ListSecrets tells of one secret: never its value.
type SecretListEntry struct {
	ARN                    string              `json:"ARN"`
	Name                   string              `json:"Name"`
	Description            string              `json:"Description,omitempty"`
	KmsKeyID               string              `json:"KmsKeyId,omitempty"`
	CreatedDate            *model.Time         `json:"CreatedDate"`
	LastChangedDate        *model.Time         `json:"LastChangedDate"`
	DeletedDate            *model.Time         `json:"DeletedDate,omitempty"`
	Tags                   []Tag               `json:"Tags,omitempty"`
	SecretVersionsToStages map[string][]string `json:"SecretVersionsToStages,omitempty"`
}

// ListSecretsOutput is one page of ListSecrets.
type ListSecretsOutput struct {
	SecretList []SecretListEntry `json:"SecretList"`
	NextToken  string            `json:"NextToken,omitempty"`
}

// listKey orders secrets by a date (none when sorting by name), then by
// name; a page token is the key of the last secret of the page before.
type listKey struct {
	created int64
	name    string
}

func keyOf(s *state.Secret, sortBy string) listKey {
	switch sortBy {
	case "name":
		return listKey{0, s.Name}
	case "last-changed-date":
		return listKey{s.LastChangedDate.UnixNano(), s.Name}
	}
	return listKey{s.CreatedDate.UnixNano(), s.Name}
}

func (k listKey) compare(o listKey) int {
	if k.created != o.created {
		if k.created < o.created {
			return -1
		}
		return 1
	}
	return strings.Compare(k.name, o.name)
}

func (k listKey) token() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(k.created, 10) + "/" + k.name))
}

func parseToken(t string) (listKey, error) {
	raw, err := base64.RawURLEncoding.DecodeString(t)
	created, name, ok := strings.Cut(string(raw), "/")
	n, nerr := strconv.ParseInt(created, 10, 64)
	if err != nil || !ok || nerr != nil {
		return listKey{}, model.Errorf(codeInvalidToken, "The NextToken value is invalid.")
	}
	return listKey{n, name}, nil
}

// ListSecrets lists secrets by creation date (or as SortBy says: name,
// last-changed-date), oldest first unless SortOrder is "desc", leaving out those marked for deletion unless
// IncludePlannedDeletion is set.
func (a *API) ListSecrets(ctx context.Context, in *ListSecretsInput) (*ListSecretsOutput, error) {
	limit := 100
	if in.MaxResults != nil {
		limit = *in.MaxResults
		if limit < 1 || limit > 100 {
			return nil, invalidParameter("MaxResults must be between 1 and 100.")
		}
	}
	desc := false
	switch in.SortOrder {
	case "", "asc":
	case "desc":
		desc = true
	default:
		return nil, invalidParameter("SortOrder must be asc or desc, not %q.", model.Truncate(in.SortOrder, 16))
	}
	switch in.SortBy {
	case "", "created-date", "name", "last-changed-date":
	default:
		return nil, invalidParameter("SortBy must be created-date, last-changed-date or name, not %q.", model.Truncate(in.SortBy, 32))
	}
	if err := checkFilters(in.Filters); err != nil {
		return nil, err
	}
	var after *listKey
	if in.NextToken != "" {
		k, err := parseToken(in.NextToken)
		if err != nil {
			return nil, err
		}
		after = &k
	}
	all, err := a.State.ListSecrets(ctx)
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	now := a.now()
	var keep []*state.Secret
	for i := range all {
		s := &all[i]
		if s.DeletedDate != nil && (!in.IncludePlannedDeletion || !now.Before(*s.DeletedDate)) {
			continue
		}
		if !matches(s, in.Filters) {
			continue
		}
		keep = append(keep, s)
	}
	slices.SortFunc(keep, func(x, y *state.Secret) int {
		c := keyOf(x, in.SortBy).compare(keyOf(y, in.SortBy))
		if desc {
			return -c
		}
		return c
	})
	if after != nil {
		i := slices.IndexFunc(keep, func(s *state.Secret) bool {
			c := keyOf(s, in.SortBy).compare(*after)
			return (!desc && c > 0) || (desc && c < 0)
		})
		if i < 0 {
			i = len(keep)
		}
		keep = keep[i:]
	}
	out := &ListSecretsOutput{SecretList: []SecretListEntry{}}
	if len(keep) > limit {
		keep = keep[:limit]
		out.NextToken = keyOf(keep[limit-1], in.SortBy).token()
	}
	for _, s := range keep {
		d := describe(s)
		out.SecretList = append(out.SecretList, SecretListEntry{
			ARN: d.ARN, Name: d.Name, Description: d.Description, KmsKeyID: d.KmsKeyID,
			CreatedDate: d.CreatedDate, LastChangedDate: d.LastChangedDate, DeletedDate: d.DeletedDate,
			Tags: d.Tags, SecretVersionsToStages: d.VersionIdsToStages,
		})
	}
	return out, nil
}

var filterKeys = []string{"name", "description", "tag-key", "tag-value", "primary-region", "owning-service", "all"}

func checkFilters(fs []Filter) error {
	if len(fs) > 10 {
		return invalidParameter("A request can have at most 10 filters.")
	}
	for _, f := range fs {
		if !slices.Contains(filterKeys, f.Key) {
			return invalidParameter("Filter key %q is not supported; use one of %s.", model.Truncate(f.Key, 32), strings.Join(filterKeys, ", "))
		}
		if len(f.Values) < 1 || len(f.Values) > 10 {
			return invalidParameter("A filter must have between 1 and 10 values.")
		}
	}
	return nil
}

// matches says whether a secret passes every filter: some value of each
// matches (as a prefix) one of the fields the filter's key looks at, and no
// "!" value does.
func matches(s *state.Secret, fs []Filter) bool {
	for _, f := range fs {
		var fields []string
		switch f.Key {
		case "name":
			fields = []string{s.Name}
		case "description":
			fields = []string{s.Description}
		case "tag-key", "tag-value", "all":
			if f.Key == "all" {
				fields = []string{s.Name, s.Description}
			}
			for _, t := range s.Tags {
				if f.Key != "tag-value" {
					fields = append(fields, t.Key)
				}
				if f.Key != "tag-key" {
					fields = append(fields, t.Value)
				}
			}
		}
		hasPositive, matched := false, false
		for _, v := range f.Values {
			pattern, neg := strings.CutPrefix(v, "!")
			hit := slices.ContainsFunc(fields, func(x string) bool { return strings.HasPrefix(x, pattern) })
			if neg {
				if hit {
					return false
				}
				continue
			}
			hasPositive = true
			matched = matched || hit
		}
		if hasPositive && !matched {
			return false
		}
	}
	return true
}
