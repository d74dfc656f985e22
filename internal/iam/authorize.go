package iam

import (
	"context"
	"fmt"
	"net/http"
	"strings"

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

// Authorize decides whether the caller may perform action on every one of
// resources, with the request's condition keys. The root user may do
// everything; an agent identity what agentPolicyDocument allows; an IAM
// user what its policies allow, as AWS evaluates them. Credentials issued
// for other principals (tests', temporary ones) keep every right until
// roles land (issue 10).
func (m *IAM) Authorize(ctx context.Context, action string, resources []string, conditions map[string][]string) error {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return &model.Error{Code: model.CodeAccessDenied, Status: http.StatusBadRequest,
			Message: fmt.Sprintf("An anonymous caller is not authorized to perform: %s.", action)}
	}
	if p.IsRoot() || action == "sts:GetCallerIdentity" {
		// Anyone may ask who they are: AWS needs no permission for it.
		return nil
	}
	var pols policy.Policies
	switch {
	case IsAgent(p.ARN):
		pols.Identity = []policy.NamedPolicy{{Name: AgentPolicyName, Policy: agentPolicy}}
	case userNameOf(p.ARN) != "":
		u, err := m.state.GetIAMUser(ctx, userNameOf(p.ARN))
		if err != nil {
			return err
		}
		if u == nil || u.Arn != p.ARN {
			if p.Temporary {
				return nil // a session of no stored user: see above
			}
			pols.Identity = nil // a user since deleted: nothing is allowed
		} else if pols.Identity, err = m.userPolicies(ctx, u); err != nil {
			return err
		}
	default:
		return nil
	}
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	for _, res := range resources {
		r := policy.Evaluate(policy.Request{Principal: p.ARN, Action: action, Resource: res, Context: conditions, Time: m.now()}, pols)
		if r.Decision != policy.Allow {
			return AccessDenied(p.ARN, action, res, r)
		}
	}
	return nil
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
	code, status := model.CodeAccessDenied, http.StatusBadRequest
	if strings.HasPrefix(action, "iam:") || strings.HasPrefix(action, "sts:") {
		// The Query APIs name it without the suffix, with a 403.
		code, status = "AccessDenied", http.StatusForbidden
	}
	return &model.Error{Code: code, Status: status,
		Message: fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", principal, action, resource, why)}
}
