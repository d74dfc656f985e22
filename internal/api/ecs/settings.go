package ecs

import (
	"context"
	"strings"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

type settingOutput struct {
	Setting model.Setting `json:"setting"`
}

type putAccountSettingInput struct {
	Name         string  `json:"name"`
	Value        *string `json:"value"`
	PrincipalArn string  `json:"principalArn"`
}

// principal resolves the principal a settings call is about: the caller by
// default; another one only for the root user.
func (a *API) principal(ctx context.Context, arn string) (string, error) {
	caller := a.caller(ctx)
	if arn == "" || arn == caller {
		return caller, nil
	}
	p, err := model.ParseARN(arn)
	if err != nil || p.Service != "iam" || p.Account != a.State.Scope.Account ||
		!(p.Resource == "root" || strings.HasPrefix(p.Resource, "user/") || strings.HasPrefix(p.Resource, "role/")) {
		return "", model.InvalidParameter("principalArn must be the root user, an IAM user or an IAM role of account %s; got %q.", a.State.Scope.Account, model.Truncate(arn, 300))
	}
	if !a.callerIsRoot(ctx) {
		return "", model.Errorf(model.CodeAccessDenied, "Only the root user or the principal itself may change the account settings of %s.", arn)
	}
	return arn, nil
}

// PutAccountSetting sets a setting for a principal (the caller by default).
func (a *API) PutAccountSetting(ctx context.Context, in *putAccountSettingInput) (*settingOutput, error) {
	if in.Name == "" {
		return nil, model.InvalidParameter("name is required.")
	}
	if in.Value == nil {
		return nil, model.InvalidParameter("value is required.")
	}
	principal, err := a.principal(ctx, in.PrincipalArn)
	if err != nil {
		return nil, err
	}
	if err := model.ValidateAccountSetting(in.Name, *in.Value, principal == a.State.Scope.RootARN()); err != nil {
		return nil, err
	}
	set, err := a.State.PutAccountSetting(ctx, principal, in.Name, *in.Value)
	if err != nil {
		return nil, err
	}
	return &settingOutput{Setting: set}, nil
}

type putAccountSettingDefaultInput struct {
	Name  string  `json:"name"`
	Value *string `json:"value"`
}

// PutAccountSettingDefault sets a setting for the whole account.
func (a *API) PutAccountSettingDefault(ctx context.Context, in *putAccountSettingDefaultInput) (*settingOutput, error) {
	if in.Name == "" {
		return nil, model.InvalidParameter("name is required.")
	}
	if in.Value == nil {
		return nil, model.InvalidParameter("value is required.")
	}
	if err := model.ValidateAccountSetting(in.Name, *in.Value, true); err != nil {
		return nil, err
	}
	if !a.callerIsRoot(ctx) {
		return nil, model.Errorf(model.CodeAccessDenied, "Only the root user may change the account's default settings.")
	}
	set, err := a.State.PutAccountSetting(ctx, a.State.Scope.RootARN(), in.Name, *in.Value)
	if err != nil {
		return nil, err
	}
	return &settingOutput{Setting: set}, nil
}

type deleteAccountSettingInput struct {
	Name         string `json:"name"`
	PrincipalArn string `json:"principalArn"`
}

// DeleteAccountSetting removes a principal's explicit setting; the principal
// then has the account default again, which is what the answer shows when
// there was nothing to remove.
func (a *API) DeleteAccountSetting(ctx context.Context, in *deleteAccountSettingInput) (*settingOutput, error) {
	if in.Name == "" {
		return nil, model.InvalidParameter("name is required.")
	}
	if err := model.ValidateSettingName(in.Name); err != nil {
		return nil, err
	}
	principal, err := a.principal(ctx, in.PrincipalArn)
	if err != nil {
		return nil, err
	}
	deleted, err := a.State.DeleteAccountSetting(ctx, principal, in.Name)
	if err != nil {
		return nil, err
	}
	if deleted != nil {
		return &settingOutput{Setting: *deleted}, nil
	}
	eff, err := a.State.EffectiveAccountSettings(ctx, principal)
	if err != nil {
		return nil, err
	}
	for _, s := range eff {
		if s.Name == in.Name {
			return &settingOutput{Setting: s}, nil
		}
	}
	return nil, model.InvalidParameter("Unknown setting %q.", in.Name)
}

type listAccountSettingsInput struct {
	Name              string `json:"name"`
	Value             string `json:"value"`
	PrincipalArn      string `json:"principalArn"`
	EffectiveSettings bool   `json:"effectiveSettings"`
	listInput
}

type listAccountSettingsOutput struct {
	Settings  []model.Setting `json:"settings"`
	NextToken string          `json:"nextToken,omitempty"`
}

// ListAccountSettings lists a principal's explicit or effective settings.
func (a *API) ListAccountSettings(ctx context.Context, in *listAccountSettingsInput) (*listAccountSettingsOutput, error) {
	if in.Name != "" {
		if err := model.ValidateSettingName(in.Name); err != nil {
			return nil, err
		}
	}
	if in.Value != "" && in.Name == "" {
		return nil, model.InvalidParameter("value can only be given together with name.")
	}
	limit, err := state.PageSize(in.MaxResults, 10, 10)
	if err != nil {
		return nil, err
	}
	principal := a.caller(ctx)
	if in.PrincipalArn != "" {
		// Reading another principal's settings needs no more than reading one's own.
		p, err := model.ParseARN(in.PrincipalArn)
		if err != nil || p.Service != "iam" {
			return nil, model.InvalidParameter("principalArn must be an IAM principal ARN; got %q.", model.Truncate(in.PrincipalArn, 300))
		}
		principal = in.PrincipalArn
	}
	var all []model.Setting
	if in.EffectiveSettings {
		if all, err = a.State.EffectiveAccountSettings(ctx, principal); err != nil {
			return nil, err
		}
	} else {
		explicit, err := a.State.ExplicitAccountSettings(ctx, principal)
		if err != nil {
			return nil, err
		}
		for _, s := range explicit {
			all = append(all, s)
		}
	}
	var kept []model.Setting
	for _, s := range all {
		if (in.Name == "" || s.Name == in.Name) && (in.Value == "" || s.Value == in.Value) {
			kept = append(kept, s)
		}
	}
	page, next, err := state.PageByName(kept, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	if page == nil {
		page = []model.Setting{}
	}
	return &listAccountSettingsOutput{Settings: page, NextToken: next}, nil
}
