package iam

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/store"
)

const joinTokensPrefix = "/flotta/v1/iam/join-tokens/"

// joinToken is a stored join token. Only a hash of its secret is kept.
type joinToken struct {
	ID         string    `json:"id"`
	SecretHash string    `json:"secretHash"`
	Expires    time.Time `json:"expires"`
	UsesLeft   int       `json:"usesLeft"`
	CreatedBy  string    `json:"createdBy"`
}

// ErrBadJoinToken is the answer to any token that cannot be used; it does not
// say why, so that tokens cannot be probed.
var ErrBadJoinToken = errors.New("the join token is invalid, expired or used up")

// CreateJoinToken makes a token that lets up to uses agents join within ttl.
// The token is returned once and never stored in the clear.
func (m *IAM) CreateJoinToken(ctx context.Context, ttl time.Duration, uses int, createdBy string) (token string, expires time.Time, err error) {
	var idb [6]byte
	rand.Read(idb[:])
	id := hex.EncodeToString(idb[:])
	secret := randomToken(24)
	secret = strings.NewReplacer("+", "A", "/", "B").Replace(secret)
	expires = m.now().UTC().Add(ttl)
	rec := joinToken{ID: id, SecretHash: hashSecret(secret), Expires: expires, UsesLeft: uses, CreatedBy: createdBy}
	b, _ := json.Marshal(rec)
	if _, err := m.store.Commit(ctx, nil, []store.Op{store.Put(joinTokensPrefix+id, b)}); err != nil {
		return "", time.Time{}, fmt.Errorf("store join token: %w", err)
	}
	return "flt1." + id + "." + secret, expires, nil
}

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// AgentPrincipalPrefix begins the ARN of every agent identity.
const agentPrincipalPath = ":user/flotta-agent/"

// IsAgent says whether a principal ARN is an agent identity.
func IsAgent(principalARN string) bool { return strings.Contains(principalARN, agentPrincipalPath) }

// AgentID returns the agent id in an agent principal ARN.
func AgentID(principalARN string) string {
	_, id, _ := strings.Cut(principalARN, agentPrincipalPath)
	return id
}

// Join exchanges a join token for an agent identity and its access key.
func (m *IAM) Join(ctx context.Context, token string) (AccessKey, string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] != "flt1" {
		return AccessKey{}, "", ErrBadJoinToken
	}
	key := joinTokensPrefix + parts[1]
	for attempt := 0; attempt < 16; attempt++ {
		kv, err := m.store.Get(ctx, key)
		if err != nil {
			return AccessKey{}, "", err
		}
		if kv.ModRev == 0 {
			return AccessKey{}, "", ErrBadJoinToken
		}
		var rec joinToken
		if err := json.Unmarshal(kv.Value, &rec); err != nil {
			return AccessKey{}, "", err
		}
		if subtle.ConstantTimeCompare([]byte(hashSecret(parts[2])), []byte(rec.SecretHash)) != 1 ||
			!m.now().Before(rec.Expires) || rec.UsesLeft <= 0 {
			return AccessKey{}, "", ErrBadJoinToken
		}
		rec.UsesLeft--
		var idb [8]byte
		rand.Read(idb[:])
		agentID := hex.EncodeToString(idb[:])
		principal := "arn:" + m.account.Partition + ":iam::" + m.account.ID + agentPrincipalPath + agentID
		k := m.newKey("AKIA", principal)
		tb, _ := json.Marshal(rec)
		kb, _ := json.Marshal(k)
		_, err = m.store.Commit(ctx, []store.Guard{{Key: key, ModRev: kv.ModRev}, {Key: keysPrefix + k.AccessKeyID, ModRev: 0}},
			[]store.Op{store.Put(key, tb), store.Put(keysPrefix+k.AccessKeyID, kb)})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return AccessKey{}, "", err
		}
		return k, agentID, nil
	}
	return AccessKey{}, "", fmt.Errorf("join token %s: too many concurrent uses", parts[1])
}
