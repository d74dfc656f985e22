package policy

import (
	"fmt"
	"strings"
)

// NamedPolicy is a policy with the name a refusal would give it.
type NamedPolicy struct {
	Name   string
	Policy *Policy
}

// Policies are all the policies that apply to one request.
type Policies struct {
	// Identity holds the principal's identity-based policies: its own
	// managed and inline policies and its groups'.
	Identity []NamedPolicy
	// Boundary holds the principal's permissions boundary; nil when it has
	// none. An allow needs one of these to allow too.
	Boundary []NamedPolicy
	// Session holds the session policies the session was created with; nil
	// when there are none. An allow needs one of these to allow too.
	Session []NamedPolicy
	// Resource holds the resource-based policies of the resource (a trust
	// policy when the action is sts:AssumeRole); same account only.
	Resource []NamedPolicy
}

// Decision is the outcome of an evaluation.
type Decision int

const (
	// ImplicitDeny: nothing allowed the request (or a boundary or session
	// policy left it out).
	ImplicitDeny Decision = iota
	// ExplicitDeny: a Deny statement applied.
	ExplicitDeny
	// Allow: the request may proceed.
	Allow
)

// String is the decision's name as the policy simulator spells it.
func (d Decision) String() string {
	switch d {
	case Allow:
		return "allowed"
	case ExplicitDeny:
		return "explicitDeny"
	}
	return "implicitDeny"
}

// Source is the type of policy that decided.
type Source int

// The policy types of a single-account evaluation.
const (
	SourceNone Source = iota
	SourceIdentity
	SourceBoundary
	SourceSession
	SourceResource
)

// String names the policy type in IAM's words.
func (s Source) String() string {
	switch s {
	case SourceIdentity:
		return "identity-based policy"
	case SourceBoundary:
		return "permissions boundary"
	case SourceSession:
		return "session policy"
	case SourceResource:
		return "resource-based policy"
	}
	return "no policy"
}

// WithArticle is the policy type after its article, as refusals write it:
// "an identity-based policy", "a session policy".
func (s Source) WithArticle() string {
	name := s.String()
	if strings.ContainsRune("aeiou", rune(name[0])) {
		return "an " + name
	}
	return "a " + name
}

// Result is a decision and the statement that made it. For an implicit deny
// Source names the policy type that allowed nothing (SourceNone when no
// policy allowed the request) and Policy and Sid are empty.
type Result struct {
	Decision Decision
	Source   Source
	Policy   string
	Sid      string
	// Statement is the deciding statement's index in its policy.
	Statement int
}

// Reason says why, for a refusal's message, in the words AccessDenied
// messages use ("with an explicit deny in an identity-based policy: ...").
func (r Result) Reason() string {
	switch {
	case r.Decision == ExplicitDeny:
		return fmt.Sprintf("with an explicit deny in %s: %s", r.Source.WithArticle(), r.Policy)
	case r.Decision == ImplicitDeny && r.Source != SourceNone:
		return fmt.Sprintf("because no %s allows the action", r.Source)
	case r.Decision == ImplicitDeny:
		return "because no identity-based policy allows the action"
	}
	return fmt.Sprintf("allowed by %s %s", r.Source, r.Policy)
}

// Evaluate decides a request within one account, following the IAM User
// Guide's evaluation logic:
//
//  1. An applicable Deny statement in any policy is an explicit deny.
//  2. A resource-based policy that allows the caller's own ARN (a user's or
//     a role session's) allows, whatever the boundary and session policies
//     say.
//  3. Otherwise an allow must come from an identity-based policy or a
//     resource-based policy, and then from the permissions boundary and the
//     session policies when there are any; where one is missing, the
//     request is implicitly denied.
func Evaluate(req Request, pols Policies) Result {
	ctx := newContext(req)
	who, _ := parseCaller(req.Principal)
	e := evaluator{req: req, ctx: ctx, caller: who}

	sets := []struct {
		src  Source
		list []NamedPolicy
	}{
		{SourceIdentity, pols.Identity},
		{SourceResource, pols.Resource},
		{SourceBoundary, pols.Boundary},
		{SourceSession, pols.Session},
	}
	for _, set := range sets {
		if r, ok := e.find(set.src, set.list, EffectDeny); ok {
			r.Decision = ExplicitDeny
			return r.Result
		}
	}

	resource, resourceAllows := e.find(SourceResource, pols.Resource, EffectAllow)
	if resourceAllows && resource.direct {
		resource.Decision = Allow
		return resource.Result
	}
	grant, ok := e.find(SourceIdentity, pols.Identity, EffectAllow)
	if !ok {
		grant, ok = resource, resourceAllows
	}
	if !ok {
		return Result{Decision: ImplicitDeny}
	}
	if pols.Boundary != nil {
		if _, ok := e.find(SourceBoundary, pols.Boundary, EffectAllow); !ok {
			return Result{Decision: ImplicitDeny, Source: SourceBoundary}
		}
	}
	if pols.Session != nil {
		if _, ok := e.find(SourceSession, pols.Session, EffectAllow); !ok {
			return Result{Decision: ImplicitDeny, Source: SourceSession}
		}
	}
	grant.Decision = Allow
	return grant.Result
}

type evaluator struct {
	req    Request
	ctx    *reqContext
	caller caller
}

// found is a statement that applies, and whether it named the caller's own
// ARN as its principal.
type found struct {
	Result
	direct bool
}

// find returns the first statement of the given effect that applies; among
// a resource-based policy's allows, the first that names the caller's own
// ARN, if one does.
func (e *evaluator) find(src Source, list []NamedPolicy, effect Effect) (found, bool) {
	var first found
	ok := false
	for _, np := range list {
		if np.Policy == nil {
			continue
		}
		for i := range np.Policy.Statements {
			s := &np.Policy.Statements[i]
			if s.Effect != effect {
				continue
			}
			applies, direct := e.applies(s, np.Policy.variables(), src == SourceResource)
			if !applies {
				continue
			}
			f := found{Result: Result{Source: src, Policy: np.Name, Sid: s.Sid, Statement: i}, direct: direct}
			if direct || src != SourceResource || effect != EffectAllow {
				return f, true
			}
			if !ok {
				first, ok = f, true
			}
		}
	}
	return first, ok
}

// applies says whether a statement covers the request: its principal (in a
// resource-based policy), its action, its resource and all its conditions.
func (e *evaluator) applies(s *Statement, vars, resourcePolicy bool) (ok, direct bool) {
	if resourcePolicy {
		switch {
		case s.Principal != nil:
			if ok, direct = s.Principal.matches(e.caller, e.ctx); !ok {
				return false, false
			}
		case s.NotPrincipal != nil:
			if m, _ := s.NotPrincipal.matches(e.caller, e.ctx); m {
				return false, false
			}
		default:
			return false, false
		}
	}
	if !e.actionMatches(s) || !e.resourceMatches(s, vars) {
		return false, false
	}
	for i := range s.Conditions {
		if !s.Conditions[i].holds(e.ctx, vars) {
			return false, false
		}
	}
	return true, direct
}

func (e *evaluator) actionMatches(s *Statement) bool {
	if s.NotAction != nil {
		return !anyMatch(s.NotAction, func(p string) bool { return matchAction(p, e.req.Action) })
	}
	return anyMatch(s.Action, func(p string) bool { return matchAction(p, e.req.Action) })
}

// resourceMatches: a statement without Resource or NotResource (a trust
// policy's) covers the resource it is attached to. A pattern whose variable
// does not resolve names nothing.
func (e *evaluator) resourceMatches(s *Statement, vars bool) bool {
	names := func(raw string) bool {
		p, ok := expand(raw, vars, e.ctx)
		return ok && matchResource(p, e.req.Resource)
	}
	switch {
	case s.NotResource != nil:
		return !anyMatch(s.NotResource, names)
	case s.Resource != nil:
		return anyMatch(s.Resource, names)
	}
	return true
}

func anyMatch(list []string, f func(string) bool) bool {
	for _, v := range list {
		if f(v) {
			return true
		}
	}
	return false
}

// UsesKeyPrefix says whether any statement of these policies has a condition
// on a key that starts with prefix (case-insensitive, as keys are), so that a
// caller can skip working out context keys no policy looks at, such as
// aws:ResourceTag/..., which need a read of the resource.
func (ps Policies) UsesKeyPrefix(prefix string) bool {
	prefix = strings.ToLower(prefix)
	for _, list := range [][]NamedPolicy{ps.Identity, ps.Boundary, ps.Session, ps.Resource} {
		for _, np := range list {
			if np.Policy == nil {
				continue
			}
			for _, s := range np.Policy.Statements {
				for _, c := range s.Conditions {
					if strings.HasPrefix(strings.ToLower(c.Key), prefix) {
						return true
					}
				}
			}
		}
	}
	return false
}
