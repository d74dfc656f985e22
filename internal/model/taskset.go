package model

import (
	"encoding/json"
	"math"
)

// Deployment controller types.
const (
	DeploymentControllerECS        = "ECS"
	DeploymentControllerCodeDeploy = "CODE_DEPLOY"
	DeploymentControllerExternal   = "EXTERNAL"
)

// Task set statuses and stability states.
const (
	TaskSetPrimary  = "PRIMARY"
	TaskSetActive   = "ACTIVE"
	TaskSetDraining = "DRAINING"

	StabilitySteady      = "STEADY_STATE"
	StabilityStabilizing = "STABILIZING"

	ScalePercent = "PERCENT"
)

// MaxTaskSets is how many task sets a service may have at once (ECS's
// "Task sets per service" quota).
const MaxTaskSets = 5

// TaskSet is one version of an EXTERNAL service's tasks, which a deployment
// tool outside ECS creates, scales and deletes. Its tasks run as long as it
// exists: ECS replaces those that fail, and nothing else.
type TaskSet struct {
	ID                   string            `json:"id"`
	TaskSetArn           string            `json:"taskSetArn"`
	ServiceArn           string            `json:"serviceArn"`
	ClusterArn           string            `json:"clusterArn"`
	StartedBy            string            `json:"startedBy,omitempty"`
	ExternalID           string            `json:"externalId,omitempty"`
	Status               string            `json:"status"`
	TaskDefinition       string            `json:"taskDefinition"`
	ComputedDesiredCount int               `json:"computedDesiredCount"`
	PendingCount         int               `json:"pendingCount"`
	RunningCount         int               `json:"runningCount"`
	CreatedAt            *Time             `json:"createdAt,omitempty"`
	UpdatedAt            *Time             `json:"updatedAt,omitempty"`
	LaunchType           string            `json:"launchType,omitempty"`
	NetworkConfiguration json.RawMessage   `json:"networkConfiguration,omitempty"`
	LoadBalancers        []LoadBalancer    `json:"loadBalancers"`
	ServiceRegistries    []json.RawMessage `json:"serviceRegistries"`
	Scale                *Scale            `json:"scale,omitempty"`
	StabilityStatus      string            `json:"stabilityStatus"`
	StabilityStatusAt    *Time             `json:"stabilityStatusAt,omitempty"`
	Tags                 []Tag             `json:"tags,omitzero"`
}

// Scale is the share of a service's desired count that a task set runs.
type Scale struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
}

// ComputedDesiredCount is how many tasks a task set of this scale runs in
// a service that wants desired: the percentage of desired, rounded up.
func ComputedDesiredCount(s *Scale, desired int) int {
	if s == nil || desired <= 0 || s.Value <= 0 {
		return 0
	}
	// The epsilon keeps a product such as 0.07 x 100 that floats make a
	// hair above a whole number from rounding up once more.
	return int(math.Ceil(s.Value*float64(desired)/100 - 1e-9))
}

// ValidateScale checks a task set's scale as ECS does: a percentage from 0
// to 100.
func ValidateScale(s *Scale) error {
	if s == nil {
		return nil
	}
	if s.Unit != "" && s.Unit != ScalePercent {
		return InvalidParameter("scale.unit should be one of [PERCENT]")
	}
	if math.IsNaN(s.Value) || s.Value < 0 || s.Value > 100 {
		return InvalidParameter("scale.value must be between 0 and 100; got %v.", s.Value)
	}
	return nil
}

// IsExternal says a service's deployments are a tool's own, made of task
// sets (deployment controller EXTERNAL).
func (s *Service) IsExternal() bool {
	return s.DeploymentController != nil && s.DeploymentController.Type == DeploymentControllerExternal
}

// TaskSetByID finds a task set of the service, nil if none.
func (s *Service) TaskSetByID(id string) *TaskSet {
	for i := range s.TaskSets {
		if s.TaskSets[i].ID == id {
			return &s.TaskSets[i]
		}
	}
	return nil
}
