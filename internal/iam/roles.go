package iam

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/flotta-dev/flotta/internal/iam/policy"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// IAM's limits for roles (IAM and AWS STS quotas).
const (
	maxRoleInlineChars   = 10240
	maxTrustPolicyChars  = 2048
	minSessionDuration   = 900
	defaultSessionLength = 3600
	minMaxSession        = 3600
	maxMaxSession        = 43200
)

func noSuchRole(name string) *model.Error {
	return iamError(CodeNoSuchEntity, http.StatusNotFound, "The role with name %s cannot be found.", model.Truncate(name, 128))
}

// RoleARN is the ARN of a role of this account.
func (m *IAM) RoleARN(path, name string) string {
	return "arn:" + m.account.Partition + ":iam::" + m.account.ID + ":role" + path + name
}

// NewRole is what CreateRole is asked for.
type NewRole struct {
	Name, Path, Description string
	// TrustPolicy is the AssumeRolePolicyDocument.
	TrustPolicy string
	// MaxSessionDuration is in seconds; nil is IAM's default, an hour.
	MaxSessionDuration *int
	Tags               []model.Tag
}

// CreateRole makes a role with its trust policy and no permissions.
func (m *IAM) CreateRole(ctx context.Context, in NewRole) (*state.IAMRole, error) {
	if err := checkName("roleName", in.Name, 64); err != nil {
		return nil, err
	}
	path, err := checkPath(in.Path)
	if err != nil {
		return nil, err
	}
	if len(in.Description) > 1000 {
		return nil, iamError(CodeValidation, http.StatusBadRequest, "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000")
	}
	maxSession := defaultSessionLength
	if in.MaxSessionDuration != nil {
		maxSession = *in.MaxSessionDuration
		switch {
		case maxSession < minMaxSession:
			return nil, iamError(CodeValidation, http.StatusBadRequest, "1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to %d", maxSession, minMaxSession)
		case maxSession > maxMaxSession:
			return nil, iamError(CodeValidation, http.StatusBadRequest, "1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to %d", maxSession, maxMaxSession)
		}
	}
	if err := checkTrust(in.TrustPolicy); err != nil {
		return nil, err
	}
	r := state.IAMRole{RoleName: in.Name, RoleID: uniqueID("AROA"), Path: path, Arn: m.RoleARN(path, in.Name), Description: in.Description,
		CreateDate: m.now().UTC().Truncate(time.Second), AssumeRolePolicyDocument: in.TrustPolicy, MaxSessionDuration: maxSession, Tags: in.Tags}
	if err := m.state.CreateIAMRole(ctx, r); err != nil {
		if errors.Is(err, state.ErrExists) {
			return nil, iamError(CodeEntityAlreadyExists, http.StatusConflict, "Role with name %s already exists.", in.Name)
		}
		return nil, err
	}
	return &r, nil
}

func checkTrust(doc string) error {
	if doc == "" {
		return iamError(CodeValidation, http.StatusBadRequest, "1 validation error detected: Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null")
	}
	_, err := policy.Parse(doc, policy.ParseOptions{Kind: policy.KindTrust, MaxChars: maxTrustPolicyChars})
	return err
}

// GetRole reads a role.
func (m *IAM) GetRole(ctx context.Context, name string) (*state.IAMRole, error) {
	if err := checkName("roleName", name, 64); err != nil {
		return nil, err
	}
	r, err := m.state.GetIAMRole(ctx, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, noSuchRole(name)
	}
	return r, nil
}

// ListRoles lists the roles whose path begins with prefix.
func (m *IAM) ListRoles(ctx context.Context, prefix string) ([]state.IAMRole, error) {
	all, err := m.state.ListIAMRoles(ctx)
	if err != nil {
		return nil, err
	}
	return underPath(all, func(r state.IAMRole) string { return r.Path }, prefix), nil
}

// DeleteRole deletes a role with no policies left, as IAM requires. Its
// sessions lose every right: a role made again under the name is another.
func (m *IAM) DeleteRole(ctx context.Context, name string) error {
	r, err := m.GetRole(ctx, name)
	if err != nil {
		return err
	}
	if err := policiesLeft(r.InlinePolicies, r.AttachedPolicies); err != nil {
		return err
	}
	_, err = m.state.DeleteIAMRole(ctx, name)
	return err
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (m *IAM) UpdateAssumeRolePolicy(ctx context.Context, name, document string) error {
	if err := checkTrust(document); err != nil {
		return err
	}
	r, err := m.state.UpdateIAMRole(ctx, name, func(r *state.IAMRole) error {
		r.AssumeRolePolicyDocument = document
		return nil
	})
	if err == nil && r == nil {
		return noSuchRole(name)
	}
	return err
}

// PutRolePolicy adds or replaces an inline policy of a role.
func (m *IAM) PutRolePolicy(ctx context.Context, roleName, policyName, document string) error {
	if err := checkName("policyName", policyName, 128); err != nil {
		return err
	}
	if _, err := policy.Parse(document, policy.ParseOptions{Kind: policy.KindIdentity}); err != nil {
		return err
	}
	r, err := m.state.UpdateIAMRole(ctx, roleName, func(r *state.IAMRole) error {
		return putInline(&r.InlinePolicies, policyName, document, maxRoleInlineChars, "role", roleName)
	})
	if err == nil && r == nil {
		return noSuchRole(roleName)
	}
	return err
}

// DeleteRolePolicy deletes an inline policy of a role.
func (m *IAM) DeleteRolePolicy(ctx context.Context, roleName, policyName string) error {
	r, err := m.state.UpdateIAMRole(ctx, roleName, func(r *state.IAMRole) error {
		return deleteInline(r.InlinePolicies, policyName, "role")
	})
	if err == nil && r == nil {
		return noSuchRole(roleName)
	}
	return err
}

// AttachRolePolicy attaches (or, with attach false, detaches) a managed
// policy to a role.
func (m *IAM) AttachRolePolicy(ctx context.Context, roleName, arn string, attach bool) error {
	name, err := m.policyName(arn)
	if err != nil {
		return err
	}
	return m.state.AttachIAMRolePolicy(ctx, roleName, name, attach, func(r *state.IAMRole, p *state.IAMPolicy) error {
		if r == nil {
			return noSuchRole(roleName)
		}
		return checkAttach(p, arn, r.AttachedPolicies, attach, "PoliciesPerRole")
	})
}
