package model

import (
	"errors"
	"strings"
	"testing"
)

func TestParseTaskDefinitionRef(t *testing.T) {
	const acct = "arn:aws:ecs:us-east-1:123456789012:"
	cases := []struct {
		ref      string
		family   string
		revision int
		isARN    bool
		code     string // an error's code, "" for none
		message  string // the start of its message
	}{
		{ref: "web", family: "web"},
		{ref: "web:3", family: "web", revision: 3},
		{ref: acct + "task-definition/web:12", family: "web", revision: 12, isARN: true},
		{ref: acct + "task-definition/web", family: "web", isARN: true},
		{ref: "web:foo", code: CodeInvalidParameter, message: "Invalid revision number. Number: foo"},
		{ref: "web:0", code: CodeInvalidParameter, message: "Invalid revision number. Number: 0"},
		{ref: "web:-1", code: CodeInvalidParameter, message: "Invalid revision number. Number: -1"},
		{ref: "web:", code: CodeInvalidParameter, message: "Invalid revision number. Number: "},
		{ref: "web:" + strings.Repeat("9", 40), code: CodeInvalidParameter, message: "Invalid revision number. Number: " + strings.Repeat("9", 32) + "..."},
		{ref: "w eb", code: CodeClient, message: "Invalid task definition identifier \"w eb\": the family"},
		{ref: ":1", code: CodeClient, message: "Invalid task definition identifier \":1\": the family"},
		{ref: acct + "cluster/web", code: CodeClient, message: "Invalid task definition identifier"},
		{ref: "arn:aws:iam::123456789012:task-definition/web:1", code: CodeClient, message: "Invalid task definition identifier"},
		{ref: "arn:aws:ecs", code: CodeClient, message: "Invalid task definition identifier"},
	}
	for _, c := range cases {
		r, err := ParseTaskDefinitionRef(c.ref)
		if c.code != "" {
			var e *Error
			if !errors.As(err, &e) || e.Code != c.code || !strings.HasPrefix(e.Message, c.message) {
				t.Errorf("%q: error %v, want %s %q...", c.ref, err, c.code, c.message)
			}
			continue
		}
		if err != nil || r.Family != c.family || r.Revision != c.revision || (r.ARN != nil) != c.isARN {
			t.Errorf("%q: %+v, %v; want %s:%d (ARN %v)", c.ref, r, err, c.family, c.revision, c.isARN)
		}
	}
	// The ARN carries its scope, for the caller to say whose it is.
	r, _ := ParseTaskDefinitionRef("arn:aws:ecs:eu-west-1:999999999999:task-definition/web:1")
	if r.ARN == nil || r.ARN.Region != "eu-west-1" || r.ARN.Account != "999999999999" {
		t.Fatalf("ARN %+v", r.ARN)
	}
}

func TestParseInstanceARN(t *testing.T) {
	cases := []struct {
		arn         string
		cluster, id string // "" for an error
	}{
		{"arn:aws:ecs:us-east-1:123456789012:container-instance/prod/0123abcd", "prod", "0123abcd"},
		{"arn:aws:ecs:us-east-1:123456789012:container-instance/0123abcd", "", ""}, // the short form names no cluster
		{"arn:aws:ecs:us-east-1:123456789012:container-instance/prod/", "", ""},
		{"arn:aws:ecs:us-east-1:123456789012:container-instance//0123abcd", "", ""},
		{"arn:aws:ecs:us-east-1:123456789012:container-instance/a/b/c", "", ""},
		{"arn:aws:ecs:us-east-1:123456789012:task/prod/0123abcd", "", ""},
		{"arn:aws:ec2:us-east-1:123456789012:container-instance/prod/0123abcd", "", ""},
		{"0123abcd", "", ""},
	}
	for _, c := range cases {
		cluster, id, err := ParseInstanceARN(c.arn)
		if c.cluster == "" {
			if err == nil {
				t.Errorf("%q: accepted as %s/%s", c.arn, cluster, id)
			}
			continue
		}
		if err != nil || cluster != c.cluster || id != c.id {
			t.Errorf("%q: %q %q %v", c.arn, cluster, id, err)
		}
	}
}
