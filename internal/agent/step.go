package agent

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/runtime"
)

// This file holds every decision about one task, as a pure function: step
// takes what the agent knows of the task, what the server wants of it and
// what the engine says of its containers, and returns what the agent knows
// next and the actions that carry the task towards what the server wants.
// It does no I/O and reads no clock; the runner (task.go) observes, calls
// step, and carries out the actions.

// Reasons a task or container stops, in ECS's words where ECS has words.
const (
	reasonEssentialExited = "Essential container in task exited"
	reasonRemoved         = "The container was removed outside of Flotta."
	reasonLost            = "The agent has no record of this task's containers; it will not start them again."
	reasonNotStarted      = "The task stopped before this container started."
	reasonOOM             = "OutOfMemoryError: Container killed due to memory usage"
)

// Ticks between looks at a task when no engine event comes: a dropped event
// must not leave a task waiting for ever.
const (
	startTick   = 500 * time.Millisecond
	monitorTick = 2 * time.Second
	// pauseStopTimeout is the network container's grace: it holds no work.
	pauseStopTimeout = time.Second
	// defaultRestartPeriod is how long a container must have run before its
	// restart policy restarts it, when the policy does not say.
	defaultRestartPeriod = 300 * time.Second
)

// stepInput is everything one step decides from.
type stepInput struct {
	def *model.TaskDefinition
	// known is the agent's knowledge of the task; step does not change it.
	known *taskState
	// progress is what this run of the agent has done so far beside known.
	progress progress
	// desired is the status the server wants (RUNNING or STOPPED).
	desired string
	// serverStatus is the task's lastStatus as the server knew it at assignment.
	serverStatus string
	// observed holds the engine's view of the task's containers, by engine
	// id, inspected after the last action; an id missing was not inspected.
	observed map[string]observation
	// result is the outcome of the last action, when that action has one.
	result *result
	now    time.Time
	// canAwsvpc says the agent has a pause image to hold awsvpc networks.
	canAwsvpc    bool
	cleanupDelay time.Duration
}

// observation is what inspecting one container returned.
type observation struct {
	state runtime.ContainerState
	// err is runtime.ErrNotFound when the engine has no such container.
	err error
}

// result is the outcome of an action whose outcome the next step needs.
type result struct {
	action action
	err    error
	// id is the engine id of a created container.
	id string
	// present answers actCheckImage.
	present bool
}

// stepOutput is what a step decided.
type stepOutput struct {
	next     *taskState
	progress progress
	// actions are carried out in order. At most the last has an outcome for
	// the next step; when the last is not actWait the runner steps again at
	// once.
	actions []action
	// done says the task is finished here: the runner ends.
	done bool
}

// progress is what the runner remembers between steps beside the
// checkpoint. It starts empty with each run of the agent, so that a
// restarted agent makes sure again of the network, the volumes and the
// images before it starts what is not started.
type progress struct {
	begun bool
	// network is how far an awsvpc task's network container has come.
	network networkStage
	// volumes counts the definition's volumes made sure of, in order.
	volumes int
	// pullBegun and pulled bracket the images phase; pulls counts the
	// containers whose image is here, in definition order; needPull says the
	// image of the next one is missing.
	pullBegun, pulled bool
	pulls             int
	needPull          bool
	// create is a pass over the containers that creates those whose
	// volumesFrom sources exist; passes repeat until all are created.
	createAt, createLeft int
	createProgress       bool
	created              bool
	// startAt is where the current pass over the containers to start is.
	startAt int
	// waitingSince is when each container began to wait for its dependencies.
	waitingSince map[string]time.Time
	// reported summarises what the server last heard of a running task.
	reported string
	// restartFailed holds the containers whose restart failed since the last wait.
	restartFailed map[string]bool
	// stops counts the containers stopped, in stop order; stopIssued says
	// the one at stops has been told to stop.
	stops                    int
	stopIssued, pauseStopped bool
	stoppedReported          bool
	cleanupAt                time.Time
}

type networkStage int

const (
	networkNone networkStage = iota
	// networkStarted: this run started the network container; its address is next.
	networkStarted
	networkReady
)

// action is one thing the runner does for a task.
type action interface{ isAction() }

type (
	// actCheckpoint writes the step's next state to disk.
	actCheckpoint struct{}
	// actReport tells the server the task's state, retrying until heard.
	actReport struct {
		Change flottaapi.SubmitTaskStateChangeInput
	}
	// actWait waits for an engine event, a change of the desired status, or Until.
	actWait struct{ Until time.Time }
	// actCreatePause makes sure of the awsvpc network and creates the task's
	// network container in it. Outcome: its id.
	actCreatePause struct{}
	// actStartPause starts the network container.
	actStartPause struct{ ID string }
	// actEnsureVolume creates a volume unless it exists.
	actEnsureVolume struct {
		Name, Driver string
		Opts         map[string]string
		PerTask      bool
	}
	// actCheckImage asks whether a container's image is here. Outcome: present.
	actCheckImage struct{ Container, Image string }
	// actPullImage pulls a container's image.
	actPullImage struct{ Container, Image string }
	// actCreate creates a container from its definition. Outcome: its id.
	actCreate struct{ Container string }
	// actStart starts a container for the first time.
	actStart struct{ Container, ID string }
	// actRestart starts an exited container again, for its restart policy.
	actRestart struct{ Container, ID string }
	// actStop stops a container: SIGTERM, then SIGKILL after Timeout.
	actStop struct {
		Container, ID string
		Timeout       time.Duration
	}
	// actCleanup removes the task's containers and volumes and its checkpoint.
	actCleanup struct{ Containers, Volumes []string }
)

func (actCheckpoint) isAction()   {}
func (actReport) isAction()       {}
func (actWait) isAction()         {}
func (actCreatePause) isAction()  {}
func (actStartPause) isAction()   {}
func (actEnsureVolume) isAction() {}
func (actCheckImage) isAction()   {}
func (actPullImage) isAction()    {}
func (actCreate) isAction()       {}
func (actStart) isAction()        {}
func (actRestart) isAction()      {}
func (actStop) isAction()         {}
func (actCleanup) isAction()      {}

// stepper holds one step's working copy; step throws it away.
type stepper struct {
	in      stepInput
	st      *taskState
	p       progress
	actions []action
	done    bool
}

// step decides the next state of a task and what to do for it.
func step(in stepInput) stepOutput {
	s := &stepper{in: in, st: in.known.clone(), p: in.progress.clone()}
	first := !s.p.begun
	s.p.begun = true
	if first || s.st.Status != model.TaskStopped {
		for _, c := range in.def.ContainerDefinitions {
			if cs := s.st.Containers[c.Name]; cs != nil {
				s.refresh(cs)
			}
		}
	}
	if in.result != nil {
		// After the refresh: what the agent concluded from an action (a
		// container that failed to start is STOPPED) stands over what the
		// engine shows (created).
		s.fold(*in.result)
	}
	if first && s.lost() {
		// The server saw this task run, but nothing of it is left here.
		s.st.StopCode, s.st.Reason = model.StopTaskFailedToStart, reasonLost
		s.st.Status = model.TaskStopped
	}
	switch {
	case s.st.Status == model.TaskStopped:
		s.finish()
	case s.st.Status == model.TaskStopping || s.st.StopCode != "" || in.desired == model.TaskStopped:
		s.stop()
	case s.st.Status == model.TaskRunning:
		s.monitor()
	default:
		s.start()
	}
	if !reflect.DeepEqual(in.known, s.st) {
		// Write ahead: what the actions do follows from the saved state.
		s.actions = append([]action{actCheckpoint{}}, s.actions...)
	}
	return stepOutput{next: s.st, progress: s.p, actions: s.actions, done: s.done}
}

func (s *stepper) emit(a ...action) { s.actions = append(s.actions, a...) }

func (s *stepper) report() { s.emit(actReport{Change: taskChange(s.in.def, s.st)}) }

// fail ends the start of a task; stop carries the task to STOPPED.
func (s *stepper) fail(reason string) {
	s.st.StopCode, s.st.Reason = model.StopTaskFailedToStart, reason
}

// fold takes in the outcome of the last action.
func (s *stepper) fold(r result) {
	switch a := r.action.(type) {
	case actCreatePause:
		if r.err != nil {
			s.fail("CannotStartContainerError: task network: " + r.err.Error())
			return
		}
		s.st.PauseID = r.id
	case actStartPause:
		if r.err != nil {
			s.fail("CannotStartContainerError: task network: " + r.err.Error())
			return
		}
		s.p.network = networkStarted
	case actEnsureVolume:
		if r.err != nil {
			s.fail("CannotCreateVolumeError: " + r.err.Error())
			return
		}
		if a.PerTask && !slices.Contains(s.st.Volumes, a.Name) {
			s.st.Volumes = append(s.st.Volumes, a.Name)
		}
		s.p.volumes++
	case actCheckImage:
		if r.err != nil {
			s.fail(fmt.Sprintf("CannotInspectImageError: %s: %v", a.Image, r.err))
			return
		}
		if r.present {
			s.p.pulls++
		} else {
			s.p.needPull = true
		}
	case actPullImage:
		if r.err != nil {
			reason := fmt.Sprintf("CannotPullContainerError: pull image %s: %v", a.Image, r.err)
			var init initError
			if errors.As(r.err, &init) {
				reason = string(init)
			}
			cs := s.st.Containers[a.Container]
			cs.Status, cs.Reason = model.TaskStopped, reason
			s.fail(reason)
			return
		}
		s.p.pulls++
		s.p.needPull = false
	case actCreate:
		cs := s.st.Containers[a.Container]
		if r.err != nil {
			if why := r.err.Error(); strings.HasPrefix(why, "ResourceInitializationError: ") {
				// What the task needed from outside (its secrets, its
				// role) is missing: ECS says so in these words alone.
				cs.Status, cs.Reason = model.TaskStopped, why
				s.fail(why)
				return
			}
			cs.Status, cs.Reason = model.TaskStopped, "CannotCreateContainerError: "+r.err.Error()
			s.fail(fmt.Sprintf("CannotCreateContainerError: container %s: %v", a.Container, r.err))
			return
		}
		cs.ID = r.id
	case actStart:
		cs := s.st.Containers[a.Container]
		if r.err != nil {
			cs.Status, cs.Reason = model.TaskStopped, "CannotStartContainerError: "+r.err.Error()
			s.fail(fmt.Sprintf("CannotStartContainerError: container %s: %v", a.Container, r.err))
			return
		}
		cs.Started = true
		s.st.StartOrder = append(s.st.StartOrder, a.Container)
	case actRestart:
		if r.err != nil {
			s.p.restartFailed[a.Container] = true
			return
		}
		cs := s.st.Containers[a.Container]
		cs.Restarts++
		cs.Status, cs.ExitCode, cs.Reason = model.TaskRunning, nil, ""
		s.refresh(cs) // now that it is no longer known to have exited
	}
}

// refresh takes in what the engine says of one container. A container known
// to have exited, with its exit code, has nothing more to say.
func (s *stepper) refresh(cs *containerState) {
	if cs.ID == "" || cs.Status == model.TaskStopped && cs.ExitCode != nil {
		return
	}
	o, ok := s.in.observed[cs.ID]
	if !ok {
		return
	}
	if errors.Is(o.err, runtime.ErrNotFound) {
		if cs.Status != model.TaskStopped {
			cs.Status, cs.Reason = model.TaskStopped, reasonRemoved
		}
		return
	}
	if o.err != nil {
		return // no news; the runner logged it
	}
	e := o.state
	cs.ImageID = e.ImageID
	switch {
	case e.Running:
		cs.Status, cs.Started = model.TaskRunning, true
		cs.StartedAt = e.StartedAt
		cs.Bindings = bindings(e.Ports)
	case e.Created:
		cs.Status = model.TaskPending
	default:
		code := e.ExitCode
		cs.Status, cs.ExitCode, cs.Started = model.TaskStopped, &code, true
		if e.OOMKilled {
			cs.Reason = reasonOOM
		} else if e.Error != "" && cs.Reason == "" {
			cs.Reason = e.Error
		}
	}
	if !e.Running {
		// Health is a property of a running container.
		if cs.Health != "" {
			cs.Health = model.HealthUnknown
		}
		return
	}
	switch e.Health {
	case "healthy":
		cs.Health = model.HealthHealthy
	case "unhealthy":
		cs.Health = model.HealthUnhealthy
	case "starting":
		cs.Health = model.HealthUnknown
	}
}

// lost says the server saw the task run but nothing of it is here.
func (s *stepper) lost() bool {
	if s.st.Status != model.TaskProvisioning || s.in.serverStatus == "" ||
		model.TaskStatusRank(s.in.serverStatus) < model.TaskStatusRank(model.TaskRunning) {
		return false
	}
	for _, cs := range s.st.Containers {
		if cs.ID != "" {
			return false
		}
	}
	return s.st.PauseID == ""
}

// start carries a task from PROVISIONING to RUNNING: the network, the
// volumes, the images, the containers, and their starts in dependency order.
func (s *stepper) start() {
	if s.st.Status == model.TaskProvisioning {
		s.st.Status = model.TaskPending
		s.report()
	}
	if s.in.def.NetworkMode == model.NetworkAwsvpc && s.p.network != networkReady && !s.network() {
		return
	}
	if s.volumes() && s.images() && s.create() {
		s.startContainers()
	}
}

// network readies an awsvpc task's network container; false means not yet.
func (s *stepper) network() bool {
	gone := func(why string) bool {
		s.fail("CannotStartContainerError: task network: " + why)
		s.stop()
		return false
	}
	if !s.in.canAwsvpc {
		return gone("this agent does not run awsvpc tasks (it has no pause image)")
	}
	if s.st.PauseID == "" {
		s.emit(actCreatePause{})
		return false
	}
	o, ok := s.in.observed[s.st.PauseID]
	if !ok {
		o.err = runtime.ErrNotFound
	}
	if s.p.network == networkStarted {
		if o.err != nil {
			return gone(o.err.Error())
		}
		s.st.IP, s.p.network = o.state.IPs[AwsvpcNetwork], networkReady
		return true
	}
	switch {
	case o.err == nil && o.state.Running:
		s.st.IP, s.p.network = o.state.IPs[AwsvpcNetwork], networkReady
		return true
	case o.err == nil && o.state.Created:
		s.emit(actStartPause{ID: s.st.PauseID})
		return false
	}
	return gone("the task's network container is gone")
}

// volumes makes sure of the task's engine volumes; false means not yet.
func (s *stepper) volumes() bool {
	for ; s.p.volumes < len(s.in.def.Volumes); s.p.volumes++ {
		v := s.in.def.Volumes[s.p.volumes]
		if v.Host != nil && v.Host.SourcePath != "" {
			continue
		}
		name, perTask := volumeName(s.st.Arn, v)
		a := actEnsureVolume{Name: name, Driver: "local", PerTask: perTask}
		if d := v.DockerVolumeConfiguration; d != nil {
			if d.Driver != "" {
				a.Driver = d.Driver
			}
			a.Opts = d.DriverOpts
		}
		s.emit(a)
		return false
	}
	return true
}

// images makes sure every container not yet created has its image.
func (s *stepper) images() bool {
	if s.p.pulled {
		return true
	}
	if !s.p.pullBegun {
		s.p.pullBegun = true
		s.st.PullStartedAt = model.At(s.in.now)
	}
	defs := s.in.def.ContainerDefinitions
	for ; s.p.pulls < len(defs); s.p.pulls++ {
		c := defs[s.p.pulls]
		if s.st.Containers[c.Name].ID != "" {
			continue
		}
		if s.p.needPull {
			s.emit(actPullImage{Container: c.Name, Image: c.Image})
		} else {
			s.emit(actCheckImage{Container: c.Name, Image: c.Image})
		}
		return false
	}
	s.p.pulled = true
	s.st.PullStoppedAt = model.At(s.in.now)
	return true
}

// create creates the containers, in passes: a container whose volumesFrom
// sources are not created yet waits for the next pass.
func (s *stepper) create() bool {
	if s.p.created {
		return true
	}
	defs := s.in.def.ContainerDefinitions
	for {
		for s.p.createAt < len(defs) {
			c := &defs[s.p.createAt]
			s.p.createAt++
			cs := s.st.Containers[c.Name]
			if cs.ID != "" || cs.Status == model.TaskStopped {
				continue
			}
			ready := true
			for _, vf := range c.VolumesFrom {
				if src := s.st.Containers[vf.SourceContainer]; src == nil || src.ID == "" {
					ready = false
				}
			}
			if !ready {
				s.p.createLeft++
				continue
			}
			s.p.createProgress = true
			s.emit(actCreate{Container: c.Name})
			return false
		}
		if s.p.createLeft == 0 {
			s.p.created = true
			return true
		}
		if !s.p.createProgress {
			s.fail("CannotCreateContainerError: volumesFrom forms a cycle")
			s.stop()
			return false
		}
		s.p.createAt, s.p.createLeft, s.p.createProgress = 0, 0, false
	}
}

// startContainers starts the containers whose dependencies are met, in
// passes over the definition; the task is RUNNING once all have started.
func (s *stepper) startContainers() {
	defs := s.in.def.ContainerDefinitions
	for _, c := range defs {
		if c.IsEssential() && s.st.Containers[c.Name].Status == model.TaskStopped {
			s.st.StopCode, s.st.Reason = model.StopEssentialContainerExited, reasonEssentialExited
			s.stop()
			return
		}
	}
	for s.p.startAt < len(defs) {
		c := &defs[s.p.startAt]
		s.p.startAt++
		cs := s.st.Containers[c.Name]
		if cs.Started || cs.Status == model.TaskStopped {
			continue
		}
		ok, why := dependenciesMet(s.st, c)
		if why != "" {
			s.fail(fmt.Sprintf("DependencyError: container %s cannot start: %s", c.Name, why))
			s.stop()
			return
		}
		if !ok {
			since, seen := s.p.waitingSince[c.Name]
			if !seen {
				since = s.in.now
				s.p.waitingSince[c.Name] = since
			}
			if c.StartTimeout != nil && s.in.now.Sub(since) > time.Duration(*c.StartTimeout)*time.Second {
				s.fail(fmt.Sprintf("DependencyError: container %s waited more than its startTimeout of %ds for its dependencies", c.Name, *c.StartTimeout))
				s.stop()
				return
			}
			continue
		}
		s.emit(actStart{Container: c.Name, ID: cs.ID})
		return
	}
	// The pass is over.
	s.p.startAt = 0
	for _, c := range defs {
		if cs := s.st.Containers[c.Name]; !cs.Started && cs.Status != model.TaskStopped {
			s.emit(actWait{Until: s.in.now.Add(startTick)})
			return
		}
	}
	s.st.Status = model.TaskRunning
	s.report()
	s.p.reported = snapshot(s.in.def, s.st)
}

// dependenciesMet says whether c may start now; why is set when it never can.
func dependenciesMet(st *taskState, c *model.ContainerDefinition) (ok bool, why string) {
	ok = true
	for _, d := range c.DependsOn {
		dep := st.Containers[d.ContainerName]
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

// monitor watches a running task: it restarts what its restart policy
// restarts, stops the task when an essential container exits, and reports
// what changed.
func (s *stepper) monitor() {
	if s.p.reported == "" {
		// Adopted running: the server heard of it before the restart.
		s.p.reported = snapshot(s.in.def, s.st)
	}
	for _, c := range s.in.def.ContainerDefinitions {
		cs := s.st.Containers[c.Name]
		if cs.Status != model.TaskStopped {
			continue
		}
		if !s.p.restartFailed[c.Name] && restartDue(&c, cs, s.in.now) {
			s.emit(actRestart{Container: c.Name, ID: cs.ID})
			return
		}
		if c.IsEssential() {
			s.st.StopCode, s.st.Reason = model.StopEssentialContainerExited, reasonEssentialExited
			s.stop()
			return
		}
	}
	if now := snapshot(s.in.def, s.st); now != s.p.reported {
		s.p.reported = now
		s.report()
	}
	clear(s.p.restartFailed)
	s.emit(actWait{Until: s.in.now.Add(monitorTick)})
}

// restartDue says whether an exited container's restart policy restarts it now.
func restartDue(c *model.ContainerDefinition, cs *containerState, now time.Time) bool {
	rp := c.RestartPolicy
	if rp == nil || rp.Enabled == nil || !*rp.Enabled || cs.ExitCode == nil || cs.Reason == reasonRemoved {
		return false
	}
	if slices.Contains(rp.IgnoredExitCodes, *cs.ExitCode) {
		return false
	}
	period := defaultRestartPeriod
	if rp.RestartAttemptPeriod != nil {
		period = time.Duration(*rp.RestartAttemptPeriod) * time.Second
	}
	return now.Sub(cs.StartedAt) >= period
}

// stop stops the containers, dependents before what they depend on, then
// the network container, and reports the task STOPPED.
func (s *stepper) stop() {
	if s.st.StopCode == "" && s.in.desired == model.TaskStopped {
		s.st.StopCode = model.StopUserInitiated
	}
	if s.st.Status != model.TaskStopping {
		s.st.Status = model.TaskStopping
		s.report()
	}
	order := stopOrder(s.in.def, s.st)
	for ; s.p.stops < len(order); s.p.stops++ {
		cs := s.st.Containers[order[s.p.stops]]
		switch {
		case s.p.stopIssued:
			// Told to stop last step, and refreshed since.
			s.p.stopIssued = false
			if cs.Status != model.TaskStopped {
				cs.Status = model.TaskStopped
				if !cs.Started && cs.Reason == "" {
					cs.Reason = reasonNotStarted
				}
			}
		case cs.ID == "":
			if cs.Status != model.TaskStopped {
				cs.Status = model.TaskStopped
				if cs.Reason == "" {
					cs.Reason = reasonNotStarted
				}
			}
		default:
			s.p.stopIssued = true
			s.emit(actStop{Container: cs.Name, ID: cs.ID, Timeout: stopTimeout(containerDef(s.in.def, cs.Name))})
			return
		}
	}
	if s.st.PauseID != "" && !s.p.pauseStopped {
		s.p.pauseStopped = true
		s.emit(actStop{Container: runtime.PauseContainer, ID: s.st.PauseID, Timeout: pauseStopTimeout})
		return
	}
	s.st.Status = model.TaskStopped
	s.st.StoppedAt = model.At(s.in.now)
	s.p.stoppedReported = true
	s.report()
}

func containerDef(def *model.TaskDefinition, name string) *model.ContainerDefinition {
	for i := range def.ContainerDefinitions {
		if def.ContainerDefinitions[i].Name == name {
			return &def.ContainerDefinitions[i]
		}
	}
	return nil
}

// stopOrder is the reverse of the start order, then the containers that
// never started.
func stopOrder(def *model.TaskDefinition, st *taskState) []string {
	order := slices.Clone(st.StartOrder)
	slices.Reverse(order)
	for _, c := range def.ContainerDefinitions {
		if !slices.Contains(order, c.Name) {
			order = append(order, c.Name)
		}
	}
	return order
}

// finish reports a stopped task, and removes what is left of it after the
// cleanup delay.
func (s *stepper) finish() {
	if !s.p.stoppedReported {
		s.p.stoppedReported = true
		s.report()
		return
	}
	if s.p.cleanupAt.IsZero() {
		s.p.cleanupAt = s.in.now.Add(s.in.cleanupDelay)
	}
	if s.in.now.Before(s.p.cleanupAt) {
		s.emit(actWait{Until: s.p.cleanupAt})
		return
	}
	var ids []string
	for _, c := range s.in.def.ContainerDefinitions {
		if cs := s.st.Containers[c.Name]; cs != nil && cs.ID != "" {
			ids = append(ids, cs.ID)
		}
	}
	if s.st.PauseID != "" {
		ids = append(ids, s.st.PauseID)
	}
	s.emit(actCleanup{Containers: ids, Volumes: slices.Clone(s.st.Volumes)})
	s.done = true
}
