package agent

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/runtime"
)

// pullTimeout bounds one image pull.
const pullTimeout = 5 * time.Minute

// runner owns one task: it alone changes the task's known state (st). It
// observes the task's containers, lets step (step.go) decide, and carries
// out what step decided; only the actions do I/O.
type runner struct {
	a      *Agent
	def    model.TaskDefinition
	st     *taskState
	prog   progress
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
	var checkpoint *taskState
	st := &taskState{}
	found, err := readJSON(a.taskPath(as.Task.TaskArn), st)
	if err != nil {
		r.logger.Warn("unreadable task checkpoint; rebuilding it from the engine", "err", err)
	} else if found {
		checkpoint = st
	}
	r.st = knownState(as, checkpoint, adopted)
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

func (r *runner) desiredStatus() string {
	r.desiredMu.Lock()
	defer r.desiredMu.Unlock()
	return r.desired
}

func (r *runner) markStopped() { r.stoppedOnce.Do(func() { close(r.stopped) }) }

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
	var last *result
	for ctx.Err() == nil {
		out := step(stepInput{def: &r.def, known: r.st, progress: r.prog, desired: r.desiredStatus(), serverStatus: r.serverStatus,
			observed: r.observe(ctx, last), result: last, now: r.a.cfg.Now(), canAwsvpc: r.a.cfg.PauseImage != "",
			cleanupDelay: r.a.cfg.CleanupDelay})
		r.logChanges(r.st, out.next)
		r.st, r.prog, last = out.next, out.progress, nil
		for _, act := range out.actions {
			if res := r.do(ctx, act); res != nil {
				last = res
			}
			if ctx.Err() != nil {
				// An action cut short by the agent's end says nothing of the task.
				return
			}
		}
		if out.done {
			return
		}
		if len(out.actions) == 0 {
			// Every step does something; wait rather than spin if one does not.
			r.logger.Error("a task step decided nothing; waiting for a change")
			r.wait(ctx, r.a.cfg.Now().Add(monitorTick))
		}
	}
}

// observe inspects the task's containers: every one the task knows, and
// the one the last action created.
func (r *runner) observe(ctx context.Context, last *result) map[string]observation {
	ids := []string{r.st.PauseID}
	for _, cs := range r.st.Containers {
		ids = append(ids, cs.ID)
	}
	if last != nil {
		ids = append(ids, last.id)
	}
	obs := map[string]observation{}
	for _, id := range ids {
		if id == "" {
			continue
		}
		if _, seen := obs[id]; seen {
			continue
		}
		s, err := r.a.cfg.Runtime.InspectContainer(ctx, id)
		if err != nil && !errors.Is(err, runtime.ErrNotFound) {
			r.logger.Warn("inspect container", "id", id, "err", err)
		}
		obs[id] = observation{state: s, err: err}
	}
	return obs
}

// logChanges tells the log what a step changed that an operator cares about.
func (r *runner) logChanges(was, next *taskState) {
	if was.StopCode == "" && next.StopCode == model.StopTaskFailedToStart {
		r.logger.Warn("task failed to start", "reason", next.Reason)
	}
	if was.Status != next.Status {
		switch next.Status {
		case model.TaskRunning:
			r.logger.Info("task running")
		case model.TaskStopped:
			r.logger.Info("task stopped", "code", next.StopCode, "reason", next.Reason)
		}
	}
	for name, cs := range next.Containers {
		if old := was.Containers[name]; old != nil && cs.Restarts > old.Restarts {
			r.logger.Info("container restarted by its restart policy", "container", name, "restarts", cs.Restarts)
		}
	}
}

// do carries out one action; it returns the outcome when the next step needs it.
func (r *runner) do(ctx context.Context, act action) *result {
	rt := r.a.cfg.Runtime
	res := &result{action: act}
	switch a := act.(type) {
	case actCheckpoint:
		if err := writeJSON(r.a.taskPath(r.st.Arn), r.st); err != nil {
			r.logger.Error("checkpoint task", "err", err)
		}
		return nil
	case actReport:
		if r.report(ctx, a.Change) && a.Change.Status == model.TaskStopped {
			r.markStopped()
		}
		return nil
	case actWait:
		r.wait(ctx, a.Until)
		return nil
	case actCreatePause:
		res.err = rt.EnsureNetwork(ctx, AwsvpcNetwork, map[string]string{"com.flotta.network": "awsvpc"})
		if res.err == nil {
			res.id, res.err = rt.CreateContainer(ctx, runtime.ContainerSpec{
				Name: "flotta-" + lastSegment(r.st.Arn) + "-pause", Image: r.a.cfg.PauseImage, Cmd: []string{"pause"},
				NetworkMode: AwsvpcNetwork, Labels: r.a.labels(r.st.Arn, r.st.Cluster, runtime.PauseContainer),
				Hostname: "ip-" + lastSegment(r.st.Arn)[:12],
			})
		}
		if res.err == nil {
			r.a.track(r, res.id)
		}
	case actStartPause:
		res.err = rt.StartContainer(ctx, a.ID)
	case actEnsureVolume:
		res.err = rt.EnsureVolume(ctx, a.Name, a.Driver, a.Opts, r.a.labels(r.st.Arn, r.st.Cluster, "~volume"))
	case actCheckImage:
		res.present, res.err = rt.ImagePresent(ctx, a.Image)
	case actPullImage:
		pctx, cancel := context.WithTimeout(ctx, pullTimeout)
		var auth *runtime.RegistryAuth
		if c := containerDef(&r.def, a.Container); c != nil && c.RepositoryCredentials != nil {
			auth, res.err = r.a.registryAuth(r.st.Arn, a.Container)
		}
		if res.err == nil {
			res.err = rt.PullImage(pctx, a.Image, auth)
		}
		cancel()
	case actCreate:
		c := containerDef(&r.def, a.Container)
		spec, err := r.a.containerSpec(r.st, &r.def, c)
		if err == nil {
			res.id, err = rt.CreateContainer(ctx, spec)
		}
		if res.err = err; err == nil {
			r.a.track(r, res.id)
		}
	case actStart:
		res.err = rt.StartContainer(ctx, a.ID)
	case actRestart:
		if res.err = rt.StartContainer(ctx, a.ID); res.err != nil {
			r.logger.Warn("restart container", "container", a.Container, "err", res.err)
		}
	case actStop:
		if err := rt.StopContainer(ctx, a.ID, a.Timeout); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			r.logger.Warn("stop container", "container", a.Container, "err", err)
		}
		return nil
	case actCleanup:
		for _, id := range a.Containers {
			rt.RemoveContainer(ctx, id)
		}
		for _, v := range a.Volumes {
			rt.RemoveVolume(ctx, v)
		}
		if ctx.Err() == nil {
			os.Remove(r.a.taskPath(r.st.Arn))
		}
		return nil
	}
	return res
}

// wait blocks until an engine event, a desired status change, the time
// until on the agent's clock, or the end of the agent.
func (r *runner) wait(ctx context.Context, until time.Time) {
	d := until.Sub(r.a.cfg.Now())
	if d <= 0 {
		return
	}
	select {
	case <-r.events:
		// Take what else is queued too: one look covers them all.
		for len(r.events) > 0 {
			<-r.events
		}
	case <-r.wake:
	case <-r.a.cfg.After(d):
	case <-ctx.Done():
	}
}

// report tells the server the task's state, retrying until it is heard or
// the agent stops. It returns false only when the agent stops first.
func (r *runner) report(ctx context.Context, ch flottaapi.SubmitTaskStateChangeInput) bool {
	backoff := 200 * time.Millisecond
	for {
		err := r.a.api.call(ctx, ecsTarget+"SubmitTaskStateChange", ch, nil)
		if err == nil {
			return true
		}
		var apiErr *model.Error
		if errors.As(err, &apiErr) {
			switch apiErr.Code {
			case "InvalidParameterException", "AccessDeniedException", "ClusterNotFoundException", codeUnknownKey:
				// The server will never take this report (a deregistered
				// instance's key is deleted, too); retrying cannot help.
				r.logger.Error("the server refused a task report; giving up on it", "err", err)
				return true
			}
		}
		r.logger.Warn("report task state; retrying", "err", err)
		select {
		case <-r.a.cfg.After(backoff):
		case <-ctx.Done():
			return false
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}
