package agent

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/runtime"
)

// AwsvpcNetwork is the Docker network on which awsvpc tasks get their own address.
const AwsvpcNetwork = "flotta-awsvpc"

// DefaultStopTimeout is how long a container has between SIGTERM and SIGKILL
// when its definition does not say.
const DefaultStopTimeout = 30 * time.Second

// lastSegment is what follows the last "/" of an ARN: a task's id, a cluster's name.
func lastSegment(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// dockerName is a container's engine name: unique, and readable in `docker ps`.
func dockerName(def *model.TaskDefinition, taskArn, container string) string {
	return fmt.Sprintf("flotta-%s-%d-%s-%s", def.Family, def.Revision, container, lastSegment(taskArn))
}

func stopTimeout(c *model.ContainerDefinition) time.Duration {
	if c != nil && c.StopTimeout != nil {
		return time.Duration(*c.StopTimeout) * time.Second
	}
	return DefaultStopTimeout
}

func (a *Agent) labels(taskArn, cluster, container string) map[string]string {
	l := map[string]string{}
	for k, v := range a.cfg.ContainerLabels {
		l[k] = v
	}
	l[runtime.LabelInstance] = a.instanceID()
	l[runtime.LabelTask] = taskArn
	l[runtime.LabelContainer] = container
	l[runtime.LabelCluster] = cluster
	return l
}

// volumeName is the engine volume behind a task volume.
func volumeName(taskArn string, v model.Volume) (name string, perTask bool) {
	if d := v.DockerVolumeConfiguration; d != nil && d.Scope == "shared" {
		return v.Name, false
	}
	return "flotta-" + lastSegment(taskArn) + "-" + v.Name, true
}

// containerSpec translates a container definition into an engine spec.
func (a *Agent) containerSpec(t *taskState, def *model.TaskDefinition, c *model.ContainerDefinition) (runtime.ContainerSpec, error) {
	s := runtime.ContainerSpec{
		Name:           dockerName(def, t.Arn, c.Name),
		Image:          c.Image,
		Entrypoint:     c.EntryPoint,
		Cmd:            c.Command,
		User:           c.User,
		WorkingDir:     c.WorkingDirectory,
		Hostname:       c.Hostname,
		Labels:         a.labels(t.Arn, t.Cluster, c.Name),
		CPUShares:      int64(max(c.Cpu, 2)),
		ReadonlyRootfs: c.ReadonlyRootFilesystem != nil && *c.ReadonlyRootFilesystem,
		Privileged:     c.Privileged != nil && *c.Privileged,
		DNS:            c.DNSServers,
		DNSSearch:      c.DNSSearchDomains,
		SecurityOpt:    c.DockerSecurityOptions,
		StopTimeout:    stopTimeout(c),
	}
	for k, v := range c.DockerLabels {
		if _, reserved := s.Labels[k]; !reserved {
			s.Labels[k] = v
		}
	}
	if s.Privileged && !a.cfg.AllowPrivileged {
		return s, fmt.Errorf("privileged containers are not allowed on this container instance (start the agent with --allow-privileged)")
	}
	if why := model.NeedsHostAccess(def); why != "" && !a.cfg.AllowHostAccess {
		return s, fmt.Errorf("the task reaches into its host (%s), which this container instance does not allow (start the agent with --allow-host-access)", why)
	}
	env := map[string]string{}
	for _, kv := range c.Environment {
		if kv.Name != nil {
			env[*kv.Name] = deref(kv.Value)
		}
	}
	if len(c.Secrets) > 0 {
		vals, why := a.taskSecrets(t.Arn)
		if why != "" {
			return s, errors.New(why)
		}
		for _, sec := range c.Secrets {
			v, ok := vals[c.Name][sec.Name]
			if !ok {
				return s, fmt.Errorf("ResourceInitializationError: unable to pull secrets or registry auth: the server sent no value for secret %s of container %s", sec.Name, c.Name)
			}
			env[sec.Name] = v // a secret wins over an environment variable of the same name
		}
	}
	// ECS tells every container its region; a definition's own values win.
	for _, k := range []string{"AWS_DEFAULT_REGION", "AWS_REGION"} {
		if _, set := env[k]; !set && a.id.Region != "" {
			env[k] = a.id.Region
		}
	}
	if a.hasRole(t.Arn, def) {
		vars, err := a.roleEnv(t.Arn)
		if err != nil {
			return s, err
		}
		for k, v := range vars {
			env[k] = v
		}
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s.Env = append(s.Env, k+"="+env[k])
	}
	if c.Memory != nil {
		s.MemoryBytes = int64(*c.Memory) << 20
	}
	if c.MemoryReservation != nil {
		s.MemoryReservation = int64(*c.MemoryReservation) << 20
	}
	switch def.NetworkMode {
	case "", model.NetworkBridge:
		s.NetworkMode = "bridge"
		for _, pm := range c.PortMappings {
			if pm.ContainerPort == nil {
				continue
			}
			s.Ports = append(s.Ports, runtime.PortBinding{ContainerPort: *pm.ContainerPort, HostPort: deref(pm.HostPort), Protocol: pm.Protocol})
		}
		for _, l := range c.Links {
			target, alias, found := strings.Cut(l, ":")
			if !found {
				alias = target
			}
			s.Links = append(s.Links, dockerName(def, t.Arn, target)+":"+alias)
		}
	case model.NetworkHost:
		s.NetworkMode = "host"
	case model.NetworkNone:
		s.NetworkMode = "none"
	case model.NetworkAwsvpc:
		s.NetworkMode = "container:" + t.PauseID
		s.Hostname = ""
	}
	for _, h := range c.ExtraHosts {
		s.ExtraHosts = append(s.ExtraHosts, h.Hostname+":"+h.IPAddress)
	}
	for _, u := range c.Ulimits {
		s.Ulimits = append(s.Ulimits, runtime.Ulimit{Name: u.Name, Soft: int64(u.SoftLimit), Hard: int64(u.HardLimit)})
	}
	if sc := c.SystemControls; len(sc) > 0 {
		s.Sysctls = map[string]string{}
		for _, x := range sc {
			s.Sysctls[x.Namespace] = x.Value
		}
	}
	if lp := c.LinuxParameters; lp != nil {
		if lp.Capabilities != nil {
			s.CapAdd, s.CapDrop = lp.Capabilities.Add, lp.Capabilities.Drop
		}
		s.Init = lp.InitProcessEnabled != nil && *lp.InitProcessEnabled
		if lp.SharedMemorySize != nil {
			s.ShmSizeBytes = int64(*lp.SharedMemorySize) << 20
		}
		if len(lp.Tmpfs) > 0 {
			s.Tmpfs = map[string]string{}
			for _, tf := range lp.Tmpfs {
				opts := append([]string{fmt.Sprintf("size=%dm", tf.Size)}, tf.MountOptions...)
				s.Tmpfs[tf.ContainerPath] = strings.Join(opts, ",")
			}
		}
	}
	if hc := c.HealthCheck; hc != nil {
		s.Health = &runtime.HealthCheck{
			Test:        hc.Command,
			Interval:    time.Duration(derefOr(hc.Interval, 30)) * time.Second,
			Timeout:     time.Duration(derefOr(hc.Timeout, 5)) * time.Second,
			Retries:     derefOr(hc.Retries, 3),
			StartPeriod: time.Duration(deref(hc.StartPeriod)) * time.Second,
		}
	}
	if lc := c.LogConfiguration; lc != nil {
		s.LogDriver, s.LogOptions = lc.LogDriver, lc.Options
	}
	vols := map[string]model.Volume{}
	for _, v := range def.Volumes {
		vols[v.Name] = v
	}
	for _, mp := range c.MountPoints {
		v := vols[mp.SourceVolume]
		m := runtime.Mount{Target: mp.ContainerPath, ReadOnly: mp.ReadOnly != nil && *mp.ReadOnly}
		if v.Host != nil && v.Host.SourcePath != "" {
			m.Source, m.Bind = v.Host.SourcePath, true
		} else {
			m.Source, _ = volumeName(t.Arn, v)
		}
		s.Mounts = append(s.Mounts, m)
	}
	for _, vf := range c.VolumesFrom {
		src := t.Containers[vf.SourceContainer]
		if src == nil || src.ID == "" {
			return s, fmt.Errorf("volumesFrom %s: that container has not been created", vf.SourceContainer)
		}
		ref := src.ID
		if vf.ReadOnly != nil && *vf.ReadOnly {
			ref += ":ro"
		}
		s.VolumesFrom = append(s.VolumesFrom, ref)
	}
	return s, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func derefOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

func bindings(ports []runtime.PortBinding) []model.NetworkBinding {
	var out []model.NetworkBinding
	for _, p := range ports {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		out = append(out, model.NetworkBinding{BindIP: "0.0.0.0", ContainerPort: p.ContainerPort, HostPort: p.HostPort, Protocol: proto})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ContainerPort < out[j].ContainerPort })
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }
