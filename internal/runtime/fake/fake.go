// Package fake is an in-memory container runtime for tests and simulation.
// Containers "run" until stopped or until a test makes them exit; images
// exist when a test says so. It emits the same events as a real engine.
package fake

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/flotta-dev/flotta/internal/runtime"
)

// Runtime is a fake engine. It is safe for concurrent use.
type Runtime struct {
	mu         sync.Mutex
	seq        int
	containers map[string]*runtime.ContainerState
	images     map[string]bool
	pullAuth   map[string]runtime.RegistryAuth
	subs       []*sub
	// OnStart, when set, is called as a container starts; it may make it exit.
	OnStart func(r *Runtime, id string, spec runtime.ContainerSpec)
	specs   map[string]runtime.ContainerSpec
	// PullError, when set, fails every pull.
	PullError error
	nextPort  int
}

type sub struct {
	labels map[string]string
	ch     chan runtime.Event
	ctx    context.Context
}

var _ runtime.Runtime = (*Runtime)(nil)

// New returns an empty fake engine.
func New() *Runtime {
	return &Runtime{containers: map[string]*runtime.ContainerState{}, images: map[string]bool{}, specs: map[string]runtime.ContainerSpec{}, nextPort: 49153}
}

// AddImage makes an image present.
func (r *Runtime) AddImage(ref string) {
	r.mu.Lock()
	r.images[ref] = true
	r.mu.Unlock()
}

// Info describes a 4-core, 8 GiB machine.
func (r *Runtime) Info(context.Context) (runtime.Info, error) {
	return runtime.Info{Version: "fake", APIVersion: "1.41", CPUs: 4, MemoryMiB: 8192, OS: "linux", Arch: "x86_64"}, nil
}

// ImagePresent says whether AddImage (or a pull) made the image present.
func (r *Runtime) ImagePresent(_ context.Context, ref string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.images[ref], nil
}

// PullImage succeeds unless PullError is set; it remembers the credentials
// it was given (see PullAuth).
func (r *Runtime) PullImage(_ context.Context, ref string, auth *runtime.RegistryAuth) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if auth != nil {
		if r.pullAuth == nil {
			r.pullAuth = map[string]runtime.RegistryAuth{}
		}
		r.pullAuth[ref] = *auth
	}
	if r.PullError != nil {
		return r.PullError
	}
	r.images[ref] = true
	return nil
}

// BuildImage makes the tagged image present.
func (r *Runtime) BuildImage(_ context.Context, tag string, buildContext io.Reader, _ map[string]string) error {
	io.Copy(io.Discard, buildContext)
	r.AddImage(tag)
	return nil
}

// CreateContainer records a created container.
func (r *Runtime) CreateContainer(_ context.Context, s runtime.ContainerSpec) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.images[s.Image] {
		return "", fmt.Errorf("%w: image %s", runtime.ErrNotFound, s.Image)
	}
	for _, c := range r.containers {
		if c.Name == s.Name {
			return "", fmt.Errorf("conflict: container name %s is in use", s.Name)
		}
	}
	r.seq++
	id := fmt.Sprintf("fake%060d", r.seq)
	labels := map[string]string{}
	for k, v := range s.Labels {
		labels[k] = v
	}
	r.containers[id] = &runtime.ContainerState{ID: id, Name: s.Name, Image: s.Image, ImageID: "sha256:" + s.Image, Labels: labels, Created: true, IPs: map[string]string{}}
	r.specs[id] = s
	return id, nil
}

// StartContainer marks a container running and binds its ports.
func (r *Runtime) StartContainer(_ context.Context, id string) error {
	r.mu.Lock()
	c, ok := r.containers[id]
	if !ok {
		r.mu.Unlock()
		return runtime.ErrNotFound
	}
	spec := r.specs[id]
	c.Created, c.Running, c.StartedAt, c.ExitCode = false, true, time.Now(), 0
	c.Ports = nil
	for _, p := range spec.Ports {
		hp := p.HostPort
		if hp == 0 {
			hp = r.nextPort
			r.nextPort++
		}
		c.Ports = append(c.Ports, runtime.PortBinding{ContainerPort: p.ContainerPort, HostPort: hp, Protocol: p.Protocol})
	}
	if spec.Health != nil {
		c.Health = "starting"
	}
	r.mu.Unlock()
	r.emit(id, "start")
	if r.OnStart != nil {
		r.OnStart(r, id, spec)
	}
	return nil
}

// Exit makes a running container exit with code.
func (r *Runtime) Exit(id string, code int) {
	r.mu.Lock()
	c, ok := r.containers[id]
	if !ok || !c.Running {
		r.mu.Unlock()
		return
	}
	c.Running, c.ExitCode, c.FinishedAt = false, code, time.Now()
	r.mu.Unlock()
	r.emit(id, "die")
}

// SetHealth changes a container's health status.
func (r *Runtime) SetHealth(id, health string) {
	r.mu.Lock()
	if c, ok := r.containers[id]; ok {
		c.Health = health
	}
	r.mu.Unlock()
	r.emit(id, "health_status")
}

// StopContainer makes a running container exit as if by SIGTERM.
func (r *Runtime) StopContainer(_ context.Context, id string, _ time.Duration) error {
	r.mu.Lock()
	_, ok := r.containers[id]
	r.mu.Unlock()
	if !ok {
		return runtime.ErrNotFound
	}
	r.Exit(id, 143)
	return nil
}

// RemoveContainer forgets a container.
func (r *Runtime) RemoveContainer(_ context.Context, id string) error {
	r.mu.Lock()
	_, ok := r.containers[id]
	delete(r.containers, id)
	delete(r.specs, id)
	r.mu.Unlock()
	if ok {
		r.emit(id, "destroy")
	}
	return nil
}

// InspectContainer returns a copy of a container's state.
func (r *Runtime) InspectContainer(_ context.Context, id string) (runtime.ContainerState, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return runtime.ContainerState{}, runtime.ErrNotFound
	}
	return *c, nil
}

// Spec returns the spec a container was created with.
func (r *Runtime) Spec(id string) runtime.ContainerSpec {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.specs[id]
}

func matches(labels, want map[string]string) bool {
	for k, v := range want {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// ListContainers lists containers with all the labels.
func (r *Runtime) ListContainers(_ context.Context, labels map[string]string) ([]runtime.ContainerState, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []runtime.ContainerState
	for _, c := range r.containers {
		if matches(c.Labels, labels) {
			out = append(out, *c)
		}
	}
	return out, nil
}

// Events subscribes to events of labelled containers.
func (r *Runtime) Events(ctx context.Context, labels map[string]string) (<-chan runtime.Event, <-chan error) {
	s := &sub{labels: labels, ch: make(chan runtime.Event, 1024), ctx: ctx}
	r.mu.Lock()
	r.subs = append(r.subs, s)
	r.mu.Unlock()
	go func() {
		<-ctx.Done()
		r.mu.Lock()
		for i, x := range r.subs {
			if x == s {
				r.subs = append(r.subs[:i], r.subs[i+1:]...)
				break
			}
		}
		r.mu.Unlock()
	}()
	return s.ch, make(chan error)
}

func (r *Runtime) emit(id, action string) {
	r.mu.Lock()
	var labels map[string]string
	if c, ok := r.containers[id]; ok {
		labels = c.Labels
	}
	subs := append([]*sub(nil), r.subs...)
	r.mu.Unlock()
	for _, s := range subs {
		if labels != nil && !matches(labels, s.labels) {
			continue
		}
		select {
		case s.ch <- runtime.Event{ContainerID: id, Action: action}:
		case <-s.ctx.Done():
		}
	}
}

// EnsureNetwork does nothing: the fake has every network.
func (r *Runtime) EnsureNetwork(context.Context, string, map[string]string) error { return nil }

// EnsureVolume does nothing: the fake has every volume.
func (r *Runtime) EnsureVolume(context.Context, string, string, map[string]string, map[string]string) error {
	return nil
}

// RemoveVolume does nothing.
func (r *Runtime) RemoveVolume(context.Context, string) error { return nil }

// PullAuth returns the credentials the last pull of ref was given, if any.
func (r *Runtime) PullAuth(ref string) (runtime.RegistryAuth, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.pullAuth[ref]
	return a, ok
}
