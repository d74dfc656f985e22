package flottaapi

import (
	"encoding/json"

	"github.com/flotta-dev/flotta/internal/model"
)

// Event is one event of Flotta's event stream, in the EventBridge shape in
// which ECS sends its events ("ECS Task State Change", "ECS Container
// Instance State Change", "ECS Deployment State Change", "ECS Service
// Action"). ID is also a cursor: reading after it resumes the stream there.
type Event struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// The detail types of the stream.
const (
	TaskStateChange       = "ECS Task State Change"
	InstanceStateChange   = "ECS Container Instance State Change"
	DeploymentStateChange = "ECS Deployment State Change"
	ServiceAction         = "ECS Service Action"
)

// MaxEventsPerRead is the most events one GetEvents answer holds.
const MaxEventsPerRead = 1000

// GetEventsInput asks for the events after a cursor (FlottaV1.GetEvents).
type GetEventsInput struct {
	// Cursor is the ID of the last event seen, or a cursor a previous
	// answer returned; "" starts from now, or from Since.
	Cursor string `json:"cursor,omitempty"`
	// Since, without a cursor, starts from the first event at or after
	// this time that the server still keeps.
	Since *model.Time `json:"since,omitempty"`
	// MaxEvents bounds the answer (1 to 1000, default 100).
	MaxEvents int `json:"maxEvents,omitempty"`
	// WaitSeconds is how long to wait for an event when there is none yet
	// (0 to 20).
	WaitSeconds int `json:"waitSeconds,omitempty"`
	// Cluster and DetailTypes filter the events (by name or ARN, and by
	// detail-type); the cursor still moves past the others.
	Cluster     string   `json:"cluster,omitempty"`
	DetailTypes []string `json:"detailTypes,omitempty"`
}

// GetEventsOutput is a page of the stream.
type GetEventsOutput struct {
	Events []Event `json:"events"`
	// Cursor is where to read on from, whether or not events came.
	Cursor string `json:"cursor"`
}

// TaskDetail is the detail of a task state change: the task as
// DescribeTasks shows it, and when it changed.
type TaskDetail struct {
	model.Task
	UpdatedAt string `json:"updatedAt"`
}

// InstanceDetail is the detail of a container instance state change.
type InstanceDetail struct {
	model.ContainerInstance
	UpdatedAt string `json:"updatedAt"`
}

// DeploymentDetail is the detail of a deployment state change.
type DeploymentDetail struct {
	EventType    string `json:"eventType"`
	EventName    string `json:"eventName"`
	DeploymentID string `json:"deploymentId"`
	UpdatedAt    string `json:"updatedAt"`
	Reason       string `json:"reason"`
}

// ServiceActionDetail is the detail of a service action.
type ServiceActionDetail struct {
	EventType  string `json:"eventType"`
	EventName  string `json:"eventName"`
	ClusterArn string `json:"clusterArn"`
	CreatedAt  string `json:"createdAt"`
	Reason     string `json:"reason,omitempty"`
}
