package iam

import (
	"context"
	"net/http"
	"strings"

	"github.com/flotta-dev/flotta/internal/sigv4"
)

// Principal is the verified caller of a request.
type Principal struct {
	// ARN is who the caller acts as, e.g. arn:aws:iam::123456789012:root.
	ARN         string
	AccessKeyID string
	Temporary   bool
	// RoleID and SessionPolicy are an assumed-role session's (see
	// state.AccessKey).
	RoleID        string
	SessionPolicy string
}

// IsRoot says whether the caller is the account's root user.
func (p Principal) IsRoot() bool { return strings.HasSuffix(p.ARN, ":root") }

type principalKey struct{}

// WithPrincipal returns a context that carries p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller a context carries.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Authenticate verifies a request's SigV4 signature and returns a context
// carrying the caller. Refusals are *model.Error values in AWS's words.
func (m *IAM) Authenticate(ctx context.Context, r *http.Request, body []byte, signingName string) (context.Context, error) {
	var key AccessKey
	v := sigv4.Verifier{
		Region: m.account.Region,
		Now:    m.now,
		Lookup: func(ctx context.Context, id string) (sigv4.Secret, bool, error) {
			k, err := m.state.GetAccessKey(ctx, id)
			if err != nil || k == nil || k.Inactive {
				return sigv4.Secret{}, false, err
			}
			key = *k
			return sigv4.Secret{SecretAccessKey: k.SecretAccessKey, SessionToken: k.SessionToken, Expires: k.Expiration}, true, nil
		},
	}
	verified, err := v.Verify(ctx, r, body, signingName)
	if err != nil {
		return ctx, err
	}
	return WithPrincipal(ctx, Principal{ARN: key.PrincipalARN, AccessKeyID: verified.AccessKeyID, Temporary: verified.Temporary,
		RoleID: key.RoleID, SessionPolicy: key.SessionPolicy}), nil
}
