package flottaapi

import "github.com/flotta-dev/flotta/internal/model"

// The ECS operations an agent calls, as it sends them and the server reads
// them (ECS's members, with Flotta's extensions noted).

// RegisterContainerInstanceInput registers (or re-registers) an instance.
type RegisterContainerInstanceInput struct {
	Cluster                  string             `json:"cluster"`
	InstanceIdentityDocument string             `json:"instanceIdentityDocument"`
	TotalResources           []model.Resource   `json:"totalResources"`
	VersionInfo              *model.VersionInfo `json:"versionInfo,omitempty"`
	ContainerInstanceArn     string             `json:"containerInstanceArn,omitempty"`
	Attributes               []model.Attribute  `json:"attributes"`
	Tags                     []model.Tag        `json:"tags,omitempty"`
}

// ContainerInstanceOutput answers RegisterContainerInstance and the
// operations that change one instance.
type ContainerInstanceOutput struct {
	ContainerInstance *model.ContainerInstance `json:"containerInstance"`
}

// ContainerStateChange is one container in a SubmitTaskStateChange. Beyond
// ECS's members, Flotta's agent also reports health and network interfaces.
type ContainerStateChange struct {
	ContainerName     string                   `json:"containerName"`
	ImageDigest       string                   `json:"imageDigest,omitempty"`
	RuntimeID         string                   `json:"runtimeId,omitempty"`
	ExitCode          *int                     `json:"exitCode,omitempty"`
	NetworkBindings   []model.NetworkBinding   `json:"networkBindings,omitempty"`
	Reason            string                   `json:"reason,omitempty"`
	Status            string                   `json:"status"`
	HealthStatus      string                   `json:"healthStatus,omitempty"`
	NetworkInterfaces []model.NetworkInterface `json:"networkInterfaces,omitempty"`
}

// Container is the change as the task's record keeps it.
func (c ContainerStateChange) Container() model.Container {
	return model.Container{Name: c.ContainerName, ImageDigest: c.ImageDigest, RuntimeID: c.RuntimeID, ExitCode: c.ExitCode,
		NetworkBindings: c.NetworkBindings, Reason: c.Reason, LastStatus: c.Status, HealthStatus: c.HealthStatus,
		NetworkInterfaces: c.NetworkInterfaces}
}

// SubmitTaskStateChangeInput is what an agent says about one of its tasks.
type SubmitTaskStateChangeInput struct {
	Cluster            string                 `json:"cluster"`
	Task               string                 `json:"task"`
	Status             string                 `json:"status"`
	Reason             string                 `json:"reason,omitempty"`
	Containers         []ContainerStateChange `json:"containers"`
	PullStartedAt      *model.Time            `json:"pullStartedAt,omitempty"`
	PullStoppedAt      *model.Time            `json:"pullStoppedAt,omitempty"`
	ExecutionStoppedAt *model.Time            `json:"executionStoppedAt,omitempty"`
	// Flotta's extensions.
	StopCode     string             `json:"stopCode,omitempty"`
	HealthStatus string             `json:"healthStatus,omitempty"`
	Attachments  []model.Attachment `json:"taskAttachments,omitempty"`
}

// SubmitContainerStateChangeInput is what an agent says about one container.
type SubmitContainerStateChangeInput struct {
	Cluster string `json:"cluster"`
	Task    string `json:"task"`
	ContainerStateChange
}

// Acknowledgment answers the state change submissions.
type Acknowledgment struct {
	Acknowledgment string `json:"acknowledgment"`
}
