package iam

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/flotta-dev/flotta/internal/iam/policy"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/protocol"
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
// user what its and its groups' policies allow; an assumed-role session
// what its role's policies allow within its session policy, as AWS
// evaluates them. Credentials issued for other principals (tests', the
// agent join's) keep every right.
func (m *IAM) Authorize(ctx context.Context, action string, on protocol.Resolver) error {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return &model.Error{Code: model.CodeAccessDenied, Status: http.StatusBadRequest,
			Message: fmt.Sprintf("An anonymous caller is not authorized to perform: %s.", action)}
	}
	if p.IsRoot() || action == "sts:GetCallerIdentity" || action == "sts:AssumeRole" {
		// Anyone may ask who they are: AWS needs no permission for it.
		// AssumeRole weighs the role's trust policy with the caller's
		// own, which only it can: it decides for itself.
		return nil
	}
	pols, unrestricted, err := m.policiesFor(ctx, p)
	if err != nil || unrestricted {
		return err
	}
	resources, conditions := on()
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	tagged := m.resourceTags != nil && (pols.UsesKeyPrefix("aws:ResourceTag/") || pols.UsesKeyPrefix("ecs:ResourceTag/"))
	for _, res := range resources {
		keys := conditions
		if tagged && res != "*" {
			if keys, err = m.withResourceTags(ctx, res, conditions); err != nil {
				return err
			}
		}
		r := policy.Evaluate(policy.Request{Principal: p.ARN, Action: action, Resource: res, Context: keys, Time: m.now()}, pols)
		if r.Decision != policy.Allow {
			return AccessDenied(p.ARN, action, res, r)
		}
	}
	return nil
}

// UseResourceTags tells the authorizer how to read a resource's tags, for
// policies that test aws:ResourceTag/KEY (and the service's own
// SERVICE:ResourceTag/KEY, which ECS documents beside it). tagsOf answers nil
// for a resource that does not exist (yet): its keys are then absent, as
// they are in AWS for a resource being created.
func (m *IAM) UseResourceTags(tagsOf func(ctx context.Context, arn string) (map[string]string, error)) {
	m.resourceTags = tagsOf
}

// withResourceTags is conditions with the resource's tags added as
// aws:ResourceTag/KEY and SERVICE:ResourceTag/KEY; conditions itself is not
// changed (it serves every resource of the request).
func (m *IAM) withResourceTags(ctx context.Context, resource string, conditions map[string][]string) (map[string][]string, error) {
	tags, err := m.resourceTags(ctx, resource)
	if err != nil || len(tags) == 0 {
		return conditions, err
	}
	out := make(map[string][]string, len(conditions)+2*len(tags))
	for k, v := range conditions {
		out[k] = v
	}
	service := ""
	if arn, err := model.ParseARN(resource); err == nil {
		service = arn.Service
	}
	for k, v := range tags {
		out["aws:ResourceTag/"+k] = []string{v}
		if service != "" {
			out[service+":ResourceTag/"+k] = []string{v}
		}
	}
	return out, nil
}

// PassRole decides whether the caller may hand role to service (ECS's
// "ecs-tasks.amazonaws.com" for a task role or execution role): AWS's
// iam:PassRole, with the iam:PassedToService condition key. The refusal is
// the asking service's AccessDeniedException, in IAM's words.
func (m *IAM) PassRole(ctx context.Context, role, service string) error {
	err := m.Authorize(ctx, "iam:PassRole", func() ([]string, map[string][]string) {
		return []string{role}, map[string][]string{"iam:PassedToService": {service}}
	})
	var me *model.Error
	if errors.As(err, &me) && me.Code == "AccessDenied" {
		// Authorize answers iam: actions as IAM's Query API would; the
		// caller here is another service's API.
		return &model.Error{Code: model.CodeAccessDenied, Status: http.StatusBadRequest, Message: me.Message}
	}
	return err
}

// policiesFor are the policies that decide what p may do; unrestricted when
// nothing limits it (the root user, and temporary credentials of principals
// that are neither users nor roles).
func (m *IAM) policiesFor(ctx context.Context, p Principal) (pols policy.Policies, unrestricted bool, err error) {
	if p.IsRoot() {
		return pols, true, nil
	}
	if IsAgent(p.ARN) {
		pols.Identity = []policy.NamedPolicy{{Name: AgentPolicyName, Policy: agentPolicy}}
		return pols, false, nil
	}
	if name := userNameOf(p.ARN); name != "" {
		u, err := m.state.GetIAMUser(ctx, name)
		if err != nil {
			return pols, false, err
		}
		if u == nil || u.Arn != p.ARN {
			// A session of no stored user keeps every right; a user since
			// deleted may do nothing.
			return pols, p.Temporary, nil
		}
		pols.Identity, err = m.userPolicies(ctx, u)
		return pols, false, err
	}
	if roleName, _, ok := RoleSessionOf(p.ARN); ok && p.RoleID != "" {
		role, err := m.state.GetIAMRole(ctx, roleName)
		if err != nil || role == nil || role.RoleID != p.RoleID {
			return pols, false, err // the role is gone: its sessions may do nothing
		}
		if pols.Identity, err = m.policiesOf(ctx, role.InlinePolicies, role.AttachedPolicies); err != nil {
			return pols, false, err
		}
		if p.SessionPolicy != "" {
			sp, err := m.parsed(p.SessionPolicy)
			if err != nil {
				return pols, false, err
			}
			pols.Session = []policy.NamedPolicy{{Name: "session policy", Policy: sp}}
		}
		return pols, false, nil
	}
	return pols, true, nil
}

// AccessDenied is the refusal of an action, in AWS's words: "User: ARN is
// not authorized to perform: ecs:DeleteCluster on resource: ARN because no
// identity-based policy allows the ecs:DeleteCluster action".
func AccessDenied(principal, action, resource string, r policy.Result) *model.Error {
	why := fmt.Sprintf("because no identity-based policy allows the %s action", action)
	switch {
	case r.Decision == policy.ExplicitDeny:
		why = "with an explicit deny in " + r.Source.WithArticle()
	case r.Source != policy.SourceNone && r.Source != policy.SourceIdentity:
		why = fmt.Sprintf("because no %s allows the %s action", r.Source, action)
	}
	code, status := model.CodeAccessDenied, http.StatusBadRequest
	if strings.HasPrefix(action, "iam:") || strings.HasPrefix(action, "sts:") || strings.HasPrefix(action, "elasticloadbalancing:") || strings.HasPrefix(action, "route53:") {
		// The Query and REST-XML APIs name it without the suffix, with a 403.
		code, status = "AccessDenied", http.StatusForbidden
	}
	return &model.Error{Code: code, Status: status,
		Message: fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", principal, action, resource, why)}
}
