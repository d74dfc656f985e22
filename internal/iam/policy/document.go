package policy

// The two versions of the policy language. Policy variables are expanded
// only in Version2012; in Version2008 (and in a document with no Version,
// which AWS reads as 2008-10-17) "${...}" is literal text.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Kind says what a document is attached to, which decides the fields it must
// and may have: an identity-based policy names no principal and must name
// resources; a trust policy must name principals and may not name resources;
// another resource-based policy must name both.
type Kind int

const (
	// KindIdentity is a managed or inline policy of a user, group or role,
	// a permissions boundary or a session policy.
	KindIdentity Kind = iota
	// KindTrust is a role's trust policy (AssumeRolePolicyDocument).
	KindTrust
	// KindResource is a resource-based policy other than a trust policy.
	KindResource
)

// Effect is a statement's Effect: Allow or Deny, spelled as IAM spells them.
type Effect string

// The two effects a statement may have.
const (
	EffectAllow Effect = "Allow"
	EffectDeny  Effect = "Deny"
)

// Policy is a parsed and validated policy document. Build it with Parse; the
// evaluator relies on what Parse checked.
type Policy struct {
	// Version is "2012-10-17", "2008-10-17" or "" when the document has none.
	Version    string
	ID         string
	Statements []Statement
}

// variables says whether "${...}" in this policy are policy variables.
func (p *Policy) variables() bool { return p.Version == Version2012 }

// Statement is one statement of a policy. Exactly one of Action and
// NotAction is set, at most one of Resource and NotResource (trust policies
// have neither), and at most one of Principal and NotPrincipal.
type Statement struct {
	Sid          string
	Effect       Effect
	Principal    *Principals
	NotPrincipal *Principals
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	// Conditions are all the operator/key pairs of the Condition block, in
	// the document's order; all must hold for the statement to apply.
	Conditions []Condition
}

// Principals is the value of a Principal or NotPrincipal element: "*" (Any)
// or a map of principal types to their identifiers.
type Principals struct {
	// Any is set for "*" and for {"AWS": "*"}.
	Any bool
	// AWS holds account ids, account root ARNs, user, role and assumed-role
	// session ARNs.
	AWS []string
	// Service holds service principals such as "ecs-tasks.amazonaws.com".
	Service []string
	// Federated holds identity providers such as "cognito-identity.amazonaws.com".
	Federated []string
	// CanonicalUser holds S3 canonical user ids.
	CanonicalUser []string
}

// Condition is one condition of a statement: an operator (with its set
// qualifier and IfExists suffix), a context key, and the values it is
// compared with (JSON numbers and booleans become their text).
type Condition struct {
	// Operator is the operator as written, e.g. "ForAnyValue:StringLikeIfExists".
	Operator string
	Key      string
	Values   []string

	op operator
}
