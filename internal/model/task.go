package model

// Task statuses, in the order a task moves through them.
const (
	TaskProvisioning   = "PROVISIONING"
	TaskPending        = "PENDING"
	TaskActivating     = "ACTIVATING"
	TaskRunning        = "RUNNING"
	TaskDeactivating   = "DEACTIVATING"
	TaskStopping       = "STOPPING"
	TaskDeprovisioning = "DEPROVISIONING"
	TaskStopped        = "STOPPED"
)

var taskStatusOrder = map[string]int{
	TaskProvisioning: 1, TaskPending: 2, TaskActivating: 3, TaskRunning: 4,
	TaskDeactivating: 5, TaskStopping: 6, TaskDeprovisioning: 7, TaskStopped: 8,
}

// TaskStatusRank orders statuses; 0 is an unknown status.
func TaskStatusRank(s string) int { return taskStatusOrder[s] }

// IsTaskStatus says whether s is a task status.
func IsTaskStatus(s string) bool { return taskStatusOrder[s] > 0 }

// Stop codes.
const (
	StopTaskFailedToStart         = "TaskFailedToStart"
	StopEssentialContainerExited  = "EssentialContainerExited"
	StopUserInitiated             = "UserInitiated"
	StopServiceSchedulerInitiated = "ServiceSchedulerInitiated"
	StopInfrastructureHealth      = "InfrastructureHealth"
)

// Health statuses.
const (
	HealthHealthy   = "HEALTHY"
	HealthUnhealthy = "UNHEALTHY"
	HealthUnknown   = "UNKNOWN"
)

// Task is a running (or finished) instance of a task definition.
type Task struct {
	TaskArn              string        `json:"taskArn"`
	ClusterArn           string        `json:"clusterArn"`
	TaskDefinitionArn    string        `json:"taskDefinitionArn"`
	ContainerInstanceArn string        `json:"containerInstanceArn,omitempty"`
	Overrides            *TaskOverride `json:"overrides,omitempty"`
	LastStatus           string        `json:"lastStatus"`
	DesiredStatus        string        `json:"desiredStatus"`
	Cpu                  string        `json:"cpu,omitempty"`
	Memory               string        `json:"memory,omitempty"`
	Containers           []Container   `json:"containers"`
	StartedBy            string        `json:"startedBy,omitempty"`
	Version              int64         `json:"version"`
	StoppedReason        string        `json:"stoppedReason,omitempty"`
	StopCode             string        `json:"stopCode,omitempty"`
	Connectivity         string        `json:"connectivity,omitempty"`
	ConnectivityAt       *Time         `json:"connectivityAt,omitempty"`
	PullStartedAt        *Time         `json:"pullStartedAt,omitempty"`
	PullStoppedAt        *Time         `json:"pullStoppedAt,omitempty"`
	ExecutionStoppedAt   *Time         `json:"executionStoppedAt,omitempty"`
	CreatedAt            *Time         `json:"createdAt,omitempty"`
	StartedAt            *Time         `json:"startedAt,omitempty"`
	StoppingAt           *Time         `json:"stoppingAt,omitempty"`
	StoppedAt            *Time         `json:"stoppedAt,omitempty"`
	Group                string        `json:"group,omitempty"`
	LaunchType           string        `json:"launchType,omitempty"`
	Attachments          []Attachment  `json:"attachments"`
	HealthStatus         string        `json:"healthStatus,omitempty"`
	Tags                 []Tag         `json:"tags,omitzero"`
	AvailabilityZone     string        `json:"availabilityZone,omitempty"`
	Attributes           []Attribute   `json:"attributes,omitempty"`
	EnableExecuteCommand bool          `json:"enableExecuteCommand"`
	PlatformFamily       string        `json:"platformFamily,omitempty"`
}

// Container is the state of one container of a task.
type Container struct {
	ContainerArn      string             `json:"containerArn"`
	TaskArn           string             `json:"taskArn"`
	Name              string             `json:"name"`
	Image             string             `json:"image,omitempty"`
	ImageDigest       string             `json:"imageDigest,omitempty"`
	RuntimeID         string             `json:"runtimeId,omitempty"`
	LastStatus        string             `json:"lastStatus"`
	ExitCode          *int               `json:"exitCode,omitempty"`
	Reason            string             `json:"reason,omitempty"`
	NetworkBindings   []NetworkBinding   `json:"networkBindings"`
	NetworkInterfaces []NetworkInterface `json:"networkInterfaces"`
	HealthStatus      string             `json:"healthStatus,omitempty"`
	Cpu               string             `json:"cpu,omitempty"`
	Memory            string             `json:"memory,omitempty"`
	MemoryReservation string             `json:"memoryReservation,omitempty"`
}

// NetworkBinding is a host port that reaches a container port.
type NetworkBinding struct {
	BindIP        string `json:"bindIP,omitempty"`
	ContainerPort int    `json:"containerPort,omitempty"`
	HostPort      int    `json:"hostPort,omitempty"`
	Protocol      string `json:"protocol,omitempty"`
}

// NetworkInterface is a task's own address (awsvpc).
type NetworkInterface struct {
	AttachmentID       string `json:"attachmentId,omitempty"`
	PrivateIpv4Address string `json:"privateIpv4Address,omitempty"`
}

// TaskOverride changes a task definition for one task.
type TaskOverride struct {
	ContainerOverrides []ContainerOverride `json:"containerOverrides,omitempty"`
	Cpu                string              `json:"cpu,omitempty"`
	Memory             string              `json:"memory,omitempty"`
	TaskRoleArn        string              `json:"taskRoleArn,omitempty"`
	ExecutionRoleArn   string              `json:"executionRoleArn,omitempty"`
	EphemeralStorage   *EphemeralStorage   `json:"ephemeralStorage,omitempty"`
}

// ContainerOverride changes one container of a task definition for one task.
type ContainerOverride struct {
	Name                 string                `json:"name,omitempty"`
	Command              []string              `json:"command,omitempty"`
	Environment          []KeyValuePair        `json:"environment,omitempty"`
	EnvironmentFiles     []EnvironmentFile     `json:"environmentFiles,omitempty"`
	Cpu                  *int                  `json:"cpu,omitempty"`
	Memory               *int                  `json:"memory,omitempty"`
	MemoryReservation    *int                  `json:"memoryReservation,omitempty"`
	ResourceRequirements []ResourceRequirement `json:"resourceRequirements,omitempty"`
}
