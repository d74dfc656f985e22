package model

import (
	"slices"
	"strings"
	"testing"
)

// TestHostAccessIsACapability: what reaches into the host needs an agent
// that allows it; what does not, does not.
func TestHostAccessIsACapability(t *testing.T) {
	plain := func() *TaskDefinition {
		return &TaskDefinition{ContainerDefinitions: []ContainerDefinition{{Name: "app"}}}
	}
	for _, c := range []struct {
		name string
		edit func(*TaskDefinition)
		why  string // "" when no host access is needed
	}{
		{"a plain task", func(*TaskDefinition) {}, ""},
		{"a Docker-managed host volume", func(td *TaskDefinition) { td.Volumes = []Volume{{Name: "v", Host: &HostVolumeProperties{}}} }, ""},
		{"a named Docker volume", func(td *TaskDefinition) {
			td.Volumes = []Volume{{Name: "v", DockerVolumeConfiguration: &DockerVolumeConfiguration{}}}
		}, ""},
		{"the Docker socket", func(td *TaskDefinition) {
			td.Volumes = []Volume{{Name: "sock", Host: &HostVolumeProperties{SourcePath: "/var/run/docker.sock"}}}
		}, "mounts the host path /var/run/docker.sock"},
		{"added capabilities", func(td *TaskDefinition) {
			td.ContainerDefinitions[0].LinuxParameters = &LinuxParameters{Capabilities: &KernelCapabilities{Add: []string{"SYS_ADMIN"}}}
		}, "adds kernel capabilities"},
		{"dropped capabilities only", func(td *TaskDefinition) {
			td.ContainerDefinitions[0].LinuxParameters = &LinuxParameters{Capabilities: &KernelCapabilities{Drop: []string{"NET_RAW"}}}
		}, ""},
		{"a host device", func(td *TaskDefinition) {
			td.ContainerDefinitions[0].LinuxParameters = &LinuxParameters{Devices: []Device{{HostPath: "/dev/kmsg"}}}
		}, "uses host devices"},
		{"the host's PID namespace", func(td *TaskDefinition) { td.PidMode = "host" }, "PID or IPC"},
		{"the host's IPC namespace", func(td *TaskDefinition) { td.IpcMode = "host" }, "PID or IPC"},
		{"a task's own IPC namespace", func(td *TaskDefinition) { td.IpcMode = "task" }, ""},
	} {
		td := plain()
		c.edit(td)
		why := NeedsHostAccess(td)
		needs := slices.ContainsFunc(RequiredAttributes(td), func(a Attribute) bool { return a.Name == AttrHostAccess })
		if c.why == "" && (why != "" || needs) || c.why != "" && (!strings.Contains(why, c.why) || !needs) {
			t.Errorf("%s: NeedsHostAccess %q, requires %s: %v", c.name, why, AttrHostAccess, needs)
		}
	}
}
