package iam

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/iam/policy"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/protocol"
	"github.com/flotta-dev/flotta/internal/state"
)

// STS's limits on AssumeRole.
const (
	maxSessionPolicyChars = 2048
	// chainedSessionLimit is the longest session a role session may start
	// (role chaining).
	chainedSessionLimit = 3600
)

var sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]*$`)

// AssumeRoleInput is what STS's AssumeRole is asked for.
type AssumeRoleInput struct {
	RoleARN     string
	SessionName string
	// DurationSeconds is nil for STS's default, an hour.
	DurationSeconds *int
	// Policy is the session policy, "" for none.
	Policy string
}

// RoleSession is an assumed role's temporary credentials and who they act
// as.
type RoleSession struct {
	Key AccessKey
	// AssumedRoleID is ROLEID:SESSION, the session's aws:userid.
	AssumedRoleID string
	// PackedPolicySize is the session policy's share of STS's limit, in
	// percent; 0 without one.
	PackedPolicySize int
}

// RoleSessionOf takes apart an assumed-role session's ARN
// (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION).
func RoleSessionOf(arn string) (role, session string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sts" {
		return "", "", false
	}
	rest, ok := strings.CutPrefix(parts[5], "assumed-role/")
	if !ok {
		return "", "", false
	}
	role, session, ok = strings.Cut(rest, "/")
	return role, session, ok && role != "" && session != ""
}

// SessionARN is the ARN of a session of a role of this account.
func (m *IAM) SessionARN(role, session string) string {
	return "arn:" + m.account.Partition + ":sts::" + m.account.ID + ":assumed-role/" + role + "/" + session
}

func stsValidation(format string, args ...any) *model.Error {
	return iamError(CodeValidation, http.StatusBadRequest, format, args...)
}

// AssumeRole gives the caller temporary credentials that act as a role, as
// STS does: the role's trust policy must allow the caller, and unless it
// names the caller itself, so must the caller's own policies (evaluated
// with the trust policy as the role's resource-based policy).
func (m *IAM) AssumeRole(ctx context.Context, in AssumeRoleInput) (*RoleSession, error) {
	p, _ := PrincipalFrom(ctx)
	switch {
	case in.SessionName == "":
		return nil, stsValidation("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	case len(in.SessionName) < 2:
		return nil, stsValidation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2", in.SessionName)
	case len(in.SessionName) > 64:
		return nil, stsValidation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64", model.Truncate(in.SessionName, 128))
	case !sessionNamePattern.MatchString(in.SessionName):
		return nil, stsValidation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", model.Truncate(in.SessionName, 128))
	}
	duration := defaultSessionLength
	if in.DurationSeconds != nil {
		duration = *in.DurationSeconds
		switch {
		case duration < minSessionDuration:
			return nil, stsValidation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to %d", duration, minSessionDuration)
		case duration > maxMaxSession:
			return nil, stsValidation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to %d", duration, maxMaxSession)
		}
	}
	var session *policy.Policy
	if in.Policy != "" {
		if len(in.Policy) > maxSessionPolicyChars {
			return nil, stsValidation("1 validation error detected: Value '%s' at 'policy' failed to satisfy constraint: Member must have length less than or equal to %d", model.Truncate(in.Policy, 128), maxSessionPolicyChars)
		}
		var err error
		if session, err = policy.Parse(in.Policy, policy.ParseOptions{Kind: policy.KindIdentity}); err != nil {
			return nil, err
		}
	}
	if p.IsRoot() {
		return nil, iamError("AccessDenied", http.StatusForbidden, "Roles may not be assumed by root accounts.")
	}
	denied := iamError("AccessDenied", http.StatusForbidden, "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", p.ARN, model.Truncate(in.RoleARN, 2048))

	role, err := m.roleByARN(ctx, in.RoleARN)
	if err != nil || role == nil {
		return nil, cmpErr(err, denied)
	}
	trust, err := m.parsedAs(role.AssumeRolePolicyDocument, policy.KindTrust)
	if err != nil {
		return nil, err
	}
	caller, unrestricted, err := m.policiesFor(ctx, p)
	if err != nil {
		return nil, err
	}
	if unrestricted {
		caller = policy.Policies{Identity: []policy.NamedPolicy{{Name: "unrestricted", Policy: allowAll}}}
	}
	keys := map[string][]string{"sts:RoleSessionName": {in.SessionName}}
	if ip := protocol.SourceIP(ctx); ip != "" {
		keys["aws:SourceIp"] = []string{ip}
	}
	if !m.trusts(p, role, trust, caller, keys) {
		return nil, denied
	}
	if _, _, chained := RoleSessionOf(p.ARN); chained && duration > chainedSessionLimit {
		return nil, stsValidation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if duration > role.MaxSessionDuration {
		return nil, stsValidation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}

	out, err := m.mintSession(ctx, role, in.SessionName, time.Duration(duration)*time.Second, in.Policy)
	if err != nil {
		return nil, err
	}
	if session != nil {
		out.PackedPolicySize = max(1, policy.CountChars(in.Policy)*100/maxSessionPolicyChars)
	}
	return out, nil
}

// trusts decides sts:AssumeRole: the trust policy must allow the caller,
// naming it (or its role, or anyone) or its account, which delegates to the
// caller's own policies; then the whole evaluation, with the trust policy as
// the resource-based policy, must allow, so that the caller's policies
// decide unless the trust policy names the caller itself.
//
// keys are the request's condition keys (aws:SourceIp, sts:RoleSessionName),
// which trust policies may test as AWS lets them.
func (m *IAM) trusts(p Principal, role *state.IAMRole, trust *policy.Policy, caller policy.Policies, keys map[string][]string) bool {
	trustOnly := policy.Policies{Resource: []policy.NamedPolicy{{Name: role.Arn, Policy: trust}}}
	req := policy.Request{Principal: p.ARN, Action: "sts:AssumeRole", Resource: role.Arn, Time: m.now(), Context: keys}
	named := policy.Evaluate(req, trustOnly)
	// The account's root stands for the account: a statement that names it
	// trusts every principal of the account its policies let assume roles.
	asAccount := req
	asAccount.Principal = "arn:" + m.account.Partition + ":iam::" + m.account.ID + ":root"
	asAccount.Context = map[string][]string{"aws:PrincipalArn": {m.principalARN(p.ARN)}}
	for k, v := range keys {
		asAccount.Context[k] = v
	}
	delegated := policy.Evaluate(asAccount, trustOnly)
	if named.Decision == policy.ExplicitDeny || delegated.Decision == policy.ExplicitDeny ||
		(named.Decision != policy.Allow && delegated.Decision != policy.Allow) {
		return false
	}
	caller.Resource = trustOnly.Resource
	return policy.Evaluate(req, caller).Decision == policy.Allow
}

// principalARN is aws:PrincipalArn: a session's role, else the caller.
func (m *IAM) principalARN(arn string) string {
	if role, _, ok := RoleSessionOf(arn); ok {
		return m.RoleARN("/", role)
	}
	return arn
}

// roleByARN finds a role of this account by its ARN; nil when none.
func (m *IAM) roleByARN(ctx context.Context, arn string) (*state.IAMRole, error) {
	prefix := "arn:" + m.account.Partition + ":iam::" + m.account.ID + ":role/"
	rest, ok := strings.CutPrefix(arn, prefix)
	if !ok {
		return nil, nil
	}
	r, err := m.state.GetIAMRole(ctx, rest[strings.LastIndex(rest, "/")+1:])
	if err != nil || r == nil || r.Arn != arn {
		return nil, err
	}
	return r, nil
}

func cmpErr(err error, otherwise error) error {
	if err != nil {
		return fmt.Errorf("assume role: %w", err)
	}
	return otherwise
}

var allowAll = mustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
