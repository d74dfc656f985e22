// Package gateway is the server side of the agent protocol: join tokens and
// their exchange for an agent identity, and the long poll through which an
// agent learns, level-triggered, which tasks it must run or stop. A poll also
// keeps the agent's session alive, which is what agentConnected reports.
// Agents report state through the ECS API (SubmitTaskStateChange), as the
// real ECS agent does.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/iam"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/pki"
	"github.com/flotta-dev/flotta/internal/protocol/awsjson"
	"github.com/flotta-dev/flotta/internal/state"
	"github.com/flotta-dev/flotta/internal/throttle"
)

// Timing of the agent session.
const (
	// MaxPollWait bounds how long a poll waits for a change.
	MaxPollWait = 10 * time.Second
	// SessionTTL is how long a session outlives the agent's last poll.
	SessionTTL = 15 * time.Second
)

// Gateway serves the agent protocol.
type Gateway struct {
	State  *state.State
	IAM    *iam.IAM
	Logger *slog.Logger
	// Pin is the fingerprint of the server's CA, added to each join token
	// so that agents trust only this server ("" with plain HTTP).
	Pin string
	// Secrets reads the value of a task definition secret's valueFrom (an
	// SSM parameter or a Secrets Manager secret) as the task's execution
	// role may, for the task taskID.
	Secrets func(ctx context.Context, valueFrom, executionRole, taskID string) (string, error)
	// AssumeTaskRole mints a task role session; nil means
	// IAM.AssumeRoleForTask for TaskSessionLength (tests count the calls).
	AssumeTaskRole func(ctx context.Context, roleARN, taskID string) (*iam.RoleSession, error)
	// Now is the clock that decides when a role session is renewed; nil
	// means time.Now.
	Now func() time.Time

	roles roleCache

	failedJoinsOnce sync.Once
	failedJoins     *throttle.Throttle

	mu     sync.Mutex
	leases map[string]state.Lease
	// polls counts each instance's open polls.
	polls map[string]int
	// groups holds the shared leases of batched heartbeats, by instance set.
	groups map[string]state.Lease
}

// Service returns the protocol binding of Flotta's own operations.
func (g *Gateway) Service() *awsjson.Service {
	return &awsjson.Service{
		TargetPrefix:      flottaapi.FlottaTarget,
		SigningName:       "ecs",
		ActionPrefix:      "flotta",
		InternalErrorCode: model.CodeServer,
		Ops: map[string]awsjson.HandlerFunc{
			"CreateJoinToken": awsjson.Op(g.CreateJoinToken),
			"Join":            awsjson.Op(g.Join),
			"Poll":            awsjson.Op(g.Poll),
			"Heartbeat":       awsjson.Op(g.Heartbeat),
			"ListJoinTokens":  awsjson.Op(g.ListJoinTokens),
			"RevokeJoinToken": awsjson.Op(g.RevokeJoinToken),
		},
		Public: map[string]bool{"Join": true},
	}
}

// CreateJoinToken makes a join token for agents.
func (g *Gateway) CreateJoinToken(ctx context.Context, in *flottaapi.CreateJoinTokenInput) (*flottaapi.CreateJoinTokenOutput, error) {
	p, _ := iam.PrincipalFrom(ctx)
	if iam.IsAgent(p.ARN) {
		return nil, model.Errorf(model.CodeAccessDenied, "Agents cannot create join tokens.")
	}
	ttl := time.Duration(in.TTLSeconds) * time.Second
	if in.TTLSeconds == 0 {
		ttl = 24 * time.Hour
	}
	if ttl < time.Minute || ttl > 30*24*time.Hour {
		return nil, model.InvalidParameter("ttlSeconds must be between 60 and 2592000 (30 days); got %d.", in.TTLSeconds)
	}
	uses := in.Uses
	if uses == 0 {
		uses = 1
	}
	if uses < 1 || uses > 10000 {
		return nil, model.InvalidParameter("uses must be between 1 and 10000; got %d.", in.Uses)
	}
	tok, exp, err := g.IAM.CreateJoinToken(ctx, ttl, uses, p.ARN)
	if err != nil {
		return nil, err
	}
	return &flottaapi.CreateJoinTokenOutput{Token: pki.WithPin(tok, g.Pin), ExpiresAt: model.At(exp), Uses: uses}, nil
}

// ListJoinTokens lists the join tokens (without their secrets).
func (g *Gateway) ListJoinTokens(ctx context.Context, _ *flottaapi.ListJoinTokensInput) (*flottaapi.ListJoinTokensOutput, error) {
	toks, err := g.IAM.ListJoinTokens(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := &flottaapi.ListJoinTokensOutput{Tokens: []flottaapi.JoinTokenSummary{}}
	for _, t := range toks {
		out.Tokens = append(out.Tokens, flottaapi.JoinTokenSummary{ID: t.ID, ExpiresAt: model.At(t.Expires), UsesLeft: t.UsesLeft,
			CreatedBy: t.CreatedBy, Usable: t.UsesLeft > 0 && now.Before(t.Expires)})
	}
	return out, nil
}

// RevokeJoinToken deletes a join token: no agent can join with it any more.
func (g *Gateway) RevokeJoinToken(ctx context.Context, in *flottaapi.RevokeJoinTokenInput) (*struct{}, error) {
	if in.ID == "" {
		return nil, model.InvalidParameter("id is required: the id of a join token (flotta token ls), or the token.")
	}
	found, err := g.IAM.RevokeJoinToken(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, model.InvalidParameter("There is no join token %s.", model.Truncate(in.ID, 64))
	}
	return &struct{}{}, nil
}

// Failed joins from one address: a burst of ten, then ten a minute.
const (
	failedJoinBurst = 10
	failedJoinRate  = 1.0 / 6 // a second
)

// Join exchanges a join token for an agent identity. An address whose joins
// keep failing is turned away for a while, so that tokens cannot be guessed.
func (g *Gateway) Join(ctx context.Context, in *flottaapi.JoinInput) (*flottaapi.JoinOutput, error) {
	g.failedJoinsOnce.Do(func() {
		g.failedJoins = throttle.New(throttle.Limits{Rate: failedJoinRate, Burst: failedJoinBurst}, awsjson.SourceIP, nil)
	})
	if blocked, wait := g.failedJoins.Blocked(ctx); blocked {
		return nil, &model.Error{Code: "ThrottlingException", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("Too many failed joins from %s: try again in %ds.", awsjson.SourceIP(ctx), int(wait.Seconds())+1)}
	}
	k, agentID, err := g.IAM.Join(ctx, in.Token)
	if errors.Is(err, iam.ErrBadJoinToken) {
		g.failedJoins.Spend(ctx)
		return nil, model.Errorf(model.CodeAccessDenied, "The join token is invalid, expired or used up. Create one with `flotta token create`.")
	}
	if err != nil {
		return nil, err
	}
	g.Logger.Info("agent joined", "agent", agentID)
	acct := g.IAM.Account()
	return &flottaapi.JoinOutput{AgentID: agentID, AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey, Region: acct.Region, AccountID: acct.ID}, nil
}

// Poll answers with every task assigned to the instance, as soon as that set
// or a desired status changes after in.Revision, or when the wait ends.
func (g *Gateway) Poll(ctx context.Context, in *flottaapi.PollInput) (*flottaapi.PollOutput, error) {
	inst, err := g.instanceFor(ctx, in.ContainerInstanceArn)
	if err != nil {
		return nil, err
	}
	if err := g.keepSession(ctx, inst.Cluster, inst.ID); err != nil {
		return nil, err
	}
	wait := time.Duration(in.WaitSeconds) * time.Second
	if wait <= 0 || wait > MaxPollWait {
		wait = MaxPollWait
	}
	if in.Revision > 0 {
		// The watch reports at once any change after the agent's revision,
		// and otherwise waits for one.
		g.pollOpened(inst.ID)
		wctx, cancel := context.WithTimeout(ctx, wait)
		_, werr := g.State.WaitForAssignments(wctx, inst.ID, in.Revision)
		cancel()
		g.pollClosed(inst.ID, ctx.Err() != nil)
		if werr != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	tasks, rev, err := g.State.AssignedTasks(ctx, inst.ID)
	if err != nil {
		return nil, err
	}
	out := &flottaapi.PollOutput{Revision: rev, InstanceStatus: inst.Instance.Status, Tasks: []flottaapi.Assignment{}}
	drains, err := g.drainDeadlines(ctx, tasks)
	if err != nil {
		return nil, err
	}
	for _, t := range tasks {
		as := flottaapi.Assignment{Task: t.Task, Definition: t.Definition, DrainUntil: drains[t.Task.TaskArn]}
		starting := model.TaskStatusRank(t.Task.LastStatus) < model.TaskStatusRank(model.TaskRunning)
		if t.Task.DesiredStatus == model.TaskRunning && starting {
			taskID := t.Task.TaskArn[strings.LastIndex(t.Task.TaskArn, "/")+1:]
			as.Secrets, as.SecretsError = g.secretsOf(ctx, &t.Definition, taskID)
			if as.SecretsError == "" {
				as.RegistryAuth, as.SecretsError = g.registryAuthOf(ctx, &t.Definition, taskID)
			}
		}
		if role := taskRole(&t.Task, &t.Definition); role != "" {
			if t.Task.DesiredStatus == model.TaskRunning && t.Task.LastStatus != model.TaskStopped {
				as.RoleCredentials, as.RoleError = g.roleCredentialsOf(ctx, &t.Task, role)
				if !starting {
					as.RoleError = "" // a running task keeps going; its containers see no new credentials
				}
			} else {
				g.forgetRole(t.Task.TaskArn)
			}
		}
		out.Tasks = append(out.Tasks, as)
	}
	return out, nil
}

// secretsOf reads the values of a task definition's secrets, for a task
// that is about to start. A failure is told in ECS's words and stops the
// task from starting.
func (g *Gateway) secretsOf(ctx context.Context, td *model.TaskDefinition, taskID string) (map[string]map[string]string, string) {
	var out map[string]map[string]string
	for _, c := range td.ContainerDefinitions {
		for _, s := range c.Secrets {
			if g.Secrets == nil {
				return nil, "ResourceInitializationError: unable to pull secrets or registry auth: this server reads no secrets"
			}
			v, err := g.Secrets(ctx, s.ValueFrom, td.ExecutionRoleArn, taskID)
			if err != nil {
				return nil, fmt.Sprintf("ResourceInitializationError: unable to pull secrets or registry auth: retrieve secret %s for container %s: %v",
					model.Truncate(s.ValueFrom, 2048), c.Name, err)
			}
			if out == nil {
				out = map[string]map[string]string{}
			}
			if out[c.Name] == nil {
				out[c.Name] = map[string]string{}
			}
			out[c.Name][s.Name] = v
		}
	}
	return out, ""
}

// registryAuthOf reads the private registry credentials of the containers
// whose definitions name repositoryCredentials: a Secrets Manager secret
// whose value is {"username": ..., "password": ...}, read as the task's
// execution role may, as ECS reads it. A failure stops the task from
// starting, in ECS's words.
func (g *Gateway) registryAuthOf(ctx context.Context, td *model.TaskDefinition, taskID string) (map[string]flottaapi.RegistryAuth, string) {
	var out map[string]flottaapi.RegistryAuth
	for _, c := range td.ContainerDefinitions {
		if c.RepositoryCredentials == nil {
			continue
		}
		from := c.RepositoryCredentials.CredentialsParameter
		fail := func(why string) (map[string]flottaapi.RegistryAuth, string) {
			return nil, fmt.Sprintf("ResourceInitializationError: unable to pull secrets or registry auth: fetch registry credentials %s for container %s: %s",
				model.Truncate(from, 2048), c.Name, why)
		}
		if g.Secrets == nil {
			return fail("this server reads no secrets")
		}
		if td.ExecutionRoleArn == "" {
			return fail("the task definition names no executionRoleArn to read them with")
		}
		v, err := g.Secrets(ctx, from, td.ExecutionRoleArn, taskID)
		if err != nil {
			return fail(err.Error())
		}
		var auth flottaapi.RegistryAuth
		if json.Unmarshal([]byte(v), &auth) != nil || auth.Username == "" || auth.Password == "" {
			return fail(`the secret's value is not a JSON object with "username" and "password"`)
		}
		if out == nil {
			out = map[string]flottaapi.RegistryAuth{}
		}
		out[c.Name] = auth
	}
	return out, ""
}

func splitInstanceARN(arn string) (cluster, id string, err error) {
	cluster, id, err = model.ParseInstanceARN(arn)
	if err != nil {
		return "", "", model.InvalidParameter("containerInstanceArn must be a container instance ARN; got %q.", model.Truncate(arn, 300))
	}
	return cluster, id, nil
}

// instanceFor resolves an instance ARN and checks that the caller is its agent.
func (g *Gateway) instanceFor(ctx context.Context, arn string) (*state.InstanceRecord, error) {
	cluster, id, err := splitInstanceARN(arn)
	if err != nil {
		return nil, err
	}
	inst, err := g.State.GetInstance(ctx, cluster, id)
	if err != nil {
		return nil, err
	}
	if inst == nil {
		return nil, model.InvalidParameter("Unknown container instance %s.", arn)
	}
	p, _ := iam.PrincipalFrom(ctx)
	if p.ARN != inst.Principal && !p.IsRoot() {
		return nil, model.Errorf(model.CodeAccessDenied, "%s is not the agent of %s.", p.ARN, arn)
	}
	return inst, nil
}

func (g *Gateway) pollOpened(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.polls == nil {
		g.polls = map[string]int{}
	}
	g.polls[id]++
}

// pollClosed ends the instance's session at once when its agent hung up in
// the middle of a poll and has no other poll open: a killed agent's
// connection is closed by its kernel, so the server need not wait for the
// session lease to lapse to know that the agent is gone. An agent that
// vanishes without closing its connection (a lost machine, a partition) is
// noticed when the lease lapses, SessionTTL after its last poll.
func (g *Gateway) pollClosed(id string, hungUp bool) {
	g.mu.Lock()
	g.polls[id]--
	open := g.polls[id]
	if open == 0 {
		delete(g.polls, id)
	}
	lease, ok := g.leases[id]
	if hungUp && open == 0 && ok {
		delete(g.leases, id)
	} else {
		ok = false
	}
	g.mu.Unlock()
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.State.RevokeLease(ctx, lease); err != nil {
		g.Logger.Warn("end the session of a departed agent", "instance", id, "err", err)
		return
	}
	g.Logger.Info("agent hung up; its instance is disconnected", "instance", id)
}

// keepSession keeps the instance's session lease alive, making a new one when
// it has lapsed.
func (g *Gateway) keepSession(ctx context.Context, cluster, id string) error {
	g.mu.Lock()
	lease, ok := g.leases[id]
	g.mu.Unlock()
	if ok {
		alive, err := g.State.KeepAlive(ctx, lease)
		if err != nil {
			return err
		}
		if alive {
			return nil
		}
	}
	lease, err := g.State.GrantLease(ctx, SessionTTL)
	if err != nil {
		return err
	}
	if err := g.State.TouchSession(ctx, cluster, id, lease); err != nil {
		return err
	}
	g.mu.Lock()
	if g.leases == nil {
		g.leases = map[string]state.Lease{}
	}
	g.leases[id] = lease
	g.mu.Unlock()
	return nil
}

// Heartbeat keeps the sessions of up to 1000 instances alive on one shared
// lease, so that heartbeats of many simulated agents cost one renewal.
func (g *Gateway) Heartbeat(ctx context.Context, in *flottaapi.HeartbeatInput) (*flottaapi.HeartbeatOutput, error) {
	if len(in.ContainerInstanceArns) == 0 || len(in.ContainerInstanceArns) > 1000 {
		return nil, model.InvalidParameter("containerInstanceArns must name between 1 and 1000 container instances.")
	}
	byCluster := map[string][]string{}
	ids := make([]string, 0, len(in.ContainerInstanceArns))
	refs := make([]state.InstanceRef, 0, len(in.ContainerInstanceArns))
	for _, arn := range in.ContainerInstanceArns {
		cluster, id, err := splitInstanceARN(arn)
		if err != nil {
			return nil, err
		}
		byCluster[cluster] = append(byCluster[cluster], id)
		ids = append(ids, id)
		refs = append(refs, state.InstanceRef{Cluster: cluster, ID: id})
	}
	p, _ := iam.PrincipalFrom(ctx)
	for cluster, cids := range byCluster {
		found, err := g.State.GetInstances(ctx, cluster, cids)
		if err != nil {
			return nil, err
		}
		for _, id := range cids {
			inst, ok := found[id]
			if !ok {
				return nil, model.InvalidParameter("Unknown container instance %s in cluster %s.", id, cluster)
			}
			if p.ARN != inst.Principal && !p.IsRoot() {
				return nil, model.Errorf(model.CodeAccessDenied, "%s is not the agent of %s.", p.ARN, inst.Instance.ContainerInstanceArn)
			}
		}
	}
	key := strings.Join(ids, ",")
	g.mu.Lock()
	lease, ok := g.groups[key]
	g.mu.Unlock()
	if ok {
		alive, err := g.State.KeepAlive(ctx, lease)
		if err != nil {
			return nil, err
		}
		if alive {
			return &flottaapi.HeartbeatOutput{Sessions: len(ids)}, nil
		}
	}
	lease, err := g.State.GrantLease(ctx, SessionTTL)
	if err != nil {
		return nil, err
	}
	if err := g.State.TouchSessions(ctx, refs, lease); err != nil {
		return nil, err
	}
	g.mu.Lock()
	if g.groups == nil {
		g.groups = map[string]state.Lease{}
	}
	g.groups[key] = lease
	g.mu.Unlock()
	return &flottaapi.HeartbeatOutput{Sessions: len(ids)}, nil
}

// registryHold is how long a stopping task that is still registered in a
// Cloud Map service keeps running: long enough for the registries
// controller to deregister it and the DNS server to stop answering its
// address (tens of milliseconds), so that no answer names a stopped task.
const registryHold = 2 * time.Second

// registryHolds gives each stopping task of tasks that a service registry
// still holds a drain deadline of registryHold from now.
func (g *Gateway) registryHolds(ctx context.Context, tasks []*state.TaskRecord, stopping map[string]bool, now time.Time) (map[string]*model.Time, error) {
	out := map[string]*model.Time{}
	services := map[string]*state.ServiceRecord{}
	for _, t := range tasks {
		name, ok := strings.CutPrefix(t.Task.Group, "service:")
		if !ok || !stopping[t.Task.TaskArn] {
			continue
		}
		key := t.Cluster + "/" + name
		rec, seen := services[key]
		if !seen {
			var err error
			if rec, err = g.State.GetService(ctx, t.Cluster, name); err != nil {
				return nil, err
			}
			services[key] = rec
		}
		if rec == nil {
			continue
		}
		for _, reg := range rec.Service.ServiceRegistries {
			id, ok := reg.CloudMapServiceID()
			if !ok {
				continue
			}
			// The registries controller names a task's instance after it.
			_, err := g.State.GetSDInstance(ctx, id, t.ID)
			switch {
			case err == nil:
				out[t.Task.TaskArn] = model.At(now.Add(registryHold))
			case !errors.Is(err, state.ErrNotFound):
				return nil, err
			}
		}
	}
	return out, nil
}

// drainDeadlines says, for each running task that is to stop and that a
// load balancer has as a target, until when the load balancers drain it: the
// latest deregistration deadline of its targets, or now plus the group's
// deregistration delay for a target not yet deregistered (the targets
// controller is about to). The configuration is read only when some task
// is stopping.
func (g *Gateway) drainDeadlines(ctx context.Context, tasks []*state.TaskRecord) (map[string]*model.Time, error) {
	stopping := map[string]bool{}
	for _, t := range tasks {
		if t.Task.DesiredStatus == model.TaskStopped && (t.Task.LastStatus == model.TaskRunning || t.Task.LastStatus == model.TaskDeactivating) {
			stopping[t.Task.TaskArn] = true
		}
	}
	if len(stopping) == 0 {
		return nil, nil
	}
	cfg, err := g.State.ReadELB(ctx)
	if err != nil {
		return nil, err
	}
	now := g.State.Now()
	out, err := g.registryHolds(ctx, tasks, stopping, now)
	if err != nil {
		return nil, err
	}
	for _, tg := range cfg.TargetGroups {
		delay := tg.DeregistrationDelay()
		for _, tgt := range tg.Targets {
			if !stopping[tgt.TaskArn] {
				continue
			}
			until := tgt.DrainingUntil
			if !tgt.Draining() {
				until = now.Add(delay)
			}
			if !until.After(now) {
				continue
			}
			if cur := out[tgt.TaskArn]; cur == nil || until.After(cur.Time) {
				out[tgt.TaskArn] = model.At(until)
			}
		}
	}
	return out, nil
}
