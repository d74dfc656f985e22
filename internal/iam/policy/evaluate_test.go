package policy

import (
	"strings"
	"testing"
	"time"
)

// The rows below cite the IAM User Guide page (or rule) they encode:
//   [flow]  Policy evaluation logic: single account (flow chart), and how
//           enforcement code evaluates requests (explicit deny, boundaries,
//           session policies, resource-based policies)
//   [act]   IAM JSON policy elements: Action, NotAction
//   [res]   IAM JSON policy elements: Resource, NotResource (wildcards)
//   [prin]  IAM JSON policy elements: Principal, NotPrincipal
//   [cond]  IAM JSON policy elements: Condition operators (and "Creating a
//           condition with multiple keys or values")
//   [multi] Single-valued vs. multivalued context keys (set operators)
//   [var]   IAM policy elements: Variables and tags

const (
	alice   = "arn:aws:iam::111122223333:user/alice"
	session = "arn:aws:sts::111122223333:assumed-role/deployer/ci"
	role    = "arn:aws:iam::111122223333:role/deployer"
	root    = "arn:aws:iam::111122223333:root"
	web     = "arn:aws:ecs:us-east-1:111122223333:cluster/web"
)

var at = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// doc is a 2012-10-17 policy of the statements.
func doc(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// allowIf allows everything when the condition block holds.
func allowIf(cond string) string {
	return doc(`{"Sid":"Cond","Effect":"Allow","Action":"*","Resource":"*","Condition":` + cond + `}`)
}

// allowOn allows the actions on the resources (JSON values).
func allowOn(action, resource string) string {
	return doc(`{"Sid":"A","Effect":"Allow","Action":` + action + `,"Resource":` + resource + `}`)
}

const allowEverything = `{"Version":"2012-10-17","Statement":{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}}`

type evalCase struct {
	name     string
	identity []string
	boundary []string // nil: no boundary
	session  []string // nil: no session policies
	resource []string
	trust    []string
	req      Request
	want     Decision
	src      Source // checked when the row sets it
	sid      string // checked when the row sets it
}

func ctx(kv ...string) map[string][]string {
	m := map[string][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = append(m[kv[i]], kv[i+1])
	}
	return m
}

func evalCases() []evalCase {
	return []evalCase{
		// ---- [flow] the evaluation flow chart
		{name: "flow: no policy at all is an implicit deny", want: ImplicitDeny},
		{name: "flow: an identity-based Allow allows", identity: []string{allowOn(`"ecs:RunTask"`, `"`+web+`"`)}, want: Allow, src: SourceIdentity, sid: "A"},
		{name: "flow: an Allow of another action is an implicit deny", identity: []string{allowOn(`"ecs:StopTask"`, `"*"`)}, want: ImplicitDeny, src: SourceNone},
		{name: "flow: explicit deny beats allow in the same policy",
			identity: []string{doc(`{"Sid":"Yes","Effect":"Allow","Action":"*","Resource":"*"}`, `{"Sid":"No","Effect":"Deny","Action":"ecs:RunTask","Resource":"*"}`)},
			want:     ExplicitDeny, src: SourceIdentity, sid: "No"},
		{name: "flow: explicit deny in another identity policy beats allow",
			identity: []string{allowEverything, doc(`{"Sid":"No","Effect":"Deny","Action":"ecs:*","Resource":"*"}`)},
			want:     ExplicitDeny, sid: "No"},
		{name: "flow: explicit deny in a permissions boundary beats identity allow",
			identity: []string{allowEverything}, boundary: []string{doc(`{"Sid":"BoundaryAll","Effect":"Allow","Action":"*","Resource":"*"}`, `{"Sid":"BNo","Effect":"Deny","Action":"ecs:RunTask","Resource":"*"}`)},
			want: ExplicitDeny, src: SourceBoundary, sid: "BNo"},
		{name: "flow: explicit deny in a session policy beats identity allow",
			identity: []string{allowEverything}, session: []string{doc(`{"Sid":"SNo","Effect":"Deny","Action":"*","Resource":"*"}`)},
			want: ExplicitDeny, src: SourceSession, sid: "SNo"},
		{name: "flow: explicit deny in a resource-based policy beats identity allow",
			identity: []string{allowEverything}, resource: []string{doc(`{"Sid":"RNo","Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}`)},
			want: ExplicitDeny, src: SourceResource, sid: "RNo"},
		{name: "flow: identity allow within the boundary is allowed",
			identity: []string{allowEverything}, boundary: []string{allowOn(`"ecs:*"`, `"*"`)}, want: Allow, src: SourceIdentity, sid: "All"},
		{name: "flow: the boundary does not allow the action: implicit deny",
			identity: []string{allowEverything}, boundary: []string{allowOn(`"ec2:*"`, `"*"`)}, want: ImplicitDeny, src: SourceBoundary},
		{name: "flow: a boundary alone grants nothing",
			boundary: []string{allowEverything}, want: ImplicitDeny, src: SourceNone},
		{name: "flow: a boundary set with no policy in it allows nothing",
			identity: []string{allowEverything}, boundary: []string{}, want: ImplicitDeny, src: SourceBoundary},
		{name: "flow: session policy and identity policy both allow",
			identity: []string{allowEverything}, session: []string{allowOn(`"ecs:RunTask"`, `"*"`)}, req: Request{Principal: session}, want: Allow},
		{name: "flow: the session policy does not allow: implicit deny",
			identity: []string{allowEverything}, session: []string{allowOn(`"ecs:StopTask"`, `"*"`)}, req: Request{Principal: session}, want: ImplicitDeny, src: SourceSession},
		{name: "flow: a session policy alone grants nothing",
			session: []string{allowEverything}, req: Request{Principal: session}, want: ImplicitDeny},
		{name: "flow: identity, boundary and session all allow",
			identity: []string{allowEverything}, boundary: []string{allowEverything}, session: []string{allowEverything}, req: Request{Principal: session}, want: Allow},
		{name: "flow: resource-based policy naming the user allows without an identity policy",
			resource: []string{doc(`{"Sid":"R","Effect":"Allow","Principal":{"AWS":"` + alice + `"},"Action":"ecs:RunTask","Resource":"*"}`)},
			want:     Allow, src: SourceResource, sid: "R"},
		{name: "flow: resource-based policy naming the user ARN is not limited by the boundary",
			boundary: []string{allowOn(`"ec2:*"`, `"*"`)},
			resource: []string{doc(`{"Sid":"R","Effect":"Allow","Principal":{"AWS":"` + alice + `"},"Action":"*","Resource":"*"}`)},
			want:     Allow, src: SourceResource},
		{name: "flow: resource-based policy naming the role (not the session) is limited by the boundary",
			boundary: []string{allowOn(`"ec2:*"`, `"*"`)}, req: Request{Principal: session},
			resource: []string{doc(`{"Sid":"R","Effect":"Allow","Principal":{"AWS":"` + role + `"},"Action":"*","Resource":"*"}`)},
			want:     ImplicitDeny, src: SourceBoundary},
		{name: "flow: resource-based policy naming the role allows its session",
			req:      Request{Principal: session},
			resource: []string{doc(`{"Sid":"R","Effect":"Allow","Principal":{"AWS":"` + role + `"},"Action":"*","Resource":"*"}`)},
			want:     Allow, src: SourceResource},
		{name: "flow: resource-based policy naming the session ARN is not limited by session policies",
			req: Request{Principal: session}, session: []string{allowOn(`"ec2:*"`, `"*"`)},
			resource: []string{doc(`{"Sid":"R","Effect":"Allow","Principal":{"AWS":"` + session + `"},"Action":"*","Resource":"*"}`)},
			want:     Allow, src: SourceResource},
		{name: "flow: resource-based policy naming the role is limited by session policies",
			req: Request{Principal: session}, session: []string{allowOn(`"ec2:*"`, `"*"`)},
			resource: []string{doc(`{"Sid":"R","Effect":"Allow","Principal":{"AWS":"` + role + `"},"Action":"*","Resource":"*"}`)},
			want:     ImplicitDeny, src: SourceSession},
		{name: "flow: an explicit deny beats a resource-based allow of the user ARN",
			identity: []string{doc(`{"Sid":"No","Effect":"Deny","Action":"*","Resource":"*"}`)},
			resource: []string{doc(`{"Sid":"R","Effect":"Allow","Principal":{"AWS":"` + alice + `"},"Action":"*","Resource":"*"}`)},
			want:     ExplicitDeny, src: SourceIdentity},
		{name: "flow: a statement whose condition fails does not deny",
			identity: []string{doc(`{"Sid":"Yes","Effect":"Allow","Action":"*","Resource":"*"}`, `{"Sid":"No","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}`)},
			req:      Request{Context: ctx("aws:MultiFactorAuthPresent", "true")}, want: Allow, sid: "Yes"},
		{name: "flow: the first allowing statement is reported",
			identity: []string{doc(`{"Sid":"Other","Effect":"Allow","Action":"ec2:*","Resource":"*"}`, `{"Sid":"Second","Effect":"Allow","Action":"ecs:*","Resource":"*"}`)},
			want:     Allow, sid: "Second"},

		// ---- [prin] principals in resource-based and trust policies
		{name: "prin: an account principal delegates to identity policies and grants nothing alone",
			resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"*","Resource":"*"}`)}, want: ImplicitDeny},
		{name: "prin: an account principal with an identity allow is allowed",
			identity: []string{allowEverything}, resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"` + root + `"},"Action":"*","Resource":"*"}`)}, want: Allow},
		{name: "prin: the account root ARN names the root user",
			req: Request{Principal: root}, resource: []string{doc(`{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"*","Resource":"*"}`)}, want: Allow, sid: "Root"},
		{name: "prin: Principal * names everyone",
			resource: []string{doc(`{"Sid":"Any","Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}`)}, want: Allow, sid: "Any"},
		{name: "prin: {AWS: *} names everyone",
			resource: []string{doc(`{"Sid":"Any","Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":"*"}`)}, want: Allow},
		{name: "prin: another user's ARN does not name the caller",
			resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"*","Resource":"*"}`)}, want: ImplicitDeny},
		{name: "prin: Deny with NotPrincipal denies everyone not listed",
			identity: []string{allowEverything},
			resource: []string{doc(`{"Sid":"NP","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"*","Resource":"*"}`)},
			want:     ExplicitDeny, sid: "NP"},
		{name: "prin: Deny with NotPrincipal spares the listed principal",
			identity: []string{allowEverything},
			resource: []string{doc(`{"Sid":"NP","Effect":"Deny","NotPrincipal":{"AWS":"` + alice + `"},"Action":"*","Resource":"*"}`)},
			want:     Allow},
		{name: "prin: a trust policy's service principal may assume the role",
			trust: []string{doc(`{"Sid":"Tasks","Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}`)},
			req:   Request{Principal: "ecs-tasks.amazonaws.com", Action: "sts:AssumeRole", Resource: role}, want: Allow, sid: "Tasks"},
		{name: "prin: a trust policy for another service does not allow",
			trust: []string{doc(`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}`)},
			req:   Request{Principal: "ecs-tasks.amazonaws.com", Action: "sts:AssumeRole", Resource: role}, want: ImplicitDeny},

		// ---- [act] Action and NotAction
		{name: "act: service:* names every action of the service", identity: []string{allowOn(`"ecs:*"`, `"*"`)}, want: Allow},
		{name: "act: service:* does not name another service's action", identity: []string{allowOn(`"ecs:*"`, `"*"`)}, req: Request{Action: "ec2:RunInstances"}, want: ImplicitDeny},
		{name: "act: the prefix is a whole service name (ec:* is not ecs)", identity: []string{allowOn(`"ec:*"`, `"*"`)}, want: ImplicitDeny},
		{name: "act: * names every action", identity: []string{allowOn(`"*"`, `"*"`)}, req: Request{Action: "iam:CreateUser"}, want: Allow},
		{name: "act: action names ignore case", identity: []string{allowOn(`"ECS:runtask"`, `"*"`)}, want: Allow},
		{name: "act: a wildcard pattern ignores case too", identity: []string{allowOn(`"ecs:run*"`, `"*"`)}, want: Allow},
		{name: "act: Describe* names DescribeClusters", identity: []string{allowOn(`"ecs:Describe*"`, `"*"`)}, req: Request{Action: "ecs:DescribeClusters"}, want: Allow},
		{name: "act: Describe* does not name RunTask", identity: []string{allowOn(`"ecs:Describe*"`, `"*"`)}, want: ImplicitDeny},
		{name: "act: ? is one character", identity: []string{allowOn(`"ecs:?unTask"`, `"*"`)}, want: Allow},
		{name: "act: ? is exactly one character", identity: []string{allowOn(`"ecs:?unTask"`, `"*"`)}, req: Request{Action: "ecs:unTask"}, want: ImplicitDeny},
		{name: "act: any action of a list", identity: []string{allowOn(`["ecs:StopTask","ecs:RunTask"]`, `"*"`)}, want: Allow},
		{name: "act: Allow with NotAction allows what it does not list",
			identity: []string{doc(`{"Sid":"NA","Effect":"Allow","NotAction":"iam:*","Resource":"*"}`)}, want: Allow, sid: "NA"},
		{name: "act: Allow with NotAction does not allow what it lists",
			identity: []string{doc(`{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}`)}, req: Request{Action: "iam:CreateUser"}, want: ImplicitDeny},
		{name: "act: Deny with NotAction denies every other service",
			identity: []string{allowEverything, doc(`{"Sid":"OnlyECS","Effect":"Deny","NotAction":"ecs:*","Resource":"*"}`)}, req: Request{Action: "ec2:RunInstances"}, want: ExplicitDeny, sid: "OnlyECS"},
		{name: "act: Deny with NotAction spares the listed service",
			identity: []string{allowEverything, doc(`{"Effect":"Deny","NotAction":"ecs:*","Resource":"*"}`)}, want: Allow},

		// ---- [res] Resource and NotResource
		{name: "res: the exact ARN", identity: []string{allowOn(`"*"`, `"`+web+`"`)}, want: Allow},
		{name: "res: ARNs are case sensitive", identity: []string{allowOn(`"*"`, `"arn:aws:ecs:us-east-1:111122223333:cluster/Web"`)}, want: ImplicitDeny},
		{name: "res: * names every resource", identity: []string{allowOn(`"*"`, `"*"`)}, req: Request{Resource: "arn:aws:s3:::anything/at/all"}, want: Allow},
		{name: "res: * in the region and resource segments", identity: []string{allowOn(`"*"`, `"arn:aws:ecs:*:111122223333:cluster/*"`)}, want: Allow},
		{name: "res: ? in a segment", identity: []string{allowOn(`"*"`, `"arn:aws:ecs:us-east-1:111122223333:cluster/w?b"`)}, want: Allow},
		{name: "res: ? does not match a colon between segments", identity: []string{allowOn(`"*"`, `"arn:aws:ecs:us-east-1?111122223333:cluster/web"`)}, want: ImplicitDeny},
		{name: "res: a * last in a segment expands beyond the colons", identity: []string{allowOn(`"*"`, `"arn:aws:ecs:*"`)}, want: Allow},
		{name: "res: a * inside a segment stays within it", identity: []string{allowOn(`"*"`, `"arn:aws:ecs:us-*3:cluster/web"`)}, want: ImplicitDeny},
		{name: "res: * in the resource segment spans slashes", identity: []string{allowOn(`"*"`, `"arn:aws:s3:::bucket/*"`)}, req: Request{Resource: "arn:aws:s3:::bucket/a/b/c.txt"}, want: Allow},
		{name: "res: colons inside the resource segment are ordinary characters",
			identity: []string{allowOn(`"*"`, `"arn:aws:logs:us-east-1:111122223333:log-group:web*"`)}, req: Request{Resource: "arn:aws:logs:us-east-1:111122223333:log-group:web:log-stream:a"}, want: Allow},
		{name: "res: another account does not match", identity: []string{allowOn(`"*"`, `"arn:aws:ecs:*:999999999999:cluster/*"`)}, want: ImplicitDeny},
		{name: "res: another partition does not match", identity: []string{allowOn(`"*"`, `"arn:aws-cn:ecs:us-east-1:111122223333:cluster/web"`)}, want: ImplicitDeny},
		{name: "res: any ARN of a list", identity: []string{allowOn(`"*"`, `["arn:aws:ecs:us-east-1:111122223333:cluster/db","`+web+`"]`)}, want: Allow},
		{name: "res: the path prefix (accounting/*) names only that path", identity: []string{allowOn(`"*"`, `"arn:aws:iam::111122223333:user/accounting/*"`)}, req: Request{Resource: "arn:aws:iam::111122223333:user/dev/bob"}, want: ImplicitDeny},
		{name: "res: Allow with NotResource allows the others",
			identity: []string{doc(`{"Sid":"NR","Effect":"Allow","Action":"*","NotResource":"arn:aws:ecs:*:*:cluster/secret"}`)}, want: Allow, sid: "NR"},
		{name: "res: Allow with NotResource does not allow the listed one",
			identity: []string{doc(`{"Effect":"Allow","Action":"*","NotResource":"arn:aws:ecs:*:*:cluster/secret"}`)}, req: Request{Resource: "arn:aws:ecs:us-east-1:111122223333:cluster/secret"}, want: ImplicitDeny},
		{name: "res: Deny with NotResource denies all but the listed",
			identity: []string{allowEverything, doc(`{"Sid":"OnlyWeb","Effect":"Deny","Action":"*","NotResource":"` + web + `"}`)}, req: Request{Resource: "arn:aws:ecs:us-east-1:111122223333:cluster/db"}, want: ExplicitDeny},
		{name: "res: Deny with NotResource spares the listed",
			identity: []string{allowEverything, doc(`{"Effect":"Deny","Action":"*","NotResource":"` + web + `"}`)}, want: Allow},

		// ---- [cond] string operators
		{name: "cond: StringEquals matches", identity: []string{allowIf(`{"StringEquals":{"ecs:cluster":"web"}}`)}, req: Request{Context: ctx("ecs:cluster", "web")}, want: Allow, sid: "Cond"},
		{name: "cond: StringEquals is case sensitive", identity: []string{allowIf(`{"StringEquals":{"ecs:cluster":"Web"}}`)}, req: Request{Context: ctx("ecs:cluster", "web")}, want: ImplicitDeny},
		{name: "cond: several values are ORed", identity: []string{allowIf(`{"StringEquals":{"ecs:cluster":["db","web"]}}`)}, req: Request{Context: ctx("ecs:cluster", "web")}, want: Allow},
		{name: "cond: a missing key makes StringEquals false", identity: []string{allowIf(`{"StringEquals":{"ecs:cluster":"web"}}`)}, want: ImplicitDeny},
		{name: "cond: StringNotEquals holds for another value", identity: []string{allowIf(`{"StringNotEquals":{"ecs:cluster":"db"}}`)}, req: Request{Context: ctx("ecs:cluster", "web")}, want: Allow},
		{name: "cond: StringNotEquals fails for the value", identity: []string{allowIf(`{"StringNotEquals":{"ecs:cluster":"web"}}`)}, req: Request{Context: ctx("ecs:cluster", "web")}, want: ImplicitDeny},
		{name: "cond: a negated operator holds when the key is missing", identity: []string{allowIf(`{"StringNotEquals":{"ecs:cluster":"web"}}`)}, want: Allow},
		{name: "cond: a negated operator must match none of the values", identity: []string{allowIf(`{"StringNotEquals":{"ecs:cluster":["db","web"]}}`)}, req: Request{Context: ctx("ecs:cluster", "web")}, want: ImplicitDeny},
		{name: "cond: StringEqualsIgnoreCase ignores case", identity: []string{allowIf(`{"StringEqualsIgnoreCase":{"ecs:cluster":"WEB"}}`)}, req: Request{Context: ctx("ecs:cluster", "web")}, want: Allow},
		{name: "cond: StringEqualsIgnoreCase still compares", identity: []string{allowIf(`{"StringEqualsIgnoreCase":{"ecs:cluster":"WEBS"}}`)}, req: Request{Context: ctx("ecs:cluster", "web")}, want: ImplicitDeny},
		{name: "cond: StringNotEqualsIgnoreCase fails for a value in another case", identity: []string{allowIf(`{"StringNotEqualsIgnoreCase":{"ecs:cluster":"WEB"}}`)}, req: Request{Context: ctx("ecs:cluster", "web")}, want: ImplicitDeny},
		{name: "cond: StringNotEqualsIgnoreCase holds for another value", identity: []string{allowIf(`{"StringNotEqualsIgnoreCase":{"ecs:cluster":"DB"}}`)}, req: Request{Context: ctx("ecs:cluster", "web")}, want: Allow},
		{name: "cond: StringLike with *", identity: []string{allowIf(`{"StringLike":{"s3:prefix":"home/*"}}`)}, req: Request{Context: ctx("s3:prefix", "home/alice/x")}, want: Allow},
		{name: "cond: StringLike with ?", identity: []string{allowIf(`{"StringLike":{"ecs:cluster":"w?b"}}`)}, req: Request{Context: ctx("ecs:cluster", "web")}, want: Allow},
		{name: "cond: StringLike no match", identity: []string{allowIf(`{"StringLike":{"s3:prefix":"home/*"}}`)}, req: Request{Context: ctx("s3:prefix", "tmp/x")}, want: ImplicitDeny},
		{name: "cond: StringLike is case sensitive", identity: []string{allowIf(`{"StringLike":{"s3:prefix":"Home/*"}}`)}, req: Request{Context: ctx("s3:prefix", "home/x")}, want: ImplicitDeny},
		{name: "cond: StringNotLike holds when nothing matches", identity: []string{allowIf(`{"StringNotLike":{"s3:prefix":"home/*"}}`)}, req: Request{Context: ctx("s3:prefix", "tmp/x")}, want: Allow},
		{name: "cond: StringNotLike fails when a pattern matches", identity: []string{allowIf(`{"StringNotLike":{"s3:prefix":["tmp/*","home/*"]}}`)}, req: Request{Context: ctx("s3:prefix", "home/x")}, want: ImplicitDeny},
		{name: "cond: StringNotLike holds when the key is missing", identity: []string{allowIf(`{"StringNotLike":{"s3:prefix":"home/*"}}`)}, want: Allow},
		{name: "cond: several keys are ANDed (one fails)", identity: []string{allowIf(`{"StringEquals":{"ecs:cluster":"web","aws:RequestedRegion":"us-east-1"}}`)}, req: Request{Context: ctx("ecs:cluster", "web", "aws:RequestedRegion", "eu-west-1")}, want: ImplicitDeny},
		{name: "cond: several keys are ANDed (all hold)", identity: []string{allowIf(`{"StringEquals":{"ecs:cluster":"web","aws:RequestedRegion":"us-east-1"}}`)}, req: Request{Context: ctx("ecs:cluster", "web", "aws:RequestedRegion", "us-east-1")}, want: Allow},
		{name: "cond: several operators are ANDed", identity: []string{allowIf(`{"StringEquals":{"ecs:cluster":"web"},"Bool":{"aws:SecureTransport":"true"}}`)}, req: Request{Context: ctx("ecs:cluster", "web", "aws:SecureTransport", "false")}, want: ImplicitDeny},
		{name: "cond: context key names ignore case", identity: []string{allowIf(`{"StringEquals":{"aws:PrincipalTag/Team":"blue"}}`)}, req: Request{Context: ctx("AWS:principaltag/team", "blue")}, want: Allow},
		{name: "cond: a JSON number value is its text", identity: []string{allowIf(`{"StringEquals":{"ec2:count":3}}`)}, req: Request{Context: ctx("ec2:count", "3")}, want: Allow},

		// ---- [cond] numeric operators
		{name: "cond: NumericLessThan holds below", identity: []string{allowIf(`{"NumericLessThan":{"s3:max-keys":"10"}}`)}, req: Request{Context: ctx("s3:max-keys", "5")}, want: Allow},
		{name: "cond: NumericLessThan fails at the bound", identity: []string{allowIf(`{"NumericLessThan":{"s3:max-keys":"10"}}`)}, req: Request{Context: ctx("s3:max-keys", "10")}, want: ImplicitDeny},
		{name: "cond: NumericLessThanEquals holds at the bound", identity: []string{allowIf(`{"NumericLessThanEquals":{"s3:max-keys":10}}`)}, req: Request{Context: ctx("s3:max-keys", "10")}, want: Allow},
		{name: "cond: NumericGreaterThan holds above", identity: []string{allowIf(`{"NumericGreaterThan":{"s3:max-keys":"10"}}`)}, req: Request{Context: ctx("s3:max-keys", "11")}, want: Allow},
		{name: "cond: NumericGreaterThan fails at the bound", identity: []string{allowIf(`{"NumericGreaterThan":{"s3:max-keys":"10"}}`)}, req: Request{Context: ctx("s3:max-keys", "10")}, want: ImplicitDeny},
		{name: "cond: NumericGreaterThanEquals holds at the bound", identity: []string{allowIf(`{"NumericGreaterThanEquals":{"s3:max-keys":"10"}}`)}, req: Request{Context: ctx("s3:max-keys", "10")}, want: Allow},
		{name: "cond: NumericEquals compares numbers, not text", identity: []string{allowIf(`{"NumericEquals":{"ecs:count":"1.5"}}`)}, req: Request{Context: ctx("ecs:count", "1.50")}, want: Allow},
		{name: "cond: NumericEquals fails for another number", identity: []string{allowIf(`{"NumericEquals":{"ecs:count":"2"}}`)}, req: Request{Context: ctx("ecs:count", "3")}, want: ImplicitDeny},
		{name: "cond: NumericNotEquals holds for another number", identity: []string{allowIf(`{"NumericNotEquals":{"ecs:count":"2"}}`)}, req: Request{Context: ctx("ecs:count", "3")}, want: Allow},
		{name: "cond: NumericNotEquals fails for the number", identity: []string{allowIf(`{"NumericNotEquals":{"ecs:count":"3"}}`)}, req: Request{Context: ctx("ecs:count", "3.0")}, want: ImplicitDeny},
		{name: "cond: a value that is no number matches neither NumericEquals", identity: []string{allowIf(`{"NumericEquals":{"ecs:count":"3"}}`)}, req: Request{Context: ctx("ecs:count", "three")}, want: ImplicitDeny},
		{name: "cond: ... nor NumericNotEquals", identity: []string{allowIf(`{"NumericNotEquals":{"ecs:count":"3"}}`)}, req: Request{Context: ctx("ecs:count", "three")}, want: ImplicitDeny},
		{name: "cond: a missing key makes NumericEquals false", identity: []string{allowIf(`{"NumericEquals":{"ecs:count":"3"}}`)}, want: ImplicitDeny},

		// ---- [cond] date operators (the request carries its time: aws:CurrentTime, aws:EpochTime)
		{name: "cond: DateGreaterThan an ISO 8601 date", identity: []string{allowIf(`{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`)}, req: Request{Time: at}, want: Allow},
		{name: "cond: DateLessThan an earlier date fails", identity: []string{allowIf(`{"DateLessThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`)}, req: Request{Time: at}, want: ImplicitDeny},
		{name: "cond: DateLessThan a later date (day only)", identity: []string{allowIf(`{"DateLessThan":{"aws:CurrentTime":"2026-12-31"}}`)}, req: Request{Time: at}, want: Allow},
		{name: "cond: DateEquals an epoch value against ISO time", identity: []string{allowIf(`{"DateEquals":{"aws:CurrentTime":"1772366400"}}`)}, req: Request{Time: at}, want: Allow},
		{name: "cond: DateEquals another second fails", identity: []string{allowIf(`{"DateEquals":{"aws:CurrentTime":"1772366401"}}`)}, req: Request{Time: at}, want: ImplicitDeny},
		{name: "cond: DateNotEquals another time", identity: []string{allowIf(`{"DateNotEquals":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`)}, req: Request{Time: at}, want: Allow},
		{name: "cond: DateLessThanEquals at the instant, with an offset", identity: []string{allowIf(`{"DateLessThanEquals":{"aws:CurrentTime":"2026-03-01T13:00:00+01:00"}}`)}, req: Request{Time: at}, want: Allow},
		{name: "cond: DateGreaterThanEquals at the instant", identity: []string{allowIf(`{"DateGreaterThanEquals":{"aws:EpochTime":"2026-03-01T12:00:00Z"}}`)}, req: Request{Time: at}, want: Allow},
		{name: "cond: DateGreaterThan at the instant fails", identity: []string{allowIf(`{"DateGreaterThan":{"aws:EpochTime":1772366400}}`)}, req: Request{Time: at}, want: ImplicitDeny},
		{name: "cond: a key that is no date matches no date operator", identity: []string{allowIf(`{"DateNotEquals":{"aws:TokenIssueTime":"2020-01-01"}}`)}, req: Request{Context: ctx("aws:TokenIssueTime", "yesterday")}, want: ImplicitDeny},
		{name: "cond: a request without a time has no aws:CurrentTime", identity: []string{allowIf(`{"DateGreaterThan":{"aws:CurrentTime":"2000-01-01"}}`)}, want: ImplicitDeny},

		// ---- [cond] Bool and BinaryEquals
		{name: "cond: Bool true", identity: []string{allowIf(`{"Bool":{"aws:SecureTransport":"true"}}`)}, req: Request{Context: ctx("aws:SecureTransport", "true")}, want: Allow},
		{name: "cond: Bool false against true fails", identity: []string{allowIf(`{"Bool":{"aws:SecureTransport":"false"}}`)}, req: Request{Context: ctx("aws:SecureTransport", "true")}, want: ImplicitDeny},
		{name: "cond: Bool with a JSON boolean", identity: []string{allowIf(`{"Bool":{"aws:MultiFactorAuthPresent":true}}`)}, req: Request{Context: ctx("aws:MultiFactorAuthPresent", "true")}, want: Allow},
		{name: "cond: Bool on a missing key is false (the MFA example)", identity: []string{allowIf(`{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`)}, want: ImplicitDeny},
		{name: "cond: BinaryEquals compares the base64 values", identity: []string{allowIf(`{"BinaryEquals":{"ex:key":"QmluYXJ5VmFsdWU="}}`)}, req: Request{Context: ctx("ex:key", "QmluYXJ5VmFsdWU=")}, want: Allow},
		{name: "cond: BinaryEquals fails for other bytes", identity: []string{allowIf(`{"BinaryEquals":{"ex:key":"QmluYXJ5VmFsdWU="}}`)}, req: Request{Context: ctx("ex:key", "T3RoZXI=")}, want: ImplicitDeny},

		// ---- [cond] IP address operators
		{name: "cond: IpAddress in an IPv4 range", identity: []string{allowIf(`{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`)}, req: Request{SourceIP: "203.0.113.7"}, want: Allow},
		{name: "cond: IpAddress outside the range", identity: []string{allowIf(`{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`)}, req: Request{SourceIP: "203.0.114.7"}, want: ImplicitDeny},
		{name: "cond: NotIpAddress outside the range holds", identity: []string{allowIf(`{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`)}, req: Request{SourceIP: "203.0.113.7"}, want: Allow},
		{name: "cond: NotIpAddress inside one of the ranges fails", identity: []string{allowIf(`{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]}}`)}, req: Request{SourceIP: "203.0.113.7"}, want: ImplicitDeny},
		{name: "cond: IpAddress in an IPv6 range", identity: []string{allowIf(`{"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}}`)}, req: Request{SourceIP: "2001:db8:1234:5678::9"}, want: Allow},
		{name: "cond: IpAddress outside an IPv6 range", identity: []string{allowIf(`{"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}}`)}, req: Request{SourceIP: "2001:db8:1234:5679::9"}, want: ImplicitDeny},
		{name: "cond: an IPv4 range does not hold an IPv6 address", identity: []string{allowIf(`{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}`)}, req: Request{SourceIP: "2001:db8::1"}, want: ImplicitDeny},
		{name: "cond: a single address without a mask", identity: []string{allowIf(`{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}`)}, req: Request{SourceIP: "203.0.113.7"}, want: Allow},
		{name: "cond: a context aws:SourceIp wins over the request's", identity: []string{allowIf(`{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`)}, req: Request{SourceIP: "203.0.113.7", Context: ctx("aws:SourceIp", "10.1.2.3")}, want: Allow},
		{name: "cond: a value that is no address matches neither", identity: []string{allowIf(`{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`)}, req: Request{Context: ctx("aws:SourceIp", "vpce-1")}, want: ImplicitDeny},

		// ---- [cond] ARN operators
		{name: "cond: ArnEquals the exact ARN", identity: []string{allowIf(`{"ArnEquals":{"aws:SourceArn":"` + web + `"}}`)}, req: Request{Context: ctx("aws:SourceArn", web)}, want: Allow},
		{name: "cond: ArnEquals takes wildcards in each part too", identity: []string{allowIf(`{"ArnEquals":{"aws:SourceArn":"arn:aws:ecs:*:111122223333:cluster/*"}}`)}, req: Request{Context: ctx("aws:SourceArn", web)}, want: Allow},
		{name: "cond: ArnLike with ? and *", identity: []string{allowIf(`{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:us-east-?:*:cluster/w*"}}`)}, req: Request{Context: ctx("aws:SourceArn", web)}, want: Allow},
		{name: "cond: ArnLike needs all six parts", identity: []string{allowIf(`{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:*"}}`)}, req: Request{Context: ctx("aws:SourceArn", web)}, want: ImplicitDeny},
		{name: "cond: ArnLike is case sensitive", identity: []string{allowIf(`{"ArnLike":{"aws:SourceArn":"arn:aws:ECS:*:*:cluster/*"}}`)}, req: Request{Context: ctx("aws:SourceArn", web)}, want: ImplicitDeny},
		{name: "cond: ArnLike does not match another account", identity: []string{allowIf(`{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:*:999999999999:*"}}`)}, req: Request{Context: ctx("aws:SourceArn", web)}, want: ImplicitDeny},
		{name: "cond: ArnNotLike holds for another ARN", identity: []string{allowIf(`{"ArnNotLike":{"aws:SourceArn":"arn:aws:ecs:*:999999999999:*"}}`)}, req: Request{Context: ctx("aws:SourceArn", web)}, want: Allow},
		{name: "cond: ArnNotEquals fails for the ARN", identity: []string{allowIf(`{"ArnNotEquals":{"aws:SourceArn":"` + web + `"}}`)}, req: Request{Context: ctx("aws:SourceArn", web)}, want: ImplicitDeny},
		{name: "cond: ArnNotLike holds when the key is missing", identity: []string{allowIf(`{"ArnNotLike":{"aws:SourceArn":"arn:aws:ecs:*:*:*:*"}}`)}, want: Allow},

		// ---- [cond] ...IfExists
		{name: "cond: StringEqualsIfExists holds when the key is missing", identity: []string{allowIf(`{"StringEqualsIfExists":{"ec2:InstanceType":"t2.micro"}}`)}, want: Allow},
		{name: "cond: StringEqualsIfExists compares a present key", identity: []string{allowIf(`{"StringEqualsIfExists":{"ec2:InstanceType":"t2.micro"}}`)}, req: Request{Context: ctx("ec2:InstanceType", "m5.large")}, want: ImplicitDeny},
		{name: "cond: StringEqualsIfExists matches a present key", identity: []string{allowIf(`{"StringEqualsIfExists":{"ec2:InstanceType":["t2.micro","m5.large"]}}`)}, req: Request{Context: ctx("ec2:InstanceType", "m5.large")}, want: Allow},
		{name: "cond: NumericLessThanIfExists holds when missing", identity: []string{allowIf(`{"NumericLessThanIfExists":{"s3:max-keys":"10"}}`)}, want: Allow},
		{name: "cond: BoolIfExists holds when missing", identity: []string{allowIf(`{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}`)}, want: Allow},
		{name: "cond: Deny with BoolIfExists false denies a present false",
			identity: []string{allowEverything, doc(`{"Sid":"MFA","Effect":"Deny","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}`)},
			req:      Request{Context: ctx("aws:MultiFactorAuthPresent", "false")}, want: ExplicitDeny, sid: "MFA"},
		{name: "cond: NotIpAddressIfExists holds when missing", identity: []string{allowIf(`{"NotIpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}`)}, want: Allow},

		// ---- [cond] Null
		{name: "cond: Null true holds for a missing key", identity: []string{allowIf(`{"Null":{"aws:TokenIssueTime":"true"}}`)}, want: Allow},
		{name: "cond: Null true fails for a present key", identity: []string{allowIf(`{"Null":{"aws:TokenIssueTime":"true"}}`)}, req: Request{Context: ctx("aws:TokenIssueTime", "2026-01-01T00:00:00Z")}, want: ImplicitDeny},
		{name: "cond: Null false holds for a present key", identity: []string{allowIf(`{"Null":{"aws:TokenIssueTime":false}}`)}, req: Request{Context: ctx("aws:TokenIssueTime", "2026-01-01T00:00:00Z")}, want: Allow},
		{name: "cond: Null false fails for a missing key", identity: []string{allowIf(`{"Null":{"aws:TokenIssueTime":"false"}}`)}, want: ImplicitDeny},
		{name: "cond: a key with no values is missing for Null", identity: []string{allowIf(`{"Null":{"aws:TagKeys":"true"}}`)}, req: Request{Context: map[string][]string{"aws:TagKeys": {}}}, want: Allow},

		// ---- [multi] ForAllValues, ForAnyValue and multivalued keys
		{name: "multi: ForAllValues holds when every value is in the set", identity: []string{allowIf(`{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team","cost"]}}`)}, req: Request{Context: ctx("aws:TagKeys", "env", "aws:TagKeys", "team")}, want: Allow},
		{name: "multi: ForAllValues fails when one value is outside", identity: []string{allowIf(`{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`)}, req: Request{Context: ctx("aws:TagKeys", "env", "aws:TagKeys", "owner")}, want: ImplicitDeny},
		{name: "multi: ForAllValues holds when the key is missing", identity: []string{allowIf(`{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}`)}, want: Allow},
		{name: "multi: ForAllValues holds for an empty set", identity: []string{allowIf(`{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}`)}, req: Request{Context: map[string][]string{"aws:TagKeys": {}}}, want: Allow},
		{name: "multi: Deny with ForAllValues applies when the key is missing (the doc's caution)",
			identity: []string{allowEverything, doc(`{"Sid":"FAV","Effect":"Deny","Action":"*","Resource":"*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":"key*"}}}`)},
			want:     ExplicitDeny, sid: "FAV"},
		{name: "multi: ForAllValues:StringLike over patterns", identity: []string{allowIf(`{"ForAllValues:StringLike":{"aws:TagKeys":["key1*","key2*"]}}`)}, req: Request{Context: ctx("aws:TagKeys", "key1a", "aws:TagKeys", "key2b")}, want: Allow},
		{name: "multi: ForAnyValue holds when one value matches", identity: []string{allowIf(`{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}`)}, req: Request{Context: ctx("aws:TagKeys", "owner", "aws:TagKeys", "env")}, want: Allow},
		{name: "multi: ForAnyValue fails when none matches", identity: []string{allowIf(`{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}`)}, req: Request{Context: ctx("aws:TagKeys", "owner")}, want: ImplicitDeny},
		{name: "multi: ForAnyValue fails when the key is missing", identity: []string{allowIf(`{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}`)}, want: ImplicitDeny},
		{name: "multi: ForAnyValue fails for an empty set", identity: []string{allowIf(`{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}`)}, req: Request{Context: map[string][]string{"aws:TagKeys": {}}}, want: ImplicitDeny},
		{name: "multi: ForAnyValue...IfExists holds when the key is missing", identity: []string{allowIf(`{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":["env"]}}`)}, want: Allow},
		{name: "multi: ForAllValues:StringNotEquals holds when no value is listed", identity: []string{allowIf(`{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret"]}}`)}, req: Request{Context: ctx("aws:TagKeys", "env", "aws:TagKeys", "team")}, want: Allow},
		{name: "multi: ForAllValues:StringNotEquals fails when one value is listed", identity: []string{allowIf(`{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret"]}}`)}, req: Request{Context: ctx("aws:TagKeys", "env", "aws:TagKeys", "secret")}, want: ImplicitDeny},
		{name: "multi: ForAnyValue:StringNotEquals holds when one value is not listed", identity: []string{allowIf(`{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env"]}}`)}, req: Request{Context: ctx("aws:TagKeys", "env", "aws:TagKeys", "team")}, want: Allow},
		{name: "multi: ForAnyValue:StringNotEquals fails when every value is listed", identity: []string{allowIf(`{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env","team"]}}`)}, req: Request{Context: ctx("aws:TagKeys", "env", "aws:TagKeys", "team")}, want: ImplicitDeny},
		{name: "multi: an unqualified operator on several values needs one to match", identity: []string{allowIf(`{"StringEquals":{"aws:TagKeys":"env"}}`)}, req: Request{Context: ctx("aws:TagKeys", "owner", "aws:TagKeys", "env")}, want: Allow},
		{name: "multi: an unqualified negated operator needs every value to miss", identity: []string{allowIf(`{"StringNotEquals":{"aws:TagKeys":"env"}}`)}, req: Request{Context: ctx("aws:TagKeys", "owner", "aws:TagKeys", "env")}, want: ImplicitDeny},

		// ---- [var] policy variables
		{name: "var: ${aws:username} in a Resource (the user's home folder)", identity: []string{allowOn(`"*"`, `"arn:aws:s3:::bucket/home/${aws:username}/*"`)}, req: Request{Resource: "arn:aws:s3:::bucket/home/alice/notes"}, want: Allow},
		{name: "var: ${aws:username} is not another user's folder", identity: []string{allowOn(`"*"`, `"arn:aws:s3:::bucket/home/${aws:username}/*"`)}, req: Request{Resource: "arn:aws:s3:::bucket/home/bob/notes"}, want: ImplicitDeny},
		{name: "var: aws:username is the last part of a user with a path", identity: []string{allowOn(`"*"`, `"arn:aws:s3:::bucket/${aws:username}"`)}, req: Request{Principal: "arn:aws:iam::111122223333:user/dev/carol", Resource: "arn:aws:s3:::bucket/carol"}, want: Allow},
		{name: "var: a role session has no aws:username, so the Resource matches nothing", identity: []string{allowOn(`"*"`, `"arn:aws:s3:::bucket/${aws:username}"`)}, req: Request{Principal: session, Resource: "arn:aws:s3:::bucket/"}, want: ImplicitDeny},
		{name: "var: the default value stands in for a missing key", identity: []string{allowOn(`"*"`, `"arn:aws:s3:::bucket/${aws:username, 'shared'}/*"`)}, req: Request{Principal: session, Resource: "arn:aws:s3:::bucket/shared/x"}, want: Allow},
		{name: "var: the default value is not used when the key is present", identity: []string{allowOn(`"*"`, `"arn:aws:s3:::bucket/${aws:username, 'shared'}/*"`)}, req: Request{Resource: "arn:aws:s3:::bucket/shared/x"}, want: ImplicitDeny},
		{name: "var: '' in a default is a quote", identity: []string{allowIf(`{"StringEquals":{"ex:note":"${ex:missing, 'it''s'}"}}`)}, req: Request{Context: ctx("ex:note", "it's")}, want: Allow},
		{name: "var: ${aws:PrincipalTag/team} in a Resource", identity: []string{allowOn(`"*"`, `"arn:aws:ecs:*:*:cluster/${aws:PrincipalTag/team}-*"`)}, req: Request{Resource: "arn:aws:ecs:us-east-1:111122223333:cluster/blue-web", Context: ctx("aws:PrincipalTag/team", "blue")}, want: Allow},
		{name: "var: ${aws:userid} in a condition value", identity: []string{allowIf(`{"StringEquals":{"ex:owner":"${aws:userid}"}}`)}, req: Request{Context: ctx("aws:userid", "AIDAEXAMPLE", "ex:owner", "AIDAEXAMPLE")}, want: Allow},
		{name: "var: an unresolved variable makes the condition value match nothing", identity: []string{allowIf(`{"StringEquals":{"ex:owner":"${aws:userid}"}}`)}, req: Request{Context: ctx("ex:owner", "${aws:userid}")}, want: ImplicitDeny},
		{name: "var: variable names ignore case", identity: []string{allowOn(`"*"`, `"arn:aws:s3:::bucket/${AWS:UserName}"`)}, req: Request{Resource: "arn:aws:s3:::bucket/alice"}, want: Allow},
		{name: "var: ${*} is a literal star", identity: []string{allowOn(`"*"`, `"arn:aws:s3:::bucket/${*}"`)}, req: Request{Resource: "arn:aws:s3:::bucket/*"}, want: Allow},
		{name: "var: ${*} is not a wildcard", identity: []string{allowOn(`"*"`, `"arn:aws:s3:::bucket/${*}"`)}, req: Request{Resource: "arn:aws:s3:::bucket/abc"}, want: ImplicitDeny},
		{name: "var: ${?} is a literal question mark", identity: []string{allowIf(`{"StringLike":{"ex:q":"why${?}"}}`)}, req: Request{Context: ctx("ex:q", "whyX")}, want: ImplicitDeny},
		{name: "var: ${$} is a literal dollar", identity: []string{allowIf(`{"StringEquals":{"ex:price":"${$}5"}}`)}, req: Request{Context: ctx("ex:price", "$5")}, want: Allow},
		{name: "var: a resolved value is literal, not a pattern", identity: []string{allowIf(`{"StringLike":{"ex:name":"${aws:PrincipalTag/p}"}}`)}, req: Request{Context: ctx("aws:PrincipalTag/p", "x*", "ex:name", "xyz")}, want: ImplicitDeny},
		{name: "var: a variable inside a StringLike pattern", identity: []string{allowIf(`{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}`)}, req: Request{Context: ctx("s3:prefix", "home/alice/docs")}, want: Allow},
		{name: "var: a multivalued key cannot be a variable", identity: []string{allowIf(`{"StringEquals":{"ex:k":"${aws:TagKeys}"}}`)}, req: Request{Context: ctx("aws:TagKeys", "a", "aws:TagKeys", "b", "ex:k", "a")}, want: ImplicitDeny},
		{name: "var: an unclosed ${ matches nothing", identity: []string{allowOn(`"*"`, `"arn:aws:s3:::bucket/${aws:username"`)}, req: Request{Resource: "arn:aws:s3:::bucket/${aws:username"}, want: ImplicitDeny},
		{name: "var: Numeric operators take no variables", identity: []string{allowIf(`{"NumericEquals":{"ex:n":"${ex:m}"}}`)}, req: Request{Context: ctx("ex:n", "3", "ex:m", "3")}, want: ImplicitDeny},
		{name: "var: Bool takes variables", identity: []string{allowIf(`{"Bool":{"ex:b":"${ex:want}"}}`)}, req: Request{Context: ctx("ex:b", "true", "ex:want", "true")}, want: Allow},
		{name: "var: in 2008-10-17 a variable is literal text",
			identity: []string{`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::bucket/${aws:username}"}]}`},
			req:      Request{Resource: "arn:aws:s3:::bucket/${aws:username}"}, want: Allow},
		{name: "var: in 2008-10-17 a variable is not expanded",
			identity: []string{`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::bucket/${aws:username}"}]}`},
			req:      Request{Resource: "arn:aws:s3:::bucket/alice"}, want: ImplicitDeny},
		{name: "var: without a Version a variable is literal text too",
			identity: []string{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"ex:k":"${aws:username}"}}}]}`},
			req:      Request{Context: ctx("ex:k", "alice")}, want: ImplicitDeny},
	}
}

func TestEvaluate(t *testing.T) {
	cases := evalCases()
	if len(cases) < 120 {
		t.Fatalf("only %d cases", len(cases))
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("two cases named %q", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			req := c.req
			if req.Principal == "" {
				req.Principal = alice
			}
			if req.Action == "" {
				req.Action = "ecs:RunTask"
			}
			if req.Resource == "" {
				req.Resource = web
			}
			pols := Policies{
				Identity: parseAll(t, "identity", c.identity, KindIdentity),
				Boundary: parseAll(t, "boundary", c.boundary, KindIdentity),
				Session:  parseAll(t, "session", c.session, KindIdentity),
				Resource: append(parseAll(t, "resource", c.resource, KindResource), parseAll(t, "trust", c.trust, KindTrust)...),
			}
			got := Evaluate(req, pols)
			if got.Decision != c.want {
				t.Fatalf("decision = %v (%+v), want %v", got.Decision, got, c.want)
			}
			if c.src != SourceNone && got.Source != c.src {
				t.Errorf("source = %v, want %v", got.Source, c.src)
			}
			if c.sid != "" && got.Sid != c.sid {
				t.Errorf("sid = %q, want %q", got.Sid, c.sid)
			}
		})
	}
}

// parseAll parses documents, keeping nil as nil (no such policies).
func parseAll(t *testing.T, name string, docs []string, kind Kind) []NamedPolicy {
	t.Helper()
	if docs == nil {
		return nil
	}
	out := []NamedPolicy{}
	for i, d := range docs {
		p, err := Parse(d, ParseOptions{Kind: kind})
		if err != nil {
			t.Fatalf("%s policy %d: %v\n%s", name, i, err, d)
		}
		out = append(out, NamedPolicy{Name: name + string(rune('0'+i)), Policy: p})
	}
	return out
}

func TestResultReasonNamesThePolicy(t *testing.T) {
	deny := Result{Decision: ExplicitDeny, Source: SourceBoundary, Policy: "guard"}
	if got, want := deny.Reason(), "with an explicit deny in a permissions boundary: guard"; got != want {
		t.Errorf("Reason = %q, want %q", got, want)
	}
	if got, want := (Result{}).Reason(), "because no identity-based policy allows the action"; got != want {
		t.Errorf("Reason = %q, want %q", got, want)
	}
	if got, want := (Result{Source: SourceSession}).Reason(), "because no session policy allows the action"; got != want {
		t.Errorf("Reason = %q, want %q", got, want)
	}
}
