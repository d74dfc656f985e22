package iam

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/flotta-dev/flotta/internal/iam/policy"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// IAM's limits for groups (IAM and AWS STS quotas).
const (
	maxGroupInlineChars = 5120
	maxGroupsPerUser    = 10
)

func noSuchGroup(name string) *model.Error {
	return iamError(CodeNoSuchEntity, http.StatusNotFound, "The group with name %s cannot be found.", model.Truncate(name, 128))
}

// GroupARN is the ARN of a group of this account.
func (m *IAM) GroupARN(path, name string) string {
	return "arn:" + m.account.Partition + ":iam::" + m.account.ID + ":group" + path + name
}

// CreateGroup makes a group with no members and no policies.
func (m *IAM) CreateGroup(ctx context.Context, name, path string) (*state.IAMGroup, error) {
	if err := checkName("groupName", name, 128); err != nil {
		return nil, err
	}
	path, err := checkPath(path)
	if err != nil {
		return nil, err
	}
	g := state.IAMGroup{GroupName: name, GroupID: uniqueID("AGPA"), Path: path, Arn: m.GroupARN(path, name), CreateDate: m.now().UTC().Truncate(time.Second)}
	if err := m.state.CreateIAMGroup(ctx, g); err != nil {
		if errors.Is(err, state.ErrExists) {
			return nil, iamError(CodeEntityAlreadyExists, http.StatusConflict, "Group with name %s already exists.", name)
		}
		return nil, err
	}
	return &g, nil
}

// GetGroup reads a group.
func (m *IAM) GetGroup(ctx context.Context, name string) (*state.IAMGroup, error) {
	if err := checkName("groupName", name, 128); err != nil {
		return nil, err
	}
	g, err := m.state.GetIAMGroup(ctx, name)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, noSuchGroup(name)
	}
	return g, nil
}

// ListGroups lists the groups whose path begins with prefix.
func (m *IAM) ListGroups(ctx context.Context, prefix string) ([]state.IAMGroup, error) {
	all, err := m.state.ListIAMGroups(ctx)
	if err != nil {
		return nil, err
	}
	return underPath(all, func(g state.IAMGroup) string { return g.Path }, prefix), nil
}

// DeleteGroup deletes a group with no members and no policies, as IAM
// requires.
func (m *IAM) DeleteGroup(ctx context.Context, name string) error {
	g, err := m.GetGroup(ctx, name)
	if err != nil {
		return err
	}
	switch {
	case len(g.Users) > 0:
		return iamError(CodeDeleteConflict, http.StatusConflict, "Cannot delete entity, must remove users from group first.")
	}
	if err := policiesLeft(g.InlinePolicies, g.AttachedPolicies); err != nil {
		return err
	}
	_, err = m.state.DeleteIAMGroup(ctx, name)
	return err
}

// SetGroupMember adds a user to a group, or with add false removes it.
func (m *IAM) SetGroupMember(ctx context.Context, groupName, userName string, add bool) error {
	if err := checkName("groupName", groupName, 128); err != nil {
		return err
	}
	if err := checkName("userName", userName, 64); err != nil {
		return err
	}
	var count int
	if add {
		groups, err := m.groupsOf(ctx, userName)
		if err != nil {
			return err
		}
		count = len(groups)
	}
	return m.state.SetIAMGroupMember(ctx, groupName, userName, add, func(g *state.IAMGroup, u *state.IAMUser) error {
		switch {
		case g == nil:
			return noSuchGroup(groupName)
		case u == nil:
			return noSuchUser(userName)
		case !add && !slices.Contains(g.Users, userName):
			return iamError(CodeNoSuchEntity, http.StatusNotFound, "User %s is not in group %s.", userName, groupName)
		case add && !slices.Contains(g.Users, userName) && count >= maxGroupsPerUser:
			return iamError(CodeLimitExceeded, http.StatusConflict, "Cannot exceed quota for GroupsPerUser: %d", maxGroupsPerUser)
		}
		return nil
	})
}

// GroupsForUser lists the groups a user is in.
func (m *IAM) GroupsForUser(ctx context.Context, userName string) ([]state.IAMGroup, error) {
	if _, err := m.GetUser(ctx, userName); err != nil {
		return nil, err
	}
	return m.groupsOf(ctx, userName)
}

// groupsOf are the groups whose members include userName.
func (m *IAM) groupsOf(ctx context.Context, userName string) ([]state.IAMGroup, error) {
	all, err := m.state.ListIAMGroups(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, g := range all {
		if slices.Contains(g.Users, userName) {
			out = append(out, g)
		}
	}
	return out, nil
}

// PutGroupPolicy adds or replaces an inline policy of a group.
func (m *IAM) PutGroupPolicy(ctx context.Context, groupName, policyName, document string) error {
	if err := checkName("policyName", policyName, 128); err != nil {
		return err
	}
	if _, err := policy.Parse(document, policy.ParseOptions{Kind: policy.KindIdentity}); err != nil {
		return err
	}
	g, err := m.state.UpdateIAMGroup(ctx, groupName, func(g *state.IAMGroup) error {
		return putInline(&g.InlinePolicies, policyName, document, maxGroupInlineChars, "group", groupName)
	})
	if err == nil && g == nil {
		return noSuchGroup(groupName)
	}
	return err
}

// DeleteGroupPolicy deletes an inline policy of a group.
func (m *IAM) DeleteGroupPolicy(ctx context.Context, groupName, policyName string) error {
	g, err := m.state.UpdateIAMGroup(ctx, groupName, func(g *state.IAMGroup) error {
		return deleteInline(g.InlinePolicies, policyName, "group")
	})
	if err == nil && g == nil {
		return noSuchGroup(groupName)
	}
	return err
}

// AttachGroupPolicy attaches (or, with attach false, detaches) a managed
// policy to a group.
func (m *IAM) AttachGroupPolicy(ctx context.Context, groupName, arn string, attach bool) error {
	name, err := m.policyName(arn)
	if err != nil {
		return err
	}
	return m.state.AttachIAMGroupPolicy(ctx, groupName, name, attach, func(g *state.IAMGroup, p *state.IAMPolicy) error {
		if g == nil {
			return noSuchGroup(groupName)
		}
		return checkAttach(p, arn, g.AttachedPolicies, attach, "PoliciesPerGroup")
	})
}

// checkAttach refuses an attachment IAM refuses: an unknown policy, a
// detach of a policy not attached, an eleventh policy.
func checkAttach(p *state.IAMPolicy, arn string, attached []string, attach bool, quota string) error {
	if p == nil || p.Arn != arn {
		return iamError(CodeNoSuchEntity, http.StatusNotFound, "Policy %s does not exist or is not attachable.", model.Truncate(arn, 2048))
	}
	if !attach && !slices.Contains(attached, arn) {
		return iamError(CodeNoSuchEntity, http.StatusNotFound, "Policy %s was not found.", model.Truncate(arn, 2048))
	}
	if attach && !slices.Contains(attached, arn) && len(attached) >= maxManagedPerPrincipal {
		return iamError(CodeLimitExceeded, http.StatusConflict, "Cannot exceed quota for %s: %d", quota, maxManagedPerPrincipal)
	}
	return nil
}

// putInline sets an inline policy, within the entity's quota of characters
// for all of its inline policies.
func putInline(inline *map[string]string, name, document string, maxChars int, what, entity string) error {
	if *inline == nil {
		*inline = map[string]string{}
	}
	(*inline)[name] = document
	total := 0
	for _, d := range *inline {
		total += policy.CountChars(d)
	}
	if total > maxChars {
		return iamError(CodeLimitExceeded, http.StatusConflict, "Maximum policy size of %d bytes exceeded for %s %s", maxChars, what, entity)
	}
	return nil
}

func deleteInline(inline map[string]string, name, what string) error {
	if _, ok := inline[name]; !ok {
		return iamError(CodeNoSuchEntity, http.StatusNotFound, "The %s policy with name %s cannot be found.", what, model.Truncate(name, 128))
	}
	delete(inline, name)
	return nil
}
