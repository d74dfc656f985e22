package state

import (
	"context"
	"net/url"
	"slices"
	"sort"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/store"
)

func settingsPrefix(principal string) string {
	return Root + "account-settings/" + url.PathEscape(principal) + "/"
}

// PutAccountSetting stores an explicit setting for a principal (the root
// principal's settings are the account's defaults).
func (s *State) PutAccountSetting(ctx context.Context, principal, name, value string) (model.Setting, error) {
	set := model.Setting{Name: name, Value: value, PrincipalArn: principal, Type: model.SettingTypeUser}
	_, err := s.db.Commit(ctx, nil, []store.Op{store.Put(settingsPrefix(principal)+name, mustJSON(set))})
	return set, err
}

// DeleteAccountSetting removes a principal's explicit setting and returns it,
// or nil when there was none.
func (s *State) DeleteAccountSetting(ctx context.Context, principal, name string) (*model.Setting, error) {
	key := settingsPrefix(principal) + name
	var out *model.Setting
	err := retry(ctx, func() error {
		kv, cur, err := read[model.Setting](ctx, s.db, key)
		if out = cur; err != nil || cur == nil {
			return err
		}
		_, err = s.db.Commit(ctx, []store.Guard{{Key: key, ModRev: kv.ModRev}}, []store.Op{store.Del(key)})
		return err
	})
	return out, err
}

// ExplicitAccountSettings returns a principal's explicit settings by name.
func (s *State) ExplicitAccountSettings(ctx context.Context, principal string) (map[string]model.Setting, error) {
	page, err := s.db.List(ctx, settingsPrefix(principal), store.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := map[string]model.Setting{}
	for _, kv := range page.KVs {
		set, err := decode[model.Setting](kv)
		if err != nil {
			return nil, err
		}
		out[set.Name] = *set
	}
	return out, nil
}

// EffectiveAccountSettings resolves every setting for a principal: its own
// explicit value, else the account default (root's), else the built-in value.
func (s *State) EffectiveAccountSettings(ctx context.Context, principal string) ([]model.Setting, error) {
	root := s.Scope.RootARN()
	own, err := s.ExplicitAccountSettings(ctx, principal)
	if err != nil {
		return nil, err
	}
	defaults := own
	if principal != root {
		if defaults, err = s.ExplicitAccountSettings(ctx, root); err != nil {
			return nil, err
		}
	}
	var out []model.Setting
	for _, name := range model.AccountSettingNames() {
		set, ok := own[name]
		if !ok {
			set, ok = defaults[name]
		}
		if !ok {
			typ := model.SettingTypeUser
			if model.SettingManaged(name) {
				typ = model.SettingTypeAWSManaged
			}
			set = model.Setting{Name: name, Value: model.SettingFallback(name), PrincipalArn: root, Type: typ}
		}
		out = append(out, set)
	}
	return out, nil
}

// PageByName returns one page of settings sorted by name, after the setting
// named in token.
func PageByName(all []model.Setting, token string, limit int) ([]model.Setting, string, error) {
	return PageSlice(all, func(s model.Setting) string { return s.Name }, token, limit)
}

// PageSlice pages through items computed in memory, ordered by key; the
// token resumes after the key of the last item of the previous page.
func PageSlice[T any](items []T, key func(T) string, token string, limit int) ([]T, string, error) {
	sorted := slices.Clone(items)
	sort.SliceStable(sorted, func(i, j int) bool { return key(sorted[i]) < key(sorted[j]) })
	after, err := resumeKey(token, "mem/")
	if err != nil {
		return nil, "", err
	}
	start := 0
	if after != "" {
		k := after[len("mem/"):]
		start = sort.Search(len(sorted), func(i int) bool { return key(sorted[i]) > k })
	}
	end := min(start+limit, len(sorted))
	page := sorted[start:end]
	if end < len(sorted) {
		return page, pageToken("mem/" + key(page[len(page)-1])), nil
	}
	return page, "", nil
}
