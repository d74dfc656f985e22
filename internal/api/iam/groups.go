package iam

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/flotta-dev/flotta/internal/iam"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// Group is IAM's Group shape.
type Group struct {
	Path       string    `xml:"Path"`
	GroupName  string    `xml:"GroupName"`
	GroupID    string    `xml:"GroupId"`
	Arn        string    `xml:"Arn"`
	CreateDate time.Time `xml:"CreateDate"`
}

func groupOf(g *state.IAMGroup) Group {
	return Group{Path: g.Path, GroupName: g.GroupName, GroupID: g.GroupID, Arn: g.Arn, CreateDate: g.CreateDate}
}

type groupIn struct {
	GroupName      string
	Path           string
	UserName       string
	PolicyName     string
	PolicyDocument string
	PolicyArn      string
	Marker         string
	MaxItems       *int
}

type groupOut struct {
	Group Group `xml:"Group"`
}

// CreateGroup makes a group.
func (a *API) CreateGroup(ctx context.Context, in *groupIn) (*groupOut, error) {
	g, err := a.IAM.CreateGroup(ctx, in.GroupName, in.Path)
	if err != nil {
		return nil, err
	}
	return &groupOut{Group: groupOf(g)}, nil
}

type getGroupOut struct {
	Group       Group  `xml:"Group"`
	Users       []User `xml:"Users"`
	IsTruncated bool   `xml:"IsTruncated"`
	Marker      string `xml:"Marker,omitempty"`
}

// GetGroup reads a group and its members, a page of them at a time.
func (a *API) GetGroup(ctx context.Context, in *groupIn) (*getGroupOut, error) {
	g, err := a.IAM.GetGroup(ctx, in.GroupName)
	if err != nil {
		return nil, err
	}
	var users []state.IAMUser
	for _, name := range g.Users {
		u, err := a.IAM.GetUser(ctx, name)
		if err != nil {
			continue // deleted since
		}
		users = append(users, *u)
	}
	got, more, next, err := page(users, func(u state.IAMUser) string { return u.UserName }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &getGroupOut{Group: groupOf(g), Users: []User{}, IsTruncated: more, Marker: next}
	for i := range got {
		out.Users = append(out.Users, userOf(&got[i]))
	}
	return out, nil
}

type listGroupsOut struct {
	Groups      []Group `xml:"Groups"`
	IsTruncated bool    `xml:"IsTruncated"`
	Marker      string  `xml:"Marker,omitempty"`
}

func groupsPage(all []state.IAMGroup, marker string, maxItems *int) (*listGroupsOut, error) {
	got, more, next, err := page(all, func(g state.IAMGroup) string { return g.GroupName }, marker, maxItems)
	if err != nil {
		return nil, err
	}
	out := &listGroupsOut{Groups: []Group{}, IsTruncated: more, Marker: next}
	for i := range got {
		out.Groups = append(out.Groups, groupOf(&got[i]))
	}
	return out, nil
}

// ListGroups lists groups, a page at a time.
func (a *API) ListGroups(ctx context.Context, in *listIn) (*listGroupsOut, error) {
	all, err := a.IAM.ListGroups(ctx, in.PathPrefix)
	if err != nil {
		return nil, err
	}
	return groupsPage(all, in.Marker, in.MaxItems)
}

// ListGroupsForUser lists the groups a user is in.
func (a *API) ListGroupsForUser(ctx context.Context, in *groupIn) (*listGroupsOut, error) {
	all, err := a.IAM.GroupsForUser(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	return groupsPage(all, in.Marker, in.MaxItems)
}

// DeleteGroup deletes a group without members or policies.
func (a *API) DeleteGroup(ctx context.Context, in *groupIn) error {
	return a.IAM.DeleteGroup(ctx, in.GroupName)
}

// AddUserToGroup adds a user to a group.
func (a *API) AddUserToGroup(ctx context.Context, in *groupIn) error {
	return a.IAM.SetGroupMember(ctx, in.GroupName, in.UserName, true)
}

// RemoveUserFromGroup removes a user from a group.
func (a *API) RemoveUserFromGroup(ctx context.Context, in *groupIn) error {
	return a.IAM.SetGroupMember(ctx, in.GroupName, in.UserName, false)
}

// PutGroupPolicy adds or replaces an inline policy of a group.
func (a *API) PutGroupPolicy(ctx context.Context, in *groupIn) error {
	return a.IAM.PutGroupPolicy(ctx, in.GroupName, in.PolicyName, in.PolicyDocument)
}

type groupPolicyOut struct {
	GroupName      string `xml:"GroupName"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

// GetGroupPolicy reads an inline policy of a group, its document
// URL-encoded.
func (a *API) GetGroupPolicy(ctx context.Context, in *groupIn) (*groupPolicyOut, error) {
	g, err := a.IAM.GetGroup(ctx, in.GroupName)
	if err != nil {
		return nil, err
	}
	doc, ok := g.InlinePolicies[in.PolicyName]
	if !ok {
		return nil, &model.Error{Code: iam.CodeNoSuchEntity, Status: http.StatusNotFound,
			Message: "The group policy with name " + model.Truncate(in.PolicyName, 128) + " cannot be found."}
	}
	return &groupPolicyOut{GroupName: g.GroupName, PolicyName: in.PolicyName, PolicyDocument: encodeDocument(doc)}, nil
}

// ListGroupPolicies lists the names of a group's inline policies.
func (a *API) ListGroupPolicies(ctx context.Context, in *groupIn) (*listUserPoliciesOut, error) {
	g, err := a.IAM.GetGroup(ctx, in.GroupName)
	if err != nil {
		return nil, err
	}
	return &listUserPoliciesOut{PolicyNames: inlineNames(g.InlinePolicies)}, nil
}

// DeleteGroupPolicy deletes an inline policy of a group.
func (a *API) DeleteGroupPolicy(ctx context.Context, in *groupIn) error {
	return a.IAM.DeleteGroupPolicy(ctx, in.GroupName, in.PolicyName)
}

// AttachGroupPolicy attaches a managed policy to a group.
func (a *API) AttachGroupPolicy(ctx context.Context, in *groupIn) error {
	return a.IAM.AttachGroupPolicy(ctx, in.GroupName, in.PolicyArn, true)
}

// DetachGroupPolicy detaches a managed policy from a group.
func (a *API) DetachGroupPolicy(ctx context.Context, in *groupIn) error {
	return a.IAM.AttachGroupPolicy(ctx, in.GroupName, in.PolicyArn, false)
}

// ListAttachedGroupPolicies lists the managed policies attached to a group.
func (a *API) ListAttachedGroupPolicies(ctx context.Context, in *groupIn) (*listAttachedOut, error) {
	g, err := a.IAM.GetGroup(ctx, in.GroupName)
	if err != nil {
		return nil, err
	}
	return attachedOf(g.AttachedPolicies), nil
}

func inlineNames(inline map[string]string) []string {
	out := []string{}
	for name := range inline {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

func attachedOf(arns []string) *listAttachedOut {
	out := &listAttachedOut{AttachedPolicies: []AttachedPolicy{}}
	for _, arn := range arns {
		out.AttachedPolicies = append(out.AttachedPolicies, AttachedPolicy{PolicyName: arn[lastSlash(arn)+1:], PolicyArn: arn})
	}
	return out
}
