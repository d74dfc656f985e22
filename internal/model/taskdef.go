package model

import "encoding/json"

// Task definition statuses.
const (
	TaskDefActive           = "ACTIVE"
	TaskDefInactive         = "INACTIVE"
	TaskDefDeleteInProgress = "DELETE_IN_PROGRESS"
)

// Network modes.
const (
	NetworkBridge = "bridge"
	NetworkHost   = "host"
	NetworkAwsvpc = "awsvpc"
	NetworkNone   = "none"
)

// Launch types and compatibilities.
const (
	CompatEC2              = "EC2"
	CompatFargate          = "FARGATE"
	CompatExternal         = "EXTERNAL"
	CompatManagedInstances = "MANAGED_INSTANCES"
)

// TaskDefinition is the recipe of a task: its containers and their resources.
// The same shape is the RegisterTaskDefinition input (less the fields ECS
// fills in), the stored record, and the DescribeTaskDefinition output.
type TaskDefinition struct {
	TaskDefinitionArn             string                              `json:"taskDefinitionArn,omitempty"`
	Family                        string                              `json:"family"`
	Revision                      int                                 `json:"revision,omitempty"`
	ContainerDefinitions          []ContainerDefinition               `json:"containerDefinitions"`
	TaskRoleArn                   string                              `json:"taskRoleArn,omitempty"`
	ExecutionRoleArn              string                              `json:"executionRoleArn,omitempty"`
	NetworkMode                   string                              `json:"networkMode,omitempty"`
	Volumes                       []Volume                            `json:"volumes"`
	Status                        string                              `json:"status,omitempty"`
	RequiresAttributes            []Attribute                         `json:"requiresAttributes,omitempty"`
	PlacementConstraints          []TaskDefinitionPlacementConstraint `json:"placementConstraints"`
	Compatibilities               []string                            `json:"compatibilities,omitempty"`
	RequiresCompatibilities       []string                            `json:"requiresCompatibilities,omitempty"`
	RuntimePlatform               *RuntimePlatform                    `json:"runtimePlatform,omitempty"`
	Cpu                           string                              `json:"cpu,omitempty"`
	Memory                        string                              `json:"memory,omitempty"`
	InferenceAccelerators         []InferenceAccelerator              `json:"inferenceAccelerators,omitempty"`
	PidMode                       string                              `json:"pidMode,omitempty"`
	IpcMode                       string                              `json:"ipcMode,omitempty"`
	ProxyConfiguration            *ProxyConfiguration                 `json:"proxyConfiguration,omitempty"`
	EphemeralStorage              *EphemeralStorage                   `json:"ephemeralStorage,omitempty"`
	EnableFaultInjection          *bool                               `json:"enableFaultInjection,omitempty"`
	TrustedExecutionConfiguration json.RawMessage                     `json:"trustedExecutionConfiguration,omitempty"`
	RegisteredAt                  *Time                               `json:"registeredAt,omitempty"`
	RegisteredBy                  string                              `json:"registeredBy,omitempty"`
	DeregisteredAt                *Time                               `json:"deregisteredAt,omitempty"`
	DeleteRequestedAt             *Time                               `json:"deleteRequestedAt,omitempty"`
}

// ContainerDefinition describes one container of a task.
type ContainerDefinition struct {
	Name                   string                  `json:"name"`
	Image                  string                  `json:"image"`
	RepositoryCredentials  *RepositoryCredentials  `json:"repositoryCredentials,omitempty"`
	Cpu                    int                     `json:"cpu"`
	Memory                 *int                    `json:"memory,omitempty"`
	MemoryReservation      *int                    `json:"memoryReservation,omitempty"`
	Links                  []string                `json:"links,omitempty"`
	PortMappings           []PortMapping           `json:"portMappings"`
	Essential              *bool                   `json:"essential,omitempty"`
	RestartPolicy          *ContainerRestartPolicy `json:"restartPolicy,omitempty"`
	EntryPoint             []string                `json:"entryPoint,omitempty"`
	Command                []string                `json:"command,omitempty"`
	Environment            []KeyValuePair          `json:"environment"`
	EnvironmentFiles       []EnvironmentFile       `json:"environmentFiles,omitempty"`
	MountPoints            []MountPoint            `json:"mountPoints"`
	VolumesFrom            []VolumeFrom            `json:"volumesFrom"`
	LinuxParameters        *LinuxParameters        `json:"linuxParameters,omitempty"`
	Secrets                []Secret                `json:"secrets,omitempty"`
	DependsOn              []ContainerDependency   `json:"dependsOn,omitempty"`
	StartTimeout           *int                    `json:"startTimeout,omitempty"`
	StopTimeout            *int                    `json:"stopTimeout,omitempty"`
	VersionConsistency     string                  `json:"versionConsistency,omitempty"`
	Hostname               string                  `json:"hostname,omitempty"`
	User                   string                  `json:"user,omitempty"`
	WorkingDirectory       string                  `json:"workingDirectory,omitempty"`
	DisableNetworking      *bool                   `json:"disableNetworking,omitempty"`
	Privileged             *bool                   `json:"privileged,omitempty"`
	ReadonlyRootFilesystem *bool                   `json:"readonlyRootFilesystem,omitempty"`
	DNSServers             []string                `json:"dnsServers,omitempty"`
	DNSSearchDomains       []string                `json:"dnsSearchDomains,omitempty"`
	ExtraHosts             []HostEntry             `json:"extraHosts,omitempty"`
	DockerSecurityOptions  []string                `json:"dockerSecurityOptions,omitempty"`
	Interactive            *bool                   `json:"interactive,omitempty"`
	PseudoTerminal         *bool                   `json:"pseudoTerminal,omitempty"`
	DockerLabels           map[string]string       `json:"dockerLabels,omitempty"`
	Ulimits                []Ulimit                `json:"ulimits,omitempty"`
	LogConfiguration       *LogConfiguration       `json:"logConfiguration,omitempty"`
	HealthCheck            *HealthCheck            `json:"healthCheck,omitempty"`
	SystemControls         []SystemControl         `json:"systemControls"`
	ResourceRequirements   []ResourceRequirement   `json:"resourceRequirements,omitempty"`
	FirelensConfiguration  *FirelensConfiguration  `json:"firelensConfiguration,omitempty"`
	CredentialSpecs        []string                `json:"credentialSpecs,omitempty"`
}

// IsEssential reports the effective essential flag: ECS treats an absent one as true.
func (c *ContainerDefinition) IsEssential() bool { return c.Essential == nil || *c.Essential }

// RepositoryCredentials names a secret with private registry credentials.
type RepositoryCredentials struct {
	CredentialsParameter string `json:"credentialsParameter"`
}

// PortMapping publishes a container port.
type PortMapping struct {
	ContainerPort      *int   `json:"containerPort,omitempty"`
	HostPort           *int   `json:"hostPort,omitempty"`
	Protocol           string `json:"protocol,omitempty"`
	Name               string `json:"name,omitempty"`
	AppProtocol        string `json:"appProtocol,omitempty"`
	ContainerPortRange string `json:"containerPortRange,omitempty"`
}

// ContainerRestartPolicy restarts a container in place when it exits.
type ContainerRestartPolicy struct {
	Enabled              *bool `json:"enabled"`
	IgnoredExitCodes     []int `json:"ignoredExitCodes,omitempty"`
	RestartAttemptPeriod *int  `json:"restartAttemptPeriod,omitempty"`
}

// EnvironmentFile is a file of environment variables in S3.
type EnvironmentFile struct {
	Value string `json:"value"`
	Type  string `json:"type"`
}

// MountPoint mounts a task volume into a container.
type MountPoint struct {
	SourceVolume  string `json:"sourceVolume,omitempty"`
	ContainerPath string `json:"containerPath,omitempty"`
	ReadOnly      *bool  `json:"readOnly,omitempty"`
}

// VolumeFrom mounts all volumes of another container.
type VolumeFrom struct {
	SourceContainer string `json:"sourceContainer,omitempty"`
	ReadOnly        *bool  `json:"readOnly,omitempty"`
}

// LinuxParameters are Linux-specific container options.
type LinuxParameters struct {
	Capabilities       *KernelCapabilities `json:"capabilities,omitempty"`
	Devices            []Device            `json:"devices,omitempty"`
	InitProcessEnabled *bool               `json:"initProcessEnabled,omitempty"`
	SharedMemorySize   *int                `json:"sharedMemorySize,omitempty"`
	Tmpfs              []Tmpfs             `json:"tmpfs,omitempty"`
	MaxSwap            *int                `json:"maxSwap,omitempty"`
	Swappiness         *int                `json:"swappiness,omitempty"`
}

// KernelCapabilities adds or drops Linux capabilities.
type KernelCapabilities struct {
	Add  []string `json:"add,omitempty"`
	Drop []string `json:"drop,omitempty"`
}

// Device exposes a host device to a container.
type Device struct {
	HostPath      string   `json:"hostPath"`
	ContainerPath string   `json:"containerPath,omitempty"`
	Permissions   []string `json:"permissions,omitempty"`
}

// Tmpfs mounts a tmpfs into a container.
type Tmpfs struct {
	ContainerPath string   `json:"containerPath"`
	Size          int      `json:"size"`
	MountOptions  []string `json:"mountOptions,omitempty"`
}

// Secret injects a secret as an environment variable.
type Secret struct {
	Name      string `json:"name"`
	ValueFrom string `json:"valueFrom"`
}

// ContainerDependency orders container startup.
type ContainerDependency struct {
	ContainerName string `json:"containerName"`
	Condition     string `json:"condition"`
}

// HostEntry adds a line to /etc/hosts.
type HostEntry struct {
	Hostname  string `json:"hostname"`
	IPAddress string `json:"ipAddress"`
}

// Ulimit sets a resource limit.
type Ulimit struct {
	Name      string `json:"name"`
	SoftLimit int    `json:"softLimit"`
	HardLimit int    `json:"hardLimit"`
}

// LogConfiguration chooses a container's log driver.
type LogConfiguration struct {
	LogDriver     string            `json:"logDriver"`
	Options       map[string]string `json:"options,omitempty"`
	SecretOptions []Secret          `json:"secretOptions,omitempty"`
}

// HealthCheck is a container health check, run inside the container.
type HealthCheck struct {
	Command     []string `json:"command"`
	Interval    *int     `json:"interval,omitempty"`
	Timeout     *int     `json:"timeout,omitempty"`
	Retries     *int     `json:"retries,omitempty"`
	StartPeriod *int     `json:"startPeriod,omitempty"`
}

// SystemControl sets a namespaced kernel parameter.
type SystemControl struct {
	Namespace string `json:"namespace,omitempty"`
	Value     string `json:"value,omitempty"`
}

// ResourceRequirement reserves GPUs or an inference accelerator.
type ResourceRequirement struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// FirelensConfiguration configures a FireLens log router.
type FirelensConfiguration struct {
	Type    string            `json:"type"`
	Options map[string]string `json:"options,omitempty"`
}

// Volume is a task-level volume that containers mount.
type Volume struct {
	Name                      string                     `json:"name,omitempty"`
	Host                      *HostVolumeProperties      `json:"host,omitempty"`
	DockerVolumeConfiguration *DockerVolumeConfiguration `json:"dockerVolumeConfiguration,omitempty"`
	EfsVolumeConfiguration    *EFSVolumeConfiguration    `json:"efsVolumeConfiguration,omitempty"`
	FsxWindowsFileServer      json.RawMessage            `json:"fsxWindowsFileServerVolumeConfiguration,omitempty"`
	ConfiguredAtLaunch        *bool                      `json:"configuredAtLaunch,omitempty"`
}

// EFSVolumeConfiguration mounts an Amazon EFS file system.
type EFSVolumeConfiguration struct {
	FileSystemID          string                  `json:"fileSystemId"`
	RootDirectory         string                  `json:"rootDirectory,omitempty"`
	TransitEncryption     string                  `json:"transitEncryption,omitempty"`
	TransitEncryptionPort *int                    `json:"transitEncryptionPort,omitempty"`
	AuthorizationConfig   *EFSAuthorizationConfig `json:"authorizationConfig,omitempty"`
}

// EFSAuthorizationConfig names an access point and whether IAM authorizes the mount.
type EFSAuthorizationConfig struct {
	AccessPointID string `json:"accessPointId,omitempty"`
	IAM           string `json:"iam,omitempty"`
}

// HostVolumeProperties binds a host path.
type HostVolumeProperties struct {
	SourcePath string `json:"sourcePath,omitempty"`
}

// DockerVolumeConfiguration is a Docker-managed volume.
type DockerVolumeConfiguration struct {
	Scope         string            `json:"scope,omitempty"`
	Autoprovision *bool             `json:"autoprovision,omitempty"`
	Driver        string            `json:"driver,omitempty"`
	DriverOpts    map[string]string `json:"driverOpts,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
}

// Attribute is a name (and optional value) that an instance has or a task needs.
type Attribute struct {
	Name       string `json:"name"`
	Value      string `json:"value,omitempty"`
	TargetType string `json:"targetType,omitempty"`
	TargetID   string `json:"targetId,omitempty"`
}

// TaskDefinitionPlacementConstraint is a memberOf constraint in a task definition.
type TaskDefinitionPlacementConstraint struct {
	Type       string `json:"type,omitempty"`
	Expression string `json:"expression,omitempty"`
}

// RuntimePlatform names the operating system and CPU architecture.
type RuntimePlatform struct {
	CpuArchitecture       string `json:"cpuArchitecture,omitempty"`
	OperatingSystemFamily string `json:"operatingSystemFamily,omitempty"`
}

// InferenceAccelerator is an Elastic Inference accelerator.
type InferenceAccelerator struct {
	DeviceName string `json:"deviceName"`
	DeviceType string `json:"deviceType"`
}

// ProxyConfiguration configures an App Mesh proxy.
type ProxyConfiguration struct {
	Type          string         `json:"type,omitempty"`
	ContainerName string         `json:"containerName"`
	Properties    []KeyValuePair `json:"properties,omitempty"`
}

// EphemeralStorage sizes a Fargate task's ephemeral storage.
type EphemeralStorage struct {
	SizeInGiB int `json:"sizeInGiB"`
}
