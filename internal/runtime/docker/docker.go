// Package docker is the agent's runtime on the Docker Engine API. It is the
// only package in Flotta that imports the Docker SDK. The client negotiates
// the API version down, so that it works with the older engines that Linux
// distributions ship as well as new ones.
package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	"github.com/docker/go-connections/nat"
	"github.com/docker/go-units"

	"github.com/flotta-dev/flotta/internal/runtime"
)

// Driver talks to one Docker engine.
type Driver struct {
	cli *client.Client
	// networkMu makes EnsureNetwork's look-then-create one step within the
	// process: Docker takes two networks of one name, and then refuses to
	// connect anything to either ("network ... is ambiguous").
	networkMu sync.Mutex
}

var _ runtime.Runtime = (*Driver)(nil)

// New connects to the engine named by DOCKER_HOST (or the default socket)
// and checks that it answers.
func New(ctx context.Context) (*Driver, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(pctx); err != nil {
		cli.Close()
		return nil, fmt.Errorf("docker engine does not answer at %s: %w", cli.DaemonHost(), err)
	}
	return &Driver{cli: cli}, nil
}

// Close releases the client.
func (d *Driver) Close() error { return d.cli.Close() }

func wrap(err error) error {
	if errdefs.IsNotFound(err) {
		return fmt.Errorf("%w: %v", runtime.ErrNotFound, err)
	}
	return err
}

// Info reports the engine's version and the machine's size.
func (d *Driver) Info(ctx context.Context) (runtime.Info, error) {
	info, err := d.cli.Info(ctx)
	if err != nil {
		return runtime.Info{}, err
	}
	return runtime.Info{Version: info.ServerVersion, APIVersion: d.cli.ClientVersion(), CPUs: info.NCPU,
		MemoryMiB: int(info.MemTotal / (1 << 20)), OS: info.OSType, Arch: info.Architecture}, nil
}

// ImagePresent says whether the engine has the image.
func (d *Driver) ImagePresent(ctx context.Context, ref string) (bool, error) {
	_, err := d.cli.ImageInspect(ctx, ref)
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// PullImage pulls an image and waits for the pull to finish; the error is
// the engine's own, which names the registry problem. auth, when set, is
// handed to the engine for the image's registry.
func (d *Driver) PullImage(ctx context.Context, ref string, auth *runtime.RegistryAuth) error {
	var opts image.PullOptions
	if auth != nil {
		encoded, err := registry.EncodeAuthConfig(registry.AuthConfig{Username: auth.Username, Password: auth.Password, ServerAddress: registryOf(ref)})
		if err != nil {
			return err
		}
		opts.RegistryAuth = encoded
	}
	rc, err := d.cli.ImagePull(ctx, ref, opts)
	if err != nil {
		return err
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if msg.Error != "" {
			return errors.New(msg.Error)
		}
	}
}

// BuildImage builds an image from a tar build context and tags it.
func (d *Driver) BuildImage(ctx context.Context, tag string, buildContext io.Reader, labels map[string]string) error {
	resp, err := d.cli.ImageBuild(ctx, buildContext, build.ImageBuildOptions{Tags: []string{tag}, Remove: true, ForceRemove: true, Labels: labels})
	if err != nil {
		return fmt.Errorf("build %s: %w", tag, err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("build %s: %w", tag, err)
		}
		if msg.Error != "" {
			return fmt.Errorf("build %s: %s", tag, msg.Error)
		}
	}
}

// RemoveImage deletes an image.
func (d *Driver) RemoveImage(ctx context.Context, ref string) error {
	_, err := d.cli.ImageRemove(ctx, ref, image.RemoveOptions{Force: true, PruneChildren: true})
	return wrap(err)
}

// CreateContainer creates (but does not start) a container.
func (d *Driver) CreateContainer(ctx context.Context, s runtime.ContainerSpec) (string, error) {
	cfg := &container.Config{
		Image: s.Image, Entrypoint: s.Entrypoint, Cmd: s.Cmd, Env: s.Env, User: s.User,
		WorkingDir: s.WorkingDir, Hostname: s.Hostname, Labels: s.Labels, ExposedPorts: nat.PortSet{},
	}
	if s.StopTimeout > 0 {
		secs := int(s.StopTimeout / time.Second)
		cfg.StopTimeout = &secs
	}
	if h := s.Health; h != nil {
		cfg.Healthcheck = &container.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, Retries: h.Retries, StartPeriod: h.StartPeriod}
	}
	hc := &container.HostConfig{
		NetworkMode:    container.NetworkMode(s.NetworkMode),
		PortBindings:   nat.PortMap{},
		ReadonlyRootfs: s.ReadonlyRootfs,
		Privileged:     s.Privileged,
		CapAdd:         s.CapAdd,
		CapDrop:        s.CapDrop,
		VolumesFrom:    s.VolumesFrom,
		Links:          s.Links,
		ExtraHosts:     s.ExtraHosts,
		DNS:            s.DNS,
		DNSSearch:      s.DNSSearch,
		SecurityOpt:    s.SecurityOpt,
		Sysctls:        s.Sysctls,
		ShmSize:        s.ShmSizeBytes,
		Tmpfs:          s.Tmpfs,
		Resources: container.Resources{
			CPUShares:         s.CPUShares,
			Memory:            s.MemoryBytes,
			MemoryReservation: s.MemoryReservation,
		},
	}
	if s.Init {
		t := true
		hc.Init = &t
	}
	if s.LogDriver != "" {
		hc.LogConfig = container.LogConfig{Type: s.LogDriver, Config: s.LogOptions}
	}
	for _, u := range s.Ulimits {
		hc.Ulimits = append(hc.Ulimits, &units.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}
	for _, m := range s.Mounts {
		if m.Bind {
			// A host path goes in Binds, as the ECS agent does: there the
			// engine creates a source directory that does not exist
			// (the Mounts API refuses it), which is what ECS documents for
			// a host volume's sourcePath.
			b := m.Source + ":" + m.Target
			if m.ReadOnly {
				b += ":ro"
			}
			hc.Binds = append(hc.Binds, b)
			continue
		}
		hc.Mounts = append(hc.Mounts, mount.Mount{Type: mount.TypeVolume, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	for _, p := range s.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		port, err := nat.NewPort(proto, strconv.Itoa(p.ContainerPort))
		if err != nil {
			return "", err
		}
		cfg.ExposedPorts[port] = struct{}{}
		host := ""
		if p.HostPort > 0 {
			host = strconv.Itoa(p.HostPort)
		}
		hc.PortBindings[port] = append(hc.PortBindings[port], nat.PortBinding{HostIP: "0.0.0.0", HostPort: host})
	}
	resp, err := d.cli.ContainerCreate(ctx, cfg, hc, nil, nil, s.Name)
	if err != nil {
		return "", wrap(err)
	}
	return resp.ID, nil
}

// StartContainer starts a created (or stopped) container.
func (d *Driver) StartContainer(ctx context.Context, id string) error {
	return wrap(d.cli.ContainerStart(ctx, id, container.StartOptions{}))
}

// StopContainer stops a container: SIGTERM, then SIGKILL after timeout.
func (d *Driver) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	secs := int(timeout / time.Second)
	return wrap(d.cli.ContainerStop(ctx, id, container.StopOptions{Timeout: &secs}))
}

// RemoveContainer removes a container, stopping it if it runs.
func (d *Driver) RemoveContainer(ctx context.Context, id string) error {
	err := d.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if errdefs.IsNotFound(err) {
		return nil
	}
	return err
}

// InspectContainer reads a container's state.
func (d *Driver) InspectContainer(ctx context.Context, id string) (runtime.ContainerState, error) {
	j, err := d.cli.ContainerInspect(ctx, id)
	if err != nil {
		return runtime.ContainerState{}, wrap(err)
	}
	st := runtime.ContainerState{ID: j.ID, Name: strings.TrimPrefix(j.Name, "/"), ImageID: j.Image, IPs: map[string]string{}}
	if j.Config != nil {
		st.Image, st.Labels = j.Config.Image, j.Config.Labels
	}
	if s := j.State; s != nil {
		st.Running = s.Running || s.Restarting
		st.Created = s.Status == "created"
		st.ExitCode = s.ExitCode
		st.Error = s.Error
		st.OOMKilled = s.OOMKilled
		st.StartedAt, _ = time.Parse(time.RFC3339Nano, s.StartedAt)
		st.FinishedAt, _ = time.Parse(time.RFC3339Nano, s.FinishedAt)
		if s.Health != nil {
			st.Health = s.Health.Status
		}
	}
	if ns := j.NetworkSettings; ns != nil {
		for port, bindings := range ns.Ports {
			for _, b := range bindings {
				hp, _ := strconv.Atoi(b.HostPort)
				if addr, err := netip.ParseAddr(b.HostIP); err == nil && addr.Is6() {
					continue // report each binding once, by its IPv4 side
				}
				st.Ports = append(st.Ports, runtime.PortBinding{ContainerPort: port.Int(), HostPort: hp, Protocol: port.Proto()})
			}
		}
		for name, ep := range ns.Networks {
			if ep != nil && ep.IPAddress != "" {
				st.IPs[name] = ep.IPAddress
			}
		}
	}
	return st, nil
}

func labelFilter(labels map[string]string) filters.Args {
	f := filters.NewArgs()
	for k, v := range labels {
		f.Add("label", k+"="+v)
	}
	return f
}

// ListContainers lists containers, running or not, that carry all the labels.
func (d *Driver) ListContainers(ctx context.Context, labels map[string]string) ([]runtime.ContainerState, error) {
	list, err := d.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: labelFilter(labels)})
	if err != nil {
		return nil, err
	}
	out := make([]runtime.ContainerState, 0, len(list))
	for _, c := range list {
		st, err := d.InspectContainer(ctx, c.ID)
		if errors.Is(err, runtime.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// Events streams start, die and health_status events of labelled containers.
func (d *Driver) Events(ctx context.Context, labels map[string]string) (<-chan runtime.Event, <-chan error) {
	f := labelFilter(labels)
	f.Add("type", string(events.ContainerEventType))
	msgs, errs := d.cli.Events(ctx, events.ListOptions{Filters: f})
	out := make(chan runtime.Event, 64)
	outErr := make(chan error, 1)
	go func() {
		defer close(out)
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					return
				}
				action := string(m.Action)
				if strings.HasPrefix(action, "health_status") {
					action = "health_status"
				}
				switch action {
				case "start", "die", "health_status", "destroy":
					select {
					case out <- runtime.Event{ContainerID: m.Actor.ID, Action: action}:
					case <-ctx.Done():
						return
					}
				}
			case err := <-errs:
				if err != nil && ctx.Err() == nil {
					outErr <- err
				}
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, outErr
}

// EnsureNetwork creates a bridge network unless one of that name exists.
// Docker does not keep names unique, so when two callers (two agents on
// one engine) create it at once, every caller keeps the same one (the
// lowest id) and removes the others.
func (d *Driver) EnsureNetwork(ctx context.Context, name string, labels map[string]string) error {
	d.networkMu.Lock()
	defer d.networkMu.Unlock()
	same := func() ([]network.Summary, error) {
		list, err := d.cli.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("name", name))})
		if err != nil {
			return nil, wrap(err)
		}
		exact := list[:0]
		for _, n := range list {
			if n.Name == name { // the filter matches substrings
				exact = append(exact, n)
			}
		}
		sort.Slice(exact, func(i, j int) bool { return exact[i].ID < exact[j].ID })
		return exact, nil
	}
	list, err := same()
	if err != nil {
		return err
	}
	if len(list) == 0 {
		if _, err := d.cli.NetworkCreate(ctx, name, network.CreateOptions{Driver: "bridge", Labels: labels}); err != nil && !errdefs.IsConflict(err) {
			return wrap(err)
		}
		if list, err = same(); err != nil {
			return err
		}
	}
	for _, extra := range list[min(1, len(list)):] {
		// Another caller's twin: unused yet, unless it won a race we lost.
		if err := d.cli.NetworkRemove(ctx, extra.ID); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("network %s exists twice and the twin %s cannot be removed: %w", name, extra.ID, wrap(err))
		}
	}
	return nil
}

// RemoveNetwork deletes a network.
func (d *Driver) RemoveNetwork(ctx context.Context, name string) error {
	return wrap(d.cli.NetworkRemove(ctx, name))
}

// EnsureVolume creates a named volume unless it exists.
func (d *Driver) EnsureVolume(ctx context.Context, name, driver string, opts, labels map[string]string) error {
	if _, err := d.cli.VolumeInspect(ctx, name); err == nil {
		return nil
	}
	_, err := d.cli.VolumeCreate(ctx, volume.CreateOptions{Name: name, Driver: driver, DriverOpts: opts, Labels: labels})
	return err
}

// RemoveVolume deletes a named volume.
func (d *Driver) RemoveVolume(ctx context.Context, name string) error {
	err := d.cli.VolumeRemove(ctx, name, true)
	if errdefs.IsNotFound(err) {
		return nil
	}
	return err
}

// registryOf is the registry host an image reference names ("docker.io"
// when it names none), as the engine keys credentials.
func registryOf(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ""
	}
	return reference.Domain(named)
}
