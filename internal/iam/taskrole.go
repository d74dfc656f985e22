package iam

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/iam/policy"
	"github.com/flotta-dev/flotta/internal/state"
)

// TasksPrincipal is the service principal that a role's trust policy names
// to let ECS tasks assume it.
const TasksPrincipal = "ecs-tasks.amazonaws.com"

// TaskSessionLength is how long a task role's credentials last. ECS hands
// tasks credentials of up to six hours and rotates them well before they
// end; Flotta mints an hour's worth (or the role's MaxSessionDuration when
// shorter), which the gateway renews while the task runs.
const TaskSessionLength = time.Hour

// TaskRoleError is why a task cannot have its role's credentials: the role
// is not there, or its trust policy does not let ECS tasks assume it.
type TaskRoleError struct {
	RoleARN string
	Reason  string
}

func (e *TaskRoleError) Error() string {
	return fmt.Sprintf("ECS was unable to assume the role '%s' that was provided for this task: %s", e.RoleARN, e.Reason)
}

// AssumeRoleForTask gives a task its role's temporary credentials, as the
// ECS service does on the task's behalf: the role's trust policy must allow
// the service principal ecs-tasks.amazonaws.com to perform sts:AssumeRole.
// The session is named after the task's id, so that its ARN
// (assumed-role/ROLE/TASKID) says which task acted. ttl is capped by the
// role's MaxSessionDuration; 0 means TaskSessionLength.
func (m *IAM) AssumeRoleForTask(ctx context.Context, roleARN, taskID string, ttl time.Duration) (*RoleSession, error) {
	role, err := m.roleByARN(ctx, roleARN)
	if err != nil {
		return nil, fmt.Errorf("assume task role %s: %w", roleARN, err)
	}
	if role == nil {
		return nil, &TaskRoleError{RoleARN: roleARN, Reason: "the role does not exist"}
	}
	trust, err := m.parsedAs(role.AssumeRolePolicyDocument, policy.KindTrust)
	if err != nil {
		return nil, fmt.Errorf("assume task role %s: %w", roleARN, err)
	}
	req := policy.Request{Principal: TasksPrincipal, Action: "sts:AssumeRole", Resource: role.Arn, Time: m.now()}
	trustOnly := policy.Policies{Resource: []policy.NamedPolicy{{Name: role.Arn, Policy: trust}}}
	if policy.Evaluate(req, trustOnly).Decision != policy.Allow {
		return nil, &TaskRoleError{RoleARN: roleARN, Reason: "its trust policy does not allow the service principal " + TasksPrincipal + " to perform sts:AssumeRole"}
	}
	if ttl <= 0 {
		ttl = TaskSessionLength
	}
	ttl = min(ttl, time.Duration(role.MaxSessionDuration)*time.Second)
	return m.mintSession(ctx, role, taskID, ttl, "")
}

// mintSession stores and returns a new session of role.
func (m *IAM) mintSession(ctx context.Context, role *state.IAMRole, sessionName string, ttl time.Duration, sessionPolicy string) (*RoleSession, error) {
	k := m.newKey("ASIA", m.SessionARN(role.RoleName, sessionName))
	k.SessionToken = randomToken(96)
	k.Expiration = m.now().UTC().Add(ttl).Truncate(time.Second)
	k.RoleID, k.SessionPolicy = role.RoleID, sessionPolicy
	if err := m.state.PutAccessKey(ctx, k); err != nil {
		return nil, err
	}
	return &RoleSession{Key: k, AssumedRoleID: role.RoleID + ":" + sessionName}, nil
}

// ExecutionRoleAllows says whether a task's execution role may perform
// action on resource as ECS's agent would, acting as the role for the task
// taskID: the role must exist (by ARN or name), trust ecs-tasks.amazonaws.com,
// and its policies must allow the action (ssm:GetParameters,
// secretsmanager:GetSecretValue for a task's secrets). A refusal is in the
// words AWS would use for the role's session.
func (m *IAM) ExecutionRoleAllows(ctx context.Context, roleARN, taskID, action, resource string) error {
	if !strings.HasPrefix(roleARN, "arn:") {
		roleARN = m.RoleARN("/", roleARN)
	}
	role, err := m.roleByARN(ctx, roleARN)
	if err != nil {
		return err
	}
	if role == nil {
		return &TaskRoleError{RoleARN: roleARN, Reason: "the role does not exist"}
	}
	trust, err := m.parsedAs(role.AssumeRolePolicyDocument, policy.KindTrust)
	if err != nil {
		return err
	}
	req := policy.Request{Principal: TasksPrincipal, Action: "sts:AssumeRole", Resource: role.Arn, Time: m.now()}
	if policy.Evaluate(req, policy.Policies{Resource: []policy.NamedPolicy{{Name: role.Arn, Policy: trust}}}).Decision != policy.Allow {
		return &TaskRoleError{RoleARN: roleARN, Reason: "its trust policy does not allow the service principal " + TasksPrincipal + " to perform sts:AssumeRole"}
	}
	pols, err := m.policiesOf(ctx, role.InlinePolicies, role.AttachedPolicies)
	if err != nil {
		return err
	}
	session := m.SessionARN(role.RoleName, taskID)
	r := policy.Evaluate(policy.Request{Principal: session, Action: action, Resource: resource, Time: m.now()}, policy.Policies{Identity: pols})
	if r.Decision != policy.Allow {
		return AccessDenied(session, action, resource, r)
	}
	return nil
}
