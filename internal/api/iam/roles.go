package iam

import (
	"context"
	"net/http"
	"time"

	"github.com/flotta-dev/flotta/internal/iam"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// Role is IAM's Role shape; the trust policy is URL-encoded, as IAM sends it.
type Role struct {
	Path                     string    `xml:"Path"`
	RoleName                 string    `xml:"RoleName"`
	RoleID                   string    `xml:"RoleId"`
	Arn                      string    `xml:"Arn"`
	CreateDate               time.Time `xml:"CreateDate"`
	AssumeRolePolicyDocument string    `xml:"AssumeRolePolicyDocument,omitempty"`
	Description              string    `xml:"Description,omitempty"`
	MaxSessionDuration       int       `xml:"MaxSessionDuration"`
	Tags                     []Tag     `xml:"Tags,omitempty"`
}

func roleOf(r *state.IAMRole) Role {
	out := Role{Path: r.Path, RoleName: r.RoleName, RoleID: r.RoleID, Arn: r.Arn, CreateDate: r.CreateDate,
		AssumeRolePolicyDocument: encodeDocument(r.AssumeRolePolicyDocument), Description: r.Description, MaxSessionDuration: r.MaxSessionDuration}
	for _, t := range r.Tags {
		out.Tags = append(out.Tags, Tag{Key: t.Key, Value: t.Value})
	}
	return out
}

type roleIn struct {
	RoleName                 string
	Path                     string
	Description              string
	AssumeRolePolicyDocument string
	MaxSessionDuration       *int
	Tags                     []Tag
	PolicyName               string
	PolicyDocument           string
	PolicyArn                string
}

type roleOut struct {
	Role Role `xml:"Role"`
}

// CreateRole makes a role.
func (a *API) CreateRole(ctx context.Context, in *roleIn) (*roleOut, error) {
	if len(in.Tags) > 50 {
		return nil, &model.Error{Code: iam.CodeLimitExceeded, Status: http.StatusConflict, Message: "The number of tags has reached the maximum limit."}
	}
	tags := make([]model.Tag, 0, len(in.Tags))
	for _, t := range in.Tags {
		tags = append(tags, model.Tag{Key: t.Key, Value: t.Value})
	}
	r, err := a.IAM.CreateRole(ctx, iam.NewRole{Name: in.RoleName, Path: in.Path, Description: in.Description,
		TrustPolicy: in.AssumeRolePolicyDocument, MaxSessionDuration: in.MaxSessionDuration, Tags: tags})
	if err != nil {
		return nil, err
	}
	return &roleOut{Role: roleOf(r)}, nil
}

// GetRole reads a role.
func (a *API) GetRole(ctx context.Context, in *roleIn) (*roleOut, error) {
	r, err := a.IAM.GetRole(ctx, in.RoleName)
	if err != nil {
		return nil, err
	}
	return &roleOut{Role: roleOf(r)}, nil
}

type listRolesOut struct {
	Roles       []Role `xml:"Roles"`
	IsTruncated bool   `xml:"IsTruncated"`
	Marker      string `xml:"Marker,omitempty"`
}

// ListRoles lists roles, a page at a time.
func (a *API) ListRoles(ctx context.Context, in *listIn) (*listRolesOut, error) {
	all, err := a.IAM.ListRoles(ctx, in.PathPrefix)
	if err != nil {
		return nil, err
	}
	got, more, next, err := page(all, func(r state.IAMRole) string { return r.RoleName }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &listRolesOut{Roles: []Role{}, IsTruncated: more, Marker: next}
	for i := range got {
		out.Roles = append(out.Roles, roleOf(&got[i]))
	}
	return out, nil
}

// DeleteRole deletes a role without policies.
func (a *API) DeleteRole(ctx context.Context, in *roleIn) error {
	return a.IAM.DeleteRole(ctx, in.RoleName)
}

type updateTrustIn struct {
	RoleName       string
	PolicyDocument string
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (a *API) UpdateAssumeRolePolicy(ctx context.Context, in *updateTrustIn) error {
	return a.IAM.UpdateAssumeRolePolicy(ctx, in.RoleName, in.PolicyDocument)
}

// PutRolePolicy adds or replaces an inline policy of a role.
func (a *API) PutRolePolicy(ctx context.Context, in *roleIn) error {
	return a.IAM.PutRolePolicy(ctx, in.RoleName, in.PolicyName, in.PolicyDocument)
}

type rolePolicyOut struct {
	RoleName       string `xml:"RoleName"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

// GetRolePolicy reads an inline policy of a role, its document URL-encoded.
func (a *API) GetRolePolicy(ctx context.Context, in *roleIn) (*rolePolicyOut, error) {
	r, err := a.IAM.GetRole(ctx, in.RoleName)
	if err != nil {
		return nil, err
	}
	doc, ok := r.InlinePolicies[in.PolicyName]
	if !ok {
		return nil, &model.Error{Code: iam.CodeNoSuchEntity, Status: http.StatusNotFound,
			Message: "The role policy with name " + model.Truncate(in.PolicyName, 128) + " cannot be found."}
	}
	return &rolePolicyOut{RoleName: r.RoleName, PolicyName: in.PolicyName, PolicyDocument: encodeDocument(doc)}, nil
}

// ListRolePolicies lists the names of a role's inline policies.
func (a *API) ListRolePolicies(ctx context.Context, in *roleIn) (*listUserPoliciesOut, error) {
	r, err := a.IAM.GetRole(ctx, in.RoleName)
	if err != nil {
		return nil, err
	}
	return &listUserPoliciesOut{PolicyNames: inlineNames(r.InlinePolicies)}, nil
}

// DeleteRolePolicy deletes an inline policy of a role.
func (a *API) DeleteRolePolicy(ctx context.Context, in *roleIn) error {
	return a.IAM.DeleteRolePolicy(ctx, in.RoleName, in.PolicyName)
}

// AttachRolePolicy attaches a managed policy to a role.
func (a *API) AttachRolePolicy(ctx context.Context, in *roleIn) error {
	return a.IAM.AttachRolePolicy(ctx, in.RoleName, in.PolicyArn, true)
}

// DetachRolePolicy detaches a managed policy from a role.
func (a *API) DetachRolePolicy(ctx context.Context, in *roleIn) error {
	return a.IAM.AttachRolePolicy(ctx, in.RoleName, in.PolicyArn, false)
}

// ListAttachedRolePolicies lists the managed policies attached to a role.
func (a *API) ListAttachedRolePolicies(ctx context.Context, in *roleIn) (*listAttachedOut, error) {
	r, err := a.IAM.GetRole(ctx, in.RoleName)
	if err != nil {
		return nil, err
	}
	return attachedOf(r.AttachedPolicies), nil
}
