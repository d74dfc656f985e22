package state

import (
	"context"
	"errors"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/store"
)

// IAM groups and roles. Package iam owns their rules; these are their
// records. A group keeps its members' names; a user keeps no list of groups,
// so membership has one owner.

const (
	iamGroupsPrefix = Root + "iam/groups/"
	iamRolesPrefix  = Root + "iam/roles/"
)

// IAMGroup is an IAM group, its members and its policies.
type IAMGroup struct {
	GroupName  string    `json:"groupName"`
	GroupID    string    `json:"groupId"`
	Arn        string    `json:"arn"`
	Path       string    `json:"path"`
	CreateDate time.Time `json:"createDate"`
	// Users are the names of the group's members, in the order added.
	Users            []string          `json:"users,omitempty"`
	InlinePolicies   map[string]string `json:"inlinePolicies,omitempty"`
	AttachedPolicies []string          `json:"attachedPolicies,omitempty"`
}

// IAMRole is an IAM role: who may assume it (its trust policy) and what
// its sessions may do (its policies).
type IAMRole struct {
	RoleName                 string            `json:"roleName"`
	RoleID                   string            `json:"roleId"`
	Arn                      string            `json:"arn"`
	Path                     string            `json:"path"`
	Description              string            `json:"description,omitempty"`
	CreateDate               time.Time         `json:"createDate"`
	AssumeRolePolicyDocument string            `json:"assumeRolePolicyDocument"`
	MaxSessionDuration       int               `json:"maxSessionDuration"`
	Tags                     []model.Tag       `json:"tags,omitempty"`
	InlinePolicies           map[string]string `json:"inlinePolicies,omitempty"`
	AttachedPolicies         []string          `json:"attachedPolicies,omitempty"`
}

// GetIAMGroup reads a group; nil when there is none.
func (s *State) GetIAMGroup(ctx context.Context, name string) (*IAMGroup, error) {
	_, g, err := read[IAMGroup](ctx, s.db, iamGroupsPrefix+name)
	return g, err
}

// CreateIAMGroup stores a new group; ErrExists when the name is taken.
func (s *State) CreateIAMGroup(ctx context.Context, g IAMGroup) error {
	return s.create(ctx, iamGroupsPrefix+g.GroupName, g)
}

// UpdateIAMGroup changes a group with fn; nil when there is none.
func (s *State) UpdateIAMGroup(ctx context.Context, name string, fn func(*IAMGroup) error) (*IAMGroup, error) {
	return update(ctx, s.db, iamGroupsPrefix+name, fn)
}

// DeleteIAMGroup deletes a group; found is false when there was none.
func (s *State) DeleteIAMGroup(ctx context.Context, name string) (bool, error) {
	return s.deleteKey(ctx, iamGroupsPrefix+name)
}

// ListIAMGroups reads every group, by name.
func (s *State) ListIAMGroups(ctx context.Context) ([]IAMGroup, error) {
	return listAll[IAMGroup](ctx, s.db, iamGroupsPrefix)
}

// GetIAMRole reads a role; nil when there is none.
func (s *State) GetIAMRole(ctx context.Context, name string) (*IAMRole, error) {
	_, r, err := read[IAMRole](ctx, s.db, iamRolesPrefix+name)
	return r, err
}

// CreateIAMRole stores a new role; ErrExists when the name is taken.
func (s *State) CreateIAMRole(ctx context.Context, r IAMRole) error {
	return s.create(ctx, iamRolesPrefix+r.RoleName, r)
}

// UpdateIAMRole changes a role with fn; nil when there is none.
func (s *State) UpdateIAMRole(ctx context.Context, name string, fn func(*IAMRole) error) (*IAMRole, error) {
	return update(ctx, s.db, iamRolesPrefix+name, fn)
}

// DeleteIAMRole deletes a role; found is false when there was none.
func (s *State) DeleteIAMRole(ctx context.Context, name string) (bool, error) {
	return s.deleteKey(ctx, iamRolesPrefix+name)
}

// ListIAMRoles reads every role, by name.
func (s *State) ListIAMRoles(ctx context.Context) ([]IAMRole, error) {
	return listAll[IAMRole](ctx, s.db, iamRolesPrefix)
}

// SetIAMGroupMember adds a user to a group (or, with add false, removes
// it), in one transaction guarded on both records, so that a user deleted
// meanwhile is not added. check sees both (nil when missing) and may refuse.
func (s *State) SetIAMGroupMember(ctx context.Context, groupName, userName string, add bool, check func(*IAMGroup, *IAMUser) error) error {
	for {
		gkv, g, err := read[IAMGroup](ctx, s.db, iamGroupsPrefix+groupName)
		if err != nil {
			return err
		}
		ukv, u, err := read[IAMUser](ctx, s.db, iamUsersPrefix+userName)
		if err != nil {
			return err
		}
		if err := check(g, u); err != nil {
			return err
		}
		kept := g.Users[:0:0]
		has := false
		for _, n := range g.Users {
			if n == userName {
				has = true
				continue
			}
			kept = append(kept, n)
		}
		switch {
		case add && has, !add && !has:
			return nil
		case add:
			g.Users = append(g.Users, userName)
		default:
			g.Users = kept
		}
		_, err = s.db.Commit(ctx, []store.Guard{{Key: gkv.Key, ModRev: gkv.ModRev}, {Key: ukv.Key, ModRev: ukv.ModRev}},
			[]store.Op{store.Put(gkv.Key, mustJSON(g))})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		return err
	}
}

// AttachIAMGroupPolicy is AttachIAMUserPolicy for a group.
func (s *State) AttachIAMGroupPolicy(ctx context.Context, groupName, policyName string, attach bool, check func(*IAMGroup, *IAMPolicy) error) error {
	return attachIAMPolicy(ctx, s, iamGroupsPrefix+groupName, func(g *IAMGroup) *[]string { return &g.AttachedPolicies }, policyName, attach, check)
}

// AttachIAMRolePolicy is AttachIAMUserPolicy for a role.
func (s *State) AttachIAMRolePolicy(ctx context.Context, roleName, policyName string, attach bool, check func(*IAMRole, *IAMPolicy) error) error {
	return attachIAMPolicy(ctx, s, iamRolesPrefix+roleName, func(r *IAMRole) *[]string { return &r.AttachedPolicies }, policyName, attach, check)
}
