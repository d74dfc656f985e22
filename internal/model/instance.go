package model

// Container instance statuses.
const (
	InstanceActive      = "ACTIVE"
	InstanceDraining    = "DRAINING"
	InstanceInactive    = "INACTIVE"
	InstanceRegistering = "REGISTERING"
)

// Resource names of a container instance.
const (
	ResourceCPU      = "CPU"
	ResourceMemory   = "MEMORY"
	ResourcePorts    = "PORTS"
	ResourcePortsUDP = "PORTS_UDP"
	ResourceGPU      = "GPU"
)

// Attribute names every agent registers.
const (
	AttrOSType       = "ecs.os-type"
	AttrCPUArch      = "ecs.cpu-architecture"
	AttrZone         = "ecs.availability-zone"
	AttrInstanceType = "ecs.instance-type"
	AttrAMI          = "ecs.ami-id"
	AttrOSFamily     = "ecs.os-family"
	// AttrHostAddress is Flotta's own: the address at which the host's
	// published ports (a bridge or host mode task's host ports) are
	// reached, which load balancers send traffic to.
	AttrHostAddress = "com.flotta.host-address"
)

// ContainerInstance is a machine that runs the flotta agent.
type ContainerInstance struct {
	ContainerInstanceArn string       `json:"containerInstanceArn"`
	Ec2InstanceID        string       `json:"ec2InstanceId,omitempty"`
	Version              int64        `json:"version"`
	VersionInfo          *VersionInfo `json:"versionInfo,omitempty"`
	RemainingResources   []Resource   `json:"remainingResources"`
	RegisteredResources  []Resource   `json:"registeredResources"`
	Status               string       `json:"status"`
	StatusReason         string       `json:"statusReason,omitempty"`
	AgentConnected       bool         `json:"agentConnected"`
	RunningTasksCount    int          `json:"runningTasksCount"`
	PendingTasksCount    int          `json:"pendingTasksCount"`
	Attributes           []Attribute  `json:"attributes"`
	RegisteredAt         *Time        `json:"registeredAt,omitempty"`
	Tags                 []Tag        `json:"tags,omitzero"`
	CapacityProviderName string       `json:"capacityProviderName,omitempty"`
	AgentUpdateStatus    string       `json:"agentUpdateStatus,omitempty"`
	Attachments          []Attachment `json:"attachments,omitempty"`
}

// VersionInfo is what an agent says about itself and its Docker engine.
type VersionInfo struct {
	AgentVersion  string `json:"agentVersion,omitempty"`
	AgentHash     string `json:"agentHash,omitempty"`
	DockerVersion string `json:"dockerVersion,omitempty"`
}

// Resource is one kind of capacity of a container instance.
type Resource struct {
	Name           string   `json:"name"`
	Type           string   `json:"type"`
	IntegerValue   int      `json:"integerValue,omitempty"`
	LongValue      int64    `json:"longValue,omitempty"`
	DoubleValue    float64  `json:"doubleValue,omitempty"`
	StringSetValue []string `json:"stringSetValue,omitempty"`
}

// IntResource makes an INTEGER resource.
func IntResource(name string, v int) Resource {
	return Resource{Name: name, Type: "INTEGER", IntegerValue: v}
}

// PortsResource makes a STRINGSET resource of port numbers.
func PortsResource(name string, ports []string) Resource {
	if ports == nil {
		ports = []string{}
	}
	return Resource{Name: name, Type: "STRINGSET", StringSetValue: ports}
}

// FindResource returns the resource of that name, or a zero one.
func FindResource(rs []Resource, name string) Resource {
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	return Resource{Name: name}
}

// AttributeValue returns an attribute's value and whether it is set.
func AttributeValue(attrs []Attribute, name string) (string, bool) {
	for _, a := range attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}
