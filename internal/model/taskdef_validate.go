package model

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Limits of a task definition.
const (
	MaxContainers               = 10
	MaxTaskDefinitionBytes      = 64 * 1024
	MaxTaskPlacementConstraints = 10
)

// PrepareTaskDefinition validates a task definition as RegisterTaskDefinition
// receives it and fills in what ECS fills in: normalised cpu and memory
// strings, essential flags, port protocols, health check defaults, empty lists,
// compatibilities and required attributes. It does not set the ARN, revision,
// status or timestamps, which belong to the registration itself.
func PrepareTaskDefinition(td *TaskDefinition) error {
	// Each container's name and image first, as ECS answers them before
	// anything at the task's level (moto's tests expect this order).
	for _, c := range td.ContainerDefinitions {
		if c.Name == "" {
			return Client("Container.name should not be null or empty.")
		}
		if strings.TrimSpace(c.Image) == "" {
			return Client("Container.image should not be null or empty.")
		}
	}
	if err := validateTaskLevel(td); err != nil {
		return err
	}
	if err := validateContainers(td); err != nil {
		return err
	}
	if b, _ := json.Marshal(td); len(b) > MaxTaskDefinitionBytes {
		return Client("Task definition size exceeds the maximum allowed size: it is %d bytes, the limit is %d.", len(b), MaxTaskDefinitionBytes)
	}
	fillDefaults(td)
	return nil
}

func requiresFargate(td *TaskDefinition) bool {
	return slices.Contains(td.RequiresCompatibilities, CompatFargate)
}

func validateTaskLevel(td *TaskDefinition) error {
	if td.Family == "" {
		return Client("Family can not be blank.")
	}
	if !ValidName(td.Family) {
		return Client("Family contains invalid characters. A family name has 1 to 255 letters, numbers, hyphens and underscores; got %q.", Truncate(td.Family, 300))
	}
	if len(td.ContainerDefinitions) == 0 {
		return Client("Container list cannot be empty.")
	}
	if len(td.ContainerDefinitions) > MaxContainers {
		return Client("Too many containers. A task definition can have at most %d; this one has %d.", MaxContainers, len(td.ContainerDefinitions))
	}
	switch td.NetworkMode {
	case "", NetworkBridge, NetworkHost, NetworkAwsvpc, NetworkNone:
	default:
		return Client("Invalid networkMode %q. It must be one of bridge, host, awsvpc or none.", Truncate(td.NetworkMode, 64))
	}
	for _, c := range td.RequiresCompatibilities {
		switch c {
		case CompatEC2, CompatFargate, CompatExternal, CompatManagedInstances:
		default:
			return Client("Invalid requiresCompatibilities value %q. It must be EC2, FARGATE, EXTERNAL or MANAGED_INSTANCES.", Truncate(c, 64))
		}
	}
	switch td.PidMode {
	case "", "host", "task":
	default:
		return Client("Invalid pidMode %q. It must be host or task.", Truncate(td.PidMode, 64))
	}
	switch td.IpcMode {
	case "", "host", "task", "none":
	default:
		return Client("Invalid ipcMode %q. It must be host, task or none.", Truncate(td.IpcMode, 64))
	}
	if err := validateRuntimePlatform(td.RuntimePlatform); err != nil {
		return err
	}
	if td.ExecutionRoleArn == "" {
		for _, c := range td.ContainerDefinitions {
			if len(c.Secrets) > 0 {
				return Client("When you are specifying container secrets, you must also specify a value for 'executionRoleArn'.")
			}
		}
	}
	for _, role := range []struct{ name, value string }{{"taskRoleArn", td.TaskRoleArn}, {"executionRoleArn", td.ExecutionRoleArn}} {
		if IsARN(role.value) {
			a, err := ParseARN(role.value)
			if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
				return Client("Invalid arn syntax. %s must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME) or a role name; got %q.", role.name, Truncate(role.value, 300))
			}
		}
	}

	cpu, mem := 0, 0
	if td.Cpu != "" {
		n, err := ParseTaskCPU(td.Cpu)
		if err != nil {
			return Client("Invalid 'cpu' setting for task. %v. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.", err)
		}
		if !requiresFargate(td) && (n < MinTaskCPU || n > MaxTaskCPU) {
			return Client("Invalid 'cpu' setting for task. Task cpu must be between %d and %d CPU units (0.125 to 192 vCPU); got %d. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.", MinTaskCPU, MaxTaskCPU, n)
		}
		cpu = n
		td.Cpu = strconv.Itoa(n)
	}
	if td.Memory != "" {
		n, err := ParseTaskMemory(td.Memory)
		if err != nil {
			return Client("Invalid 'memory' setting for task. %v. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.", err)
		}
		if n < MinContainerMemory || n > 1<<31-1 {
			return Client("Invalid 'memory' setting for task. Task memory must be between %d MiB and %d MiB; got %d. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.", MinContainerMemory, 1<<31-1, n)
		}
		mem = n
		td.Memory = strconv.Itoa(n)
	}
	if requiresFargate(td) {
		if td.NetworkMode != NetworkAwsvpc {
			return Client("Fargate only supports network mode ‘awsvpc’.")
		}
		if td.Cpu == "" {
			return Client("Fargate requires that 'cpu' be defined at the task level.")
		}
		if td.Memory == "" {
			return Client("Fargate requires that 'memory' be defined at the task level.")
		}
		if !ValidFargateSize(cpu, mem) {
			return fargateSizeError(cpu, mem)
		}
		if len(td.PlacementConstraints) > 0 {
			return Client("Placement constraints are not supported with FARGATE.")
		}
		if td.IpcMode != "" {
			return Client("Tasks using the Fargate launch type do not support ipcMode.")
		}
		if td.PidMode == "host" {
			return Client("Tasks using the Fargate launch type do not support pidMode 'host'. The supported value for pidMode is 'task'.")
		}
	}
	if err := validateVolumes(td.Volumes, requiresFargate(td)); err != nil {
		return err
	}
	if len(td.PlacementConstraints) > MaxTaskPlacementConstraints {
		return Client("A task definition can have at most %d placement constraints; this one has %d.", MaxTaskPlacementConstraints, len(td.PlacementConstraints))
	}
	for _, pc := range td.PlacementConstraints {
		if pc.Type != "memberOf" {
			return Client("constraint.type '%s' is not supported. Task definitions accept only memberOf constraints.", Truncate(pc.Type, 64))
		}
		if strings.TrimSpace(pc.Expression) == "" {
			return Client("A memberOf placement constraint needs an expression.")
		}
		if len(pc.Expression) > 2000 {
			return Client("A placement constraint expression can be at most 2000 characters long.")
		}
	}
	if es := td.EphemeralStorage; es != nil && es.SizeInGiB < 21 {
		return Client("EphemeralStorage size should be at least 21")
	}
	if es := td.EphemeralStorage; es != nil && es.SizeInGiB > 200 {
		return Client("EphemeralStorage size should be at most 200")
	}
	for _, ia := range td.InferenceAccelerators {
		if ia.DeviceName == "" || ia.DeviceType == "" {
			return Client("An inference accelerator needs a deviceName and a deviceType.")
		}
	}
	if td.ProxyConfiguration != nil {
		if td.ProxyConfiguration.Type != "" && td.ProxyConfiguration.Type != "APPMESH" {
			return Client("proxyConfiguration.type must be APPMESH; got %q.", Truncate(td.ProxyConfiguration.Type, 64))
		}
		if td.ProxyConfiguration.ContainerName == "" {
			return Client("proxyConfiguration.containerName is required.")
		}
	}
	return nil
}

func validateRuntimePlatform(rp *RuntimePlatform) error {
	if rp == nil {
		return nil
	}
	switch rp.CpuArchitecture {
	case "", "X86_64", "ARM64":
	default:
		return Client("Invalid runtimePlatform.cpuArchitecture %q. It must be X86_64 or ARM64.", Truncate(rp.CpuArchitecture, 64))
	}
	switch rp.OperatingSystemFamily {
	case "", "LINUX", "WINDOWS_SERVER_2019_FULL", "WINDOWS_SERVER_2019_CORE", "WINDOWS_SERVER_2016_FULL",
		"WINDOWS_SERVER_2004_CORE", "WINDOWS_SERVER_2022_CORE", "WINDOWS_SERVER_2022_FULL",
		"WINDOWS_SERVER_2025_CORE", "WINDOWS_SERVER_2025_FULL", "WINDOWS_SERVER_20H2_CORE":
	default:
		return Client("Invalid runtimePlatform.operatingSystemFamily %q.", Truncate(rp.OperatingSystemFamily, 64))
	}
	return nil
}

func validateVolumes(vols []Volume, fargate bool) error {
	seen := map[string]bool{}
	for _, v := range vols {
		if !ValidName(v.Name) {
			return Client("Volume name %q is invalid. A volume name has 1 to 255 letters, numbers, hyphens and underscores.", Truncate(v.Name, 300))
		}
		if seen[v.Name] {
			return Client("Volume names must be unique within a Task Definition; %q appears twice.", v.Name)
		}
		seen[v.Name] = true
		kinds := 0
		if v.Host != nil {
			kinds++
		}
		if v.DockerVolumeConfiguration != nil {
			kinds++
		}
		if v.EfsVolumeConfiguration != nil {
			kinds++
		}
		if len(v.FsxWindowsFileServer) > 0 {
			kinds++
		}
		if kinds > 1 {
			return Client("Volume '%s' can have only one of host, dockerVolumeConfiguration, efsVolumeConfiguration or fsxWindowsFileServerVolumeConfiguration.", v.Name)
		}
		if h := v.Host; h != nil && h.SourcePath != "" {
			if fargate {
				return Client("Fargate compatible task definitions do not support sourcePath")
			}
			// The agent hands the path to the engine as src:dst, which
			// would read a relative path as a volume name.
			if !strings.HasPrefix(h.SourcePath, "/") || strings.ContainsAny(h.SourcePath, ":\x00") {
				return Client("Volume '%s': sourcePath must be an absolute path without ':'; got %q.", v.Name, Truncate(h.SourcePath, 300))
			}
		}
		if err := validateEFS(v.Name, v.EfsVolumeConfiguration); err != nil {
			return err
		}
		if d := v.DockerVolumeConfiguration; d != nil {
			switch d.Scope {
			case "", "task", "shared":
			default:
				return Client("Volume '%s': dockerVolumeConfiguration.scope must be task or shared; got %q.", v.Name, Truncate(d.Scope, 64))
			}
			if d.Autoprovision != nil && *d.Autoprovision && d.Scope != "shared" {
				return Client("Volume '%s': autoprovision can only be set when the scope is shared.", v.Name)
			}
		}
	}
	return nil
}

// validateEFS checks an EFS volume as ECS does.
func validateEFS(volume string, e *EFSVolumeConfiguration) error {
	if e == nil {
		return nil
	}
	if e.FileSystemID == "" {
		return Client("Volume '%s': efsVolumeConfiguration.fileSystemId is required.", volume)
	}
	switch e.TransitEncryption {
	case "", "ENABLED", "DISABLED":
	default:
		return Client("Volume '%s': transitEncryption must be ENABLED or DISABLED; got %q.", volume, Truncate(e.TransitEncryption, 64))
	}
	if p := e.TransitEncryptionPort; p != nil && (*p < 1 || *p > 65535) {
		return Client("Volume '%s': transitEncryptionPort must be between 1 and 65535; got %d.", volume, *p)
	}
	if ac := e.AuthorizationConfig; ac != nil {
		switch ac.IAM {
		case "", "ENABLED", "DISABLED":
		default:
			return Client("Volume '%s': authorizationConfig.iam must be ENABLED or DISABLED; got %q.", volume, Truncate(ac.IAM, 64))
		}
		if (ac.IAM == "ENABLED" || ac.AccessPointID != "") && e.TransitEncryption != "ENABLED" {
			return Client("Volume '%s': transit encryption must be ENABLED when an access point or IAM authorization is used.", volume)
		}
		if ac.AccessPointID != "" && e.RootDirectory != "" && e.RootDirectory != "/" {
			return Client("When using an EFS access point, the root directory must either be set to \"/\" or be omitted.")
		}
	}
	return nil
}

func fillDefaults(td *TaskDefinition) {
	if td.NetworkMode == "" {
		td.NetworkMode = NetworkBridge // what ECS reads back for an EC2 task definition without one
	}
	if td.Volumes == nil {
		td.Volumes = []Volume{}
	}
	for i := range td.Volumes {
		// ECS reads an omitted rootDirectory back as "/", the root of the
		// file system (as Terraform plans show: root_directory = "/").
		if e := td.Volumes[i].EfsVolumeConfiguration; e != nil && e.RootDirectory == "" {
			e.RootDirectory = "/"
		}
	}
	if td.PlacementConstraints == nil {
		td.PlacementConstraints = []TaskDefinitionPlacementConstraint{}
	}
	for i := range td.ContainerDefinitions {
		c := &td.ContainerDefinitions[i]
		if c.Essential == nil {
			t := true
			c.Essential = &t
		}
		if c.PortMappings == nil {
			c.PortMappings = []PortMapping{}
		}
		for j := range c.PortMappings {
			pm := &c.PortMappings[j]
			if pm.Protocol == "" {
				pm.Protocol = "tcp"
			}
			if (td.NetworkMode == NetworkAwsvpc || td.NetworkMode == NetworkHost) && pm.HostPort == nil && pm.ContainerPort != nil {
				hp := *pm.ContainerPort
				pm.HostPort = &hp
			}
		}
		if c.Environment == nil {
			c.Environment = []KeyValuePair{}
		}
		if c.MountPoints == nil {
			c.MountPoints = []MountPoint{}
		}
		if c.VolumesFrom == nil {
			c.VolumesFrom = []VolumeFrom{}
		}
		if c.SystemControls == nil {
			c.SystemControls = []SystemControl{}
		}
		if hc := c.HealthCheck; hc != nil {
			setDefault(&hc.Interval, 30)
			setDefault(&hc.Timeout, 5)
			setDefault(&hc.Retries, 3)
		}
	}
	td.Compatibilities = compatibilities(td)
	td.RequiresAttributes = RequiredAttributes(td)
}

func setDefault(p **int, v int) {
	if *p == nil {
		*p = &v
	}
}

// compatibilities lists the launch types a task definition can run on: EC2
// always, FARGATE when it meets Fargate's rules, and whatever it requires.
func compatibilities(td *TaskDefinition) []string {
	out := []string{CompatEC2}
	if fargateCompatible(td) {
		out = append(out, CompatFargate)
	}
	for _, c := range td.RequiresCompatibilities {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func fargateCompatible(td *TaskDefinition) bool {
	if td.NetworkMode != NetworkAwsvpc || td.Cpu == "" || td.Memory == "" || len(td.PlacementConstraints) > 0 || td.IpcMode != "" {
		return false
	}
	cpu, _ := strconv.Atoi(td.Cpu)
	mem, _ := strconv.Atoi(td.Memory)
	if !ValidFargateSize(cpu, mem) {
		return false
	}
	for _, c := range td.ContainerDefinitions {
		if c.Privileged != nil && *c.Privileged {
			return false
		}
		if c.LogConfiguration != nil && fargateLogDriverError(c.LogConfiguration.LogDriver) != nil {
			return false
		}
		for _, rr := range c.ResourceRequirements {
			if rr.Type == "GPU" {
				return false
			}
		}
	}
	return true
}
