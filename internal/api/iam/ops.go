package iam

import (
	"context"
	"net/http"
	"slices"

	"github.com/flotta-dev/flotta/internal/iam"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

type userNameIn struct {
	UserName string
}

type userOut struct {
	User User `xml:"User"`
}

type createUserIn struct {
	UserName string
	Path     string
	Tags     []Tag
}

// CreateUser makes a user.
func (a *API) CreateUser(ctx context.Context, in *createUserIn) (*userOut, error) {
	if len(in.Tags) > 50 {
		return nil, &model.Error{Code: iam.CodeLimitExceeded, Status: http.StatusConflict, Message: "The number of tags has reached the maximum limit."}
	}
	tags := make([]model.Tag, 0, len(in.Tags))
	for _, t := range in.Tags {
		tags = append(tags, model.Tag{Key: t.Key, Value: t.Value})
	}
	u, err := a.IAM.CreateUser(ctx, in.UserName, in.Path, tags)
	if err != nil {
		return nil, err
	}
	return &userOut{User: userOf(u)}, nil
}

// GetUser reads a user, or the caller.
func (a *API) GetUser(ctx context.Context, in *userNameIn) (*userOut, error) {
	u, err := a.IAM.GetUser(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	return &userOut{User: userOf(u)}, nil
}

type listIn struct {
	PathPrefix string
	Marker     string
	MaxItems   *int
}

type listUsersOut struct {
	Users       []User `xml:"Users"`
	IsTruncated bool   `xml:"IsTruncated"`
	Marker      string `xml:"Marker,omitempty"`
}

// ListUsers lists users, a page at a time.
func (a *API) ListUsers(ctx context.Context, in *listIn) (*listUsersOut, error) {
	all, err := a.IAM.ListUsers(ctx, in.PathPrefix)
	if err != nil {
		return nil, err
	}
	got, more, next, err := page(all, func(u state.IAMUser) string { return u.UserName }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &listUsersOut{Users: []User{}, IsTruncated: more, Marker: next}
	for i := range got {
		out.Users = append(out.Users, userOf(&got[i]))
	}
	return out, nil
}

// DeleteUser deletes a user without keys or policies.
func (a *API) DeleteUser(ctx context.Context, in *userNameIn) error {
	return a.IAM.DeleteUser(ctx, in.UserName)
}

type accessKeyOut struct {
	AccessKey struct {
		UserName        string `xml:"UserName"`
		AccessKeyID     string `xml:"AccessKeyId"`
		Status          string `xml:"Status"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		CreateDate      string `xml:"CreateDate"`
	} `xml:"AccessKey"`
}

// CreateAccessKey makes a key for a user (or the calling user); the secret
// is shown this once.
func (a *API) CreateAccessKey(ctx context.Context, in *userNameIn) (*accessKeyOut, error) {
	k, err := a.IAM.CreateUserAccessKey(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	out := &accessKeyOut{}
	out.AccessKey.UserName, out.AccessKey.AccessKeyID, out.AccessKey.Status = k.UserName, k.AccessKeyID, "Active"
	out.AccessKey.SecretAccessKey, out.AccessKey.CreateDate = k.SecretAccessKey, k.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")
	return out, nil
}

type listAccessKeysOut struct {
	AccessKeyMetadata []AccessKeyMetadata `xml:"AccessKeyMetadata"`
	IsTruncated       bool                `xml:"IsTruncated"`
}

// ListAccessKeys lists a user's keys (never their secrets).
func (a *API) ListAccessKeys(ctx context.Context, in *userNameIn) (*listAccessKeysOut, error) {
	u, keys, err := a.IAM.ListUserAccessKeys(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	out := &listAccessKeysOut{AccessKeyMetadata: []AccessKeyMetadata{}}
	for _, k := range keys {
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, AccessKeyMetadata{UserName: u.UserName, AccessKeyID: k.AccessKeyID, Status: status(k), CreateDate: k.CreatedAt})
	}
	return out, nil
}

type updateAccessKeyIn struct {
	UserName    string
	AccessKeyID string `query:"AccessKeyId"`
	Status      string
}

// UpdateAccessKey makes a key Active or Inactive.
func (a *API) UpdateAccessKey(ctx context.Context, in *updateAccessKeyIn) error {
	return a.IAM.SetAccessKeyStatus(ctx, in.UserName, in.AccessKeyID, in.Status)
}

// DeleteAccessKey deletes a key.
func (a *API) DeleteAccessKey(ctx context.Context, in *updateAccessKeyIn) error {
	return a.IAM.DeleteUserAccessKey(ctx, in.UserName, in.AccessKeyID)
}

type userPolicyIn struct {
	UserName       string
	PolicyName     string
	PolicyDocument string
}

// PutUserPolicy adds or replaces an inline policy.
func (a *API) PutUserPolicy(ctx context.Context, in *userPolicyIn) error {
	return a.IAM.PutUserPolicy(ctx, in.UserName, in.PolicyName, in.PolicyDocument)
}

type userPolicyOut struct {
	UserName       string `xml:"UserName"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

// GetUserPolicy reads an inline policy; the document comes URL-encoded, as
// IAM sends it.
func (a *API) GetUserPolicy(ctx context.Context, in *userPolicyIn) (*userPolicyOut, error) {
	u, err := a.IAM.GetUser(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	doc, ok := u.InlinePolicies[in.PolicyName]
	if !ok {
		return nil, &model.Error{Code: iam.CodeNoSuchEntity, Status: http.StatusNotFound,
			Message: "The user policy with name " + model.Truncate(in.PolicyName, 128) + " cannot be found."}
	}
	return &userPolicyOut{UserName: u.UserName, PolicyName: in.PolicyName, PolicyDocument: encodeDocument(doc)}, nil
}

type listUserPoliciesOut struct {
	PolicyNames []string `xml:"PolicyNames"`
	IsTruncated bool     `xml:"IsTruncated"`
}

// ListUserPolicies lists the names of a user's inline policies.
func (a *API) ListUserPolicies(ctx context.Context, in *userNameIn) (*listUserPoliciesOut, error) {
	u, err := a.IAM.GetUser(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	out := &listUserPoliciesOut{PolicyNames: []string{}}
	for name := range u.InlinePolicies {
		out.PolicyNames = append(out.PolicyNames, name)
	}
	slices.Sort(out.PolicyNames)
	return out, nil
}

// DeleteUserPolicy deletes an inline policy.
func (a *API) DeleteUserPolicy(ctx context.Context, in *userPolicyIn) error {
	return a.IAM.DeleteUserPolicy(ctx, in.UserName, in.PolicyName)
}

type createPolicyIn struct {
	PolicyName     string
	Path           string
	Description    string
	PolicyDocument string
}

type policyOut struct {
	Policy Policy `xml:"Policy"`
}

// CreatePolicy makes a customer managed policy.
func (a *API) CreatePolicy(ctx context.Context, in *createPolicyIn) (*policyOut, error) {
	p, err := a.IAM.CreatePolicy(ctx, in.PolicyName, in.Path, in.Description, in.PolicyDocument)
	if err != nil {
		return nil, err
	}
	return &policyOut{Policy: policyOf(p)}, nil
}

type policyArnIn struct {
	PolicyArn      string
	VersionID      string `query:"VersionId"`
	PolicyDocument string
	SetAsDefault   bool
	UserName       string
}

// GetPolicy reads a managed policy.
func (a *API) GetPolicy(ctx context.Context, in *policyArnIn) (*policyOut, error) {
	p, err := a.IAM.GetPolicy(ctx, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	return &policyOut{Policy: policyOf(p)}, nil
}

type listPoliciesIn struct {
	Scope      string
	PathPrefix string
	Marker     string
	MaxItems   *int
}

type listPoliciesOut struct {
	Policies    []Policy `xml:"Policies"`
	IsTruncated bool     `xml:"IsTruncated"`
	Marker      string   `xml:"Marker,omitempty"`
}

// ListPolicies lists the customer managed policies (Flotta has no AWS
// managed ones: Scope AWS lists none).
func (a *API) ListPolicies(ctx context.Context, in *listPoliciesIn) (*listPoliciesOut, error) {
	switch in.Scope {
	case "", "All", "Local", "AWS":
	default:
		return nil, &model.Error{Code: iam.CodeValidation, Status: http.StatusBadRequest,
			Message: "1 validation error detected: Value '" + model.Truncate(in.Scope, 64) + "' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]"}
	}
	all, err := a.IAM.ListPolicies(ctx)
	if err != nil {
		return nil, err
	}
	if in.Scope == "AWS" {
		all = nil
	}
	got, more, next, err := page(all, func(p state.IAMPolicy) string { return p.PolicyName }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &listPoliciesOut{Policies: []Policy{}, IsTruncated: more, Marker: next}
	for i := range got {
		out.Policies = append(out.Policies, policyOf(&got[i]))
	}
	return out, nil
}

// DeletePolicy deletes a managed policy attached to nothing.
func (a *API) DeletePolicy(ctx context.Context, in *policyArnIn) error {
	return a.IAM.DeletePolicy(ctx, in.PolicyArn)
}

type policyVersionOut struct {
	PolicyVersion PolicyVersion `xml:"PolicyVersion"`
}

// CreatePolicyVersion adds a version to a managed policy.
func (a *API) CreatePolicyVersion(ctx context.Context, in *policyArnIn) (*policyVersionOut, error) {
	v, err := a.IAM.CreatePolicyVersion(ctx, in.PolicyArn, in.PolicyDocument, in.SetAsDefault)
	if err != nil {
		return nil, err
	}
	return &policyVersionOut{PolicyVersion: PolicyVersion{VersionID: v.VersionID, IsDefaultVersion: in.SetAsDefault, CreateDate: v.CreateDate}}, nil
}

// GetPolicyVersion reads one version of a managed policy, its document
// URL-encoded.
func (a *API) GetPolicyVersion(ctx context.Context, in *policyArnIn) (*policyVersionOut, error) {
	p, err := a.IAM.GetPolicy(ctx, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	for _, v := range p.Versions {
		if v.VersionID == in.VersionID {
			return &policyVersionOut{PolicyVersion: PolicyVersion{Document: encodeDocument(v.Document), VersionID: v.VersionID,
				IsDefaultVersion: v.VersionID == p.DefaultVersionID, CreateDate: v.CreateDate}}, nil
		}
	}
	return nil, &model.Error{Code: iam.CodeNoSuchEntity, Status: http.StatusNotFound,
		Message: "Policy " + in.PolicyArn + " version " + model.Truncate(in.VersionID, 32) + " does not exist or is not attachable."}
}

// AttachUserPolicy attaches a managed policy to a user.
func (a *API) AttachUserPolicy(ctx context.Context, in *policyArnIn) error {
	return a.IAM.AttachUserPolicy(ctx, in.UserName, in.PolicyArn, true)
}

// DetachUserPolicy detaches a managed policy from a user.
func (a *API) DetachUserPolicy(ctx context.Context, in *policyArnIn) error {
	return a.IAM.AttachUserPolicy(ctx, in.UserName, in.PolicyArn, false)
}

// AttachedPolicy is IAM's AttachedPolicy shape.
type AttachedPolicy struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

type listAttachedOut struct {
	AttachedPolicies []AttachedPolicy `xml:"AttachedPolicies"`
	IsTruncated      bool             `xml:"IsTruncated"`
}

// ListAttachedUserPolicies lists the managed policies attached to a user.
func (a *API) ListAttachedUserPolicies(ctx context.Context, in *userNameIn) (*listAttachedOut, error) {
	u, err := a.IAM.GetUser(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	out := &listAttachedOut{AttachedPolicies: []AttachedPolicy{}}
	for _, arn := range u.AttachedPolicies {
		out.AttachedPolicies = append(out.AttachedPolicies, AttachedPolicy{PolicyName: arn[lastSlash(arn)+1:], PolicyArn: arn})
	}
	return out, nil
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}
