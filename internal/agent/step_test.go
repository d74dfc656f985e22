package agent

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/runtime"
)

const testArn = "arn:aws:ecs:local:000000000000:task/default/0123456789abcdef0123456789abcdef"

var (
	t0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	// tStart is when the engine says running containers started.
	tStart  = t0.Add(-time.Minute)
	errBoom = errors.New("boom")
)

func ptr[T any](v T) *T { return &v }

func ctr(name string, edits ...func(*model.ContainerDefinition)) model.ContainerDefinition {
	c := model.ContainerDefinition{Name: name, Image: "img-" + name}
	for _, e := range edits {
		e(&c)
	}
	return c
}

func nonEssential(c *model.ContainerDefinition) { c.Essential = ptr(false) }

func dependsOn(name, cond string) func(*model.ContainerDefinition) {
	return func(c *model.ContainerDefinition) {
		c.DependsOn = append(c.DependsOn, model.ContainerDependency{ContainerName: name, Condition: cond})
	}
}

func withCheck(c *model.ContainerDefinition) {
	c.HealthCheck = &model.HealthCheck{Command: []string{"CMD", "check"}}
}

func taskDef(cs ...model.ContainerDefinition) *model.TaskDefinition {
	return &model.TaskDefinition{Family: "f", Revision: 1, ContainerDefinitions: cs}
}

func known(status string, cs ...*containerState) *taskState {
	st := &taskState{Arn: testArn, Cluster: "default", Status: status, Containers: map[string]*containerState{}}
	for _, c := range cs {
		st.Containers[c.Name] = c
	}
	return st
}

func id(name string) string { return "c-" + name }

// Containers as the agent knows them.
func pend(name string) *containerState { return &containerState{Name: name, Status: model.TaskPending} }
func made(name string) *containerState {
	return &containerState{Name: name, ID: id(name), Status: model.TaskPending}
}
func up(name string) *containerState {
	return &containerState{Name: name, ID: id(name), Status: model.TaskRunning, Started: true, ImageID: "sha256:" + name,
		StartedAt: tStart}
}
func exited(name string, code int) *containerState {
	return &containerState{Name: name, ID: id(name), Status: model.TaskStopped, ExitCode: &code, Started: true, ImageID: "sha256:" + name,
		StartedAt: tStart}
}

// Containers as the engine shows them.
type seen struct {
	name string
	o    observation
}

func oCreated(name string) seen {
	return seen{name, observation{state: runtime.ContainerState{ID: id(name), ImageID: "sha256:" + name, Created: true}}}
}
func oRunning(name, health string) seen {
	return seen{name, observation{state: runtime.ContainerState{ID: id(name), ImageID: "sha256:" + name, Running: true,
		StartedAt: tStart, Health: health}}}
}
func oExited(name string, code int) seen {
	return seen{name, observation{state: runtime.ContainerState{ID: id(name), ImageID: "sha256:" + name, ExitCode: code,
		StartedAt: tStart}}}
}
func oGone(name string) seen { return seen{name, observation{err: runtime.ErrNotFound}} }

func engine(ss ...seen) map[string]observation {
	m := map[string]observation{}
	for _, s := range ss {
		m[id(s.name)] = s.o
	}
	return m
}

// progress at each phase of a start.
var (
	begun    = progress{begun: true}
	pulling  = progress{begun: true, pullBegun: true}
	creating = progress{begun: true, pullBegun: true, pulled: true, pulls: 99}
	starting = progress{begun: true, pullBegun: true, pulled: true, pulls: 99, created: true}
	watching = func(def *model.TaskDefinition, st *taskState) progress {
		p := starting
		p.reported = snapshot(def, st)
		return p
	}
)

func with(st *taskState, edit func(*taskState)) *taskState {
	c := st.clone()
	edit(c)
	return c
}

func rep(def *model.TaskDefinition, st *taskState) action {
	return actReport{Change: taskChange(def, st)}
}

type stepCase struct {
	name    string
	def     *model.TaskDefinition
	known   *taskState
	prog    progress
	desired string // RUNNING unless set
	server  string
	obs     map[string]observation
	res     *result
	now     time.Time // t0 unless set
	// next edits a copy of known into the expected next state; nil: unchanged.
	next func(*taskState)
	// actions are the expected actions, given the expected next state.
	actions func(next *taskState) []action
	done    bool
	// check looks at the next progress, where a row cares.
	check func(t *testing.T, p progress)
	// noPause: the agent has no pause image.
	noPause bool
}

func (c stepCase) input() stepInput {
	in := stepInput{def: c.def, known: c.known, progress: c.prog, desired: c.desired, serverStatus: c.server,
		observed: c.obs, result: c.res, now: c.now, canAwsvpc: !c.noPause, cleanupDelay: 10 * time.Minute}
	if in.desired == "" {
		in.desired = model.TaskRunning
	}
	if in.now.IsZero() {
		in.now = t0
	}
	return in
}

var stepOpts = []cmp.Option{cmpopts.EquateEmpty(), cmp.AllowUnexported(taskState{}, containerState{})}

func runStepCases(t *testing.T, cases []stepCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.input()
			before := in.known.clone()
			out := step(in)
			if !reflect.DeepEqual(before, in.known) {
				t.Fatalf("step changed its input:\n%s", cmp.Diff(before, in.known, stepOpts...))
			}
			want := c.known.clone()
			if c.next != nil {
				c.next(want)
			}
			if d := cmp.Diff(want, out.next, stepOpts...); d != "" {
				t.Errorf("next state (-want +got):\n%s", d)
			}
			var wantActs []action
			if c.actions != nil {
				wantActs = c.actions(want)
			}
			if d := cmp.Diff(wantActs, out.actions, stepOpts...); d != "" {
				t.Errorf("actions (-want +got):\n%s", d)
			}
			if out.done != c.done {
				t.Errorf("done %v, want %v", out.done, c.done)
			}
			if c.check != nil {
				c.check(t, out.progress)
			}
		})
	}
}

func TestStepStart(t *testing.T) {
	one := taskDef(ctr("app"))
	stopping := func(st *taskState) *taskState {
		return with(st, func(s *taskState) { s.Status, s.StoppedAt = model.TaskStopping, nil })
	}
	runStepCases(t, []stepCase{{
		name:  "a fresh task is reported PENDING and its image looked for",
		def:   one,
		known: known(model.TaskProvisioning, pend("app")),
		next:  func(s *taskState) { s.Status, s.PullStartedAt = model.TaskPending, model.At(t0) },
		actions: func(n *taskState) []action {
			reported := with(n, func(s *taskState) { s.PullStartedAt = nil })
			return []action{actCheckpoint{}, rep(one, reported), actCheckImage{Container: "app", Image: "img-app"}}
		},
	}, {
		name:  "an image that is here is not pulled; the container is created",
		def:   one,
		known: known(model.TaskPending, pend("app")),
		prog:  pulling,
		res:   &result{action: actCheckImage{Container: "app", Image: "img-app"}, present: true},
		next:  func(s *taskState) { s.PullStoppedAt = model.At(t0) },
		actions: func(*taskState) []action {
			return []action{actCheckpoint{}, actCreate{Container: "app"}}
		},
	}, {
		name:    "an image that is not here is pulled",
		def:     one,
		known:   known(model.TaskPending, pend("app")),
		prog:    pulling,
		res:     &result{action: actCheckImage{Container: "app", Image: "img-app"}, present: false},
		actions: func(*taskState) []action { return []action{actPullImage{Container: "app", Image: "img-app"}} },
	}, {
		name:  "an image that cannot be inspected fails the task",
		def:   one,
		known: known(model.TaskPending, pend("app")),
		prog:  pulling,
		res:   &result{action: actCheckImage{Container: "app", Image: "img-app"}, err: errBoom},
		next: func(s *taskState) {
			s.Status, s.StopCode, s.Reason, s.StoppedAt = model.TaskStopped, model.StopTaskFailedToStart, "CannotInspectImageError: img-app: boom", model.At(t0)
			s.Containers["app"].Status, s.Containers["app"].Reason = model.TaskStopped, reasonNotStarted
		},
		actions: func(n *taskState) []action {
			return []action{actCheckpoint{}, rep(one, with(stopping(n), func(s *taskState) {
				s.Containers["app"].Status, s.Containers["app"].Reason = model.TaskPending, ""
			})), rep(one, n)}
		},
	}, {
		name:  "a failed pull stops the container and the task with CannotPullContainerError",
		def:   one,
		known: known(model.TaskPending, pend("app")),
		prog:  pulling,
		res:   &result{action: actPullImage{Container: "app", Image: "img-app"}, err: errBoom},
		next: func(s *taskState) {
			reason := "CannotPullContainerError: pull image img-app: boom"
			s.Status, s.StopCode, s.Reason, s.StoppedAt = model.TaskStopped, model.StopTaskFailedToStart, reason, model.At(t0)
			s.Containers["app"].Status, s.Containers["app"].Reason = model.TaskStopped, reason
		},
		actions: func(n *taskState) []action {
			return []action{actCheckpoint{}, rep(one, stopping(n)), rep(one, n)}
		},
	}, {
		name:    "a created container is started when it depends on nothing",
		def:     one,
		known:   known(model.TaskPending, pend("app")),
		prog:    creating,
		res:     &result{action: actCreate{Container: "app"}, id: id("app")},
		obs:     engine(oCreated("app")),
		next:    func(s *taskState) { s.Containers["app"].ID = id("app") },
		actions: func(*taskState) []action { return []action{actCheckpoint{}, actStart{Container: "app", ID: id("app")}} },
	}, {
		name:  "a failed create stops the container and the task with CannotCreateContainerError",
		def:   one,
		known: known(model.TaskPending, pend("app")),
		prog:  creating,
		res:   &result{action: actCreate{Container: "app"}, err: errBoom},
		next: func(s *taskState) {
			s.Status, s.StopCode, s.Reason, s.StoppedAt = model.TaskStopped, model.StopTaskFailedToStart, "CannotCreateContainerError: container app: boom", model.At(t0)
			s.Containers["app"].Status, s.Containers["app"].Reason = model.TaskStopped, "CannotCreateContainerError: boom"
		},
		actions: func(n *taskState) []action { return []action{actCheckpoint{}, rep(one, stopping(n)), rep(one, n)} },
	}, {
		name:  "a failed start stops the container and the task with CannotStartContainerError",
		def:   one,
		known: known(model.TaskPending, made("app")),
		prog:  starting,
		res:   &result{action: actStart{Container: "app", ID: id("app")}, err: errBoom},
		obs:   engine(oCreated("app")),
		next: func(s *taskState) {
			s.Status, s.StopCode, s.Reason = model.TaskStopping, model.StopTaskFailedToStart, "CannotStartContainerError: container app: boom"
			s.Containers["app"].Status, s.Containers["app"].Reason = model.TaskStopped, "CannotStartContainerError: boom"
			s.Containers["app"].ImageID = "sha256:app"
		},
		actions: func(n *taskState) []action {
			return []action{actCheckpoint{}, rep(one, n), actStop{Container: "app", ID: id("app"), Timeout: DefaultStopTimeout}}
		},
	}, {
		name:  "all containers started: RUNNING, reported",
		def:   one,
		known: known(model.TaskPending, made("app")),
		prog:  starting,
		res:   &result{action: actStart{Container: "app", ID: id("app")}},
		obs:   engine(oRunning("app", "")),
		next: func(s *taskState) {
			s.Status, s.StartOrder, s.Containers["app"] = model.TaskRunning, []string{"app"}, up("app")
		},
		actions: func(n *taskState) []action { return []action{actCheckpoint{}, rep(one, n)} },
		check: func(t *testing.T, p progress) {
			if p.reported == "" {
				t.Error("a RUNNING task's report is not remembered: the monitor would report it again")
			}
		},
	}, {
		name:    "a PROVISIONING task the server wants stopped stops without starting",
		def:     one,
		known:   known(model.TaskProvisioning, pend("app")),
		desired: model.TaskStopped,
		next: func(s *taskState) {
			s.Status, s.StopCode, s.StoppedAt = model.TaskStopped, model.StopUserInitiated, model.At(t0)
			s.Containers["app"].Status, s.Containers["app"].Reason = model.TaskStopped, reasonNotStarted
		},
		actions: func(n *taskState) []action {
			return []action{actCheckpoint{}, rep(one, with(stopping(n), func(s *taskState) { s.Containers["app"] = pend("app") })), rep(one, n)}
		},
	}, {
		name:    "desired STOPPED while starting: UserInitiated, the created container is stopped",
		def:     one,
		known:   known(model.TaskPending, made("app")),
		prog:    starting,
		desired: model.TaskStopped,
		obs:     engine(oCreated("app")),
		next: func(s *taskState) {
			s.Status, s.StopCode, s.Containers["app"].ImageID = model.TaskStopping, model.StopUserInitiated, "sha256:app"
		},
		actions: func(n *taskState) []action {
			return []action{actCheckpoint{}, rep(one, n), actStop{Container: "app", ID: id("app"), Timeout: DefaultStopTimeout}}
		},
	}, {
		name: "a restarted agent adopts a container the checkpoint has as created and the engine runs",
		def:  one,
		known: with(known(model.TaskPending, made("app")), func(s *taskState) {
			s.PullStartedAt, s.PullStoppedAt = model.At(t0.Add(-time.Hour)), model.At(t0.Add(-time.Hour))
		}),
		obs: engine(oRunning("app", "")),
		next: func(s *taskState) {
			s.Status, s.Containers["app"] = model.TaskRunning, up("app")
			s.PullStartedAt, s.PullStoppedAt = model.At(t0), model.At(t0)
		},
		actions: func(n *taskState) []action { return []action{actCheckpoint{}, rep(one, n)} },
	}, {
		name:  "a restarted agent adopts a running task without reporting it again",
		def:   one,
		known: known(model.TaskRunning, up("app")),
		obs:   engine(oRunning("app", "")),
		actions: func(*taskState) []action {
			return []action{actWait{Until: t0.Add(monitorTick)}}
		},
	}, {
		name:   "a task the server saw run, with nothing left here, is lost",
		def:    one,
		known:  known(model.TaskProvisioning, pend("app")),
		server: model.TaskRunning,
		next: func(s *taskState) {
			s.Status, s.StopCode, s.Reason = model.TaskStopped, model.StopTaskFailedToStart, reasonLost
		},
		actions: func(n *taskState) []action { return []action{actCheckpoint{}, rep(one, n)} },
	}, {
		name:   "a task the server saw only PENDING is started",
		def:    one,
		known:  known(model.TaskProvisioning, pend("app")),
		server: model.TaskPending,
		next:   func(s *taskState) { s.Status, s.PullStartedAt = model.TaskPending, model.At(t0) },
		actions: func(n *taskState) []action {
			return []action{actCheckpoint{}, rep(one, with(n, func(s *taskState) { s.PullStartedAt = nil })), actCheckImage{Container: "app", Image: "img-app"}}
		},
	}})
}

func TestStepDependencies(t *testing.T) {
	def := func(cond string) *model.TaskDefinition {
		return taskDef(ctr("app", dependsOn("db", cond)), ctr("db", nonEssential, withCheck))
	}
	startApp := func(*taskState) []action { return []action{actCheckpoint{}, actStart{Container: "app", ID: id("app")}} }
	waitTick := func(*taskState) []action { return []action{actCheckpoint{}, actWait{Until: t0.Add(startTick)}} }
	failed := func(why string) func(*taskState) {
		return func(s *taskState) {
			s.Status, s.StopCode = model.TaskStopping, model.StopTaskFailedToStart
			s.Reason = "DependencyError: container app cannot start: " + why
			s.Containers["app"].ImageID = "sha256:app"
		}
	}
	// db ran (StartOrder) and stopped: the stop begins with it, then app.
	stopDB := func(d *model.TaskDefinition) func(n *taskState) []action {
		return func(n *taskState) []action {
			return []action{actCheckpoint{}, rep(d, n), actStop{Container: "db", ID: id("db"), Timeout: DefaultStopTimeout}}
		}
	}
	dbRan := func(st *taskState) *taskState { return with(st, func(s *taskState) { s.StartOrder = []string{"db"} }) }
	runStepCases(t, []stepCase{{
		name:  "START not met: app waits, db starts",
		def:   def(model.DependStart),
		known: known(model.TaskPending, made("app"), made("db")),
		prog:  starting,
		obs:   engine(oCreated("app"), oCreated("db")),
		next: func(s *taskState) {
			s.Containers["app"].ImageID, s.Containers["db"].ImageID = "sha256:app", "sha256:db"
		},
		actions: func(*taskState) []action { return []action{actCheckpoint{}, actStart{Container: "db", ID: id("db")}} },
		check: func(t *testing.T, p progress) {
			if !p.waitingSince["app"].Equal(t0) {
				t.Errorf("app waits since %v, want %v", p.waitingSince["app"], t0)
			}
		},
	}, {
		name:  "START met",
		def:   def(model.DependStart),
		known: dbRan(known(model.TaskPending, made("app"), up("db"))),
		prog:  starting,
		obs:   engine(oCreated("app"), oRunning("db", "starting")),
		next: func(s *taskState) {
			s.Containers["app"].ImageID, s.Containers["db"].Health = "sha256:app", model.HealthUnknown
		},
		actions: startApp,
	}, {
		name:    "COMPLETE not met while db runs",
		def:     def(model.DependComplete),
		known:   dbRan(known(model.TaskPending, made("app"), up("db"))),
		prog:    starting,
		obs:     engine(oCreated("app"), oRunning("db", "")),
		next:    func(s *taskState) { s.Containers["app"].ImageID = "sha256:app" },
		actions: waitTick,
	}, {
		name:    "COMPLETE met by any exit",
		def:     def(model.DependComplete),
		known:   dbRan(known(model.TaskPending, made("app"), up("db"))),
		prog:    starting,
		obs:     engine(oCreated("app"), oExited("db", 3)),
		next:    func(s *taskState) { s.Containers["app"].ImageID, s.Containers["db"] = "sha256:app", exited("db", 3) },
		actions: startApp,
	}, {
		name:    "SUCCESS not met while db runs",
		def:     def(model.DependSuccess),
		known:   dbRan(known(model.TaskPending, made("app"), up("db"))),
		prog:    starting,
		obs:     engine(oCreated("app"), oRunning("db", "")),
		next:    func(s *taskState) { s.Containers["app"].ImageID = "sha256:app" },
		actions: waitTick,
	}, {
		name:    "SUCCESS met by exit 0",
		def:     def(model.DependSuccess),
		known:   dbRan(known(model.TaskPending, made("app"), up("db"))),
		prog:    starting,
		obs:     engine(oCreated("app"), oExited("db", 0)),
		next:    func(s *taskState) { s.Containers["app"].ImageID, s.Containers["db"] = "sha256:app", exited("db", 0) },
		actions: startApp,
	}, {
		name:  "SUCCESS impossible after a non-zero exit: DependencyError",
		def:   def(model.DependSuccess),
		known: dbRan(known(model.TaskPending, made("app"), up("db"))),
		prog:  starting,
		obs:   engine(oCreated("app"), oExited("db", 1)),
		next: func(s *taskState) {
			failed("db was to exit with 0, and it exited with 1")(s)
			s.Containers["db"] = exited("db", 1)
		},
		actions: stopDB(def(model.DependSuccess)),
	}, {
		name:  "HEALTHY not met while db's check starts",
		def:   def(model.DependHealthy),
		known: dbRan(known(model.TaskPending, made("app"), up("db"))),
		prog:  starting,
		obs:   engine(oCreated("app"), oRunning("db", "starting")),
		next: func(s *taskState) {
			s.Containers["app"].ImageID, s.Containers["db"].Health = "sha256:app", model.HealthUnknown
		},
		actions: waitTick,
	}, {
		name:  "HEALTHY not met while db is unhealthy",
		def:   def(model.DependHealthy),
		known: dbRan(known(model.TaskPending, made("app"), up("db"))),
		prog:  starting,
		obs:   engine(oCreated("app"), oRunning("db", "unhealthy")),
		next: func(s *taskState) {
			s.Containers["app"].ImageID, s.Containers["db"].Health = "sha256:app", model.HealthUnhealthy
		},
		actions: waitTick,
	}, {
		name:  "HEALTHY met",
		def:   def(model.DependHealthy),
		known: dbRan(known(model.TaskPending, made("app"), up("db"))),
		prog:  starting,
		obs:   engine(oCreated("app"), oRunning("db", "healthy")),
		next: func(s *taskState) {
			s.Containers["app"].ImageID, s.Containers["db"].Health = "sha256:app", model.HealthHealthy
		},
		actions: startApp,
	}, {
		name:  "HEALTHY impossible once db exited: DependencyError",
		def:   def(model.DependHealthy),
		known: dbRan(known(model.TaskPending, made("app"), up("db"))),
		prog:  starting,
		obs:   engine(oCreated("app"), oExited("db", 0)),
		next: func(s *taskState) {
			failed("db was to become healthy, and it exited with 0")(s)
			s.Containers["db"] = exited("db", 0)
		},
		actions: stopDB(def(model.DependHealthy)),
	}, {
		name:  "HEALTHY impossible once db was removed: DependencyError says why",
		def:   def(model.DependHealthy),
		known: dbRan(known(model.TaskPending, made("app"), up("db"))),
		prog:  starting,
		obs:   engine(oCreated("app"), oGone("db")),
		next: func(s *taskState) {
			failed("db was to become healthy, and it stopped: " + reasonRemoved)(s)
			s.Containers["db"].Status, s.Containers["db"].Reason = model.TaskStopped, reasonRemoved
		},
		actions: stopDB(def(model.DependHealthy)),
	}})
}

func TestStepStartTimeout(t *testing.T) {
	def := taskDef(ctr("app", dependsOn("db", model.DependHealthy), func(c *model.ContainerDefinition) { c.StartTimeout = ptr(10) }),
		ctr("db", nonEssential, withCheck))
	st := with(known(model.TaskPending, made("app"), up("db")), func(s *taskState) {
		s.StartOrder = []string{"db"}
		s.Containers["app"].ImageID = "sha256:app"
	})
	waiting := starting
	waiting.waitingSince = map[string]time.Time{"app": t0}
	obs := engine(oCreated("app"), oRunning("db", "starting"))
	health := func(s *taskState) { s.Containers["db"].Health = model.HealthUnknown }
	runStepCases(t, []stepCase{{
		name: "within startTimeout on the injected clock: wait",
		def:  def, known: st, prog: waiting, obs: obs, now: t0.Add(10 * time.Second),
		next: health,
		actions: func(*taskState) []action {
			return []action{actCheckpoint{}, actWait{Until: t0.Add(10*time.Second + startTick)}}
		},
	}, {
		name: "past startTimeout on the injected clock: DependencyError",
		def:  def, known: st, prog: waiting, obs: obs, now: t0.Add(10*time.Second + time.Millisecond),
		next: func(s *taskState) {
			health(s)
			s.Status, s.StopCode = model.TaskStopping, model.StopTaskFailedToStart
			s.Reason = "DependencyError: container app waited more than its startTimeout of 10s for its dependencies"
		},
		actions: func(n *taskState) []action {
			return []action{actCheckpoint{}, rep(def, n), actStop{Container: "db", ID: id("db"), Timeout: DefaultStopTimeout}}
		},
	}, {
		name: "the wait is measured from when it began, not from the wall clock",
		def:  def, known: st, prog: starting, obs: obs, now: t0.Add(time.Hour),
		next: health,
		actions: func(*taskState) []action {
			return []action{actCheckpoint{}, actWait{Until: t0.Add(time.Hour + startTick)}}
		},
		check: func(t *testing.T, p progress) {
			if !p.waitingSince["app"].Equal(t0.Add(time.Hour)) {
				t.Errorf("waiting since %v", p.waitingSince["app"])
			}
		},
	}})
}
