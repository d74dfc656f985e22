package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/runtime"
)

// Reasons a task or container stops, in ECS's words where ECS has words.
const (
	reasonEssentialExited = "Essential container in task exited"
	reasonRemoved         = "The container was removed outside of Flotta."
	reasonLost            = "The agent has no record of this task's containers; it will not start them again."
)

// runner owns one task: it alone changes the task's known state (st),
// fed by desired statuses from the server and events from the runtime.
type runner struct {
	a      *Agent
	def    model.TaskDefinition
	st     *taskState
	logger *slog.Logger
	events chan runtime.Event
	// serverStatus is the task's lastStatus as the server knew it at assignment.
	serverStatus string

	desiredMu sync.Mutex
	desired   string
	wake      chan struct{}
	// stopped is closed once the task has stopped (or the runner has ended).
	stopped     chan struct{}
	stoppedOnce sync.Once
}

func (a *Agent) newRunner(as flottaapi.Assignment, adopted []runtime.ContainerState) *runner {
	r := &runner{a: a, def: as.Definition, events: make(chan runtime.Event, 64), wake: make(chan struct{}, 1), stopped: make(chan struct{}),
		desired: as.Task.DesiredStatus, serverStatus: as.Task.LastStatus,
		logger: a.logger.With("task", as.Task.TaskArn)}
	st := &taskState{}
	found, err := readJSON(a.taskPath(as.Task.TaskArn), st)
	if err != nil {
		r.logger.Warn("unreadable task checkpoint; rebuilding it from the engine", "err", err)
		found = false
	}
	if !found {
		st = &taskState{Arn: as.Task.TaskArn, Cluster: lastSegment(as.Task.ClusterArn), Status: model.TaskProvisioning, Containers: map[string]*containerState{}}
	}
	for _, c := range as.Definition.ContainerDefinitions {
		if st.Containers[c.Name] == nil {
			st.Containers[c.Name] = &containerState{Name: c.Name, Status: model.TaskPending}
		}
	}
	// Containers the engine has that the checkpoint missed (the agent died
	// between creating them and saving): adopt them by their labels.
	for _, c := range adopted {
		name := c.Labels[runtime.LabelContainer]
		if name == runtime.PauseContainer {
			if st.PauseID == "" {
				st.PauseID = c.ID
			}
			continue
		}
		if cs := st.Containers[name]; cs != nil && cs.ID == "" {
			cs.ID = c.ID
			cs.Started = !c.Created
		}
	}
	r.st = st
	return r
}

func (r *runner) setDesired(s string) {
	r.desiredMu.Lock()
	changed := r.desired != s
	r.desired = s
	r.desiredMu.Unlock()
	if changed {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

func (r *runner) wantsStop() bool {
	r.desiredMu.Lock()
	defer r.desiredMu.Unlock()
	return r.desired == model.TaskStopped
}

func (r *runner) save() {
	if err := writeJSON(r.a.taskPath(r.st.Arn), r.st); err != nil {
		r.logger.Error("checkpoint task", "err", err)
	}
}

func (r *runner) now() *model.Time { return model.At(r.a.cfg.Now()) }

// run carries the task to its end, or returns when the agent stops (leaving
// the containers as they are, for the next agent to adopt).
func (r *runner) run(ctx context.Context) {
	defer r.a.forget(r)
	defer r.markStopped()
	for _, cs := range r.st.Containers {
		if cs.ID != "" {
			r.a.track(r, cs.ID)
		}
	}
	r.refreshAll(ctx)
	if r.st.Status == model.TaskProvisioning && r.serverStatus != "" &&
		model.TaskStatusRank(r.serverStatus) >= model.TaskStatusRank(model.TaskRunning) && !r.anyCreated() {
		// The server saw this task run, but nothing of it is left here.
		r.st.StopCode, r.st.Reason = model.StopTaskFailedToStart, reasonLost
		r.st.Status = model.TaskStopped
	}
	if r.st.Status != model.TaskStopped && !r.wantsStop() && model.TaskStatusRank(r.st.Status) < model.TaskStatusRank(model.TaskRunning) {
		r.start(ctx)
	}
	if r.st.Status == model.TaskRunning && !r.wantsStop() {
		r.monitor(ctx)
	}
	if ctx.Err() != nil {
		return
	}
	if r.st.Status != model.TaskStopped {
		if r.st.StopCode == "" && r.wantsStop() {
			r.st.StopCode = model.StopUserInitiated
		}
		r.stop(ctx)
	}
	if !r.report(ctx) {
		return
	}
	r.markStopped()
	r.cleanup(ctx)
}

func (r *runner) markStopped() { r.stoppedOnce.Do(func() { close(r.stopped) }) }

func (r *runner) anyCreated() bool {
	for _, cs := range r.st.Containers {
		if cs.ID != "" {
			return true
		}
	}
	return r.st.PauseID != ""
}

// refresh reads one container's state from the engine.
func (r *runner) refresh(ctx context.Context, cs *containerState) {
	if cs.ID == "" || cs.Status == model.TaskStopped && cs.ExitCode != nil {
		return
	}
	s, err := r.a.cfg.Runtime.InspectContainer(ctx, cs.ID)
	if errors.Is(err, runtime.ErrNotFound) {
		if cs.Status != model.TaskStopped {
			cs.Status, cs.Reason = model.TaskStopped, reasonRemoved
			r.save()
		}
		return
	}
	if err != nil {
		r.logger.Warn("inspect container", "container", cs.Name, "err", err)
		return
	}
	cs.ImageID = s.ImageID
	switch {
	case s.Running:
		cs.Status, cs.Started = model.TaskRunning, true
		cs.StartedAt = s.StartedAt
		cs.Bindings = bindings(s.Ports)
	case s.Created:
		cs.Status = model.TaskPending
	default:
		code := s.ExitCode
		cs.Status, cs.ExitCode, cs.Started = model.TaskStopped, &code, true
		if s.OOMKilled {
			cs.Reason = "OutOfMemoryError: Container killed due to memory usage"
		} else if s.Error != "" && cs.Reason == "" {
			cs.Reason = s.Error
		}
	}
	if !s.Running {
		// Health is a property of a running container.
		if cs.Health != "" {
			cs.Health = model.HealthUnknown
		}
		return
	}
	switch s.Health {
	case "healthy":
		cs.Health = model.HealthHealthy
	case "unhealthy":
		cs.Health = model.HealthUnhealthy
	case "starting":
		cs.Health = model.HealthUnknown
	}
}

func (r *runner) refreshAll(ctx context.Context) {
	for _, c := range r.def.ContainerDefinitions {
		r.refresh(ctx, r.st.Containers[c.Name])
	}
}

// waitForChange blocks until an engine event, a desired status change, a
// periodic check, or the end of the agent.
func (r *runner) waitForChange(ctx context.Context, tick time.Duration) {
	select {
	case <-r.events:
		// Take what else is queued too: one refresh covers them all.
		for len(r.events) > 0 {
			<-r.events
		}
	case <-r.wake:
	case <-time.After(tick):
	case <-ctx.Done():
	}
}

// fail ends the start of a task.
func (r *runner) fail(code, reason string) {
	r.logger.Warn("task failed to start", "reason", reason)
	r.st.StopCode, r.st.Reason = code, reason
}

// start pulls images, creates the containers, and starts them in dependency order.
func (r *runner) start(ctx context.Context) {
	if r.st.Status == model.TaskProvisioning {
		r.st.Status = model.TaskPending
		r.save()
		r.report(ctx)
	}
	if r.def.NetworkMode == model.NetworkAwsvpc {
		if err := r.ensurePause(ctx); err != nil {
			r.fail(model.StopTaskFailedToStart, "CannotStartContainerError: task network: "+err.Error())
			return
		}
	}
	for _, v := range r.def.Volumes {
		if v.Host != nil && v.Host.SourcePath != "" {
			continue
		}
		name, perTask := volumeName(r.st.Arn, v)
		driver, opts := "local", map[string]string(nil)
		if d := v.DockerVolumeConfiguration; d != nil {
			if d.Driver != "" {
				driver = d.Driver
			}
			opts = d.DriverOpts
		}
		if err := r.a.cfg.Runtime.EnsureVolume(ctx, name, driver, opts, r.a.labels(r.st.Arn, r.st.Cluster, "~volume")); err != nil {
			r.fail(model.StopTaskFailedToStart, "CannotCreateVolumeError: "+err.Error())
			return
		}
		if perTask && !slices.Contains(r.st.Volumes, name) {
			r.st.Volumes = append(r.st.Volumes, name)
			r.save()
		}
	}
	if err := r.pullImages(ctx); err != nil {
		r.fail(model.StopTaskFailedToStart, err.Error())
		return
	}
	if err := r.createContainers(ctx); err != nil {
		r.fail(model.StopTaskFailedToStart, err.Error())
		return
	}
	waitingSince := map[string]time.Time{}
	for ctx.Err() == nil && !r.wantsStop() {
		r.refreshAll(ctx)
		for _, c := range r.def.ContainerDefinitions {
			cs := r.st.Containers[c.Name]
			if c.IsEssential() && cs.Status == model.TaskStopped {
				r.st.StopCode, r.st.Reason = model.StopEssentialContainerExited, reasonEssentialExited
				return
			}
		}
		pending := 0
		for _, c := range r.def.ContainerDefinitions {
			cs := r.st.Containers[c.Name]
			if cs.Started || cs.Status == model.TaskStopped {
				continue
			}
			pending++
			ok, why := r.dependenciesMet(&c)
			if why != "" {
				r.fail(model.StopTaskFailedToStart, fmt.Sprintf("DependencyError: container %s cannot start: %s", c.Name, why))
				return
			}
			if !ok {
				if waitingSince[c.Name].IsZero() {
					waitingSince[c.Name] = r.a.cfg.Now()
				}
				if c.StartTimeout != nil && r.a.cfg.Now().Sub(waitingSince[c.Name]) > time.Duration(*c.StartTimeout)*time.Second {
					r.fail(model.StopTaskFailedToStart, fmt.Sprintf("DependencyError: container %s waited more than its startTimeout of %ds for its dependencies", c.Name, *c.StartTimeout))
					return
				}
				continue
			}
			if err := r.a.cfg.Runtime.StartContainer(ctx, cs.ID); err != nil {
				cs.Status, cs.Reason = model.TaskStopped, "CannotStartContainerError: "+err.Error()
				r.save()
				r.fail(model.StopTaskFailedToStart, fmt.Sprintf("CannotStartContainerError: container %s: %v", c.Name, err))
				return
			}
			cs.Started = true
			r.st.StartOrder = append(r.st.StartOrder, c.Name)
			r.refresh(ctx, cs)
			r.save()
			pending--
		}
		if pending == 0 {
			r.st.Status = model.TaskRunning
			r.save()
			r.logger.Info("task running")
			r.report(ctx)
			return
		}
		r.waitForChange(ctx, 500*time.Millisecond)
	}
}

// dependenciesMet says whether c may start now; why is set when it never can.
func (r *runner) dependenciesMet(c *model.ContainerDefinition) (ok bool, why string) {
	ok = true
	for _, d := range c.DependsOn {
		dep := r.st.Containers[d.ContainerName]
		switch d.Condition {
		case model.DependStart:
			ok = ok && dep.Started
		case model.DependComplete:
			ok = ok && dep.Status == model.TaskStopped
		case model.DependSuccess:
			if dep.Status == model.TaskStopped {
				if dep.ExitCode == nil || *dep.ExitCode != 0 {
					return false, fmt.Sprintf("%s was to exit with 0, and %s", d.ContainerName, exitText(dep))
				}
			} else {
				ok = false
			}
		case model.DependHealthy:
			if dep.Status == model.TaskStopped {
				return false, fmt.Sprintf("%s was to become healthy, and %s", d.ContainerName, exitText(dep))
			}
			ok = ok && dep.Health == model.HealthHealthy
		}
	}
	return ok, ""
}

func exitText(cs *containerState) string {
	if cs.ExitCode != nil {
		return fmt.Sprintf("it exited with %d", *cs.ExitCode)
	}
	return "it stopped: " + cs.Reason
}

func (r *runner) pullImages(ctx context.Context) error {
	r.st.PullStartedAt = r.now()
	for _, c := range r.def.ContainerDefinitions {
		if r.st.Containers[c.Name].ID != "" {
			continue
		}
		present, err := r.a.cfg.Runtime.ImagePresent(ctx, c.Image)
		if err != nil {
			return fmt.Errorf("CannotInspectImageError: %s: %v", c.Image, err)
		}
		if present {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		err = r.a.cfg.Runtime.PullImage(pctx, c.Image)
		cancel()
		if err != nil {
			reason := fmt.Sprintf("CannotPullContainerError: pull image %s: %v", c.Image, err)
			cs := r.st.Containers[c.Name]
			cs.Status, cs.Reason = model.TaskStopped, reason
			r.save()
			return errors.New(reason)
		}
	}
	r.st.PullStoppedAt = r.now()
	r.save()
	return nil
}

func (r *runner) createContainers(ctx context.Context) error {
	// volumesFrom needs its source to exist first: create in passes.
	for pass := 0; pass <= len(r.def.ContainerDefinitions); pass++ {
		progress, left := false, 0
		for i := range r.def.ContainerDefinitions {
			c := &r.def.ContainerDefinitions[i]
			cs := r.st.Containers[c.Name]
			if cs.ID != "" || cs.Status == model.TaskStopped {
				continue
			}
			ready := true
			for _, vf := range c.VolumesFrom {
				if r.st.Containers[vf.SourceContainer].ID == "" {
					ready = false
				}
			}
			if !ready {
				left++
				continue
			}
			spec, err := r.a.containerSpec(r.st, &r.def, c)
			if err != nil {
				cs.Status, cs.Reason = model.TaskStopped, "CannotCreateContainerError: "+err.Error()
				r.save()
				return fmt.Errorf("CannotCreateContainerError: container %s: %v", c.Name, err)
			}
			id, err := r.a.cfg.Runtime.CreateContainer(ctx, spec)
			if err != nil {
				cs.Status, cs.Reason = model.TaskStopped, "CannotCreateContainerError: "+err.Error()
				r.save()
				return fmt.Errorf("CannotCreateContainerError: container %s: %v", c.Name, err)
			}
			cs.ID = id
			r.a.track(r, id)
			r.save()
			progress = true
		}
		if left == 0 {
			return nil
		}
		if !progress {
			return errors.New("CannotCreateContainerError: volumesFrom forms a cycle")
		}
	}
	return nil
}

// ensurePause starts the container that holds an awsvpc task's network.
func (r *runner) ensurePause(ctx context.Context) error {
	if r.a.cfg.PauseImage == "" {
		return errors.New("this agent does not run awsvpc tasks (it has no pause image)")
	}
	rt := r.a.cfg.Runtime
	if r.st.PauseID != "" {
		s, err := rt.InspectContainer(ctx, r.st.PauseID)
		if err == nil && s.Running {
			r.st.IP = s.IPs[AwsvpcNetwork]
			return nil
		}
		if err == nil && s.Created {
			return r.startPause(ctx)
		}
		return fmt.Errorf("the task's network container is gone")
	}
	if err := rt.EnsureNetwork(ctx, AwsvpcNetwork, map[string]string{"com.flotta.network": "awsvpc"}); err != nil {
		return err
	}
	id, err := rt.CreateContainer(ctx, runtime.ContainerSpec{
		Name: "flotta-" + lastSegment(r.st.Arn) + "-pause", Image: r.a.cfg.PauseImage, Cmd: []string{"pause"},
		NetworkMode: AwsvpcNetwork, Labels: r.a.labels(r.st.Arn, r.st.Cluster, runtime.PauseContainer),
		Hostname: "ip-" + lastSegment(r.st.Arn)[:12],
	})
	if err != nil {
		return err
	}
	r.st.PauseID = id
	r.a.track(r, id)
	r.save()
	return r.startPause(ctx)
}

func (r *runner) startPause(ctx context.Context) error {
	if err := r.a.cfg.Runtime.StartContainer(ctx, r.st.PauseID); err != nil {
		return err
	}
	s, err := r.a.cfg.Runtime.InspectContainer(ctx, r.st.PauseID)
	if err != nil {
		return err
	}
	r.st.IP = s.IPs[AwsvpcNetwork]
	r.save()
	return nil
}

// monitor watches a running task until it must stop.
func (r *runner) monitor(ctx context.Context) {
	last := r.snapshot()
	for ctx.Err() == nil && !r.wantsStop() {
		r.refreshAll(ctx)
		for _, c := range r.def.ContainerDefinitions {
			cs := r.st.Containers[c.Name]
			if cs.Status != model.TaskStopped {
				continue
			}
			if r.restart(ctx, &c, cs) {
				continue
			}
			if c.IsEssential() {
				r.st.StopCode, r.st.Reason = model.StopEssentialContainerExited, reasonEssentialExited
				r.save()
				return
			}
		}
		if now := r.snapshot(); now != last {
			last = now
			r.save()
			r.report(ctx)
		}
		r.waitForChange(ctx, 2*time.Second)
	}
}

// restart applies a container's restart policy; it reports whether it restarted.
func (r *runner) restart(ctx context.Context, c *model.ContainerDefinition, cs *containerState) bool {
	rp := c.RestartPolicy
	if rp == nil || rp.Enabled == nil || !*rp.Enabled || cs.ExitCode == nil || cs.Reason == reasonRemoved {
		return false
	}
	if slices.Contains(rp.IgnoredExitCodes, *cs.ExitCode) {
		return false
	}
	period := 300 * time.Second
	if rp.RestartAttemptPeriod != nil {
		period = time.Duration(*rp.RestartAttemptPeriod) * time.Second
	}
	if r.a.cfg.Now().Sub(cs.StartedAt) < period {
		return false
	}
	if err := r.a.cfg.Runtime.StartContainer(ctx, cs.ID); err != nil {
		r.logger.Warn("restart container", "container", cs.Name, "err", err)
		return false
	}
	cs.Restarts++
	cs.Status, cs.ExitCode, cs.Reason = model.TaskRunning, nil, ""
	r.refresh(ctx, cs)
	r.save()
	r.logger.Info("container restarted by its restart policy", "container", cs.Name, "restarts", cs.Restarts)
	return true
}

// snapshot is a comparable summary of what a report would say.
func (r *runner) snapshot() string {
	s := r.st.Status + "|" + r.taskHealth()
	for _, c := range r.def.ContainerDefinitions {
		cs := r.st.Containers[c.Name]
		s += fmt.Sprintf("|%s:%s:%s:%v:%d", c.Name, cs.Status, cs.Health, cs.Bindings, cs.Restarts)
	}
	return s
}

// stop stops the containers, dependents before what they depend on.
func (r *runner) stop(ctx context.Context) {
	if r.st.Status != model.TaskStopping {
		r.st.Status = model.TaskStopping
		r.save()
		r.report(ctx)
	}
	order := slices.Clone(r.st.StartOrder)
	slices.Reverse(order)
	for _, c := range r.def.ContainerDefinitions {
		if !slices.Contains(order, c.Name) {
			order = append(order, c.Name)
		}
	}
	for _, name := range order {
		cs := r.st.Containers[name]
		if cs.ID == "" {
			if cs.Status != model.TaskStopped {
				cs.Status = model.TaskStopped
				if cs.Reason == "" {
					cs.Reason = "The task stopped before this container started."
				}
			}
			continue
		}
		var def *model.ContainerDefinition
		for i := range r.def.ContainerDefinitions {
			if r.def.ContainerDefinitions[i].Name == name {
				def = &r.def.ContainerDefinitions[i]
			}
		}
		if err := r.a.cfg.Runtime.StopContainer(ctx, cs.ID, stopTimeout(def)); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			r.logger.Warn("stop container", "container", name, "err", err)
		}
		r.refresh(ctx, cs)
		if cs.Status != model.TaskStopped {
			cs.Status = model.TaskStopped
			if !cs.Started && cs.Reason == "" {
				cs.Reason = "The task stopped before this container started."
			}
		}
	}
	if r.st.PauseID != "" {
		r.a.cfg.Runtime.StopContainer(ctx, r.st.PauseID, time.Second)
	}
	if ctx.Err() != nil {
		return
	}
	r.st.Status = model.TaskStopped
	r.st.StoppedAt = r.now()
	r.save()
	r.logger.Info("task stopped", "code", r.st.StopCode, "reason", r.st.Reason)
}

// cleanup removes the task's containers and volumes after the cleanup delay.
func (r *runner) cleanup(ctx context.Context) {
	select {
	case <-time.After(r.a.cfg.CleanupDelay):
	case <-ctx.Done():
		return
	}
	rt := r.a.cfg.Runtime
	for _, cs := range r.st.Containers {
		if cs.ID != "" {
			rt.RemoveContainer(ctx, cs.ID)
		}
	}
	if r.st.PauseID != "" {
		rt.RemoveContainer(ctx, r.st.PauseID)
	}
	for _, v := range r.st.Volumes {
		rt.RemoveVolume(ctx, v)
	}
	if ctx.Err() == nil {
		os.Remove(r.a.taskPath(r.st.Arn))
	}
}

// taskHealth aggregates the essential containers' health, as ECS does.
func (r *runner) taskHealth() string {
	checked, healthy := 0, 0
	for _, c := range r.def.ContainerDefinitions {
		if !c.IsEssential() || c.HealthCheck == nil {
			continue
		}
		checked++
		switch r.st.Containers[c.Name].Health {
		case model.HealthUnhealthy:
			return model.HealthUnhealthy
		case model.HealthHealthy:
			healthy++
		}
	}
	if checked > 0 && healthy == checked {
		return model.HealthHealthy
	}
	return model.HealthUnknown
}

// report tells the server the task's state, retrying until it is heard or
// the agent stops. It returns false only when the agent stops first.
func (r *runner) report(ctx context.Context) bool {
	ch := flottaapi.SubmitTaskStateChangeInput{Cluster: r.st.Cluster, Task: r.st.Arn, Status: r.st.Status, Reason: r.st.Reason,
		PullStartedAt: r.st.PullStartedAt, PullStoppedAt: r.st.PullStoppedAt, HealthStatus: r.taskHealth()}
	if r.st.Status == model.TaskStopped {
		ch.StopCode, ch.ExecutionStoppedAt = r.st.StopCode, r.st.StoppedAt
	}
	var ifaces []model.NetworkInterface
	if r.st.IP != "" {
		ifaces = []model.NetworkInterface{{AttachmentID: lastSegment(r.st.Arn), PrivateIpv4Address: r.st.IP}}
		status := "ATTACHED"
		if r.st.Status == model.TaskStopped {
			status = "DELETED"
		}
		ch.Attachments = []model.Attachment{{ID: lastSegment(r.st.Arn), Type: "ElasticNetworkInterface", Status: status, Details: []model.KeyValuePair{
			model.Pair("networkInterfaceId", "eni-"+lastSegment(r.st.Arn)[:17]),
			model.Pair("privateIPv4Address", r.st.IP),
		}}}
	}
	for _, c := range r.def.ContainerDefinitions {
		cs := r.st.Containers[c.Name]
		cc := flottaapi.ContainerStateChange{ContainerName: c.Name, RuntimeID: cs.ID, Status: cs.Status, ExitCode: cs.ExitCode,
			Reason: cs.Reason, NetworkBindings: cs.Bindings, HealthStatus: cs.Health, ImageDigest: cs.ImageID, NetworkInterfaces: ifaces}
		if c.HealthCheck != nil && cc.HealthStatus == "" {
			cc.HealthStatus = model.HealthUnknown
		}
		ch.Containers = append(ch.Containers, cc)
	}
	backoff := 200 * time.Millisecond
	for {
		err := r.a.api.call(ctx, ecsTarget+"SubmitTaskStateChange", ch, nil)
		if err == nil {
			return true
		}
		var apiErr *model.Error
		if errors.As(err, &apiErr) {
			switch apiErr.Code {
			case "InvalidParameterException", "AccessDeniedException", "ClusterNotFoundException":
				// The server will never take this report; retrying cannot help.
				r.logger.Error("the server refused a task report; giving up on it", "err", err)
				return true
			}
		}
		r.logger.Warn("report task state; retrying", "err", err)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return false
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}
