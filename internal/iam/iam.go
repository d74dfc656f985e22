// Package iam owns who may call Flotta: the account, its access keys (long-term
// and temporary), the verification of each request's SigV4 signature against
// them, the identity of the caller that handlers see, the users, groups,
// roles and policies that decide what a caller may do, and the role
// sessions STS's AssumeRole starts. Secrets live only in the store and in the credentials file
// written for the user; they are never logged.
package iam

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/flotta-dev/flotta/internal/iam/policy"
	"github.com/flotta-dev/flotta/internal/state"
)

// Account is the one account a Flotta installation serves (kept by state).
type Account = state.Account

// AccessKey is a stored access key (kept by state).
type AccessKey = state.AccessKey

// IAM is the identity service of one account.
type IAM struct {
	state   *state.State
	account Account
	now     func() time.Time

	// resourceTags reads a resource's tags for aws:ResourceTag conditions
	// (see UseResourceTags); nil leaves those keys absent.
	resourceTags func(ctx context.Context, arn string) (map[string]string, error)

	policyMu    sync.Mutex
	policyCache map[string]*policy.Policy
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
func Open(ctx context.Context, st *state.State, first NewAccount, now func() time.Time) (m *IAM, created bool, err error) {
	if now == nil {
		now = time.Now
	}
	m = &IAM{state: st, now: now}
	acct, err := st.GetAccount(ctx)
	if err != nil {
		return nil, false, err
	}
	if acct != nil {
		m.account = *acct
		return m, false, nil
	}
	if first.ID != "" && !ValidAccountID(first.ID) {
		return nil, false, fmt.Errorf("account id %q is not twelve digits", first.ID)
	}
	id := first.ID
	if id == "" {
		id = randomDigits(12)
	}
	a := Account{ID: id, Region: first.Region, Partition: "aws", CreatedAt: now().UTC()}
	created, err = st.CreateAccount(ctx, a, m.newKey("AKIA", a.Scope().RootARN()))
	if err != nil {
		return nil, false, err
	}
	if !created {
		// Another server bootstrapped the same store first: use its account.
		return Open(ctx, st, first, now)
	}
	m.account = a
	return m, true, nil
}

// RootAccessKey returns the account's first root access key, the one written
// to the credentials file.
func (m *IAM) RootAccessKey(ctx context.Context) (AccessKey, error) {
	id, err := m.state.RootAccessKeyID(ctx)
	if err != nil {
		return AccessKey{}, err
	}
	if id == "" {
		return AccessKey{}, errors.New("the account has no root access key")
	}
	k, err := m.state.GetAccessKey(ctx, id)
	if err != nil {
		return AccessKey{}, err
	}
	if k == nil {
		return AccessKey{}, fmt.Errorf("root access key %s is missing", id)
	}
	return *k, nil
}

// CreateAccessKey makes a long-term access key for a principal.
func (m *IAM) CreateAccessKey(ctx context.Context, principalARN string) (AccessKey, error) {
	k := m.newKey("AKIA", principalARN)
	return k, m.state.PutAccessKey(ctx, k)
}

// IssueTemporaryCredentials makes credentials with a session token that expire
// after ttl, as STS and the agent join exchange do.
func (m *IAM) IssueTemporaryCredentials(ctx context.Context, principalARN string, ttl time.Duration) (AccessKey, error) {
	k := m.newKey("ASIA", principalARN)
	k.SessionToken = randomToken(96)
	k.Expiration = m.now().UTC().Add(ttl)
	return k, m.state.PutAccessKey(ctx, k)
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
