package policy

import (
	"errors"
	"reflect"
	"testing"

	"github.com/flotta-dev/flotta/internal/model"
)

func TestParseRefusesMalformedDocuments(t *testing.T) {
	const stmt = `"Effect":"Allow","Action":"ecs:*","Resource":"*"`
	cases := []struct {
		name string
		kind Kind
		doc  string
		msg  string
	}{
		{"not JSON", KindIdentity, `{"Version":"2012-10-17",`, "Syntax errors in policy."},
		{"trailing data", KindIdentity, `{"Statement":{` + stmt + `}} x`, "Syntax errors in policy."},
		{"not an object", KindIdentity, `["Statement"]`, "Syntax errors in policy."},
		{"unknown top-level element", KindIdentity, `{"Version":"2012-10-17","Statment":[]}`, "Syntax errors in policy."},
		{"Version that IAM does not know", KindIdentity, `{"Version":"2012-10-18","Statement":{` + stmt + `}}`, "The policy failed legacy parsing"},
		{"Version not a string", KindIdentity, `{"Version":2012,"Statement":{` + stmt + `}}`, "Syntax errors in policy."},
		{"Id not a string", KindIdentity, `{"Id":1,"Statement":{` + stmt + `}}`, "Syntax errors in policy."},
		{"no Statement", KindIdentity, `{"Version":"2012-10-17"}`, "Missing required field Statement"},
		{"Statement a string", KindIdentity, `{"Statement":"x"}`, "Syntax errors in policy."},
		{"statement not an object", KindIdentity, `{"Statement":["x"]}`, "Syntax errors in policy."},
		{"unknown statement element", KindIdentity, `{"Statement":{` + stmt + `,"Effects":"Allow"}}`, "Syntax errors in policy."},
		{"no Effect", KindIdentity, `{"Statement":{"Action":"ecs:*","Resource":"*"}}`, "Missing required field Effect"},
		{"Effect in lower case (IAM's answer)", KindIdentity, `{"Statement":{"Effect":"allow","Action":"ecs:*","Resource":"*"}}`, "The policy failed legacy parsing"},
		{"Principal in an identity policy", KindIdentity, `{"Statement":{` + stmt + `,"Principal":"*"}}`, "Policy document should not specify a principal."},
		{"NotPrincipal in an identity policy", KindIdentity, `{"Statement":{` + stmt + `,"NotPrincipal":{"AWS":"111122223333"}}}`, "Policy document should not specify a principal."},
		{"no Principal in a trust policy", KindTrust, `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}`, "Missing required field Principal"},
		{"no Principal in a resource policy", KindResource, `{"Statement":{` + stmt + `}}`, "Missing required field Principal"},
		{"Resource in a trust policy", KindTrust, `{"Statement":{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}}`, "Has prohibited field Resource"},
		{"an unknown principal type", KindTrust, `{"Statement":{"Effect":"Allow","Principal":{"Robot":"r2"},"Action":"sts:AssumeRole"}}`, `Invalid principal in policy: "Robot":"r2"`},
		{"a wildcard in an AWS principal", KindResource, `{"Statement":{` + stmt + `,"Principal":{"AWS":"arn:aws:iam::111122223333:user/*"}}}`, `Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:user/*"`},
		{"an AWS principal that is no ARN", KindResource, `{"Statement":{` + stmt + `,"Principal":{"AWS":"alice"}}}`, `Invalid principal in policy: "AWS":"alice"`},
		{"Principal and NotPrincipal", KindResource, `{"Statement":{` + stmt + `,"Principal":"*","NotPrincipal":"*"}}`, "Syntax errors in policy."},
		{"no Action", KindIdentity, `{"Statement":{"Effect":"Allow","Resource":"*"}}`, "Policy statement must contain actions."},
		{"an empty Action list", KindIdentity, `{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}`, "Policy statement must contain actions."},
		{"Action and NotAction", KindIdentity, `{"Statement":{` + stmt + `,"NotAction":"iam:*"}}`, "Syntax errors in policy."},
		{"Action not a string", KindIdentity, `{"Statement":{"Effect":"Allow","Action":7,"Resource":"*"}}`, "Syntax errors in policy."},
		{"an action without a vendor", KindIdentity, `{"Statement":{"Effect":"Allow","Action":"RunTask","Resource":"*"}}`, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
		{"an action with two colons", KindIdentity, `{"Statement":{"Effect":"Allow","Action":"ecs:Run:Task","Resource":"*"}}`, "Actions/Condition can contain only one colon."},
		{"a wildcard in the vendor", KindIdentity, `{"Statement":{"Effect":"Allow","Action":"*:Untag*","Resource":"*"}}`, "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards"},
		{"no Resource in an identity policy", KindIdentity, `{"Statement":{"Effect":"Allow","Action":"ecs:*"}}`, "Policy statement must contain resources."},
		{"Resource and NotResource", KindIdentity, `{"Statement":{` + stmt + `,"NotResource":"*"}}`, "Syntax errors in policy."},
		{"an empty Resource", KindIdentity, `{"Statement":{"Effect":"Allow","Action":"ecs:*","Resource":""}}`, `Resource  must be in ARN format or "*".`},
		{"a Resource that is no ARN", KindIdentity, `{"Statement":{"Effect":"Allow","Action":"ecs:*","Resource":"cluster/web"}}`, `Resource cluster/web must be in ARN format or "*".`},
		{"duplicate Sids", KindIdentity, `{"Statement":[{"Sid":"A",` + stmt + `},{"Sid":"A",` + stmt + `}]}`, "Statement IDs (SID) in a single policy must be unique."},
		{"a Sid that is not alphanumeric", KindIdentity, `{"Statement":{"Sid":"my-sid",` + stmt + `}}`, "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"},
		{"an unknown condition operator", KindIdentity, `{"Statement":{` + stmt + `,"Condition":{"StringEqualz":{"aws:username":"a"}}}}`, "Syntax errors in policy."},
		{"Null with IfExists", KindIdentity, `{"Statement":{` + stmt + `,"Condition":{"NullIfExists":{"aws:username":"true"}}}}`, "Syntax errors in policy."},
		{"a condition without an operator", KindIdentity, `{"Statement":{` + stmt + `,"Condition":{"aws:username":"a"}}}`, "Syntax errors in policy."},
		{"a condition key without a vendor", KindIdentity, `{"Statement":{` + stmt + `,"Condition":{"StringEquals":{"username":"a"}}}}`, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
		{"a condition value that is an object", KindIdentity, `{"Statement":{` + stmt + `,"Condition":{"StringEquals":{"aws:username":{"a":1}}}}}`, "Syntax errors in policy."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.doc, ParseOptions{Kind: c.kind})
			var e *model.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse = %v, want a *model.Error", err)
			}
			if e.Code != "MalformedPolicyDocument" || e.Message != c.msg || e.HTTPStatus() != 400 {
				t.Errorf("Parse = %s (%d), want MalformedPolicyDocument: %s (400)", e, e.HTTPStatus(), c.msg)
			}
		})
	}
}

func TestParseReadsEveryShape(t *testing.T) {
	doc := `{
	  "Version": "2012-10-17",
	  "Id": "web-policy",
	  "Statement": [{
	    "Sid": "One",
	    "Effect": "Deny",
	    "NotPrincipal": {"AWS": ["111122223333", "arn:aws:iam::111122223333:role/deployer"], "Service": "ecs-tasks.amazonaws.com"},
	    "NotAction": ["iam:*"],
	    "NotResource": "arn:aws:ecs:*:*:cluster/web",
	    "Condition": {"NumericLessThan": {"s3:max-keys": 10}, "Bool": {"aws:SecureTransport": false}, "StringEquals": {"ex:k": ["a", "b"]}}
	  }]
	}`
	p, err := Parse(doc, ParseOptions{Kind: KindResource})
	if err != nil {
		t.Fatal(err)
	}
	want := &Policy{Version: Version2012, ID: "web-policy", Statements: []Statement{{
		Sid:          "One",
		Effect:       EffectDeny,
		NotPrincipal: &Principals{AWS: []string{"111122223333", "arn:aws:iam::111122223333:role/deployer"}, Service: []string{"ecs-tasks.amazonaws.com"}},
		NotAction:    []string{"iam:*"},
		NotResource:  []string{"arn:aws:ecs:*:*:cluster/web"},
		Conditions: []Condition{
			{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"false"}, op: operator{family: famBool}},
			{Operator: "NumericLessThan", Key: "s3:max-keys", Values: []string{"10"}, op: operator{family: famNumeric, cmp: cmpLt}},
			{Operator: "StringEquals", Key: "ex:k", Values: []string{"a", "b"}, op: operator{family: famString}},
		},
	}}}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("Parse =\n%+v\nwant\n%+v", p.Statements[0], want.Statements[0])
	}

	for _, d := range []string{
		`{"Statement":{"Effect":"Allow","Action":"ecs:*","Resource":"*"}}`,
		`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":["*"]}]}`,
		`{"Version":"2012-10-17","Statement":[]}`,
	} {
		if _, err := Parse(d, ParseOptions{}); err != nil {
			t.Errorf("Parse(%s) = %v", d, err)
		}
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:us-east-1:111122223333:*"}}}]}`
	if _, err := Parse(trust, ParseOptions{Kind: KindTrust}); err != nil {
		t.Errorf("trust policy: %v", err)
	}
	anyone := `{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"ecs:*","Resource":"*"}}`
	if p, err := Parse(anyone, ParseOptions{Kind: KindResource}); err != nil || !p.Statements[0].Principal.Any {
		t.Errorf(`{"AWS":"*"} = %+v, %v; want Any`, p, err)
	}
}

func TestParseEnforcesTheCallersSizeQuota(t *testing.T) {
	doc := `{ "Statement" : { "Effect" : "Allow", "Action" : "ecs:*", "Resource" : "*" } }`
	n := CountChars(doc)
	if want := len(`{"Statement":{"Effect":"Allow","Action":"ecs:*","Resource":"*"}}`); n != want {
		t.Fatalf("CountChars = %d, want %d (whitespace is not counted)", n, want)
	}
	if _, err := Parse(doc, ParseOptions{MaxChars: n}); err != nil {
		t.Errorf("at the quota: %v", err)
	}
	_, err := Parse(doc, ParseOptions{MaxChars: n - 1})
	var e *model.Error
	if !errors.As(err, &e) || e.Code != "LimitExceeded" || e.Message != "Cannot exceed quota for PolicySize: 63" || e.HTTPStatus() != 409 {
		t.Errorf("over the quota: %v", err)
	}
	if got := CountChars("é \t\n∑"); got != 2 {
		t.Errorf("CountChars counts characters, not bytes: %d", got)
	}
}
