package agent_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/runtime"
)

func TestContainerDefinitionReachesTheEngine(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	_, err := r.env.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("full"),
		Volumes: []types.Volume{{Name: aws.String("data"), Host: &types.HostVolumeProperties{SourcePath: aws.String("/srv/data")}},
			{Name: aws.String("scratch")}},
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("demo"), Cpu: 256, Memory: aws.Int32(128), MemoryReservation: aws.Int32(64),
			EntryPoint: []string{"/bin/app"}, Command: []string{"serve", "--fast"},
			Environment:            []types.KeyValuePair{{Name: aws.String("Z"), Value: aws.String("26")}, {Name: aws.String("A"), Value: aws.String("1")}},
			User:                   aws.String("1000:1000"),
			WorkingDirectory:       aws.String("/srv"),
			ReadonlyRootFilesystem: aws.Bool(true),
			Ulimits:                []types.Ulimit{{Name: types.UlimitNameNofile, SoftLimit: 100, HardLimit: 200}},
			LinuxParameters: &types.LinuxParameters{Capabilities: &types.KernelCapabilities{Add: []string{"NET_ADMIN"}, Drop: []string{"MKNOD"}},
				InitProcessEnabled: aws.Bool(true), SharedMemorySize: aws.Int32(32), Tmpfs: []types.Tmpfs{{ContainerPath: aws.String("/tmp"), Size: 8}}},
			DockerLabels: map[string]string{"tier": "front"},
			StopTimeout:  aws.Int32(7),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80), HostPort: aws.Int32(8080)}, {ContainerPort: aws.Int32(53), Protocol: types.TransportProtocolUdp}},
			MountPoints:  []types.MountPoint{{SourceVolume: aws.String("data"), ContainerPath: aws.String("/data"), ReadOnly: aws.Bool(true)}, {SourceVolume: aws.String("scratch"), ContainerPath: aws.String("/scratch")}},
			HealthCheck:  &types.HealthCheck{Command: []string{"CMD", "check"}, Interval: aws.Int32(10), Retries: aws.Int32(2)},
			ExtraHosts:   []types.HostEntry{{Hostname: aws.String("db"), IpAddress: aws.String("10.0.0.2")}},
			DnsServers:   []string{"10.0.0.53"},
			Hostname:     aws.String("app-host"),
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := r.run("full")
	r.waitTask(arn, "RUNNING", status("RUNNING"))
	s := r.rt.Spec(r.containerID(arn, "app"))
	checks := []struct {
		what string
		ok   bool
	}{
		{"cpu shares", s.CPUShares == 256},
		{"memory limit", s.MemoryBytes == 128<<20},
		{"memory reservation", s.MemoryReservation == 64<<20},
		{"entry point and command", slices.Equal(s.Entrypoint, []string{"/bin/app"}) && slices.Equal(s.Cmd, []string{"serve", "--fast"})},
		{"environment, sorted, with the region as ECS sets it", slices.Equal(s.Env, []string{"A=1", "AWS_DEFAULT_REGION=us-east-1", "AWS_REGION=us-east-1", "Z=26"})},
		{"user and working dir", s.User == "1000:1000" && s.WorkingDir == "/srv"},
		{"read-only root", s.ReadonlyRootfs},
		{"ulimits", len(s.Ulimits) == 1 && s.Ulimits[0].Name == "nofile" && s.Ulimits[0].Soft == 100 && s.Ulimits[0].Hard == 200},
		{"capabilities", slices.Equal(s.CapAdd, []string{"NET_ADMIN"}) && slices.Equal(s.CapDrop, []string{"MKNOD"})},
		{"init", s.Init},
		{"shm and tmpfs", s.ShmSizeBytes == 32<<20 && s.Tmpfs["/tmp"] == "size=8m"},
		{"docker labels and task labels", s.Labels["tier"] == "front" && s.Labels[runtime.LabelTask] == arn && s.Labels[runtime.LabelContainer] == "app"},
		{"stop timeout", s.StopTimeout == 7*time.Second},
		{"ports", len(s.Ports) == 2 && s.Ports[0].HostPort == 8080 && s.Ports[1].Protocol == "udp" && s.Ports[1].HostPort == 0},
		{"bridge network", s.NetworkMode == "bridge"},
		{"host bind mount", s.Mounts[0].Bind && s.Mounts[0].Source == "/srv/data" && s.Mounts[0].ReadOnly},
		{"task volume", !s.Mounts[1].Bind && strings.HasSuffix(s.Mounts[1].Source, "-scratch")},
		{"health check", s.Health != nil && s.Health.Interval == 10*time.Second && s.Health.Retries == 2 && s.Health.Timeout == 5*time.Second},
		{"extra hosts and dns", slices.Equal(s.ExtraHosts, []string{"db:10.0.0.2"}) && slices.Equal(s.DNS, []string{"10.0.0.53"})},
		{"hostname", s.Hostname == "app-host"},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s did not reach the engine: %+v", c.what, s)
		}
	}
}

func TestRestartPolicy(t *testing.T) {
	var offset atomic.Int64
	r := newRigWith(t, func() time.Time { return time.Now().Add(time.Duration(offset.Load())) })
	r.register("restarting", ctr("main"), ctr("worker", func(c *types.ContainerDefinition) {
		c.Essential = aws.Bool(false)
		c.RestartPolicy = &types.ContainerRestartPolicy{Enabled: aws.Bool(true), IgnoredExitCodes: []int32{0}, RestartAttemptPeriod: aws.Int32(60)}
	}))
	// A container that exits before it has run restartAttemptPeriod is not restarted.
	first := r.run("restarting")
	r.waitTask(first, "RUNNING", status("RUNNING"))
	r.rt.Exit(r.containerID(first, "worker"), 1)
	task := r.waitTask(first, "worker STOPPED", func(t *types.Task) bool { return aws.ToString(t.Containers[1].LastStatus) == "STOPPED" })
	if aws.ToInt32(task.Containers[1].ExitCode) != 1 || r.workerStarts() != 1 {
		t.Fatalf("early exit: %s, %d starts", describe(task), r.workerStarts())
	}
	// One that exits after the period is restarted in place.
	second := r.run("restarting")
	r.waitTask(second, "RUNNING", status("RUNNING"))
	id := r.containerID(second, "worker")
	offset.Store(int64(2 * time.Minute))
	r.rt.Exit(id, 2)
	r.waitTask(second, "worker restarted", func(*types.Task) bool { return r.workerStarts() == 3 })
	r.waitTask(second, "worker RUNNING again", func(t *types.Task) bool { return aws.ToString(t.Containers[1].LastStatus) == "RUNNING" })
	// An ignored exit code stops it for good, and the task goes on.
	offset.Store(int64(10 * time.Minute))
	r.rt.Exit(id, 0)
	task = r.waitTask(second, "worker STOPPED with 0", func(t *types.Task) bool {
		return aws.ToString(t.Containers[1].LastStatus) == "STOPPED" && t.Containers[1].ExitCode != nil && aws.ToInt32(t.Containers[1].ExitCode) == 0
	})
	if aws.ToString(task.LastStatus) != "RUNNING" || r.workerStarts() != 3 {
		t.Fatalf("%s, %d starts", describe(task), r.workerStarts())
	}
}

func (r *rig) workerStarts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.starts {
		if s == "worker" {
			n++
		}
	}
	return n
}
