package iam

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/pki"
	"github.com/flotta-dev/flotta/internal/state"
)

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
	rec := state.JoinToken{ID: id, SecretHash: hashSecret(secret), Expires: expires, UsesLeft: uses, CreatedBy: createdBy}
	if err := m.state.PutJoinToken(ctx, rec); err != nil {
		return "", time.Time{}, err
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
	base, _ := pki.SplitToken(token) // the CA fingerprint is for the agent
	parts := strings.Split(base, ".")
	if len(parts) != 3 || parts[0] != "flt1" {
		return AccessKey{}, "", ErrBadJoinToken
	}
	var agentID string
	k, err := m.state.UseJoinToken(ctx, parts[1], func(t *state.JoinToken) error {
		if t == nil || subtle.ConstantTimeCompare([]byte(hashSecret(parts[2])), []byte(t.SecretHash)) != 1 ||
			!m.now().Before(t.Expires) || t.UsesLeft <= 0 {
			return ErrBadJoinToken
		}
		return nil
	}, func() AccessKey {
		var idb [8]byte
		rand.Read(idb[:])
		agentID = hex.EncodeToString(idb[:])
		return m.newKey("AKIA", "arn:"+m.account.Partition+":iam::"+m.account.ID+agentPrincipalPath+agentID)
	})
	if err != nil {
		return AccessKey{}, "", err
	}
	return k, agentID, nil
}

// ListJoinTokens lists the join tokens that can still be used, and those
// that ran out less than a day ago (older ones are of no interest).
func (m *IAM) ListJoinTokens(ctx context.Context) ([]state.JoinToken, error) {
	all, err := m.state.ListJoinTokens(ctx)
	if err != nil {
		return nil, err
	}
	now := m.now()
	out := all[:0]
	for _, t := range all {
		if t.UsesLeft > 0 && now.Before(t.Expires) || now.Sub(t.Expires) < 24*time.Hour {
			out = append(out, t)
		}
	}
	return out, nil
}

// RevokeJoinToken deletes a join token, named by its id or by the whole
// token; found is false when there was none.
func (m *IAM) RevokeJoinToken(ctx context.Context, idOrToken string) (found bool, err error) {
	id := idOrToken
	if base, _ := pki.SplitToken(idOrToken); strings.HasPrefix(base, "flt1.") {
		parts := strings.Split(base, ".")
		if len(parts) == 3 {
			id = parts[1]
		}
	}
	return m.state.DeleteJoinToken(ctx, id)
}
