package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/store"
)

// IAM users and customer managed policies. Package iam owns their rules
// (names, limits, what may be deleted when); these are their records.

const (
	iamUsersPrefix    = Root + "iam/users/"
	iamPoliciesPrefix = Root + "iam/policies/"
)

// ErrExists is a create of a record whose name is taken.
var ErrExists = errors.New("a record with that name exists")

// IAMUser is an IAM user, its inline policies and the managed policies
// attached to it.
type IAMUser struct {
	UserName   string      `json:"userName"`
	UserID     string      `json:"userId"`
	Arn        string      `json:"arn"`
	Path       string      `json:"path"`
	CreateDate time.Time   `json:"createDate"`
	Tags       []model.Tag `json:"tags,omitempty"`
	// InlinePolicies maps a policy name to its document.
	InlinePolicies map[string]string `json:"inlinePolicies,omitempty"`
	// AttachedPolicies are the ARNs of the managed policies attached.
	AttachedPolicies []string `json:"attachedPolicies,omitempty"`
}

// IAMPolicy is a customer managed policy and its versions.
type IAMPolicy struct {
	PolicyName       string             `json:"policyName"`
	PolicyID         string             `json:"policyId"`
	Arn              string             `json:"arn"`
	Path             string             `json:"path"`
	Description      string             `json:"description,omitempty"`
	CreateDate       time.Time          `json:"createDate"`
	UpdateDate       time.Time          `json:"updateDate"`
	DefaultVersionID string             `json:"defaultVersionId"`
	Versions         []IAMPolicyVersion `json:"versions"`
	AttachmentCount  int                `json:"attachmentCount"`
	Tags             []model.Tag        `json:"tags,omitempty"`
}

// IAMPolicyVersion is one version of a managed policy's document.
type IAMPolicyVersion struct {
	VersionID  string    `json:"versionId"`
	Document   string    `json:"document"`
	CreateDate time.Time `json:"createDate"`
}

// Default is the version in force.
func (p *IAMPolicy) Default() *IAMPolicyVersion {
	for i := range p.Versions {
		if p.Versions[i].VersionID == p.DefaultVersionID {
			return &p.Versions[i]
		}
	}
	return nil
}

// GetIAMUser reads a user; nil when there is none.
func (s *State) GetIAMUser(ctx context.Context, name string) (*IAMUser, error) {
	_, u, err := read[IAMUser](ctx, s.db, iamUsersPrefix+name)
	return u, err
}

// CreateIAMUser stores a new user; ErrExists when the name is taken.
func (s *State) CreateIAMUser(ctx context.Context, u IAMUser) error {
	return s.create(ctx, iamUsersPrefix+u.UserName, u)
}

// UpdateIAMUser changes a user with fn, retrying on conflicting writes;
// nil when there is no such user.
func (s *State) UpdateIAMUser(ctx context.Context, name string, fn func(*IAMUser) error) (*IAMUser, error) {
	return update(ctx, s.db, iamUsersPrefix+name, fn)
}

// DeleteIAMUser deletes a user; found is false when there was none.
func (s *State) DeleteIAMUser(ctx context.Context, name string) (bool, error) {
	return s.deleteKey(ctx, iamUsersPrefix+name)
}

// ListIAMUsers reads every user, by name.
func (s *State) ListIAMUsers(ctx context.Context) ([]IAMUser, error) {
	return listAll[IAMUser](ctx, s.db, iamUsersPrefix)
}

// GetIAMPolicy reads a customer managed policy by name; nil when there is none.
func (s *State) GetIAMPolicy(ctx context.Context, name string) (*IAMPolicy, error) {
	_, p, err := read[IAMPolicy](ctx, s.db, iamPoliciesPrefix+name)
	return p, err
}

// CreateIAMPolicy stores a new managed policy; ErrExists when the name is taken.
func (s *State) CreateIAMPolicy(ctx context.Context, p IAMPolicy) error {
	return s.create(ctx, iamPoliciesPrefix+p.PolicyName, p)
}

// UpdateIAMPolicy changes a managed policy with fn; nil when there is none.
func (s *State) UpdateIAMPolicy(ctx context.Context, name string, fn func(*IAMPolicy) error) (*IAMPolicy, error) {
	return update(ctx, s.db, iamPoliciesPrefix+name, fn)
}

// DeleteIAMPolicy deletes a managed policy; found is false when there was none.
func (s *State) DeleteIAMPolicy(ctx context.Context, name string) (bool, error) {
	return s.deleteKey(ctx, iamPoliciesPrefix+name)
}

// ListIAMPolicies reads every customer managed policy, by name.
func (s *State) ListIAMPolicies(ctx context.Context) ([]IAMPolicy, error) {
	return listAll[IAMPolicy](ctx, s.db, iamPoliciesPrefix)
}

// AttachIAMUserPolicy attaches (or detaches) a managed policy to a user and
// counts it on the policy, in one transaction. check sees both (nil when
// missing) and may refuse.
func (s *State) AttachIAMUserPolicy(ctx context.Context, userName, policyName string, attach bool, check func(*IAMUser, *IAMPolicy) error) error {
	return attachIAMPolicy(ctx, s, iamUsersPrefix+userName, func(u *IAMUser) *[]string { return &u.AttachedPolicies }, policyName, attach, check)
}

// attachIAMPolicy attaches (or detaches) a managed policy to the user, group
// or role at key, whose list of attached ARNs list finds, and keeps the
// policy's AttachmentCount, in one transaction guarded on both records.
func attachIAMPolicy[T any](ctx context.Context, s *State, key string, list func(*T) *[]string, policyName string, attach bool, check func(*T, *IAMPolicy) error) error {
	for {
		ekv, e, err := read[T](ctx, s.db, key)
		if err != nil {
			return err
		}
		pkv, p, err := read[IAMPolicy](ctx, s.db, iamPoliciesPrefix+policyName)
		if err != nil {
			return err
		}
		if err := check(e, p); err != nil {
			return err
		}
		attached := list(e)
		has := false
		kept := (*attached)[:0:0]
		for _, arn := range *attached {
			if arn == p.Arn {
				has = true
				continue
			}
			kept = append(kept, arn)
		}
		switch {
		case attach && has, !attach && !has:
			return nil // already so: IAM answers success
		case attach:
			*attached = append(*attached, p.Arn)
			p.AttachmentCount++
		default:
			*attached = kept
			p.AttachmentCount--
		}
		_, err = s.db.Commit(ctx, []store.Guard{{Key: ekv.Key, ModRev: ekv.ModRev}, {Key: pkv.Key, ModRev: pkv.ModRev}},
			[]store.Op{store.Put(ekv.Key, mustJSON(e)), store.Put(pkv.Key, mustJSON(p))})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		return err
	}
}

// ListAccessKeysOf reads the access keys that act as principal.
func (s *State) ListAccessKeysOf(ctx context.Context, principal string) ([]AccessKey, error) {
	all, err := listAll[AccessKey](ctx, s.db, keysPrefix)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, k := range all {
		if k.PrincipalARN == principal {
			out = append(out, k)
		}
	}
	return out, nil
}

// UpdateAccessKey changes an access key with fn; nil when there is none.
func (s *State) UpdateAccessKey(ctx context.Context, id string, fn func(*AccessKey) error) (*AccessKey, error) {
	return update(ctx, s.db, keysPrefix+id, fn)
}

// DeleteAccessKey deletes one access key; found is false when there was none.
func (s *State) DeleteAccessKey(ctx context.Context, id string) (bool, error) {
	return s.deleteKey(ctx, keysPrefix+id)
}

func (s *State) create(ctx context.Context, key string, v any) error {
	_, err := s.db.Commit(ctx, []store.Guard{{Key: key, ModRev: 0}}, []store.Op{store.Put(key, mustJSON(v))})
	if errors.Is(err, store.ErrConflict) {
		return ErrExists
	}
	return err
}

func (s *State) deleteKey(ctx context.Context, key string) (bool, error) {
	kv, err := s.db.Get(ctx, key)
	if err != nil || kv.ModRev == 0 {
		return false, err
	}
	_, err = s.db.Commit(ctx, []store.Guard{{Key: key, ModRev: kv.ModRev}}, []store.Op{store.Del(key)})
	if errors.Is(err, store.ErrConflict) {
		return s.deleteKey(ctx, key)
	}
	return err == nil, err
}

// update is a guarded read-modify-write of one record, retried on conflict;
// nil when the record does not exist.
func update[T any](ctx context.Context, db *store.Store, key string, fn func(*T) error) (*T, error) {
	for {
		kv, v, err := read[T](ctx, db, key)
		if err != nil || v == nil {
			return nil, err
		}
		if err := fn(v); err != nil {
			return nil, err
		}
		_, err = db.Commit(ctx, []store.Guard{{Key: key, ModRev: kv.ModRev}}, []store.Op{store.Put(key, mustJSON(v))})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("update %s: %w", key, err)
		}
		return v, nil
	}
}

// listAll reads every record under a prefix, in key order.
func listAll[T any](ctx context.Context, db *store.Store, prefix string) ([]T, error) {
	var out []T
	after := ""
	for {
		page, err := db.List(ctx, prefix, store.ListOptions{After: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, kv := range page.KVs {
			v, err := decode[T](kv)
			if err != nil {
				return nil, err
			}
			out = append(out, *v)
		}
		if !page.More {
			return out, nil
		}
		after = page.KVs[len(page.KVs)-1].Key
	}
}
