// Package agent is the node agent: it joins a Flotta server, registers this
// machine as a container instance, learns through a long poll which tasks to
// run or stop, runs them through a container runtime, and reports every
// change back. One goroutine owns each task (task.go) and carries out what a
// pure step function decides for it (step.go); the agent
// checkpoints what it knows, and every container carries labels naming its
// task, so that a restarted agent adopts what runs instead of starting it
// again.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/pki"
	"github.com/flotta-dev/flotta/internal/runtime"
)

// Config says how to run an agent.
type Config struct {
	// Server is the Flotta endpoint URL.
	Server string
	// Cluster to join; default "default".
	Cluster string
	// JoinToken is needed only the first time, to obtain an identity. The
	// tokens of a server that serves HTTPS end with its CA's fingerprint,
	// which the agent pins.
	JoinToken string
	// CAFingerprint pins the server's CA when the join token does not (or,
	// for an agent that joined over plain HTTP, once its server serves HTTPS).
	CAFingerprint string
	// DataDir keeps the identity and task checkpoints.
	DataDir string
	// CPU (units) and Memory (MiB) override what the host reports.
	CPU, Memory int
	// ReservedMemory is kept back from the host's memory, in MiB.
	ReservedMemory int
	Zone           string
	InstanceType   string
	Attributes     map[string]string
	// AllowPrivileged lets tasks run privileged containers.
	AllowPrivileged bool
	// AllowHostAccess lets tasks mount host paths (the Docker socket among
	// them), add kernel capabilities, use host devices, and share the
	// host's PID or IPC namespace.
	AllowHostAccess bool
	Runtime         runtime.Runtime
	// PauseImage holds an awsvpc task's network namespace; empty disables awsvpc.
	PauseImage string
	// CleanupDelay is how long a stopped task's containers are kept.
	CleanupDelay time.Duration
	// PollWait is how long one poll may wait for a change.
	PollWait time.Duration
	// CredentialsAddress is where the agent serves task role credentials
	// to containers (host:port; default DefaultCredentialsAddress, which
	// the agent adds to the loopback interface when the host lacks it;
	// "off" serves none, and tasks with a role do not start).
	CredentialsAddress string
	// AdvertiseAddress is the address load balancers reach this host's
	// published ports at (attribute com.flotta.host-address); empty: the
	// address this host uses to reach the server.
	AdvertiseAddress string
	// ContainerLabels are added to every container the agent makes (tests
	// mark theirs, so that a crashed run's leftovers can be found).
	ContainerLabels map[string]string
	Version         string
	Logger          *slog.Logger
	// Now and After are the agent's clock: a task's timers (its
	// dependencies' startTimeout, the looks between engine events, the
	// cleanup delay, report retries) run on it. Default: the wall clock.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
}

// Agent runs tasks on one container instance.
type Agent struct {
	cfg    Config
	id     identity
	api    *client
	logger *slog.Logger

	mu      sync.Mutex
	runners map[string]*runner // by task ARN
	// secrets are the values of each task's secrets as the server sent
	// them, kept in memory only (never checkpointed, never logged).
	secrets map[string]taskSecrets
	// draining holds the tasks being kept running while load balancers
	// drain them (see stopAfterDrain).
	draining map[string]bool
	// roles hold each task's role credentials and token (memory only).
	roles        map[string]*taskRole
	endpoint     credentialsEndpoint
	endpointOnce sync.Once
	byCtr        map[string]*runner // by container id
	adopted      map[string][]runtime.ContainerState
	// done holds the tasks this agent carried to their end, so that a stale
	// assignment never starts one again.
	done       map[string]bool
	registered chan struct{}
}

// New checks a configuration and returns an agent ready to Run.
func New(cfg Config) (*Agent, error) {
	if cfg.Server == "" {
		return nil, errors.New("the agent needs a server URL (--server)")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("the agent needs a data directory (--data-dir)")
	}
	if cfg.Runtime == nil {
		return nil, errors.New("the agent needs a container runtime")
	}
	if cfg.CAFingerprint != "" && !pki.ValidFingerprint(cfg.CAFingerprint) {
		return nil, fmt.Errorf("--ca-fingerprint %q: want sha256: and 64 lower-case hex digits, as the server's log and config file show it", cfg.CAFingerprint)
	}
	if cfg.Cluster == "" {
		cfg.Cluster = "default"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	if cfg.CleanupDelay == 0 {
		cfg.CleanupDelay = 10 * time.Minute
	}
	if cfg.PollWait == 0 {
		cfg.PollWait = 10 * time.Second
	}
	if cfg.ReservedMemory == 0 {
		cfg.ReservedMemory = 256
	}
	if cfg.Zone == "" {
		cfg.Zone = "local-1a"
	}
	if cfg.InstanceType == "" {
		cfg.InstanceType = "flotta.host"
	}
	if cfg.CredentialsAddress == "" {
		cfg.CredentialsAddress = DefaultCredentialsAddress
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	return &Agent{cfg: cfg, logger: cfg.Logger, runners: map[string]*runner{}, byCtr: map[string]*runner{}, secrets: map[string]taskSecrets{}, draining: map[string]bool{},
		roles: map[string]*taskRole{},
		done:  map[string]bool{}, registered: make(chan struct{})}, nil
}

// ContainerInstanceArn is this agent's instance, once registered.
func (a *Agent) ContainerInstanceArn() string { return a.id.ContainerInstanceArn }

// Registered is closed once the agent has registered its instance and
// connected, so that tasks can be placed on it.
func (a *Agent) Registered() <-chan struct{} { return a.registered }

func (a *Agent) instanceID() string {
	return a.id.ContainerInstanceArn[strings.LastIndex(a.id.ContainerInstanceArn, "/")+1:]
}

func (a *Agent) identityPath() string { return filepath.Join(a.cfg.DataDir, "identity.json") }
func (a *Agent) taskPath(arn string) string {
	return filepath.Join(a.cfg.DataDir, "tasks", lastSegment(arn)+".json")
}

// Run joins (the first time), registers, adopts what runs, and then follows
// the server's instructions until ctx ends. Ending leaves tasks running: a
// restarted agent adopts them.
func (a *Agent) Run(ctx context.Context) error {
	if err := a.loadOrJoin(ctx); err != nil {
		return err
	}
	if err := a.register(ctx); err != nil {
		return err
	}
	a.logger.Info("agent registered", "instance", a.id.ContainerInstanceArn, "cluster", a.id.Cluster)

	evCtx, cancelEvents := context.WithCancel(ctx)
	defer cancelEvents()
	go a.routeEvents(evCtx)

	if err := a.adopt(ctx); err != nil {
		return fmt.Errorf("adopt running containers: %w", err)
	}
	// Runners live on their own context: the agent ends them after its loop.
	rctx, stopRunners := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopRunners()
	revision := int64(0)
	backoff := time.Second
	for ctx.Err() == nil {
		var out flottaapi.PollOutput
		err := a.api.call(ctx, flottaTarget+"Poll", flottaapi.PollInput{ContainerInstanceArn: a.id.ContainerInstanceArn, Revision: revision,
			WaitSeconds: int(a.pollWait() / time.Second)}, &out)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if model.IsCode(err, codeUnknownKey) {
				// Deregistering an instance deletes its agent's keys.
				a.logger.Warn("the server no longer knows this agent's key (its container instance was deregistered); stopping its tasks", "err", err)
				a.stopAll(ctx, 2*time.Minute)
				return errors.New("the agent's credentials were revoked: its container instance was deregistered")
			}
			a.logger.Warn("poll failed; retrying", "err", err, "in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = time.Second
		if revision == 0 {
			// The first poll opened the session: the instance now takes tasks.
			close(a.registered)
		}
		revision = out.Revision
		a.apply(rctx, &wg, out)
		if out.InstanceStatus == model.InstanceInactive {
			a.logger.Warn("this container instance was deregistered; stopping its tasks")
			a.stopAll(ctx, 2*time.Minute)
			return errors.New("the container instance was deregistered")
		}
	}
	return nil
}

// codeUnknownKey is the refusal of a request signed with a key the server
// does not know.
const codeUnknownKey = "UnrecognizedClientException"

// loadOrJoin reads the agent's identity, or exchanges the join token for one.
func (a *Agent) loadOrJoin(ctx context.Context) error {
	found, err := readJSON(a.identityPath(), &a.id)
	if err != nil {
		return fmt.Errorf("read agent identity: %w", err)
	}
	if found && a.id.Cluster != a.cfg.Cluster {
		return fmt.Errorf("this data dir belongs to an agent of cluster %q; use another --data-dir for cluster %q", a.id.Cluster, a.cfg.Cluster)
	}
	if !found {
		if a.cfg.JoinToken == "" {
			return errors.New("this agent has not joined yet: pass --join-token (make one with `flotta token create`)")
		}
		token, pin := pki.SplitToken(a.cfg.JoinToken)
		if pin != "" && !pki.ValidFingerprint(pin) {
			return fmt.Errorf("the join token's CA fingerprint %q is malformed: copy the whole token from `flotta token create`", pin)
		}
		if a.cfg.CAFingerprint != "" {
			if pin != "" && pin != a.cfg.CAFingerprint {
				return fmt.Errorf("the join token pins CA %s, but --ca-fingerprint says %s", pin, a.cfg.CAFingerprint)
			}
			pin = a.cfg.CAFingerprint
		}
		anon, err := newClient(a.cfg.Server, pin, "", "", "", time.Now)
		if err != nil {
			return err
		}
		var out flottaapi.JoinOutput
		if err := anon.call(ctx, flottaTarget+"Join", map[string]string{"token": token}, &out); err != nil {
			return fmt.Errorf("join %s: %w", a.cfg.Server, err)
		}
		a.id = identity{Server: a.cfg.Server, Cluster: a.cfg.Cluster, AgentID: out.AgentID, AccessKeyID: out.AccessKeyID,
			SecretAccessKey: out.SecretAccessKey, Region: out.Region, CAFingerprint: pin}
		if err := writeJSON(a.identityPath(), a.id); err != nil {
			return fmt.Errorf("save agent identity: %w", err)
		}
		a.logger.Info("agent joined", "agent", out.AgentID, "server", a.cfg.Server, "ca_fingerprint", pin)
	} else if a.cfg.CAFingerprint != "" && a.cfg.CAFingerprint != a.id.CAFingerprint {
		if a.id.CAFingerprint != "" {
			return fmt.Errorf("this agent pinned CA %s when it joined; --ca-fingerprint %s does not change that (join again with a new --data-dir)", a.id.CAFingerprint, a.cfg.CAFingerprint)
		}
		// An agent that joined over plain HTTP learns its server's CA.
		a.id.CAFingerprint = a.cfg.CAFingerprint
		if err := writeJSON(a.identityPath(), a.id); err != nil {
			return fmt.Errorf("save agent identity: %w", err)
		}
	}
	// Signatures use the wall clock: the server checks them against its own.
	a.api, err = newClient(a.cfg.Server, a.id.CAFingerprint, a.id.Region, a.id.AccessKeyID, a.id.SecretAccessKey, time.Now)
	return err
}

// capabilities are the attributes that say what this agent can run.
func (a *Agent) capabilities(info runtime.Info) []model.Attribute {
	caps := []string{
		model.AttrHealthCheck, model.AttrContainerOrdering, model.AttrTaskCPUMemLimit, model.AttrRestartPolicy,
		model.AttrTaskIAMRole, model.AttrDockerPluginPrefix + "local",
		// The server reads secrets from Parameter Store and Secrets Manager
		// and sends their values with the task.
		model.AttrSecretsSSMEnv, model.AttrSecretsASMEnv, model.AttrPrivateRegistryAuth,
	}
	for _, d := range []string{"json-file", "syslog", "journald", "gelf", "fluentd", "none"} {
		caps = append(caps, model.AttrLoggingPrefix+d)
	}
	for minor := 17; minor <= 44; minor++ {
		caps = append(caps, fmt.Sprintf("%s1.%d", model.AttrDockerAPIPrefix, minor))
	}
	if a.cfg.PauseImage != "" {
		caps = append(caps, model.AttrTaskENI)
	}
	if a.cfg.AllowPrivileged {
		caps = append(caps, model.AttrPrivileged)
	}
	if a.cfg.AllowHostAccess {
		caps = append(caps, model.AttrHostAccess)
	}
	arch := info.Arch
	if arch == "amd64" {
		arch = "x86_64"
	}
	attrs := []model.Attribute{
		{Name: model.AttrOSType, Value: "linux"},
		{Name: model.AttrOSFamily, Value: "LINUX"},
		{Name: model.AttrCPUArch, Value: arch},
	}
	for _, c := range caps {
		attrs = append(attrs, model.Attribute{Name: c})
	}
	if addr := a.hostAddress(); addr != "" {
		attrs = append(attrs, model.Attribute{Name: model.AttrHostAddress, Value: addr})
	}
	keys := make([]string, 0, len(a.cfg.Attributes))
	for k := range a.cfg.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		attrs = append(attrs, model.Attribute{Name: k, Value: a.cfg.Attributes[k]})
	}
	return attrs
}

// register registers the instance (again, after a restart) with what the
// host offers.
func (a *Agent) register(ctx context.Context) error {
	info, err := a.cfg.Runtime.Info(ctx)
	if err != nil {
		return fmt.Errorf("container runtime: %w", err)
	}
	cpu, mem := a.cfg.CPU, a.cfg.Memory
	if cpu == 0 {
		cpu = info.CPUs * 1024
	}
	if mem == 0 {
		mem = info.MemoryMiB - a.cfg.ReservedMemory
	}
	tcp, udp := listeningPorts()
	doc, _ := json.Marshal(map[string]string{"instanceId": a.id.AgentID, "availabilityZone": a.cfg.Zone,
		"instanceType": a.cfg.InstanceType, "region": a.id.Region})
	in := flottaapi.RegisterContainerInstanceInput{
		Cluster:                  a.id.Cluster,
		InstanceIdentityDocument: string(doc),
		ContainerInstanceArn:     a.id.ContainerInstanceArn,
		TotalResources: []model.Resource{
			model.IntResource(model.ResourceCPU, cpu),
			model.IntResource(model.ResourceMemory, mem),
			model.PortsResource(model.ResourcePorts, portStrings(reservedPorts, tcp)),
			model.PortsResource(model.ResourcePortsUDP, portStrings(udp)),
		},
		VersionInfo: &model.VersionInfo{AgentVersion: a.cfg.Version, DockerVersion: "DockerVersion: " + info.Version},
		Attributes:  a.capabilities(info),
	}
	var out flottaapi.ContainerInstanceOutput
	for {
		err := a.api.call(ctx, ecsTarget+"RegisterContainerInstance", in, &out)
		if err == nil {
			break
		}
		var apiErr *model.Error
		if errors.As(err, &apiErr) || ctx.Err() != nil {
			return fmt.Errorf("register container instance: %w", err)
		}
		a.logger.Warn("cannot reach the server to register; retrying", "err", err)
		select {
		case <-time.After(2 * time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	a.id.ContainerInstanceArn = out.ContainerInstance.ContainerInstanceArn
	return writeJSON(a.identityPath(), a.id)
}

// adopt finds the containers this instance's agent made before a restart.
func (a *Agent) adopt(ctx context.Context) error {
	list, err := a.cfg.Runtime.ListContainers(ctx, map[string]string{runtime.LabelInstance: a.instanceID()})
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.adopted = map[string][]runtime.ContainerState{}
	for _, c := range list {
		arn := c.Labels[runtime.LabelTask]
		a.adopted[arn] = append(a.adopted[arn], c)
	}
	if len(list) > 0 {
		a.logger.Info("found containers from before a restart", "containers", len(list), "tasks", len(a.adopted))
	}
	return nil
}

// apply starts runners for new assignments, passes desired statuses on, and
// removes what belongs to no task any more.
func (a *Agent) apply(ctx context.Context, wg *sync.WaitGroup, out flottaapi.PollOutput) {
	for _, as := range out.Tasks {
		if as.RoleCredentials != nil {
			a.startCredentialsEndpoint(ctx, wg)
			break
		}
	}
	assigned := map[string]bool{}
	for _, as := range out.Tasks {
		arn := as.Task.TaskArn
		assigned[arn] = true
		a.mu.Lock()
		r := a.runners[arn]
		if r == nil && a.done[arn] {
			a.mu.Unlock()
			continue
		}
		if as.Secrets != nil || as.RegistryAuth != nil || as.SecretsError != "" {
			a.secrets[arn] = taskSecrets{values: as.Secrets, registry: as.RegistryAuth, err: as.SecretsError}
		}
		if as.RoleCredentials != nil || as.RoleError != "" {
			a.setRole(arn, as.RoleCredentials, as.RoleError)
		}
		if r == nil {
			r = a.newRunner(as, a.adopted[arn])
			delete(a.adopted, arn)
			a.runners[arn] = r
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.run(ctx)
			}()
		}
		a.mu.Unlock()
		if as.Task.DesiredStatus == model.TaskStopped && as.DrainUntil != nil && time.Until(as.DrainUntil.Time) > 0 {
			a.stopAfterDrain(arn, r, as.DrainUntil.Time)
			continue
		}
		r.setDesired(as.Task.DesiredStatus)
	}
	// A running task the server no longer assigns here must stop.
	a.mu.Lock()
	for arn, r := range a.runners {
		if !assigned[arn] {
			r.setDesired(model.TaskStopped)
		}
	}
	a.mu.Unlock()
	// Containers of tasks the server no longer assigns here, and that no
	// runner owns, are leftovers: remove them.
	a.mu.Lock()
	var leftovers []runtime.ContainerState
	for arn, cs := range a.adopted {
		if !assigned[arn] {
			leftovers = append(leftovers, cs...)
			delete(a.adopted, arn)
			os.Remove(a.taskPath(arn))
		}
	}
	a.mu.Unlock()
	for _, c := range leftovers {
		a.logger.Info("removing a container of a task no longer assigned here", "container", c.Name, "task", c.Labels[runtime.LabelTask])
		a.cfg.Runtime.StopContainer(ctx, c.ID, 10*time.Second)
		a.cfg.Runtime.RemoveContainer(ctx, c.ID)
	}
}

// stopAll asks every runner to stop its task and waits, up to timeout, until
// they have.
func (a *Agent) stopAll(ctx context.Context, timeout time.Duration) {
	a.mu.Lock()
	runners := make([]*runner, 0, len(a.runners))
	for _, r := range a.runners {
		runners = append(runners, r)
	}
	a.mu.Unlock()
	deadline := time.After(timeout)
	for _, r := range runners {
		r.setDesired(model.TaskStopped)
	}
	for _, r := range runners {
		select {
		case <-r.stopped:
		case <-deadline:
			return
		case <-ctx.Done():
			return
		}
	}
}

// routeEvents passes engine events to the runner that owns the container.
func (a *Agent) routeEvents(ctx context.Context) {
	for ctx.Err() == nil {
		events, errs := a.cfg.Runtime.Events(ctx, map[string]string{runtime.LabelInstance: a.instanceID()})
	loop:
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					break loop
				}
				a.mu.Lock()
				r := a.byCtr[ev.ContainerID]
				a.mu.Unlock()
				if r != nil {
					select {
					case r.events <- ev:
					default: // the runner's periodic check catches up
					}
				}
			case err := <-errs:
				a.logger.Warn("container events stream ended; resubscribing", "err", err)
				break loop
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
		}
	}
}

func (a *Agent) track(r *runner, containerID string) {
	a.mu.Lock()
	a.byCtr[containerID] = r
	a.mu.Unlock()
}

func (a *Agent) forget(r *runner) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.runners, r.st.Arn)
	delete(a.secrets, r.st.Arn)
	delete(a.draining, r.st.Arn)
	delete(a.roles, r.st.Arn)
	if r.st.Status == model.TaskStopped {
		a.done[r.st.Arn] = true
	}
	for id, x := range a.byCtr {
		if x == r {
			delete(a.byCtr, id)
		}
	}
}

// drainPoll is how long a poll waits while a task is kept running for load
// balancers to drain it: their deregistration may end early (nothing in
// flight), which no task change announces.
const drainPoll = 2 * time.Second

// pollWait is how long the next poll may wait for a change.
func (a *Agent) pollWait() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.draining) > 0 {
		return min(a.cfg.PollWait, drainPoll)
	}
	return a.cfg.PollWait
}

// maxDrain bounds how long a task is kept running for load balancers to
// drain it (ELB's longest deregistration delay).
const maxDrain = time.Hour

// stopAfterDrain keeps a task that is to stop running until its load
// balancer targets have drained, then stops it; once per task.
func (a *Agent) stopAfterDrain(arn string, r *runner, until time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.draining[arn] {
		return
	}
	a.draining[arn] = true
	a.logger.Info("task to stop once load balancers drain it", "task", arn, "until", until)
	time.AfterFunc(min(time.Until(until), maxDrain), func() { r.setDesired(model.TaskStopped) })
}

// taskSecrets are one task's secret values, or why the server could not
// read them.
type taskSecrets struct {
	values   map[string]map[string]string
	registry map[string]flottaapi.RegistryAuth
	err      string
}

// registryAuth returns the private registry credentials of a task's
// container whose definition names repositoryCredentials, or why there are
// none (in ECS's words).
func (a *Agent) registryAuth(arn, container string) (*runtime.RegistryAuth, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.secrets[arn]
	switch {
	case !ok:
		return nil, initError("ResourceInitializationError: unable to pull secrets or registry auth: the server sent no registry credentials for this task")
	case s.err != "":
		return nil, initError(s.err)
	}
	auth, ok := s.registry[container]
	if !ok {
		return nil, initError(fmt.Sprintf("ResourceInitializationError: unable to pull secrets or registry auth: the server sent no registry credentials for container %s", container))
	}
	return &runtime.RegistryAuth{Username: auth.Username, Password: auth.Password}, nil
}

// initError is a task's failure to get what it needs before its containers
// can start; its text is the task's stopped reason as it is.
type initError string

func (e initError) Error() string { return string(e) }

// taskSecrets returns a task's secret values (container, then variable), or
// why there are none.
func (a *Agent) taskSecrets(arn string) (map[string]map[string]string, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.secrets[arn]
	if !ok {
		return nil, "ResourceInitializationError: unable to pull secrets or registry auth: the server sent no secret values for this task"
	}
	return s.values, s.err
}

// hostAddress is where this host's published ports are reached: the
// configured address, else the local address of a route to the server (a
// UDP socket "connected" to it sends nothing), "" when neither is known.
func (a *Agent) hostAddress() string {
	if a.cfg.AdvertiseAddress != "" {
		return a.cfg.AdvertiseAddress
	}
	u, err := url.Parse(a.cfg.Server)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	conn, err := net.Dial("udp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return ""
	}
	defer conn.Close()
	if addr, ok := conn.LocalAddr().(*net.UDPAddr); ok {
		return addr.IP.String()
	}
	return ""
}
