// Package runtime defines what the agent needs from a container engine: an
// interface small enough for a fake (for tests and simulation) and a Docker
// driver (the only code that imports the Docker SDK) to implement.
package runtime

import (
	"context"
	"errors"
	"time"
)

// Labels every container the agent creates carries, so that a restarted
// agent finds and adopts what runs instead of starting it again.
const (
	LabelInstance  = "com.flotta.instance"
	LabelTask      = "com.flotta.task-arn"
	LabelContainer = "com.flotta.container-name"
	LabelCluster   = "com.flotta.cluster"
	// PauseContainer is the LabelContainer value of an awsvpc task's network holder.
	PauseContainer = "~pause"
)

// ErrNotFound is returned for a container or image the engine does not have.
var ErrNotFound = errors.New("not found")

// Info describes the engine and its machine.
type Info struct {
	Version    string
	APIVersion string
	CPUs       int
	MemoryMiB  int
	OS         string
	Arch       string
}

// PortBinding publishes a container port; HostPort 0 lets the engine choose.
type PortBinding struct {
	ContainerPort int
	HostPort      int
	Protocol      string
}

// HealthCheck is a container health check run by the engine.
type HealthCheck struct {
	Test        []string
	Interval    time.Duration
	Timeout     time.Duration
	Retries     int
	StartPeriod time.Duration
}

// Mount binds a host path or a named volume into a container.
type Mount struct {
	// Source is a host path (Bind) or a volume name.
	Source   string
	Target   string
	ReadOnly bool
	Bind     bool
}

// Ulimit is a resource limit.
type Ulimit struct {
	Name       string
	Soft, Hard int64
}

// ContainerSpec is everything needed to create a container.
type ContainerSpec struct {
	Name              string
	Image             string
	Entrypoint        []string
	Cmd               []string
	Env               []string
	User              string
	WorkingDir        string
	Hostname          string
	Labels            map[string]string
	CPUShares         int64
	MemoryBytes       int64
	MemoryReservation int64
	// NetworkMode is bridge, host, none, container:<id>, or a network name.
	NetworkMode    string
	Ports          []PortBinding
	ReadonlyRootfs bool
	Privileged     bool
	Init           bool
	CapAdd         []string
	CapDrop        []string
	Ulimits        []Ulimit
	Health         *HealthCheck
	Mounts         []Mount
	VolumesFrom    []string
	Links          []string
	ExtraHosts     []string
	DNS            []string
	DNSSearch      []string
	SecurityOpt    []string
	Sysctls        map[string]string
	ShmSizeBytes   int64
	Tmpfs          map[string]string
	LogDriver      string
	LogOptions     map[string]string
	StopTimeout    time.Duration
}

// ContainerState is what the engine knows of a container.
type ContainerState struct {
	ID         string
	Name       string
	Image      string
	ImageID    string
	Labels     map[string]string
	Created    bool // created but never started
	Running    bool
	ExitCode   int
	Error      string
	OOMKilled  bool
	StartedAt  time.Time
	FinishedAt time.Time
	// Health is healthy, unhealthy, starting, or "" without a health check.
	Health string
	Ports  []PortBinding
	// IPs maps network names to the container's address on them.
	IPs map[string]string
}

// Exited says whether the container ran and stopped.
func (s ContainerState) Exited() bool { return !s.Running && !s.Created }

// Event is a change of a container the engine tells about.
type Event struct {
	ContainerID string
	// Action is start, die, or health_status.
	Action string
}

// Runtime is a container engine.
type Runtime interface {
	Info(ctx context.Context) (Info, error)
	// ImagePresent says whether the image is available locally.
	ImagePresent(ctx context.Context, image string) (bool, error)
	// PullImage pulls image, with auth for a private registry when it is
	// not nil.
	PullImage(ctx context.Context, image string, auth *RegistryAuth) error
	CreateContainer(ctx context.Context, spec ContainerSpec) (string, error)
	StartContainer(ctx context.Context, id string) error
	// StopContainer sends SIGTERM, then SIGKILL after timeout.
	StopContainer(ctx context.Context, id string, timeout time.Duration) error
	RemoveContainer(ctx context.Context, id string) error
	InspectContainer(ctx context.Context, id string) (ContainerState, error)
	// ListContainers returns the containers (running or not) with all the labels.
	ListContainers(ctx context.Context, labels map[string]string) ([]ContainerState, error)
	// Events streams container events for containers with all the labels,
	// until ctx ends.
	Events(ctx context.Context, labels map[string]string) (<-chan Event, <-chan error)
	// EnsureNetwork creates a bridge network unless it exists.
	EnsureNetwork(ctx context.Context, name string, labels map[string]string) error
	// EnsureVolume creates a named volume unless it exists.
	EnsureVolume(ctx context.Context, name, driver string, opts, labels map[string]string) error
	RemoveVolume(ctx context.Context, name string) error
}

// RegistryAuth is a user name and password for the registry an image is
// pulled from.
type RegistryAuth struct {
	Username string
	Password string
}
