// Package iam serves the IAM API (users and their access keys, groups,
// roles, their inline policies, customer managed policies and their
// attachments) and STS's GetCallerIdentity and AssumeRole, on the AWS Query
// protocol, as aws-sdk-go-v2's iam and
// sts clients, the AWS CLI and boto3 speak them. It decodes, lets package
// iam (the identity service) decide, and answers in IAM's shapes.
package iam

import (
	"context"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/iam"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/protocol/query"
	"github.com/flotta-dev/flotta/internal/sealing"
	"github.com/flotta-dev/flotta/internal/state"
)

// The protocol's versions and namespaces.
const (
	IAMVersion   = "2010-05-08"
	IAMNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
	STSVersion   = "2011-06-15"
	STSNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// API answers IAM and STS.
type API struct {
	IAM *iam.IAM
	// State, Box and Now serve the server certificates (servercerts.go):
	// their records, the sealing of their private keys, and their upload
	// dates (nil Now means time.Now).
	State *state.State
	Box   *sealing.Box
	Now   func() time.Time
}

// Tag is an IAM tag.
type Tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// User is IAM's User shape.
type User struct {
	Path       string    `xml:"Path"`
	UserName   string    `xml:"UserName,omitempty"`
	UserID     string    `xml:"UserId"`
	Arn        string    `xml:"Arn"`
	CreateDate time.Time `xml:"CreateDate"`
	Tags       []Tag     `xml:"Tags,omitempty"`
}

func userOf(u *state.IAMUser) User {
	out := User{Path: u.Path, UserName: u.UserName, UserID: u.UserID, Arn: u.Arn, CreateDate: u.CreateDate}
	for _, t := range u.Tags {
		out.Tags = append(out.Tags, Tag{Key: t.Key, Value: t.Value})
	}
	return out
}

// Policy is IAM's Policy shape.
type Policy struct {
	PolicyName       string    `xml:"PolicyName"`
	PolicyID         string    `xml:"PolicyId"`
	Arn              string    `xml:"Arn"`
	Path             string    `xml:"Path"`
	DefaultVersionID string    `xml:"DefaultVersionId"`
	AttachmentCount  int       `xml:"AttachmentCount"`
	IsAttachable     bool      `xml:"IsAttachable"`
	Description      string    `xml:"Description,omitempty"`
	CreateDate       time.Time `xml:"CreateDate"`
	UpdateDate       time.Time `xml:"UpdateDate"`
}

func policyOf(p *state.IAMPolicy) Policy {
	return Policy{PolicyName: p.PolicyName, PolicyID: p.PolicyID, Arn: p.Arn, Path: p.Path, DefaultVersionID: p.DefaultVersionID,
		AttachmentCount: p.AttachmentCount, IsAttachable: true, Description: p.Description, CreateDate: p.CreateDate, UpdateDate: p.UpdateDate}
}

// PolicyVersion is IAM's PolicyVersion shape; the document is URL-encoded,
// as IAM sends it.
type PolicyVersion struct {
	Document         string    `xml:"Document,omitempty"`
	VersionID        string    `xml:"VersionId"`
	IsDefaultVersion bool      `xml:"IsDefaultVersion"`
	CreateDate       time.Time `xml:"CreateDate"`
}

// encodeDocument URL-encodes a policy document as IAM answers it (RFC 3986).
func encodeDocument(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

// AccessKeyMetadata is IAM's AccessKeyMetadata shape.
type AccessKeyMetadata struct {
	UserName    string    `xml:"UserName"`
	AccessKeyID string    `xml:"AccessKeyId"`
	Status      string    `xml:"Status"`
	CreateDate  time.Time `xml:"CreateDate"`
}

func status(k state.AccessKey) string {
	if k.Inactive {
		return "Inactive"
	}
	return "Active"
}

// page cuts a sorted list for Marker and MaxItems (1-1000, default 100).
func page[T any](items []T, key func(T) string, marker string, maxItems *int) ([]T, bool, string, error) {
	limit := 100
	if maxItems != nil {
		if *maxItems < 1 || *maxItems > 1000 {
			return nil, false, "", &model.Error{Code: iam.CodeValidation, Status: 400,
				Message: "1 validation error detected: Value '" + strconv.Itoa(*maxItems) + "' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000"}
		}
		limit = *maxItems
	}
	sort.SliceStable(items, func(i, j int) bool { return key(items[i]) < key(items[j]) })
	start := 0
	if marker != "" {
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > marker })
	}
	items = items[start:]
	if len(items) > limit {
		return items[:limit], true, key(items[limit-1]), nil
	}
	return items, false, "", nil
}

// Service is the IAM API for the query router.
func (a *API) Service() *query.Service {
	s := &query.Service{SigningName: "iam", Version: IAMVersion, Namespace: IAMNamespace, ActionPrefix: "iam",
		InternalErrorCode: "ServiceFailure", Resources: a.resources,
		Ops: map[string]query.HandlerFunc{
			"CreateUser":               query.Op(a.CreateUser),
			"GetUser":                  query.Op(a.GetUser),
			"ListUsers":                query.Op(a.ListUsers),
			"DeleteUser":               query.OpNoResult(a.DeleteUser),
			"CreateAccessKey":          query.Op(a.CreateAccessKey),
			"ListAccessKeys":           query.Op(a.ListAccessKeys),
			"UpdateAccessKey":          query.OpNoResult(a.UpdateAccessKey),
			"DeleteAccessKey":          query.OpNoResult(a.DeleteAccessKey),
			"PutUserPolicy":            query.OpNoResult(a.PutUserPolicy),
			"GetUserPolicy":            query.Op(a.GetUserPolicy),
			"ListUserPolicies":         query.Op(a.ListUserPolicies),
			"DeleteUserPolicy":         query.OpNoResult(a.DeleteUserPolicy),
			"CreatePolicy":             query.Op(a.CreatePolicy),
			"GetPolicy":                query.Op(a.GetPolicy),
			"ListPolicies":             query.Op(a.ListPolicies),
			"DeletePolicy":             query.OpNoResult(a.DeletePolicy),
			"CreatePolicyVersion":      query.Op(a.CreatePolicyVersion),
			"GetPolicyVersion":         query.Op(a.GetPolicyVersion),
			"AttachUserPolicy":         query.OpNoResult(a.AttachUserPolicy),
			"DetachUserPolicy":         query.OpNoResult(a.DetachUserPolicy),
			"ListAttachedUserPolicies": query.Op(a.ListAttachedUserPolicies),

			"CreateGroup":               query.Op(a.CreateGroup),
			"GetGroup":                  query.Op(a.GetGroup),
			"ListGroups":                query.Op(a.ListGroups),
			"DeleteGroup":               query.OpNoResult(a.DeleteGroup),
			"AddUserToGroup":            query.OpNoResult(a.AddUserToGroup),
			"RemoveUserFromGroup":       query.OpNoResult(a.RemoveUserFromGroup),
			"ListGroupsForUser":         query.Op(a.ListGroupsForUser),
			"PutGroupPolicy":            query.OpNoResult(a.PutGroupPolicy),
			"GetGroupPolicy":            query.Op(a.GetGroupPolicy),
			"ListGroupPolicies":         query.Op(a.ListGroupPolicies),
			"DeleteGroupPolicy":         query.OpNoResult(a.DeleteGroupPolicy),
			"AttachGroupPolicy":         query.OpNoResult(a.AttachGroupPolicy),
			"DetachGroupPolicy":         query.OpNoResult(a.DetachGroupPolicy),
			"ListAttachedGroupPolicies": query.Op(a.ListAttachedGroupPolicies),

			"CreateRole":               query.Op(a.CreateRole),
			"GetRole":                  query.Op(a.GetRole),
			"ListRoles":                query.Op(a.ListRoles),
			"DeleteRole":               query.OpNoResult(a.DeleteRole),
			"UpdateAssumeRolePolicy":   query.OpNoResult(a.UpdateAssumeRolePolicy),
			"PutRolePolicy":            query.OpNoResult(a.PutRolePolicy),
			"GetRolePolicy":            query.Op(a.GetRolePolicy),
			"ListRolePolicies":         query.Op(a.ListRolePolicies),
			"DeleteRolePolicy":         query.OpNoResult(a.DeleteRolePolicy),
			"AttachRolePolicy":         query.OpNoResult(a.AttachRolePolicy),
			"DetachRolePolicy":         query.OpNoResult(a.DetachRolePolicy),
			"ListAttachedRolePolicies": query.Op(a.ListAttachedRolePolicies),
		}}
	a.serverCertificateOps(s.Ops)
	return s
}

// STSService is STS's GetCallerIdentity and AssumeRole for the query
// router.
func (a *API) STSService() *query.Service {
	return &query.Service{SigningName: "sts", Version: STSVersion, Namespace: STSNamespace, ActionPrefix: "sts",
		InternalErrorCode: "InternalFailure",
		Ops: map[string]query.HandlerFunc{
			"GetCallerIdentity": query.Op(a.GetCallerIdentity),
			"AssumeRole":        query.Op(a.AssumeRole),
		}}
}

// resources is what an IAM action is authorized on: the group or role it
// names (AddUserToGroup's group), else the user it names (the caller's own
// when it names none), else the policy it names, else "*".
func (a *API) resources(ctx context.Context, action string, params url.Values) ([]string, map[string][]string) {
	switch {
	case params.Get("ServerCertificateName") != "":
		return []string{a.serverCertificateResource(params.Get("ServerCertificateName"))}, nil
	case strings.HasPrefix(action, "List") && strings.HasSuffix(action, "s") && !strings.Contains(action, "For") &&
		params.Get("UserName") == "" && params.Get("GroupName") == "" && params.Get("RoleName") == "":
		return []string{"*"}, nil // ListUsers, ListGroups, ListRoles, ListPolicies
	case params.Get("GroupName") != "" && action != "ListGroupsForUser":
		if g, err := a.IAM.GetGroup(ctx, params.Get("GroupName")); err == nil {
			return []string{g.Arn}, nil
		}
		return []string{a.IAM.GroupARN(pathOf(params), params.Get("GroupName"))}, nil
	case params.Get("RoleName") != "":
		if r, err := a.IAM.GetRole(ctx, params.Get("RoleName")); err == nil {
			return []string{r.Arn}, nil
		}
		return []string{a.IAM.RoleARN(pathOf(params), params.Get("RoleName"))}, nil
	case params.Get("PolicyArn") != "" && !strings.Contains(action, "User"):
		return []string{params.Get("PolicyArn")}, nil
	case strings.Contains(action, "User") || strings.Contains(action, "AccessKey"):
		name := params.Get("UserName")
		if name == "" {
			return []string{"*"}, nil
		}
		// The user's ARN holds its path: a policy on user/dev/* covers
		// the users made under /dev/.
		if u, err := a.IAM.GetUser(ctx, name); err == nil {
			return []string{u.Arn}, nil
		}
		return []string{a.IAM.UserARN(pathOf(params), name)}, nil
	}
	return []string{"*"}, nil
}

// pathOf is the Path a Create call names, "/" when it names none: the
// entity it would make is authorized on the ARN it would have.
func pathOf(params url.Values) string {
	if p := params.Get("Path"); strings.HasPrefix(p, "/") && strings.HasSuffix(p, "/") {
		return p
	}
	return "/"
}

// GetCallerIdentity says who is calling.
func (a *API) GetCallerIdentity(ctx context.Context, _ *struct{}) (*CallerIdentity, error) {
	p, _ := iam.PrincipalFrom(ctx)
	id := a.IAM.Account().ID
	userID := id
	if _, session, ok := iam.RoleSessionOf(p.ARN); ok && p.RoleID != "" {
		userID = p.RoleID + ":" + session
	} else if u, err := a.IAM.GetUser(ctx, ""); err == nil && u.UserID != "" {
		userID = u.UserID
	} else if !p.IsRoot() {
		userID = p.AccessKeyID
	}
	return &CallerIdentity{Account: id, Arn: p.ARN, UserID: userID}, nil
}

// CallerIdentity is GetCallerIdentity's result.
type CallerIdentity struct {
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
	Arn     string `xml:"Arn"`
}
