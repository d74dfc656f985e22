// Package iam owns who may call Flotta: the account, its access keys (long-term
// and temporary), the verification of each request's SigV4 signature against
// them, and the identity of the caller that handlers see. Policies and roles
// join it later. Secrets live only in the store and in the credentials file
// written for the user; they are never logged.
package iam

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/store"
)

const (
	accountKey = "/flotta/v1/iam/account"
	keysPrefix = "/flotta/v1/iam/access-keys/"
	// rootKeyPointer names the access key id of the account's first root key.
	rootKeyPointer = "/flotta/v1/iam/root-access-key"
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
}

// LogValue keeps secrets out of logs.
func (k AccessKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_key_id", k.AccessKeyID), slog.String("principal", k.PrincipalARN))
}

// IAM is the identity service of one account.
type IAM struct {
	store   *store.Store
	account Account
	now     func() time.Time
}

// Account returns the account this service serves.
func (m *IAM) Account() Account { return m.account }

// NewAccount is what Open makes on first start.
type NewAccount struct {
	Region string
	// ID is the account id; "" picks a random one.
	ID string
}

// ValidAccountID says whether id is an AWS account id: twelve digits.
func ValidAccountID(id string) bool {
	if len(id) != 12 {
		return false
	}
	for _, c := range id {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Open bootstraps the account on first start (the given id or a new one, the
// given region, a default root access key) or loads it on every later start.
// created reports whether this call made the account.
func Open(ctx context.Context, st *store.Store, first NewAccount, now func() time.Time) (m *IAM, created bool, err error) {
	if now == nil {
		now = time.Now
	}
	m = &IAM{store: st, now: now}
	kv, err := st.Get(ctx, accountKey)
	if err != nil {
		return nil, false, err
	}
	if kv.ModRev != 0 {
		if err := json.Unmarshal(kv.Value, &m.account); err != nil {
			return nil, false, fmt.Errorf("decode account: %w", err)
		}
		return m, false, nil
	}
	if first.ID != "" && !ValidAccountID(first.ID) {
		return nil, false, fmt.Errorf("account id %q is not twelve digits", first.ID)
	}
	id := first.ID
	if id == "" {
		id = randomDigits(12)
	}
	acct := Account{ID: id, Region: first.Region, Partition: "aws", CreatedAt: now().UTC()}
	root := m.newKey("AKIA", acct.Scope().RootARN())
	ab, _ := json.Marshal(acct)
	kb, _ := json.Marshal(root)
	_, err = st.Commit(ctx, []store.Guard{{Key: accountKey, ModRev: 0}}, []store.Op{
		store.Put(accountKey, ab),
		store.Put(keysPrefix+root.AccessKeyID, kb),
		store.Put(rootKeyPointer, []byte(root.AccessKeyID)),
	})
	if errors.Is(err, store.ErrConflict) {
		// Another server bootstrapped the same store first: use its account.
		return Open(ctx, st, first, now)
	}
	if err != nil {
		return nil, false, fmt.Errorf("create account: %w", err)
	}
	m.account = acct
	return m, true, nil
}

// RootAccessKey returns the account's first root access key, the one written
// to the credentials file.
func (m *IAM) RootAccessKey(ctx context.Context) (AccessKey, error) {
	kv, err := m.store.Get(ctx, rootKeyPointer)
	if err != nil {
		return AccessKey{}, err
	}
	if kv.ModRev == 0 {
		return AccessKey{}, errors.New("the account has no root access key")
	}
	k, found, err := m.accessKey(ctx, string(kv.Value))
	if err != nil {
		return AccessKey{}, err
	}
	if !found {
		return AccessKey{}, fmt.Errorf("root access key %s is missing", kv.Value)
	}
	return k, nil
}

// CreateAccessKey makes a long-term access key for a principal.
func (m *IAM) CreateAccessKey(ctx context.Context, principalARN string) (AccessKey, error) {
	k := m.newKey("AKIA", principalARN)
	return k, m.putKey(ctx, k)
}

// IssueTemporaryCredentials makes credentials with a session token that expire
// after ttl, as STS and the agent join exchange do.
func (m *IAM) IssueTemporaryCredentials(ctx context.Context, principalARN string, ttl time.Duration) (AccessKey, error) {
	k := m.newKey("ASIA", principalARN)
	k.SessionToken = randomToken(96)
	k.Expiration = m.now().UTC().Add(ttl)
	return k, m.putKey(ctx, k)
}

func (m *IAM) putKey(ctx context.Context, k AccessKey) error {
	b, _ := json.Marshal(k)
	key := keysPrefix + k.AccessKeyID
	if _, err := m.store.Commit(ctx, []store.Guard{{Key: key, ModRev: 0}}, []store.Op{store.Put(key, b)}); err != nil {
		return fmt.Errorf("store access key %s: %w", k.AccessKeyID, err)
	}
	return nil
}

func (m *IAM) accessKey(ctx context.Context, id string) (AccessKey, bool, error) {
	kv, err := m.store.Get(ctx, keysPrefix+id)
	if err != nil || kv.ModRev == 0 {
		return AccessKey{}, false, err
	}
	var k AccessKey
	if err := json.Unmarshal(kv.Value, &k); err != nil {
		return AccessKey{}, false, fmt.Errorf("decode access key %s: %w", id, err)
	}
	return k, true, nil
}

func (m *IAM) newKey(prefix, principal string) AccessKey {
	var b [10]byte
	rand.Read(b[:])
	id := prefix + base32.StdEncoding.EncodeToString(b[:])[:16]
	return AccessKey{AccessKeyID: id, SecretAccessKey: randomToken(30), PrincipalARN: principal, CreatedAt: m.now().UTC()}
}

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}

func randomDigits(n int) string {
	out := make([]byte, n)
	for i := range out {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		out[i] = byte('0' + d.Int64())
	}
	if out[0] == '0' {
		out[0] = '1'
	}
	return string(out)
}
