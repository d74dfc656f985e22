package policy

import (
	"regexp"
	"strings"
)

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// caller is the request's principal, taken apart.
type caller struct {
	arn       string
	partition string
	account   string
	// kind is "user", "role" (an assumed-role session), "root", or "" for
	// anything else (a service principal, a federated user...).
	kind string
	// name is the user's name, or the session's role name.
	name string
}

func parseCaller(s string) (caller, bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return caller{arn: s}, false
	}
	c := caller{arn: s, partition: parts[1], account: parts[4]}
	res := parts[5]
	switch {
	case parts[2] == "iam" && res == "root":
		c.kind = "root"
	case parts[2] == "iam" && strings.HasPrefix(res, "user/"):
		c.kind = "user"
		c.name = res[strings.LastIndex(res, "/")+1:]
	case parts[2] == "sts" && strings.HasPrefix(res, "assumed-role/"):
		if role, _, ok := strings.Cut(strings.TrimPrefix(res, "assumed-role/"), "/"); ok {
			c.kind = "role"
			c.name = role
		}
	}
	return c, true
}

// principalARN is aws:PrincipalArn: a session's role, else the caller.
func (c caller) principalARN() string {
	if c.kind == "role" {
		return "arn:" + c.partition + ":iam::" + c.account + ":role/" + c.name
	}
	return c.arn
}

// matches says whether a Principal element names the caller, and whether it
// names the caller's own ARN (a user's or a session's), which the IAM User
// Guide says is not limited by a permissions boundary or session policy.
// An account (its id or its root ARN) names only the account's root user:
// for everyone else it delegates to the account's identity-based policies
// and grants nothing by itself. A role's ARN names its sessions (the role's
// ARN may come from aws:PrincipalArn, which keeps the role's path).
func (p *Principals) matches(c caller, ctx *reqContext) (match, direct bool) {
	if p.Any {
		return true, false
	}
	var roleARNs []string
	if c.kind == "role" {
		roleARNs = append(roleARNs, c.principalARN())
		roleARNs = append(roleARNs, ctx.values("aws:PrincipalArn")...)
	}
	for _, id := range p.AWS {
		switch {
		case id == c.arn:
			return true, true
		case c.kind == "root" && (id == c.account || id == "arn:"+c.partition+":iam::"+c.account+":root"):
			return true, true
		}
		for _, r := range roleARNs {
			if id == r {
				return true, false
			}
		}
	}
	for _, list := range [][]string{p.Service, p.Federated, p.CanonicalUser} {
		for _, id := range list {
			if id == c.arn {
				return true, true
			}
		}
	}
	return false, false
}
