package iam

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/iam/policy"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// IAM's limits (IAM and AWS STS quotas).
const (
	maxAccessKeysPerUser   = 2
	maxUserInlineChars     = 2048
	maxManagedPolicyChars  = 6144
	maxPolicyVersions      = 5
	maxManagedPerPrincipal = 10
)

// IAM's error codes, as aws-sdk-go-v2's iam client names them.
const (
	CodeNoSuchEntity        = "NoSuchEntity"
	CodeEntityAlreadyExists = "EntityAlreadyExists"
	CodeDeleteConflict      = "DeleteConflict"
	CodeLimitExceeded       = "LimitExceeded"
	CodeValidation          = "ValidationError"
	CodeInvalidInput        = "InvalidInput"
)

func iamError(code string, status int, format string, args ...any) *model.Error {
	return &model.Error{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

func noSuchUser(name string) *model.Error {
	return iamError(CodeNoSuchEntity, http.StatusNotFound, "The user with name %s cannot be found.", name)
}

var (
	namePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	pathPattern = regexp.MustCompile(`^/([\x21-\x7E]*/)?$`)
)

func checkName(what, name string, max int) error {
	if name == "" {
		return iamError(CodeValidation, http.StatusBadRequest, "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", what)
	}
	if len(name) > max || !namePattern.MatchString(name) {
		return iamError(CodeValidation, http.StatusBadRequest, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", model.Truncate(name, 128), what)
	}
	return nil
}

func checkPath(path string) (string, error) {
	if path == "" {
		return "/", nil
	}
	if len(path) > 512 || !pathPattern.MatchString(path) {
		return "", iamError(CodeValidation, http.StatusBadRequest, "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	return path, nil
}

// uniqueID makes an IAM unique id: a four-letter prefix and 17 characters.
func uniqueID(prefix string) string {
	var b [11]byte
	rand.Read(b[:])
	return prefix + base32.StdEncoding.EncodeToString(b[:])[:17]
}

// UserARN is the ARN of a user of this account.
func (m *IAM) UserARN(path, name string) string {
	return "arn:" + m.account.Partition + ":iam::" + m.account.ID + ":user" + path + name
}

// CreateUser makes an IAM user with no rights.
func (m *IAM) CreateUser(ctx context.Context, name, path string, tags []model.Tag) (*state.IAMUser, error) {
	if err := checkName("userName", name, 64); err != nil {
		return nil, err
	}
	path, err := checkPath(path)
	if err != nil {
		return nil, err
	}
	u := state.IAMUser{UserName: name, UserID: uniqueID("AIDA"), Path: path, Arn: m.UserARN(path, name), CreateDate: m.now().UTC().Truncate(time.Second), Tags: tags}
	if err := m.state.CreateIAMUser(ctx, u); err != nil {
		if errors.Is(err, state.ErrExists) {
			return nil, iamError(CodeEntityAlreadyExists, http.StatusConflict, "User with name %s already exists.", name)
		}
		return nil, err
	}
	return &u, nil
}

// GetUser reads a user; name "" is the caller.
func (m *IAM) GetUser(ctx context.Context, name string) (*state.IAMUser, error) {
	if name == "" {
		p, _ := PrincipalFrom(ctx)
		if p.IsRoot() {
			return &state.IAMUser{UserID: m.account.ID, Arn: p.ARN, Path: "/", CreateDate: m.account.CreatedAt}, nil
		}
		name = userNameOf(p.ARN)
		if name == "" {
			return nil, iamError(CodeValidation, http.StatusBadRequest, "Must specify userName when calling with non-User credentials")
		}
	}
	u, err := m.state.GetIAMUser(ctx, name)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, noSuchUser(name)
	}
	return u, nil
}

// userNameOf is the user name in an IAM user ARN ("" for other principals).
func userNameOf(arn string) string {
	_, rest, ok := strings.Cut(arn, ":user/")
	if !ok || IsAgent(arn) {
		return ""
	}
	return rest[strings.LastIndex(rest, "/")+1:]
}

// ListUsers lists the users whose path begins with prefix.
func (m *IAM) ListUsers(ctx context.Context, prefix string) ([]state.IAMUser, error) {
	all, err := m.state.ListIAMUsers(ctx)
	if err != nil {
		return nil, err
	}
	return underPath(all, func(u state.IAMUser) string { return u.Path }, prefix), nil
}

// policiesLeft refuses to delete a user, group or role that still has
// policies, in IAM's words.
func policiesLeft(inline map[string]string, attached []string) error {
	switch {
	case len(inline) > 0:
		return iamError(CodeDeleteConflict, http.StatusConflict, "Cannot delete entity, must delete policies first.")
	case len(attached) > 0:
		return iamError(CodeDeleteConflict, http.StatusConflict, "Cannot delete entity, must detach all policies first.")
	}
	return nil
}

// underPath keeps the entities whose path begins with prefix ("/" when empty).
func underPath[T any](all []T, path func(T) string, prefix string) []T {
	out := all[:0]
	for _, e := range all {
		if strings.HasPrefix(path(e), cmpOr(prefix, "/")) {
			out = append(out, e)
		}
	}
	return out
}

func cmpOr(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// DeleteUser deletes a user that has no access keys and no policies left,
// as IAM requires.
func (m *IAM) DeleteUser(ctx context.Context, name string) error {
	u, err := m.GetUser(ctx, name)
	if err != nil {
		return err
	}
	keys, err := m.state.ListAccessKeysOf(ctx, u.Arn)
	if err != nil {
		return err
	}
	if len(keys) > 0 {
		return iamError(CodeDeleteConflict, http.StatusConflict, "Cannot delete entity, must delete access keys first.")
	}
	if err := policiesLeft(u.InlinePolicies, u.AttachedPolicies); err != nil {
		return err
	}
	groups, err := m.groupsOf(ctx, u.UserName)
	if err != nil {
		return err
	}
	if len(groups) > 0 {
		// IAM's words, though the user is what is being deleted.
		return iamError(CodeDeleteConflict, http.StatusConflict, "Cannot delete entity, must remove users from group first.")
	}
	_, err = m.state.DeleteIAMUser(ctx, name)
	return err
}

// CreateUserAccessKey makes an access key for a user (name "" is the caller).
func (m *IAM) CreateUserAccessKey(ctx context.Context, name string) (AccessKey, error) {
	u, err := m.GetUser(ctx, name)
	if err != nil {
		return AccessKey{}, err
	}
	if u.UserName == "" {
		return AccessKey{}, iamError(CodeValidation, http.StatusBadRequest, "Must specify userName when calling with non-User credentials")
	}
	keys, err := m.state.ListAccessKeysOf(ctx, u.Arn)
	if err != nil {
		return AccessKey{}, err
	}
	if len(keys) >= maxAccessKeysPerUser {
		return AccessKey{}, iamError(CodeLimitExceeded, http.StatusConflict, "Cannot exceed quota for AccessKeysPerUser: %d", maxAccessKeysPerUser)
	}
	k := m.newKey("AKIA", u.Arn)
	k.UserName = u.UserName
	return k, m.state.PutAccessKey(ctx, k)
}

// ListUserAccessKeys lists a user's access keys (name "" is the caller).
func (m *IAM) ListUserAccessKeys(ctx context.Context, name string) (*state.IAMUser, []AccessKey, error) {
	u, err := m.GetUser(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	keys, err := m.state.ListAccessKeysOf(ctx, u.Arn)
	return u, keys, err
}

// userKey finds one of a user's keys.
func (m *IAM) userKey(ctx context.Context, name, id string) (*state.IAMUser, error) {
	u, err := m.GetUser(ctx, name)
	if err != nil {
		return nil, err
	}
	k, err := m.state.GetAccessKey(ctx, id)
	if err != nil {
		return nil, err
	}
	if k == nil || k.PrincipalARN != u.Arn {
		return nil, iamError(CodeNoSuchEntity, http.StatusNotFound, "The Access Key with id %s cannot be found.", model.Truncate(id, 128))
	}
	return u, nil
}

// SetAccessKeyStatus makes a user's key Active or Inactive.
func (m *IAM) SetAccessKeyStatus(ctx context.Context, name, id, status string) error {
	if status != "Active" && status != "Inactive" {
		return iamError(CodeValidation, http.StatusBadRequest, "1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", model.Truncate(status, 64))
	}
	if _, err := m.userKey(ctx, name, id); err != nil {
		return err
	}
	_, err := m.state.UpdateAccessKey(ctx, id, func(k *state.AccessKey) error {
		k.Inactive = status == "Inactive"
		return nil
	})
	return err
}

// DeleteUserAccessKey deletes one of a user's keys.
func (m *IAM) DeleteUserAccessKey(ctx context.Context, name, id string) error {
	if _, err := m.userKey(ctx, name, id); err != nil {
		return err
	}
	_, err := m.state.DeleteAccessKey(ctx, id)
	return err
}

// PutUserPolicy adds or replaces an inline policy of a user.
func (m *IAM) PutUserPolicy(ctx context.Context, userName, policyName, document string) error {
	if err := checkName("policyName", policyName, 128); err != nil {
		return err
	}
	if _, err := policy.Parse(document, policy.ParseOptions{Kind: policy.KindIdentity}); err != nil {
		return err
	}
	u, err := m.state.UpdateIAMUser(ctx, userName, func(u *state.IAMUser) error {
		return putInline(&u.InlinePolicies, policyName, document, maxUserInlineChars, "user", userName)
	})
	if err == nil && u == nil {
		return noSuchUser(userName)
	}
	return err
}

// DeleteUserPolicy deletes an inline policy of a user.
func (m *IAM) DeleteUserPolicy(ctx context.Context, userName, policyName string) error {
	u, err := m.state.UpdateIAMUser(ctx, userName, func(u *state.IAMUser) error {
		return deleteInline(u.InlinePolicies, policyName, "user")
	})
	if err == nil && u == nil {
		return noSuchUser(userName)
	}
	return err
}

// PolicyARN is the ARN of a customer managed policy.
func (m *IAM) PolicyARN(path, name string) string {
	return "arn:" + m.account.Partition + ":iam::" + m.account.ID + ":policy" + path + name
}

// policyName is the name in a customer managed policy ARN of this account.
func (m *IAM) policyName(arn string) (string, error) {
	prefix := "arn:" + m.account.Partition + ":iam::" + m.account.ID + ":policy/"
	rest, ok := strings.CutPrefix(arn, prefix)
	if !ok {
		if strings.HasPrefix(arn, "arn:") {
			return "", iamError(CodeNoSuchEntity, http.StatusNotFound, "Policy %s does not exist or is not attachable.", model.Truncate(arn, 2048))
		}
		return "", iamError(CodeInvalidInput, http.StatusBadRequest, "ARN %s is not valid.", model.Truncate(arn, 2048))
	}
	return rest[strings.LastIndex(rest, "/")+1:], nil
}

// CreatePolicy makes a customer managed policy, its document version v1.
func (m *IAM) CreatePolicy(ctx context.Context, name, path, description, document string) (*state.IAMPolicy, error) {
	if err := checkName("policyName", name, 128); err != nil {
		return nil, err
	}
	path, err := checkPath(path)
	if err != nil {
		return nil, err
	}
	if _, err := policy.Parse(document, policy.ParseOptions{Kind: policy.KindIdentity, MaxChars: maxManagedPolicyChars}); err != nil {
		return nil, err
	}
	now := m.now().UTC().Truncate(time.Second)
	p := state.IAMPolicy{PolicyName: name, PolicyID: uniqueID("ANPA"), Path: path, Arn: m.PolicyARN(path, name), Description: description,
		CreateDate: now, UpdateDate: now, DefaultVersionID: "v1", Versions: []state.IAMPolicyVersion{{VersionID: "v1", Document: document, CreateDate: now}}}
	if err := m.state.CreateIAMPolicy(ctx, p); err != nil {
		if errors.Is(err, state.ErrExists) {
			return nil, iamError(CodeEntityAlreadyExists, http.StatusConflict, "A policy called %s already exists. Duplicate names are not allowed.", name)
		}
		return nil, err
	}
	return &p, nil
}

// GetPolicy reads a customer managed policy by ARN.
func (m *IAM) GetPolicy(ctx context.Context, arn string) (*state.IAMPolicy, error) {
	name, err := m.policyName(arn)
	if err != nil {
		return nil, err
	}
	p, err := m.state.GetIAMPolicy(ctx, name)
	if err != nil {
		return nil, err
	}
	if p == nil || p.Arn != arn {
		return nil, iamError(CodeNoSuchEntity, http.StatusNotFound, "Policy %s does not exist or is not attachable.", model.Truncate(arn, 2048))
	}
	return p, nil
}

// ListPolicies lists the customer managed policies.
func (m *IAM) ListPolicies(ctx context.Context) ([]state.IAMPolicy, error) {
	return m.state.ListIAMPolicies(ctx)
}

// CreatePolicyVersion adds a version, the default one when setDefault.
func (m *IAM) CreatePolicyVersion(ctx context.Context, arn, document string, setDefault bool) (*state.IAMPolicyVersion, error) {
	p, err := m.GetPolicy(ctx, arn)
	if err != nil {
		return nil, err
	}
	if _, err := policy.Parse(document, policy.ParseOptions{Kind: policy.KindIdentity, MaxChars: maxManagedPolicyChars}); err != nil {
		return nil, err
	}
	var made state.IAMPolicyVersion
	_, err = m.state.UpdateIAMPolicy(ctx, p.PolicyName, func(p *state.IAMPolicy) error {
		if len(p.Versions) >= maxPolicyVersions {
			return iamError(CodeLimitExceeded, http.StatusConflict, "A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
		}
		next := 0
		for _, v := range p.Versions {
			var n int
			fmt.Sscanf(v.VersionID, "v%d", &n)
			next = max(next, n)
		}
		now := m.now().UTC().Truncate(time.Second)
		made = state.IAMPolicyVersion{VersionID: fmt.Sprintf("v%d", next+1), Document: document, CreateDate: now}
		p.Versions = append(p.Versions, made)
		p.UpdateDate = now
		if setDefault {
			p.DefaultVersionID = made.VersionID
		}
		return nil
	})
	return &made, err
}

// DeletePolicy deletes a managed policy that is attached to nothing and has
// no versions but its default.
func (m *IAM) DeletePolicy(ctx context.Context, arn string) error {
	p, err := m.GetPolicy(ctx, arn)
	if err != nil {
		return err
	}
	if p.AttachmentCount > 0 {
		return iamError(CodeDeleteConflict, http.StatusConflict, "Cannot delete a policy attached to entities.")
	}
	if len(p.Versions) > 1 {
		return iamError(CodeDeleteConflict, http.StatusConflict, "Cannot delete a policy with non-default versions. Delete the non-default versions first.")
	}
	_, err = m.state.DeleteIAMPolicy(ctx, p.PolicyName)
	return err
}

// AttachUserPolicy attaches (or, with attach false, detaches) a managed
// policy to a user.
func (m *IAM) AttachUserPolicy(ctx context.Context, userName, arn string, attach bool) error {
	name, err := m.policyName(arn)
	if err != nil {
		return err
	}
	return m.state.AttachIAMUserPolicy(ctx, userName, name, attach, func(u *state.IAMUser, p *state.IAMPolicy) error {
		if u == nil {
			return noSuchUser(userName)
		}
		return checkAttach(p, arn, u.AttachedPolicies, attach, "PoliciesPerUser")
	})
}

// userPolicies are the parsed policies of a user: its inline ones and the
// default versions of those attached, then its groups'.
func (m *IAM) userPolicies(ctx context.Context, u *state.IAMUser) ([]policy.NamedPolicy, error) {
	out, err := m.policiesOf(ctx, u.InlinePolicies, u.AttachedPolicies)
	if err != nil {
		return nil, err
	}
	groups, err := m.groupsOf(ctx, u.UserName)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		more, err := m.policiesOf(ctx, g.InlinePolicies, g.AttachedPolicies)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// policiesOf parses a user's, group's or role's inline policies (by name)
// and the default versions of its attached managed policies.
func (m *IAM) policiesOf(ctx context.Context, inline map[string]string, attached []string) ([]policy.NamedPolicy, error) {
	var out []policy.NamedPolicy
	names := make([]string, 0, len(inline))
	for n := range inline {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		p, err := m.parsed(inline[n])
		if err != nil {
			return nil, err
		}
		out = append(out, policy.NamedPolicy{Name: n, Policy: p})
	}
	for _, arn := range attached {
		mp, err := m.GetPolicy(ctx, arn)
		if err != nil {
			continue // deleted since: it grants nothing
		}
		v := mp.Default()
		if v == nil {
			continue
		}
		p, err := m.parsed(v.Document)
		if err != nil {
			return nil, err
		}
		out = append(out, policy.NamedPolicy{Name: arn, Policy: p})
	}
	return out, nil
}

// parsed parses a stored identity-based document, keeping the result for
// the next request.
func (m *IAM) parsed(doc string) (*policy.Policy, error) {
	return m.parsedAs(doc, policy.KindIdentity)
}

// parsedAs parses a stored document of a kind, keeping the result.
func (m *IAM) parsedAs(doc string, kind policy.Kind) (*policy.Policy, error) {
	key := fmt.Sprint(kind) + ":" + doc
	m.policyMu.Lock()
	defer m.policyMu.Unlock()
	if p, ok := m.policyCache[key]; ok {
		return p, nil
	}
	p, err := policy.Parse(doc, policy.ParseOptions{Kind: kind})
	if err != nil {
		return nil, fmt.Errorf("a stored policy does not parse: %w", err)
	}
	if m.policyCache == nil || len(m.policyCache) > 10_000 {
		m.policyCache = map[string]*policy.Policy{}
	}
	m.policyCache[key] = p
	return p, nil
}
