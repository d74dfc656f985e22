package iam

import (
	"context"
	"fmt"
	"net/http"

	"github.com/flotta-dev/flotta/internal/iam/policy"
	"github.com/flotta-dev/flotta/internal/model"
)

// agentPolicyDocument is what an agent's identity may do: the rights of
// ECS's container instance role (AmazonEC2ContainerServiceforEC2Role) that
// Flotta's agent uses, and Flotta's own poll and heartbeat. The handlers
// keep each of them to the agent's own instance and its tasks.
const agentPolicyDocument = `{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "ContainerInstance",
    "Effect": "Allow",
    "Action": [
      "ecs:RegisterContainerInstance",
      "ecs:DeregisterContainerInstance",
      "ecs:DiscoverPollEndpoint",
      "ecs:SubmitTaskStateChange",
      "ecs:SubmitContainerStateChange",
      "ecs:SubmitAttachmentStateChanges",
      "flotta:Poll",
      "flotta:Heartbeat"
    ],
    "Resource": "*"
  }]
}`

// AgentPolicyName is the name of the policy every agent identity has.
const AgentPolicyName = "FlottaAgentPolicy"

var agentPolicy = mustParse(agentPolicyDocument)

func mustParse(doc string) *policy.Policy {
	p, err := policy.Parse(doc, policy.ParseOptions{Kind: policy.KindIdentity})
	if err != nil {
		panic(fmt.Sprintf("a built-in policy does not parse: %v", err))
	}
	return p
}

// Authorize decides whether the caller may perform action. The root user
// may do everything; an agent identity only what agentPolicyDocument
// allows. Other principals keep every right until IAM users and policies
// can be managed (issue 10).
func (m *IAM) Authorize(ctx context.Context, action string) error {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return &model.Error{Code: model.CodeAccessDenied, Status: http.StatusBadRequest,
			Message: fmt.Sprintf("An anonymous caller is not authorized to perform: %s.", action)}
	}
	if p.IsRoot() || !IsAgent(p.ARN) {
		return nil
	}
	r := policy.Evaluate(policy.Request{Principal: p.ARN, Action: action, Resource: "*", Time: m.now()},
		policy.Policies{Identity: []policy.NamedPolicy{{Name: AgentPolicyName, Policy: agentPolicy}}})
	if r.Decision == policy.Allow {
		return nil
	}
	return AccessDenied(p.ARN, action, "*", r)
}

// AccessDenied is the refusal of an action, in AWS's words: "User: ARN is
// not authorized to perform: ecs:DeleteCluster on resource: ARN because no
// identity-based policy allows the ecs:DeleteCluster action".
func AccessDenied(principal, action, resource string, r policy.Result) *model.Error {
	why := fmt.Sprintf("because no identity-based policy allows the %s action", action)
	switch {
	case r.Decision == policy.ExplicitDeny:
		why = fmt.Sprintf("with an explicit deny in a %s", r.Source)
	case r.Source != policy.SourceNone && r.Source != policy.SourceIdentity:
		why = fmt.Sprintf("because no %s allows the %s action", r.Source, action)
	}
	return &model.Error{Code: model.CodeAccessDenied, Status: http.StatusBadRequest,
		Message: fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", principal, action, resource, why)}
}
