package state

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/store"
)

// IAM's records: the account, its access keys and the join tokens. Package
// iam decides who may call; these are what it decides with.

const (
	accountKey = Root + "iam/account"
	keysPrefix = Root + "iam/access-keys/"
	// rootKeyPointer names the access key id of the account's first root key.
	rootKeyPointer   = Root + "iam/root-access-key"
	joinTokensPrefix = Root + "iam/join-tokens/"
)

// Account is the one account a Flotta installation serves.
type Account struct {
	ID        string    `json:"id"`
	Region    string    `json:"region"`
	Partition string    `json:"partition"`
	CreatedAt time.Time `json:"createdAt"`
}

// Scope returns the ARN scope of the account.
func (a Account) Scope() model.Scope {
	return model.Scope{Partition: a.Partition, Region: a.Region, Account: a.ID}
}

// AccessKey is a stored access key.
type AccessKey struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	// SessionToken and Expiration are set for temporary credentials.
	SessionToken string    `json:"sessionToken,omitempty"`
	Expiration   time.Time `json:"expiration,omitzero"`
	// PrincipalARN is who the key acts as.
	PrincipalARN string    `json:"principalArn"`
	CreatedAt    time.Time `json:"createdAt"`
	// UserName is the IAM user the key belongs to ("" for root, agents and
	// temporary credentials).
	UserName string `json:"userName,omitempty"`
	// Inactive keys are refused as unknown ones are (IAM's Status Inactive).
	Inactive bool `json:"inactive,omitempty"`
	// RoleID is the unique id of the role an assumed-role session acts as:
	// a role deleted and made again under its name is another role, whose
	// rights the old sessions do not get.
	RoleID string `json:"roleId,omitempty"`
	// SessionPolicy is the session policy an AssumeRole call passed; it
	// narrows what the role's policies allow the session.
	SessionPolicy string `json:"sessionPolicy,omitempty"`
}

// LogValue keeps secrets out of logs.
func (k AccessKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_key_id", k.AccessKeyID), slog.String("principal", k.PrincipalARN))
}

// JoinToken is a stored join token. Only a hash of its secret is kept.
type JoinToken struct {
	ID         string    `json:"id"`
	SecretHash string    `json:"secretHash"`
	Expires    time.Time `json:"expires"`
	UsesLeft   int       `json:"usesLeft"`
	CreatedBy  string    `json:"createdBy"`
}

// GetAccount reads the account; nil before the first start.
func (s *State) GetAccount(ctx context.Context) (*Account, error) {
	_, a, err := read[Account](ctx, s.db, accountKey)
	return a, err
}

// CreateAccount makes the account with its first root key, unless another
// server made one first: then created is false and the caller reads that one.
func (s *State) CreateAccount(ctx context.Context, a Account, root AccessKey) (created bool, err error) {
	_, err = s.db.Commit(ctx, []store.Guard{{Key: accountKey, ModRev: 0}}, []store.Op{
		store.Put(accountKey, mustJSON(a)),
		store.Put(keysPrefix+root.AccessKeyID, mustJSON(root)),
		store.Put(rootKeyPointer, []byte(root.AccessKeyID)),
	})
	if errors.Is(err, store.ErrConflict) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create account: %w", err)
	}
	return true, nil
}

// RootAccessKeyID is the id of the account's first root key, "" if none.
func (s *State) RootAccessKeyID(ctx context.Context) (string, error) {
	kv, err := s.db.Get(ctx, rootKeyPointer)
	return string(kv.Value), err
}

// GetAccessKey reads an access key; nil when unknown.
func (s *State) GetAccessKey(ctx context.Context, id string) (*AccessKey, error) {
	_, k, err := read[AccessKey](ctx, s.db, keysPrefix+id)
	return k, err
}

// PutAccessKey stores a new access key; its id must be unused.
func (s *State) PutAccessKey(ctx context.Context, k AccessKey) error {
	key := keysPrefix + k.AccessKeyID
	if _, err := s.db.Commit(ctx, []store.Guard{{Key: key, ModRev: 0}}, []store.Op{store.Put(key, mustJSON(k))}); err != nil {
		return fmt.Errorf("store access key %s: %w", k.AccessKeyID, err)
	}
	return nil
}

// PutJoinToken stores a join token.
func (s *State) PutJoinToken(ctx context.Context, t JoinToken) error {
	if _, err := s.db.Commit(ctx, nil, []store.Op{store.Put(joinTokensPrefix+t.ID, mustJSON(t))}); err != nil {
		return fmt.Errorf("store join token: %w", err)
	}
	return nil
}

// UseJoinToken spends one use of a join token and stores the access key it
// buys, in one transaction. check sees the token (nil when unknown) and
// refuses it with an error; key makes the access key.
func (s *State) UseJoinToken(ctx context.Context, id string, check func(*JoinToken) error, key func() AccessKey) (AccessKey, error) {
	tkey := joinTokensPrefix + id
	for attempt := 0; attempt < 16; attempt++ {
		kv, t, err := read[JoinToken](ctx, s.db, tkey)
		if err != nil {
			return AccessKey{}, err
		}
		if err := check(t); err != nil {
			return AccessKey{}, err
		}
		t.UsesLeft--
		k := key()
		_, err = s.db.Commit(ctx, []store.Guard{{Key: tkey, ModRev: kv.ModRev}, {Key: keysPrefix + k.AccessKeyID, ModRev: 0}},
			[]store.Op{store.Put(tkey, mustJSON(t)), store.Put(keysPrefix+k.AccessKeyID, mustJSON(k))})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return AccessKey{}, err
		}
		return k, nil
	}
	return AccessKey{}, fmt.Errorf("join token %s: too many concurrent uses", id)
}

// DeleteAccessKeysOf deletes every access key that acts as principal (an
// agent's, when its instance is deregistered): the next request signed with
// one is refused as from an unknown key.
func (s *State) DeleteAccessKeysOf(ctx context.Context, principal string) (int, error) {
	var ops []store.Op
	after := ""
	for {
		page, err := s.db.List(ctx, keysPrefix, store.ListOptions{After: after, Limit: 1000})
		if err != nil {
			return 0, err
		}
		for _, kv := range page.KVs {
			k, err := decode[AccessKey](kv)
			if err != nil {
				return 0, err
			}
			if k.PrincipalARN == principal {
				ops = append(ops, store.Del(kv.Key))
			}
		}
		if !page.More {
			break
		}
		after = page.KVs[len(page.KVs)-1].Key
	}
	if len(ops) == 0 {
		return 0, nil
	}
	if _, err := s.db.Commit(ctx, nil, ops); err != nil {
		return 0, fmt.Errorf("delete the access keys of %s: %w", principal, err)
	}
	return len(ops), nil
}

// ListJoinTokens reads every stored join token, by id.
func (s *State) ListJoinTokens(ctx context.Context) ([]JoinToken, error) {
	var out []JoinToken
	after := ""
	for {
		page, err := s.db.List(ctx, joinTokensPrefix, store.ListOptions{After: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, kv := range page.KVs {
			t, err := decode[JoinToken](kv)
			if err != nil {
				return nil, err
			}
			out = append(out, *t)
		}
		if !page.More {
			return out, nil
		}
		after = page.KVs[len(page.KVs)-1].Key
	}
}

// DeleteJoinToken deletes a join token; found is false when there was none.
func (s *State) DeleteJoinToken(ctx context.Context, id string) (found bool, err error) {
	key := joinTokensPrefix + id
	kv, err := s.db.Get(ctx, key)
	if err != nil || kv.ModRev == 0 {
		return false, err
	}
	if _, err := s.db.Commit(ctx, []store.Guard{{Key: key, ModRev: kv.ModRev}}, []store.Op{store.Del(key)}); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return s.DeleteJoinToken(ctx, id)
		}
		return false, fmt.Errorf("delete join token: %w", err)
	}
	return true, nil
}

// ReapExpiredCredentials deletes temporary access keys (STS sessions, task
// role sessions, join sessions) and join tokens whose expiry is before now:
// they are refused already, and would otherwise pile up in the store, one
// per AssumeRole call. It answers how many records it deleted.
func (s *State) ReapExpiredCredentials(ctx context.Context, now time.Time) (int, error) {
	var dels []store.Op
	for _, prefix := range []string{keysPrefix, joinTokensPrefix} {
		after := ""
		for {
			page, err := s.db.List(ctx, prefix, store.ListOptions{After: after, Limit: 1000})
			if err != nil {
				return 0, err
			}
			for _, kv := range page.KVs {
				var expiry time.Time
				if prefix == keysPrefix {
					k, err := decode[AccessKey](kv)
					if err != nil {
						return 0, err
					}
					expiry = k.Expiration
				} else {
					t, err := decode[JoinToken](kv)
					if err != nil {
						return 0, err
					}
					expiry = t.Expires
				}
				if !expiry.IsZero() && expiry.Before(now) {
					dels = append(dels, store.Del(kv.Key))
				}
			}
			if !page.More {
				break
			}
			after = page.KVs[len(page.KVs)-1].Key
		}
	}
	done := 0
	for len(dels) > 0 {
		n := min(len(dels), s.MaxTxnOps())
		// A key deleted meanwhile (a revoked token) makes no conflict: a
		// delete of nothing is still a delete.
		if _, err := s.db.Commit(ctx, nil, dels[:n]); err != nil {
			return done, fmt.Errorf("reap expired credentials: %w", err)
		}
		done += n
		dels = dels[n:]
	}
	return done, nil
}
