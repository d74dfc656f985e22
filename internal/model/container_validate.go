package model

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Dependency conditions of dependsOn.
const (
	DependStart    = "START"
	DependComplete = "COMPLETE"
	DependSuccess  = "SUCCESS"
	DependHealthy  = "HEALTHY"
)

var (
	ulimitNames = []string{"core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile",
		"nproc", "rss", "rtprio", "rttime", "sigpending", "stack"}
	logDrivers        = []string{"json-file", "syslog", "journald", "gelf", "fluentd", "awslogs", "splunk", "awsfirelens"}
	fargateLogDrivers = []string{"awslogs", "splunk", "awsfirelens"}
	capabilityNames   = []string{"ALL", "AUDIT_CONTROL", "AUDIT_WRITE", "BLOCK_SUSPEND", "CHOWN", "DAC_OVERRIDE",
		"DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE", "LINUX_IMMUTABLE",
		"MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW",
		"SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE",
		"SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG",
		"SYSLOG", "WAKE_ALARM"}
	portNameRE  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)
	portRangeRE = regexp.MustCompile(`^([0-9]+)-([0-9]+)$`)
)

func fargateLogDriverError(driver string) *Error {
	if slices.Contains(fargateLogDrivers, driver) {
		return nil
	}
	return Client("%s is not a valid log driver. Must be one of [awslogs,splunk,awsfirelens]", driver)
}

func validateContainers(td *TaskDefinition) error {
	fargate := requiresFargate(td)
	byName := map[string]*ContainerDefinition{}
	volumes := map[string]bool{}
	for _, v := range td.Volumes {
		volumes[v.Name] = true
	}
	accelerators := map[string]bool{}
	for _, ia := range td.InferenceAccelerators {
		accelerators[ia.DeviceName] = true
	}
	taskCPU, _ := strconv.Atoi(td.Cpu)
	taskMem, _ := strconv.Atoi(td.Memory)
	sumCPU, sumReservation, essentials := 0, 0, 0

	for i := range td.ContainerDefinitions {
		c := &td.ContainerDefinitions[i]
		if c.Name == "" {
			return Client("Container.name should not be null or empty.")
		}
		if !ValidName(c.Name) {
			return Client("Container.name contains invalid characters. A container name has 1 to 255 letters, numbers, hyphens and underscores; got %q.", Truncate(c.Name, 300))
		}
		if byName[c.Name] != nil {
			return Client("Container names must be unique within a Task Definition. '%s' is used more than once.", c.Name)
		}
		byName[c.Name] = c
		if strings.TrimSpace(c.Image) == "" {
			return Client("Container.image should not be null or empty.")
		}
		if utf8.RuneCountInString(c.Image) > 255 {
			return Client("Container.image should be 255 characters or less")
		}
		if c.IsEssential() {
			essentials++
		}
		if c.Cpu < 0 {
			return Client("Invalid 'cpu' setting for container '%s'. The cpu must be 0 or more CPU units; got %d.", c.Name, c.Cpu)
		}
		sumCPU += c.Cpu
		if err := validateContainerMemory(c, taskMem); err != nil {
			return err
		}
		if c.MemoryReservation != nil {
			sumReservation += *c.MemoryReservation
		} else if c.Memory != nil {
			sumReservation += *c.Memory
		}
		if err := validatePorts(td.NetworkMode, c); err != nil {
			return err
		}
		if td.NetworkMode == NetworkAwsvpc {
			if c.Hostname != "" {
				return Client("hostname is not supported on container when networkMode=awsvpc.")
			}
			if len(c.Links) > 0 {
				return Client("links are not supported on container when networkMode=awsvpc.")
			}
		}
		if err := validateHealthCheck(c); err != nil {
			return err
		}
		if c.StopTimeout != nil && (*c.StopTimeout < 0 || fargate && *c.StopTimeout > 120) {
			return Client("Invalid 'stopTimeout' setting for container '%s'. It must be between 0 and %s seconds; got %d.", c.Name, map[bool]string{true: "120", false: "2147483647"}[fargate], *c.StopTimeout)
		}
		if c.StartTimeout != nil && *c.StartTimeout < 0 {
			return Client("Invalid 'startTimeout' setting for container '%s'. It must be 0 or more seconds; got %d.", c.Name, *c.StartTimeout)
		}
		if err := validateUlimits(c); err != nil {
			return err
		}
		if err := validateLogConfiguration(c, fargate, td.ExecutionRoleArn); err != nil {
			return err
		}
		for _, mp := range c.MountPoints {
			if !volumes[mp.SourceVolume] {
				if mp.SourceVolume == "" {
					return Client("Unknown volume 'null'.")
				}
				return Client("Unknown volume '%s'.", mp.SourceVolume)
			}
			if mp.ContainerPath == "" {
				return Client("Invalid mount point for container '%s': containerPath is required.", c.Name)
			}
			if strings.ContainsAny(mp.ContainerPath, ":\x00") {
				return Client("Invalid mount point for container '%s': containerPath cannot contain ':'; got %q.", c.Name, Truncate(mp.ContainerPath, 300))
			}
		}
		if err := validateRestartPolicy(c); err != nil {
			return err
		}
		if err := validateResourceRequirements(c, fargate, accelerators); err != nil {
			return err
		}
		if err := validateLinuxParameters(c, fargate); err != nil {
			return err
		}
		for _, e := range c.Environment {
			if e.Name == nil || *e.Name == "" {
				return Client("Invalid environment variable for container '%s': every variable needs a name.", c.Name)
			}
		}
		if len(c.EnvironmentFiles) > 10 {
			return Client("Container '%s' can have at most 10 environment files.", c.Name)
		}
		for _, f := range c.EnvironmentFiles {
			if f.Type != "s3" || f.Value == "" {
				return Client("Invalid environment file for container '%s': type must be s3 and value an S3 object ARN.", c.Name)
			}
		}
		for _, s := range c.Secrets {
			if s.Name == "" || s.ValueFrom == "" {
				return Client("Invalid secret for container '%s': every secret needs a name and a valueFrom.", c.Name)
			}
		}
		if rc := c.RepositoryCredentials; rc != nil {
			if a, err := ParseARN(rc.CredentialsParameter); err != nil || a.Service != "secretsmanager" {
				return Client("Invalid repositoryCredentials for container '%s': credentialsParameter must be the ARN of a Secrets Manager secret; got %q.", c.Name, Truncate(rc.CredentialsParameter, 300))
			}
		}
		for _, sc := range c.SystemControls {
			if sc.Namespace == "" {
				return Client("Invalid systemControls for container '%s': every entry needs a namespace.", c.Name)
			}
		}
		if fargate && c.Privileged != nil && *c.Privileged {
			return Client("Privileged containers are not supported on Fargate; container '%s' asks for privileged mode.", c.Name)
		}
		switch c.VersionConsistency {
		case "", "enabled", "disabled":
		default:
			return Client("Invalid versionConsistency %q for container '%s'. It must be enabled or disabled.", Truncate(c.VersionConsistency, 64), c.Name)
		}
	}
	if essentials == 0 {
		return Client("Task definition doesn't have any essential container.")
	}
	if td.Cpu != "" && sumCPU > taskCPU {
		return Client("The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'. The containers ask for %d, the task has %d.", sumCPU, taskCPU)
	}
	if td.Memory != "" && sumReservation > taskMem {
		return Client("The sum of all container 'memoryReservation' values cannot be greater than the value of the task 'memory'. The containers reserve %d MiB, the task has %d.", sumReservation, taskMem)
	}
	for _, c := range td.ContainerDefinitions {
		for _, vf := range c.VolumesFrom {
			if byName[vf.SourceContainer] == nil || vf.SourceContainer == c.Name {
				return Client("Invalid volumesFrom for container '%s': unknown container '%s'. sourceContainer must name another container of this task definition.", c.Name, vf.SourceContainer)
			}
		}
		for _, l := range c.Links {
			target, _, _ := strings.Cut(l, ":")
			if byName[target] == nil || target == c.Name {
				return Client("Invalid link '%s' for container '%s': it must name another container of this task definition.", l, c.Name)
			}
		}
	}
	if td.ProxyConfiguration != nil && byName[td.ProxyConfiguration.ContainerName] == nil {
		return Client("proxyConfiguration.containerName '%s' is not a container of this task definition.", td.ProxyConfiguration.ContainerName)
	}
	return validateDependencies(td.ContainerDefinitions, byName)
}

func validateContainerMemory(c *ContainerDefinition, taskMem int) error {
	if c.Memory == nil && c.MemoryReservation == nil && taskMem == 0 {
		return Client("Invalid setting for container '%s'. At least one of 'memory' or 'memoryReservation' must be specified.", c.Name)
	}
	if c.Memory != nil {
		if *c.Memory < MinContainerMemory {
			return Client("Invalid 'memory' setting for container '%s'. The minimum is %d MiB; got %d.", c.Name, MinContainerMemory, *c.Memory)
		}
		if taskMem > 0 && *c.Memory > taskMem {
			return Client("The 'memory' setting for container '%s' is greater than for the task.", c.Name)
		}
	}
	if c.MemoryReservation != nil {
		if *c.MemoryReservation < MinContainerMemory {
			return Client("Invalid 'memoryReservation' setting for container '%s'. The minimum is %d MiB; got %d.", c.Name, MinContainerMemory, *c.MemoryReservation)
		}
		if c.Memory != nil && *c.MemoryReservation > *c.Memory {
			return Client("Invalid setting for container '%s'. 'memoryReservation' (%d) must be less than or equal to 'memory' (%d).", c.Name, *c.MemoryReservation, *c.Memory)
		}
	}
	return nil
}

func validatePorts(mode string, c *ContainerDefinition) error {
	type key struct {
		port  int
		proto string
	}
	seen := map[key]bool{}
	for _, pm := range c.PortMappings {
		switch pm.Protocol {
		case "", "tcp", "udp":
		default:
			return Client("Invalid 'protocol' setting for container '%s'. It must be tcp or udp; got %q.", c.Name, Truncate(pm.Protocol, 32))
		}
		switch pm.AppProtocol {
		case "", "http", "http2", "grpc":
		default:
			return Client("Invalid 'appProtocol' setting for container '%s'. It must be http, http2 or grpc; got %q.", c.Name, Truncate(pm.AppProtocol, 32))
		}
		if pm.Name != "" && !portNameRE.MatchString(pm.Name) {
			return Client("Invalid port mapping name %q for container '%s'. Use up to 64 lower-case letters, digits and hyphens.", Truncate(pm.Name, 80), c.Name)
		}
		if pm.ContainerPortRange != "" {
			m := portRangeRE.FindStringSubmatch(pm.ContainerPortRange)
			if m == nil || pm.ContainerPort != nil || pm.HostPort != nil {
				return Client("Invalid 'containerPortRange' setting for container '%s'. Give a range like 8000-8010 and no containerPort or hostPort.", c.Name)
			}
			lo, _ := strconv.Atoi(m[1])
			hi, _ := strconv.Atoi(m[2])
			if lo < 1 || hi > 65535 || lo >= hi {
				return Client("Invalid 'containerPortRange' setting for container '%s'. The ports must be between 1 and 65535, the first below the second.", c.Name)
			}
			continue
		}
		if pm.ContainerPort == nil || *pm.ContainerPort < 1 || *pm.ContainerPort > 65535 {
			return Client("Invalid 'containerPort' setting for container '%s'.", c.Name)
		}
		if pm.HostPort != nil && (*pm.HostPort < 0 || *pm.HostPort > 65535) {
			return Client("Invalid 'hostPort' setting for container '%s'. It must be between 0 and 65535.", c.Name)
		}
		if (mode == NetworkAwsvpc || mode == NetworkHost) && pm.HostPort != nil && *pm.HostPort != *pm.ContainerPort && *pm.HostPort != 0 {
			return Client("When networkMode=%s, the host ports and container ports in port mappings must match.", mode)
		}
		proto := pm.Protocol
		if proto == "" {
			proto = "tcp"
		}
		k := key{*pm.ContainerPort, proto}
		if seen[k] {
			return Client("Container '%s' maps container port %d/%s more than once.", c.Name, k.port, k.proto)
		}
		seen[k] = true
	}
	return nil
}

func validateHealthCheck(c *ContainerDefinition) error {
	hc := c.HealthCheck
	if hc == nil {
		return nil
	}
	if len(hc.Command) == 0 {
		return Client("Health check command for container '%s' should not be empty.", c.Name)
	}
	if hc.Command[0] != "CMD" && hc.Command[0] != "CMD-SHELL" {
		return Client("Health check command for container '%s' must start with CMD or CMD-SHELL; got %q.", c.Name, Truncate(hc.Command[0], 64))
	}
	if len(hc.Command) < 2 {
		return Client("Health check command for container '%s' names no command after %s.", c.Name, hc.Command[0])
	}
	for _, r := range []struct {
		name     string
		v        *int
		min, max int
	}{{"interval", hc.Interval, 5, 300}, {"timeout", hc.Timeout, 2, 60}, {"retries", hc.Retries, 1, 10}, {"startPeriod", hc.StartPeriod, 0, 300}} {
		if r.v == nil {
			continue
		}
		label := "Health check " + r.name
		if *r.v < r.min {
			return Client("%s must be greater than or equal to the minimum allowed value %d for container '%s'", label, r.min, c.Name)
		}
		if *r.v > r.max {
			return Client("%s must be less than or equal to the maximum allowed value %d for container '%s'", label, r.max, c.Name)
		}
	}
	return nil
}

func validateUlimits(c *ContainerDefinition) error {
	seen := map[string]bool{}
	for _, u := range c.Ulimits {
		if !slices.Contains(ulimitNames, u.Name) {
			return Client("Invalid ulimit name %q for container '%s'. It must be one of %s.", Truncate(u.Name, 64), c.Name, strings.Join(ulimitNames, ", "))
		}
		if seen[u.Name] {
			return Client("Container '%s' sets ulimit %s more than once.", c.Name, u.Name)
		}
		seen[u.Name] = true
		if u.SoftLimit > u.HardLimit {
			return Client("Invalid ulimit %s for container '%s': softLimit %d is above hardLimit %d.", u.Name, c.Name, u.SoftLimit, u.HardLimit)
		}
	}
	return nil
}

func validateLogConfiguration(c *ContainerDefinition, fargate bool, executionRole string) error {
	lc := c.LogConfiguration
	if lc == nil {
		return nil
	}
	if fargate {
		if err := fargateLogDriverError(lc.LogDriver); err != nil {
			return err
		}
		if lc.LogDriver == "awslogs" && executionRole == "" {
			return Client("Fargate requires task definition to have execution role ARN to support log driver awslogs.")
		}
	}
	if !slices.Contains(logDrivers, lc.LogDriver) {
		return Client("%s is not a valid log driver. Must be one of [%s]", Truncate(lc.LogDriver, 64), strings.Join(logDrivers, ","))
	}
	for _, s := range lc.SecretOptions {
		if s.Name == "" || s.ValueFrom == "" {
			return Client("Invalid log secret option for container '%s': every entry needs a name and a valueFrom.", c.Name)
		}
	}
	return nil
}

func validateRestartPolicy(c *ContainerDefinition) error {
	rp := c.RestartPolicy
	if rp == nil {
		return nil
	}
	if rp.Enabled == nil {
		return Client("Invalid restartPolicy for container '%s': enabled is required.", c.Name)
	}
	if len(rp.IgnoredExitCodes) > 50 {
		return Client("Invalid restartPolicy for container '%s': at most 50 ignoredExitCodes are allowed.", c.Name)
	}
	if rp.RestartAttemptPeriod != nil && (*rp.RestartAttemptPeriod < 60 || *rp.RestartAttemptPeriod > 1800) {
		return Client("Invalid restartPolicy for container '%s': restartAttemptPeriod must be between 60 and 1800 seconds; got %d.", c.Name, *rp.RestartAttemptPeriod)
	}
	return nil
}

func validateResourceRequirements(c *ContainerDefinition, fargate bool, accelerators map[string]bool) error {
	gpus := 0
	for _, rr := range c.ResourceRequirements {
		switch rr.Type {
		case "GPU":
			n, err := strconv.Atoi(rr.Value)
			if err != nil || n < 1 {
				return Client("Invalid GPU requirement for container '%s': value must be a whole number of GPUs; got %q.", c.Name, Truncate(rr.Value, 32))
			}
			if fargate {
				return Client("GPUs are not supported on Fargate; container '%s' asks for %d.", c.Name, n)
			}
			gpus++
		case "InferenceAccelerator":
			if !accelerators[rr.Value] {
				return Client("Container '%s' asks for inference accelerator '%s', which the task definition does not declare.", c.Name, rr.Value)
			}
		default:
			return Client("Invalid resourceRequirements type %q for container '%s'. It must be GPU or InferenceAccelerator.", Truncate(rr.Type, 64), c.Name)
		}
	}
	if gpus > 1 {
		return Client("Container '%s' has more than one GPU requirement.", c.Name)
	}
	return nil
}

func validateLinuxParameters(c *ContainerDefinition, fargate bool) error {
	lp := c.LinuxParameters
	if lp == nil {
		return nil
	}
	if lp.Capabilities != nil {
		for _, list := range [][]string{lp.Capabilities.Add, lp.Capabilities.Drop} {
			for _, cap := range list {
				if !slices.Contains(capabilityNames, cap) {
					return Client("Invalid capability %q for container '%s'.", Truncate(cap, 64), c.Name)
				}
			}
		}
		if fargate {
			for _, cap := range lp.Capabilities.Add {
				if cap != "SYS_PTRACE" {
					return Client("Fargate only allows adding the SYS_PTRACE capability; container '%s' adds %s.", c.Name, cap)
				}
			}
		}
	}
	for _, d := range lp.Devices {
		if d.HostPath == "" {
			return Client("Invalid device for container '%s': hostPath is required.", c.Name)
		}
		for _, p := range d.Permissions {
			if p != "read" && p != "write" && p != "mknod" {
				return Client("Invalid device permission %q for container '%s'. It must be read, write or mknod.", Truncate(p, 32), c.Name)
			}
		}
	}
	if lp.SharedMemorySize != nil && *lp.SharedMemorySize < 1 {
		return Client("Invalid sharedMemorySize for container '%s': it must be at least 1 MiB.", c.Name)
	}
	for _, t := range lp.Tmpfs {
		if t.ContainerPath == "" || t.Size < 1 {
			return Client("Invalid tmpfs mount for container '%s': containerPath and a size of at least 1 MiB are required.", c.Name)
		}
	}
	if lp.MaxSwap != nil && *lp.MaxSwap < 0 {
		return Client("Invalid maxSwap for container '%s': it must be 0 or more MiB.", c.Name)
	}
	if lp.Swappiness != nil && (*lp.Swappiness < 0 || *lp.Swappiness > 100) {
		return Client("Invalid swappiness for container '%s': it must be between 0 and 100.", c.Name)
	}
	if fargate && (len(lp.Devices) > 0 || len(lp.Tmpfs) > 0 || lp.SharedMemorySize != nil || lp.MaxSwap != nil || lp.Swappiness != nil) {
		return Client("Fargate does not support devices, tmpfs, sharedMemorySize, maxSwap or swappiness; container '%s' sets one of them.", c.Name)
	}
	return nil
}

// validateDependencies checks dependsOn: known containers, valid conditions,
// the rules ECS attaches to each condition, and that there is no cycle.
func validateDependencies(containers []ContainerDefinition, byName map[string]*ContainerDefinition) error {
	for _, c := range containers {
		seen := map[string]bool{}
		for _, d := range c.DependsOn {
			target := byName[d.ContainerName]
			if target == nil {
				return Client("Cannot depend on container + '%s' because it does not exist", d.ContainerName)
			}
			if d.ContainerName == c.Name {
				return Client("Container '%s' cannot depend on itself.", c.Name)
			}
			if seen[d.ContainerName] {
				return Client("Container '%s' depends on '%s' more than once.", c.Name, d.ContainerName)
			}
			seen[d.ContainerName] = true
			switch d.Condition {
			case DependStart:
			case DependComplete, DependSuccess:
				if target.IsEssential() {
					return Client("A dependency container with SUCCESS or COMPLETE condition cannot be an essential container")
				}
			case DependHealthy:
				if target.HealthCheck == nil {
					return Client("Container '%s' depends on '%s' being HEALTHY, but '%s' has no health check.", c.Name, d.ContainerName, d.ContainerName)
				}
			default:
				return Client("Invalid dependsOn condition %q for container '%s'. It must be START, COMPLETE, SUCCESS or HEALTHY.", Truncate(d.Condition, 32), c.Name)
			}
		}
	}
	// Depth-first search; a grey node reached again closes a cycle.
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var path []string
	var visit func(name string) error
	visit = func(name string) error {
		color[name] = grey
		path = append(path, name)
		for _, d := range byName[name].DependsOn {
			switch color[d.ContainerName] {
			case grey:
				i := slices.Index(path, d.ContainerName)
				cycle := append(append([]string(nil), path[i:]...), d.ContainerName)
				return Client("Container dependencies must not form a cycle: %s.", strings.Join(cycle, " -> "))
			case white:
				if err := visit(d.ContainerName); err != nil {
					return err
				}
			}
		}
		path = path[:len(path)-1]
		color[name] = black
		return nil
	}
	for _, c := range containers {
		if color[c.Name] == white {
			if err := visit(c.Name); err != nil {
				return err
			}
		}
	}
	return nil
}
