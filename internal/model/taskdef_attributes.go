package model

import (
	"fmt"
	"sort"
)

// Capability attribute names that a container instance advertises and a task
// definition can require. The agent registers the ones it supports; placement
// only chooses instances that have every attribute a task definition requires.
const (
	AttrDockerAPIPrefix   = "com.amazonaws.ecs.capability.docker-remote-api."
	AttrLoggingPrefix     = "com.amazonaws.ecs.capability.logging-driver."
	AttrTaskIAMRole       = "com.amazonaws.ecs.capability.task-iam-role"
	AttrPrivileged        = "com.amazonaws.ecs.capability.privileged-container"
	AttrTaskENI           = "ecs.capability.task-eni"
	AttrHealthCheck       = "ecs.capability.container-health-check"
	AttrContainerOrdering = "ecs.capability.container-ordering"
	AttrExecutionRoleLogs = "ecs.capability.execution-role-awslogs"
	AttrSecretsSSMEnv     = "ecs.capability.secrets.ssm.environment-variables"
	AttrSecretsASMEnv     = "ecs.capability.secrets.asm.environment-variables"
	// AttrPrivateRegistryAuth is what a container with repositoryCredentials needs.
	AttrPrivateRegistryAuth = "com.amazonaws.ecs.capability.private-registry-authentication.secretsmanager"
	AttrTaskCPUMemLimit     = "ecs.capability.task-cpu-mem-limit"
	AttrRestartPolicy       = "ecs.capability.container-restart-policy"
	AttrGPU                 = "ecs.capability.nvidia-gpu"
	AttrDockerPluginPrefix  = "ecs.capability.docker-plugin."
	// AttrHostAccess is Flotta's own: the agent lets tasks reach into its
	// host (bind mounts of host paths, the Docker socket among them, added
	// kernel capabilities, host devices, the host's PID or IPC namespace).
	AttrHostAccess = "com.flotta.capability.host-access"
)

// NeedsHostAccess says whether a task definition reaches into its host, and
// how (for a refusal's message); "" when it does not.
func NeedsHostAccess(td *TaskDefinition) string {
	for _, v := range td.Volumes {
		if v.Host != nil && v.Host.SourcePath != "" {
			return fmt.Sprintf("volume %s mounts the host path %s", v.Name, v.Host.SourcePath)
		}
	}
	if td.PidMode == "host" || td.IpcMode == "host" {
		return "it shares the host's PID or IPC namespace"
	}
	for _, c := range td.ContainerDefinitions {
		if lp := c.LinuxParameters; lp != nil {
			if lp.Capabilities != nil && len(lp.Capabilities.Add) > 0 {
				return fmt.Sprintf("container %s adds kernel capabilities %v", c.Name, lp.Capabilities.Add)
			}
			if len(lp.Devices) > 0 {
				return fmt.Sprintf("container %s uses host devices", c.Name)
			}
		}
	}
	return ""
}

// RequiredAttributes lists the capabilities an instance needs to run td,
// derived from the features it uses, sorted by name.
func RequiredAttributes(td *TaskDefinition) []Attribute {
	need := map[string]bool{}
	api := func(v string) { need[AttrDockerAPIPrefix+v] = true }
	if td.TaskRoleArn != "" {
		need[AttrTaskIAMRole] = true
	}
	if td.NetworkMode == NetworkAwsvpc {
		need[AttrTaskENI] = true
	}
	if td.Cpu != "" || td.Memory != "" {
		need[AttrTaskCPUMemLimit] = true
	}
	for _, v := range td.Volumes {
		if d := v.DockerVolumeConfiguration; d != nil {
			api("1.25")
			if d.Driver != "" && d.Driver != "local" {
				need[AttrDockerPluginPrefix+d.Driver] = true
			}
		}
	}
	if NeedsHostAccess(td) != "" {
		need[AttrHostAccess] = true
	}
	for _, c := range td.ContainerDefinitions {
		if c.MemoryReservation != nil {
			api("1.21")
		}
		if len(c.DockerLabels) > 0 || len(c.Ulimits) > 0 {
			api("1.18")
		}
		if c.ReadonlyRootFilesystem != nil && *c.ReadonlyRootFilesystem {
			api("1.17")
		}
		if c.Privileged != nil && *c.Privileged {
			need[AttrPrivileged] = true
		}
		if lc := c.LogConfiguration; lc != nil {
			api("1.18")
			need[AttrLoggingPrefix+lc.LogDriver] = true
			if lc.LogDriver == "awslogs" && td.ExecutionRoleArn != "" {
				need[AttrExecutionRoleLogs] = true
			}
		}
		if c.HealthCheck != nil {
			api("1.24")
			need[AttrHealthCheck] = true
		}
		if len(c.DependsOn) > 0 || c.StartTimeout != nil || c.StopTimeout != nil {
			need[AttrContainerOrdering] = true
		}
		if lp := c.LinuxParameters; lp != nil && (lp.InitProcessEnabled != nil || lp.SharedMemorySize != nil || len(lp.Tmpfs) > 0) {
			api("1.25")
		}
		if c.RepositoryCredentials != nil {
			need[AttrPrivateRegistryAuth] = true
		}
		for _, s := range c.Secrets {
			if isSecretsManager(s.ValueFrom) {
				need[AttrSecretsASMEnv] = true
			} else {
				need[AttrSecretsSSMEnv] = true
			}
		}
		if c.RestartPolicy != nil && c.RestartPolicy.Enabled != nil && *c.RestartPolicy.Enabled {
			need[AttrRestartPolicy] = true
		}
		for _, rr := range c.ResourceRequirements {
			if rr.Type == "GPU" {
				need[AttrGPU] = true
			}
		}
	}
	out := make([]Attribute, 0, len(need))
	for name := range need {
		out = append(out, Attribute{Name: name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func isSecretsManager(valueFrom string) bool {
	if a, err := ParseARN(valueFrom); err == nil {
		return a.Service == "secretsmanager"
	}
	return false
}
