package gateway

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/iam"
	"github.com/flotta-dev/flotta/internal/model"
)

// RenewRoleBefore is how long before a task role session ends the gateway
// mints the next one: the agent polls at least every MaxPollWait, so a task
// always has credentials with minutes to spare, as ECS's rotation does.
const RenewRoleBefore = 15 * time.Minute

// roleCache keeps the role session of each task that runs with a role, by
// task ARN, so that polls do not mint a key each time. It lives in memory:
// a restarted server mints new sessions, which costs nothing but a key.
type roleCache struct {
	mu     sync.Mutex
	byTask map[string]*flottaapi.RoleCredentials
}

// taskRole is the role a task runs as: its override, else its definition's.
func taskRole(t *model.Task, def *model.TaskDefinition) string {
	if t.Overrides != nil && t.Overrides.TaskRoleArn != "" {
		return t.Overrides.TaskRoleArn
	}
	return def.TaskRoleArn
}

// roleCredentialsOf returns the current credentials of a task's role,
// reusing the cached session until it has less than RenewRoleBefore left.
// A failure is said in ECS's words; the caller stops a task that has not
// started with it, and a running task keeps the session it has until it
// ends.
func (g *Gateway) roleCredentialsOf(ctx context.Context, t *model.Task, roleARN string) (*flottaapi.RoleCredentials, string) {
	now := g.now()
	g.roles.mu.Lock()
	cached := g.roles.byTask[t.TaskArn]
	g.roles.mu.Unlock()
	if cached != nil && cached.RoleArn == roleARN && cached.Expiration.Sub(now) >= RenewRoleBefore {
		return cached, ""
	}
	assume := g.AssumeTaskRole
	if assume == nil {
		assume = func(ctx context.Context, roleARN, taskID string) (*iam.RoleSession, error) {
			return g.IAM.AssumeRoleForTask(ctx, roleARN, taskID, iam.TaskSessionLength)
		}
	}
	s, err := assume(ctx, roleARN, t.TaskArn[strings.LastIndex(t.TaskArn, "/")+1:])
	if err != nil {
		if cached != nil && cached.RoleArn == roleARN && cached.Expiration.After(now) {
			g.Logger.Warn("renew a task's role credentials; it keeps its current ones", "task", t.TaskArn, "role", roleARN, "err", err)
			return cached, ""
		}
		var refused *iam.TaskRoleError
		if errors.As(err, &refused) {
			return nil, "ResourceInitializationError: unable to assume the task role: " + refused.Error()
		}
		return nil, "ResourceInitializationError: unable to assume the task role " + model.Truncate(roleARN, 2048) + ": " + err.Error()
	}
	creds := &flottaapi.RoleCredentials{AccessKeyID: s.Key.AccessKeyID, SecretAccessKey: s.Key.SecretAccessKey,
		SessionToken: s.Key.SessionToken, Expiration: model.At(s.Key.Expiration), RoleArn: roleARN}
	g.roles.mu.Lock()
	if g.roles.byTask == nil {
		g.roles.byTask = map[string]*flottaapi.RoleCredentials{}
	}
	g.roles.byTask[t.TaskArn] = creds
	// Tasks that ended without a poll seeing them stopped (their instance
	// went away) leave sessions that have expired by now.
	for arn, c := range g.roles.byTask {
		if !c.Expiration.After(now) {
			delete(g.roles.byTask, arn)
		}
	}
	g.roles.mu.Unlock()
	return creds, ""
}

// forgetRole drops a stopping task's cached session.
func (g *Gateway) forgetRole(taskARN string) {
	g.roles.mu.Lock()
	delete(g.roles.byTask, taskARN)
	g.roles.mu.Unlock()
}

func (g *Gateway) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}
