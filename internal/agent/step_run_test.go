package agent

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/runtime"
)

func TestStepRunning(t *testing.T) {
	pair := taskDef(ctr("main"), ctr("side", nonEssential))
	both := with(known(model.TaskRunning, up("main"), up("side")), func(s *taskState) { s.StartOrder = []string{"main", "side"} })
	checked := taskDef(ctr("app", withCheck))
	app := known(model.TaskRunning, up("app"))
	essentialExit := func(d *model.TaskDefinition, first string) func(n *taskState) []action {
		return func(n *taskState) []action {
			return []action{actCheckpoint{}, rep(d, n), actStop{Container: first, ID: id(first), Timeout: DefaultStopTimeout}}
		}
	}
	stopEssential := func(s *taskState) {
		s.Status, s.StopCode, s.Reason = model.TaskStopping, model.StopEssentialContainerExited, reasonEssentialExited
	}
	tick := actWait{Until: t0.Add(monitorTick)}
	runStepCases(t, []stepCase{{
		name:    "nothing changed: wait, no report",
		def:     pair,
		known:   both,
		prog:    watching(pair, both),
		obs:     engine(oRunning("main", ""), oRunning("side", "")),
		actions: func(*taskState) []action { return []action{tick} },
	}, {
		name:  "an essential container exits: stop with EssentialContainerExited, dependents first",
		def:   pair,
		known: both,
		prog:  watching(pair, both),
		obs:   engine(oExited("main", 0), oRunning("side", "")),
		next: func(s *taskState) {
			stopEssential(s)
			s.Containers["main"] = exited("main", 0)
		},
		actions: essentialExit(pair, "side"),
	}, {
		name:  "a non-essential container exits: the task goes on and says so",
		def:   pair,
		known: both,
		prog:  watching(pair, both),
		obs:   engine(oRunning("main", ""), oExited("side", 3)),
		next:  func(s *taskState) { s.Containers["side"] = exited("side", 3) },
		actions: func(n *taskState) []action {
			return []action{actCheckpoint{}, rep(pair, n), tick}
		},
		check: func(t *testing.T, p progress) {
			want := with(both, func(s *taskState) { s.Containers["side"] = exited("side", 3) })
			if p.reported != snapshot(pair, want) {
				t.Error("what was reported is not remembered: the next step would report it again")
			}
		},
	}, {
		name:  "a container removed outside Flotta says so, and stops the task when essential",
		def:   pair,
		known: both,
		prog:  watching(pair, both),
		obs:   engine(oGone("main"), oRunning("side", "")),
		next: func(s *taskState) {
			stopEssential(s)
			s.Containers["main"].Status, s.Containers["main"].Reason = model.TaskStopped, reasonRemoved
		},
		actions: essentialExit(pair, "side"),
	}, {
		name:  "a container killed for memory says OutOfMemoryError",
		def:   pair,
		known: both,
		prog:  watching(pair, both),
		obs: engine(oRunning("main", ""), func() seen {
			s := oExited("side", 137)
			s.o.state.OOMKilled = true
			return s
		}()),
		next: func(s *taskState) {
			s.Containers["side"] = exited("side", 137)
			s.Containers["side"].Reason = reasonOOM
		},
		actions: func(n *taskState) []action { return []action{actCheckpoint{}, rep(pair, n), tick} },
	}, {
		name:  "healthy: the container and the task are HEALTHY, reported",
		def:   checked,
		known: app,
		prog:  watching(checked, app),
		obs:   engine(oRunning("app", "healthy")),
		next:  func(s *taskState) { s.Containers["app"].Health = model.HealthHealthy },
		actions: func(n *taskState) []action {
			if h := taskChange(checked, n).HealthStatus; h != model.HealthHealthy {
				t.Errorf("task health %s in the report", h)
			}
			return []action{actCheckpoint{}, rep(checked, n), tick}
		},
	}, {
		name:  "unhealthy: UNHEALTHY, reported; the task keeps running",
		def:   checked,
		known: with(app, func(s *taskState) { s.Containers["app"].Health = model.HealthHealthy }),
		prog:  watching(checked, with(app, func(s *taskState) { s.Containers["app"].Health = model.HealthHealthy })),
		obs:   engine(oRunning("app", "unhealthy")),
		next:  func(s *taskState) { s.Containers["app"].Health = model.HealthUnhealthy },
		actions: func(n *taskState) []action {
			if h := taskChange(checked, n).HealthStatus; h != model.HealthUnhealthy {
				t.Errorf("task health %s in the report", h)
			}
			return []action{actCheckpoint{}, rep(checked, n), tick}
		},
	}, {
		name:  "starting: UNKNOWN",
		def:   checked,
		known: app,
		prog:  watching(checked, app),
		obs:   engine(oRunning("app", "starting")),
		next:  func(s *taskState) { s.Containers["app"].Health = model.HealthUnknown },
		actions: func(n *taskState) []action {
			return []action{actCheckpoint{}, rep(checked, n), tick}
		},
	}, {
		name:    "desired STOPPED while running: UserInitiated, stopped with the container's stopTimeout",
		def:     taskDef(ctr("app", func(c *model.ContainerDefinition) { c.StopTimeout = ptr(7) })),
		known:   app,
		prog:    watching(checked, app),
		desired: model.TaskStopped,
		obs:     engine(oRunning("app", "")),
		next:    func(s *taskState) { s.Status, s.StopCode = model.TaskStopping, model.StopUserInitiated },
		actions: func(n *taskState) []action {
			return []action{actCheckpoint{}, rep(taskDef(ctr("app")), n), actStop{Container: "app", ID: id("app"), Timeout: 7 * time.Second}}
		},
	}})
}

func TestStepRestartPolicy(t *testing.T) {
	policy := func(c *model.ContainerDefinition) {
		c.RestartPolicy = &model.ContainerRestartPolicy{Enabled: ptr(true), IgnoredExitCodes: []int{0}, RestartAttemptPeriod: ptr(30)}
	}
	def := taskDef(ctr("main"), ctr("worker", nonEssential, policy))
	st := known(model.TaskRunning, up("main"), up("worker"))
	tick := actWait{Until: t0.Add(monitorTick)}
	failedOnce := watching(def, st)
	failedOnce.restartFailed = map[string]bool{"main": true}
	runStepCases(t, []stepCase{{
		name:  "an exit after restartAttemptPeriod restarts the container",
		def:   def,
		known: st,
		prog:  watching(def, st),
		obs:   engine(oRunning("main", ""), oExited("worker", 2)),
		next: func(s *taskState) {
			s.Containers["worker"] = exited("worker", 2)
			s.Containers["worker"].StartedAt = tStart
		},
		actions: func(*taskState) []action {
			return []action{actCheckpoint{}, actRestart{Container: "worker", ID: id("worker")}}
		},
	}, {
		name:  "an exit within restartAttemptPeriod is final",
		def:   def,
		known: st,
		prog:  watching(def, st),
		obs:   engine(oRunning("main", ""), oExited("worker", 2)),
		now:   tStart.Add(29 * time.Second),
		next: func(s *taskState) {
			s.Containers["worker"] = exited("worker", 2)
			s.Containers["worker"].StartedAt = tStart
		},
		actions: func(n *taskState) []action {
			return []action{actCheckpoint{}, rep(def, n), actWait{Until: tStart.Add(29*time.Second + monitorTick)}}
		},
	}, {
		name:  "an ignored exit code is final",
		def:   def,
		known: st,
		prog:  watching(def, st),
		obs:   engine(oRunning("main", ""), oExited("worker", 0)),
		next: func(s *taskState) {
			s.Containers["worker"] = exited("worker", 0)
			s.Containers["worker"].StartedAt = tStart
		},
		actions: func(n *taskState) []action {
			return []action{actCheckpoint{}, rep(def, n), tick}
		},
	}, {
		name: "a restart that worked: RUNNING again, counted, reported",
		def:  def,
		known: with(st, func(s *taskState) {
			s.Containers["worker"] = exited("worker", 2)
		}),
		prog: watching(def, st),
		res:  &result{action: actRestart{Container: "worker", ID: id("worker")}},
		obs:  engine(oRunning("main", ""), oRunning("worker", "")),
		next: func(s *taskState) { s.Containers["worker"] = up("worker"); s.Containers["worker"].Restarts = 1 },
		actions: func(n *taskState) []action {
			return []action{actCheckpoint{}, rep(def, n), tick}
		},
	}, {
		name:    "a restart that failed is not tried again before the next wait",
		def:     def,
		known:   with(st, func(s *taskState) { s.Containers["worker"] = exited("worker", 2) }),
		prog:    watching(def, with(st, func(s *taskState) { s.Containers["worker"] = exited("worker", 2) })),
		res:     &result{action: actRestart{Container: "worker", ID: id("worker")}, err: errBoom},
		obs:     engine(oRunning("main", ""), oExited("worker", 2)),
		actions: func(*taskState) []action { return []action{tick} },
		check: func(t *testing.T, p progress) {
			if len(p.restartFailed) != 0 {
				t.Errorf("restart failures outlive the wait: %v", p.restartFailed)
			}
		},
	}, {
		name:  "an essential container whose restart failed stops the task",
		def:   taskDef(ctr("main", policy)),
		known: known(model.TaskRunning, exited("main", 2)),
		prog:  failedOnce,
		obs:   engine(oExited("main", 2)),
		next: func(s *taskState) {
			s.Status, s.StopCode, s.Reason = model.TaskStopping, model.StopEssentialContainerExited, reasonEssentialExited
		},
		actions: func(n *taskState) []action {
			return []action{actCheckpoint{}, rep(taskDef(ctr("main", policy)), n), actStop{Container: "main", ID: id("main"), Timeout: DefaultStopTimeout}}
		},
	}})
}

func TestStepStop(t *testing.T) {
	one := taskDef(ctr("app"))
	stoppingApp := func(p progress) progress { p.stops, p.stopIssued = 0, true; return p }
	runStepCases(t, []stepCase{{
		name:  "a stopped container is marked, then the task is STOPPED and reported",
		def:   one,
		known: with(known(model.TaskStopping, up("app")), func(s *taskState) { s.StopCode, s.StartOrder = model.StopUserInitiated, []string{"app"} }),
		prog:  stoppingApp(begun),
		obs:   engine(oExited("app", 143)),
		next: func(s *taskState) {
			s.Status, s.StoppedAt = model.TaskStopped, model.At(t0)
			s.Containers["app"] = exited("app", 143)
			s.Containers["app"].StartedAt = tStart
		},
		actions: func(n *taskState) []action { return []action{actCheckpoint{}, rep(one, n)} },
	}, {
		name:  "a created container that never started says so once stopped",
		def:   one,
		known: with(known(model.TaskStopping, made("app")), func(s *taskState) { s.StopCode = model.StopUserInitiated }),
		prog:  stoppingApp(begun),
		obs:   engine(oCreated("app")),
		next: func(s *taskState) {
			s.Status, s.StoppedAt = model.TaskStopped, model.At(t0)
			s.Containers["app"].Status, s.Containers["app"].Reason, s.Containers["app"].ImageID = model.TaskStopped, reasonNotStarted, "sha256:app"
		},
		actions: func(n *taskState) []action { return []action{actCheckpoint{}, rep(one, n)} },
	}, {
		name: "the network container is stopped after the containers",
		def:  one,
		known: with(known(model.TaskStopping, exited("app", 0)), func(s *taskState) {
			s.StopCode, s.PauseID, s.IP = model.StopEssentialContainerExited, "c-pause", "10.0.0.5"
		}),
		prog: progress{begun: true, stops: 1},
		actions: func(*taskState) []action {
			return []action{actStop{Container: runtime.PauseContainer, ID: "c-pause", Timeout: pauseStopTimeout}}
		},
	}, {
		name:    "a task already STOPPED is reported",
		def:     one,
		known:   with(known(model.TaskStopped, exited("app", 0)), func(s *taskState) { s.StopCode = model.StopEssentialContainerExited }),
		actions: func(n *taskState) []action { return []action{rep(one, n)} },
	}, {
		name:    "a reported STOPPED task waits for the cleanup delay on the injected clock",
		def:     one,
		known:   known(model.TaskStopped, exited("app", 0)),
		prog:    progress{begun: true, stoppedReported: true},
		actions: func(*taskState) []action { return []action{actWait{Until: t0.Add(10 * time.Minute)}} },
	}, {
		name: "then it is cleaned up, and the runner is done",
		def:  one,
		known: with(known(model.TaskStopped, exited("app", 0)), func(s *taskState) {
			s.PauseID, s.Volumes = "c-pause", []string{"flotta-x-data"}
		}),
		prog: progress{begun: true, stoppedReported: true, cleanupAt: t0.Add(10 * time.Minute)},
		now:  t0.Add(10 * time.Minute),
		actions: func(*taskState) []action {
			return []action{actCleanup{Containers: []string{id("app"), "c-pause"}, Volumes: []string{"flotta-x-data"}}}
		},
		done: true,
	}, {
		name:    "a STOPPED task's containers are not looked at again",
		def:     one,
		known:   known(model.TaskStopped, made("app")),
		prog:    progress{begun: true, stoppedReported: true, cleanupAt: t0.Add(time.Minute)},
		obs:     engine(oRunning("app", "")),
		actions: func(*taskState) []action { return []action{actWait{Until: t0.Add(time.Minute)}} },
	}})
}

func TestStepNetworkAndVolumes(t *testing.T) {
	vpc := taskDef(ctr("app"))
	vpc.NetworkMode = model.NetworkAwsvpc
	vols := taskDef(ctr("app"))
	vols.Volumes = []model.Volume{
		{Name: "bind", Host: &model.HostVolumeProperties{SourcePath: "/srv"}},
		{Name: "data"},
		{Name: "shared", DockerVolumeConfiguration: &model.DockerVolumeConfiguration{Scope: "shared", Driver: "nfs", DriverOpts: map[string]string{"o": "x"}}},
	}
	cycle := taskDef(ctr("a", func(c *model.ContainerDefinition) { c.VolumesFrom = []model.VolumeFrom{{SourceContainer: "b"}} }),
		ctr("b", func(c *model.ContainerDefinition) { c.VolumesFrom = []model.VolumeFrom{{SourceContainer: "a"}} }))
	failed := func(reason string) func(*taskState) {
		return func(s *taskState) {
			s.Status, s.StopCode, s.Reason, s.StoppedAt = model.TaskStopped, model.StopTaskFailedToStart, reason, model.At(t0)
			for _, cs := range s.Containers {
				cs.Status, cs.Reason = model.TaskStopped, reasonNotStarted
			}
		}
	}
	runStepCases(t, []stepCase{{
		name:    "awsvpc: the network container is created first",
		def:     vpc,
		known:   known(model.TaskPending, pend("app")),
		prog:    begun,
		actions: func(*taskState) []action { return []action{actCreatePause{}} },
	}, {
		name:    "awsvpc: then started",
		def:     vpc,
		known:   known(model.TaskPending, pend("app")),
		prog:    begun,
		res:     &result{action: actCreatePause{}, id: "c-pause"},
		obs:     map[string]observation{"c-pause": {state: runtime.ContainerState{ID: "c-pause", Created: true}}},
		next:    func(s *taskState) { s.PauseID = "c-pause" },
		actions: func(*taskState) []action { return []action{actCheckpoint{}, actStartPause{ID: "c-pause"}} },
	}, {
		name:  "awsvpc: then its address is the task's",
		def:   vpc,
		known: with(known(model.TaskPending, pend("app")), func(s *taskState) { s.PauseID = "c-pause" }),
		prog:  begun,
		res:   &result{action: actStartPause{ID: "c-pause"}},
		obs: map[string]observation{"c-pause": {state: runtime.ContainerState{ID: "c-pause", Running: true,
			IPs: map[string]string{AwsvpcNetwork: "10.0.0.5"}}}},
		next: func(s *taskState) { s.IP, s.PullStartedAt = "10.0.0.5", model.At(t0) },
		actions: func(*taskState) []action {
			return []action{actCheckpoint{}, actCheckImage{Container: "app", Image: "img-app"}}
		},
	}, {
		name:    "awsvpc without a pause image fails the task",
		def:     vpc,
		noPause: true,
		known:   known(model.TaskPending, pend("app")),
		prog:    begun,
		next:    failed("CannotStartContainerError: task network: this agent does not run awsvpc tasks (it has no pause image)"),
		actions: func(n *taskState) []action {
			stopping := with(n, func(s *taskState) { s.Status, s.StoppedAt, s.Containers["app"] = model.TaskStopping, nil, pend("app") })
			return []action{actCheckpoint{}, rep(vpc, stopping), rep(vpc, n)}
		},
	}, {
		name:  "awsvpc: a network container gone after a restart fails the task",
		def:   vpc,
		known: with(known(model.TaskPending, pend("app")), func(s *taskState) { s.PauseID = "c-pause" }),
		prog:  begun,
		obs:   map[string]observation{"c-pause": {err: runtime.ErrNotFound}},
		next: func(s *taskState) {
			failed("CannotStartContainerError: task network: the task's network container is gone")(s)
			s.Status, s.StoppedAt = model.TaskStopping, nil
		},
		actions: func(n *taskState) []action {
			stopping := with(n, func(s *taskState) { s.Status, s.StoppedAt, s.Containers["app"] = model.TaskStopping, nil, pend("app") })
			return []action{actCheckpoint{}, rep(vpc, stopping), actStop{Container: runtime.PauseContainer, ID: "c-pause", Timeout: pauseStopTimeout}}
		},
	}, {
		name:  "volumes: a host path needs nothing; a task volume is made per task",
		def:   vols,
		known: known(model.TaskPending, pend("app")),
		prog:  begun,
		actions: func(*taskState) []action {
			return []action{actEnsureVolume{Name: "flotta-" + lastSegment(testArn) + "-data", Driver: "local", PerTask: true}}
		},
	}, {
		name:  "volumes: a shared volume keeps its name and driver, and is not the task's to remove",
		def:   vols,
		known: known(model.TaskPending, pend("app")),
		prog:  progress{begun: true, volumes: 1},
		res:   &result{action: actEnsureVolume{Name: "flotta-" + lastSegment(testArn) + "-data", Driver: "local", PerTask: true}},
		next:  func(s *taskState) { s.Volumes = []string{"flotta-" + lastSegment(testArn) + "-data"} },
		actions: func(*taskState) []action {
			return []action{actCheckpoint{}, actEnsureVolume{Name: "shared", Driver: "nfs", Opts: map[string]string{"o": "x"}}}
		},
	}, {
		name:  "volumes: a volume that cannot be made fails the task",
		def:   vols,
		known: known(model.TaskPending, pend("app")),
		prog:  progress{begun: true, volumes: 2},
		res:   &result{action: actEnsureVolume{Name: "shared", Driver: "nfs"}, err: errBoom},
		next:  failed("CannotCreateVolumeError: boom"),
		actions: func(n *taskState) []action {
			stopping := with(n, func(s *taskState) { s.Status, s.StoppedAt, s.Containers["app"] = model.TaskStopping, nil, pend("app") })
			return []action{actCheckpoint{}, rep(vols, stopping), rep(vols, n)}
		},
	}, {
		name:  "volumesFrom in a cycle cannot be created",
		def:   cycle,
		known: known(model.TaskPending, pend("a"), pend("b")),
		prog:  creating,
		next:  failed("CannotCreateContainerError: volumesFrom forms a cycle"),
		actions: func(n *taskState) []action {
			stopping := with(n, func(s *taskState) {
				s.Status, s.StoppedAt, s.Containers["a"], s.Containers["b"] = model.TaskStopping, nil, pend("a"), pend("b")
			})
			return []action{actCheckpoint{}, rep(cycle, stopping), rep(cycle, n)}
		},
	}})
}

// TestStepDrive runs whole tasks through step against a pretend engine,
// checking the order of creates, starts and stops that the passes give.
func TestStepDrive(t *testing.T) {
	def := taskDef(
		ctr("app", dependsOn("db", model.DependStart)),
		ctr("db", func(c *model.ContainerDefinition) { c.VolumesFrom = []model.VolumeFrom{{SourceContainer: "data"}} }),
		ctr("cache"),
		ctr("data", nonEssential),
	)
	as := flottaapi.Assignment{Task: model.Task{TaskArn: testArn, ClusterArn: "arn:aws:ecs:local:000000000000:cluster/default"}, Definition: *def}
	st := knownState(as, nil, nil)
	eng := map[string]*runtime.ContainerState{}
	var p progress
	var last *result
	var log []string
	var reported []string
	now := t0
	desired := model.TaskRunning
	for i := 0; ; i++ {
		if i > 200 {
			t.Fatalf("no end after 200 steps: %v", log)
		}
		obs := map[string]observation{}
		for id, c := range eng {
			obs[id] = observation{state: *c}
		}
		out := step(stepInput{def: def, known: st, progress: p, desired: desired, observed: obs, result: last, now: now,
			canAwsvpc: true, cleanupDelay: time.Minute})
		st, p, last = out.next, out.progress, nil
		for _, a := range out.actions {
			switch a := a.(type) {
			case actReport:
				reported = append(reported, a.Change.Status)
			case actCheckImage:
				last = &result{action: a, present: true}
			case actCreate:
				cid := "id-" + a.Container
				eng[cid] = &runtime.ContainerState{ID: cid, Created: true}
				log = append(log, "create "+a.Container)
				last = &result{action: a, id: cid}
			case actStart:
				eng[a.ID].Created, eng[a.ID].Running = false, true
				log = append(log, "start "+a.Container)
				last = &result{action: a}
			case actStop:
				if c := eng[a.ID]; c.Running {
					c.Running, c.ExitCode = false, 143
				}
				log = append(log, "stop "+a.Container)
			case actWait:
				if st.Status == model.TaskRunning && desired == model.TaskRunning {
					desired = model.TaskStopped // the server stops the task
				} else {
					now = a.Until
				}
			case actCleanup:
				log = append(log, fmt.Sprintf("cleanup %d", len(a.Containers)))
			}
		}
		if out.done {
			break
		}
	}
	want := []string{"create app", "create cache", "create data", "create db",
		"start db", "start cache", "start data", "start app",
		"stop app", "stop data", "stop cache", "stop db", "cleanup 4"}
	if d := cmp.Diff(want, log); d != "" {
		t.Errorf("engine calls (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{model.TaskPending, model.TaskRunning, model.TaskStopping, model.TaskStopped}, reported); d != "" {
		t.Errorf("reports (-want +got):\n%s", d)
	}
	if st.StopCode != model.StopUserInitiated {
		t.Errorf("stop code %q", st.StopCode)
	}
}

func TestKnownStateAdopts(t *testing.T) {
	def := taskDef(ctr("app"), ctr("side"))
	as := flottaapi.Assignment{Task: model.Task{TaskArn: testArn, ClusterArn: "arn:aws:ecs:local:000000000000:cluster/default"}, Definition: *def}
	checkpoint := known(model.TaskPending, made("app"))
	got := knownState(as, checkpoint, []runtime.ContainerState{
		{ID: "c-side", Labels: map[string]string{runtime.LabelContainer: "side"}},
		{ID: "c-pause", Labels: map[string]string{runtime.LabelContainer: runtime.PauseContainer}, Created: true},
		{ID: "c-other", Labels: map[string]string{runtime.LabelContainer: "app"}},
	})
	want := known(model.TaskPending, made("app"), &containerState{Name: "side", ID: "c-side", Status: model.TaskPending, Started: true})
	want.PauseID = "c-pause"
	if d := cmp.Diff(want, got, stepOpts...); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if checkpoint.PauseID != "" || len(checkpoint.Containers) != 1 {
		t.Error("knownState changed the checkpoint it was given")
	}
}
