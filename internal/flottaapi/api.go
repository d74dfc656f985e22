// Package flottaapi declares, once, the shapes of what Flotta's programs say
// to each other beyond ECS: the agent protocol (join, poll, heartbeat), join
// tokens, the plans (PlanTasks, PlanServiceUpdate) and the event stream; the
// ECS operations that the agent calls, as it sends them; and the signed JSON
// client that the agent, the CLI and the tests use to call any AWS JSON 1.1
// operation of a Flotta server. The server's handlers decode into these
// shapes and the clients encode them, so the two cannot drift apart.
package flottaapi

import "github.com/flotta-dev/flotta/internal/model"

// Target prefixes of X-Amz-Target.
const (
	// ECSTarget names ECS's operations.
	ECSTarget = "AmazonEC2ContainerServiceV20141113"
	// FlottaTarget names Flotta's own operations.
	FlottaTarget = "FlottaV1"
)

// ContentType is the media type of AWS JSON 1.1 requests and answers.
const ContentType = "application/x-amz-json-1.1"

// CreateJoinTokenInput asks for a join token.
type CreateJoinTokenInput struct {
	TTLSeconds int `json:"ttlSeconds,omitempty"`
	Uses       int `json:"uses,omitempty"`
}

// CreateJoinTokenOutput carries the token, shown once.
type CreateJoinTokenOutput struct {
	Token     string      `json:"token"`
	ExpiresAt *model.Time `json:"expiresAt"`
	Uses      int         `json:"uses"`
}

// ListJoinTokensInput asks for the join tokens that can still be used, and
// those that expired or were used up in the last day.
type ListJoinTokensInput struct{}

// JoinTokenSummary describes a join token; its secret is never shown again.
type JoinTokenSummary struct {
	ID        string      `json:"id"`
	ExpiresAt *model.Time `json:"expiresAt"`
	UsesLeft  int         `json:"usesLeft"`
	CreatedBy string      `json:"createdBy"`
	// Usable is false once the token expired or is used up.
	Usable bool `json:"usable"`
}

// ListJoinTokensOutput lists join tokens, by id.
type ListJoinTokensOutput struct {
	Tokens []JoinTokenSummary `json:"tokens"`
}

// RevokeJoinTokenInput names a join token to delete: its id, or the whole token.
type RevokeJoinTokenInput struct {
	ID string `json:"id"`
}

// JoinInput presents a join token.
type JoinInput struct {
	Token string `json:"token"`
}

// JoinOutput is an agent's new identity.
type JoinOutput struct {
	AgentID         string `json:"agentId"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	Region          string `json:"region"`
	AccountID       string `json:"accountId"`
}

// PollInput asks for an instance's tasks once they change after Revision.
type PollInput struct {
	ContainerInstanceArn string `json:"containerInstanceArn"`
	Revision             int64  `json:"revision"`
	WaitSeconds          int    `json:"waitSeconds"`
}

// Assignment is one task an agent must run or stop, with its recipe.
type Assignment struct {
	Task       model.Task           `json:"task"`
	Definition model.TaskDefinition `json:"definition"`
	// Secrets are the values of the definition's secrets (container name,
	// then variable name), read from Parameter Store and Secrets Manager
	// for a task that is to run; only its own agent ever gets them.
	Secrets map[string]map[string]string `json:"secrets,omitempty"`
	// RegistryAuth are the private registry credentials of the containers
	// whose definitions name repositoryCredentials (by container name),
	// read like Secrets, for a task that is to run.
	RegistryAuth map[string]RegistryAuth `json:"registryAuth,omitempty"`
	// SecretsError says why they could not be read: the task cannot start.
	SecretsError string `json:"secretsError,omitempty"`
	// RoleCredentials are the current temporary credentials of the task's
	// role (taskRoleArn), for a task that is to run or runs; only its own
	// agent gets them, and serves them to the task's containers.
	RoleCredentials *RoleCredentials `json:"roleCredentials,omitempty"`
	// DrainUntil is set for a running task that is to stop while load
	// balancers drain it (its targets are deregistering): the agent keeps
	// it running until then, so that requests in flight finish, and stops
	// it after. ECS's agent waits the same way.
	DrainUntil *model.Time `json:"drainUntil,omitempty"`
	// RoleError says why the task's role could not be assumed: a task that
	// has not started yet cannot start.
	RoleError string `json:"roleError,omitempty"`
}

// RegistryAuth is a user name and password for a private registry, from
// the Secrets Manager secret a container's repositoryCredentials names.
type RegistryAuth struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// RoleCredentials are a task role's temporary credentials.
type RoleCredentials struct {
	AccessKeyID     string      `json:"accessKeyId"`
	SecretAccessKey string      `json:"secretAccessKey"`
	SessionToken    string      `json:"sessionToken"`
	Expiration      *model.Time `json:"expiration"`
	RoleArn         string      `json:"roleArn"`
}

// PollOutput is the whole desired state of an instance.
type PollOutput struct {
	Revision       int64        `json:"revision"`
	InstanceStatus string       `json:"instanceStatus"`
	Tasks          []Assignment `json:"tasks"`
}

// HeartbeatInput keeps many instances' sessions alive in one call: what a
// simulation (or a proxy for many agents) sends instead of one poll each.
type HeartbeatInput struct {
	ContainerInstanceArns []string `json:"containerInstanceArns"`
}

// HeartbeatOutput says how many sessions are alive.
type HeartbeatOutput struct {
	Sessions int `json:"sessions"`
}

// PlanPlacement is where a planned task would go.
type PlanPlacement struct {
	ContainerInstanceArn string `json:"containerInstanceArn"`
	AvailabilityZone     string `json:"availabilityZone,omitempty"`
}

// PlanReason counts the instances that one reason ruled out.
type PlanReason struct {
	Reason    string `json:"reason"`
	Instances int    `json:"instances"`
}

// Failure is ECS's per-item failure.
type Failure struct {
	Arn    string `json:"arn,omitempty"`
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// PlanTasksOutput is where RunTask would place its tasks, and why not.
type PlanTasksOutput struct {
	Placements []PlanPlacement `json:"placements"`
	Failures   []Failure       `json:"failures"`
	// Reasons count, over every instance, why it could not take the next task.
	Reasons []PlanReason `json:"reasons"`
}

// PlannedTask is a task a rollout would start or stop.
type PlannedTask struct {
	Task             string `json:"task,omitempty"`
	Instance         string `json:"containerInstanceArn,omitempty"`
	AvailabilityZone string `json:"availabilityZone,omitempty"`
	TaskDefinition   string `json:"taskDefinition"`
}

// RolloutStep is one reconcile of a planned rollout: what it stops, what it
// starts, the fewest healthy tasks while the new ones come up, and the
// tasks that exist at its end.
type RolloutStep struct {
	Stop       int `json:"stop"`
	Start      int `json:"start"`
	MinHealthy int `json:"fewestHealthy"`
	Tasks      int `json:"tasks"`
}

// RolloutPlan is what an UpdateService would do, worked out without doing
// it: the answer of PlanServiceUpdate.
type RolloutPlan struct {
	NewDeployment       bool   `json:"newDeployment"`
	DesiredCount        int    `json:"desiredCount"`
	RunningCount        int    `json:"runningCount"`
	MinimumHealthyTasks int    `json:"minimumHealthyTasks"`
	MaximumTasks        int    `json:"maximumTasks"`
	TaskDefinition      string `json:"taskDefinition"`
	// Starts and Stops are the first step's tasks, with where they go.
	Starts []PlannedTask `json:"starts"`
	Stops  []PlannedTask `json:"stops"`
	// Capacity is how many tasks of the new revision fit on the cluster now,
	// and CapacityNeeded how many the first step starts at maximumPercent.
	Capacity       int           `json:"capacity"`
	CapacityNeeded int           `json:"capacityNeeded"`
	Steps          []RolloutStep `json:"steps"`
	// Stalls says the rollout cannot finish as configured; Note says why.
	Stalls bool   `json:"stalls"`
	Note   string `json:"note,omitempty"`
}
