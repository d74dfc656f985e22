package agent_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/agent"
	"github.com/flotta-dev/flotta/internal/runtime"
	"github.com/flotta-dev/flotta/internal/runtime/fake"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

type rig struct {
	t   *testing.T
	env *flottatest.Env
	rt  *fake.Runtime
	dir string
	now func() time.Time

	mu     sync.Mutex
	starts []string // container names in start order
	cancel context.CancelFunc
	done   chan error
	agent  *agent.Agent
}

func newRig(t *testing.T) *rig { return newRigWith(t, nil) }

// newRigWith runs the agent on the given clock.
func newRigWith(t *testing.T, now func() time.Time) *rig {
	r := &rig{t: t, env: flottatest.StartServer(t), rt: fake.New(), dir: t.TempDir(), now: now}
	r.rt.AddImage("demo")
	r.rt.OnStart = func(_ *fake.Runtime, id string, spec runtime.ContainerSpec) {
		r.mu.Lock()
		r.starts = append(r.starts, spec.Labels[runtime.LabelContainer])
		r.mu.Unlock()
	}
	r.startAgent()
	return r
}

func (r *rig) startAgent() {
	t := r.t
	token, _, err := r.env.Server.IAM().CreateJoinToken(context.Background(), time.Hour, 5, "test")
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Config{Server: r.env.Server.Endpoint(), JoinToken: token, DataDir: r.dir, Runtime: r.rt,
		CPU: 4096, Memory: 4096, CleanupDelay: time.Hour, PollWait: 2 * time.Second, Now: r.now, AllowHostAccess: true,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done, r.agent = cancel, make(chan error, 1), a
	go func() { r.done <- a.Run(ctx) }()
	select {
	case <-a.Registered():
	case err := <-r.done:
		t.Fatalf("agent stopped before registering: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("agent did not register within 30s")
	}
	t.Cleanup(r.stopAgent)
}

func (r *rig) stopAgent() {
	if r.cancel != nil {
		r.cancel()
		<-r.done
		r.cancel = nil
	}
}

func (r *rig) register(family string, containers ...types.ContainerDefinition) {
	if _, err := r.env.ECS.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), ContainerDefinitions: containers}); err != nil {
		r.t.Fatal(err)
	}
}

func ctr(name string, edit ...func(*types.ContainerDefinition)) types.ContainerDefinition {
	c := types.ContainerDefinition{Name: aws.String(name), Image: aws.String("demo"), Memory: aws.Int32(64)}
	for _, f := range edit {
		f(&c)
	}
	return c
}

func (r *rig) run(family string) string {
	out, err := r.env.ECS.RunTask(context.Background(), &ecs.RunTaskInput{TaskDefinition: aws.String(family)})
	if err != nil {
		r.t.Fatal(err)
	}
	if len(out.Tasks) != 1 {
		r.t.Fatalf("RunTask placed %d tasks; failures %+v", len(out.Tasks), out.Failures)
	}
	return aws.ToString(out.Tasks[0].TaskArn)
}

// waitTask polls DescribeTasks until cond holds, failing with what was awaited.
func (r *rig) waitTask(arn, what string, cond func(*types.Task) bool) *types.Task {
	r.t.Helper()
	return r.env.WaitTask(r.t, arn, what, 20*time.Second, cond)
}

var describe = flottatest.ShowTask

func status(s string) func(*types.Task) bool {
	return func(t *types.Task) bool { return aws.ToString(t.LastStatus) == s }
}

func (r *rig) containerID(arn, name string) string {
	list, _ := r.rt.ListContainers(context.Background(), map[string]string{runtime.LabelTask: arn, runtime.LabelContainer: name})
	if len(list) != 1 {
		r.t.Fatalf("%d containers %s of %s", len(list), name, arn)
	}
	return list[0].ID
}

func TestTaskRunsAndStops(t *testing.T) {
	r := newRig(t)
	r.register("web", ctr("app", func(c *types.ContainerDefinition) {
		c.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
	}))
	arn := r.run("web")
	task := r.waitTask(arn, "RUNNING", status("RUNNING"))
	if task.StartedAt == nil || task.PullStartedAt == nil || task.PullStoppedAt == nil || task.Connectivity != types.ConnectivityConnected {
		t.Fatalf("running task lacks timestamps: %s", describe(task))
	}
	c := task.Containers[0]
	if aws.ToString(c.RuntimeId) == "" || len(c.NetworkBindings) != 1 || aws.ToInt32(c.NetworkBindings[0].HostPort) < 49153 {
		t.Fatalf("container %+v", c)
	}
	if _, err := r.env.ECS.StopTask(context.Background(), &ecs.StopTaskInput{Task: aws.String(arn), Reason: aws.String("enough")}); err != nil {
		t.Fatal(err)
	}
	task = r.waitTask(arn, "STOPPED", status("STOPPED"))
	if task.StopCode != types.TaskStopCodeUserInitiated || aws.ToString(task.StoppedReason) != "enough" || task.StoppingAt == nil || task.StoppedAt == nil {
		t.Fatalf("stopped task: %s", describe(task))
	}
	if code := aws.ToInt32(task.Containers[0].ExitCode); code != 143 {
		t.Fatalf("exit code %d, want 143 (SIGTERM)", code)
	}
	inst, _ := r.env.ECS.DescribeContainerInstances(context.Background(), &ecs.DescribeContainerInstancesInput{ContainerInstances: []string{r.agent.ContainerInstanceArn()}})
	for _, res := range inst.ContainerInstances[0].RemainingResources {
		if aws.ToString(res.Name) == "MEMORY" && res.IntegerValue != 4096 {
			t.Fatalf("memory not released after the task stopped: %d", res.IntegerValue)
		}
	}
}

func TestEssentialExitStopsTheTask(t *testing.T) {
	r := newRig(t)
	r.register("pair", ctr("main"), ctr("side", func(c *types.ContainerDefinition) { c.Essential = aws.Bool(false) }))
	arn := r.run("pair")
	r.waitTask(arn, "RUNNING", status("RUNNING"))
	// A non-essential container may exit; the task goes on.
	r.rt.Exit(r.containerID(arn, "side"), 3)
	r.waitTask(arn, "side STOPPED", func(t *types.Task) bool {
		return aws.ToString(t.Containers[1].LastStatus) == "STOPPED" && aws.ToInt32(t.Containers[1].ExitCode) == 3
	})
	if task := r.waitTask(arn, "RUNNING", status("RUNNING")); aws.ToString(task.LastStatus) != "RUNNING" {
		t.Fatal("a non-essential exit stopped the task")
	}
	r.rt.Exit(r.containerID(arn, "main"), 0)
	task := r.waitTask(arn, "STOPPED", status("STOPPED"))
	if task.StopCode != types.TaskStopCodeEssentialContainerExited || aws.ToString(task.StoppedReason) != "Essential container in task exited" {
		t.Fatalf("%s", describe(task))
	}
}

func TestDependsOnOrder(t *testing.T) {
	r := newRig(t)
	r.register("ordered",
		ctr("app", func(c *types.ContainerDefinition) {
			c.DependsOn = []types.ContainerDependency{
				{ContainerName: aws.String("migrate"), Condition: types.ContainerConditionSuccess},
				{ContainerName: aws.String("db"), Condition: types.ContainerConditionHealthy}}
		}),
		ctr("db", func(c *types.ContainerDefinition) {
			c.HealthCheck = &types.HealthCheck{Command: []string{"CMD", "check"}}
		}),
		ctr("migrate", func(c *types.ContainerDefinition) {
			c.Essential = aws.Bool(false)
			c.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("db"), Condition: types.ContainerConditionStart}}
		}))
	arn := r.run("ordered")
	r.waitTask(arn, "db and migrate started", func(*types.Task) bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.starts) == 2
	})
	r.mu.Lock()
	if !slices.Equal(r.starts, []string{"db", "migrate"}) {
		t.Fatalf("start order %v", r.starts)
	}
	r.mu.Unlock()
	r.rt.Exit(r.containerID(arn, "migrate"), 0)
	r.rt.SetHealth(r.containerID(arn, "db"), "healthy")
	task := r.waitTask(arn, "RUNNING", status("RUNNING"))
	r.mu.Lock()
	if !slices.Equal(r.starts, []string{"db", "migrate", "app"}) {
		t.Fatalf("start order %v", r.starts)
	}
	r.mu.Unlock()
	// The task's health is that of its essential containers with a check: db's.
	if task.HealthStatus != types.HealthStatusHealthy {
		t.Fatalf("task health %s, want HEALTHY", task.HealthStatus)
	}
}

func TestHealthAndFailedStarts(t *testing.T) {
	r := newRig(t)
	r.register("checked", ctr("app", func(c *types.ContainerDefinition) {
		c.HealthCheck = &types.HealthCheck{Command: []string{"CMD", "check"}}
	}))
	arn := r.run("checked")
	r.waitTask(arn, "RUNNING", status("RUNNING"))
	id := r.containerID(arn, "app")
	r.rt.SetHealth(id, "healthy")
	r.waitTask(arn, "HEALTHY", func(t *types.Task) bool { return t.HealthStatus == types.HealthStatusHealthy })
	r.rt.SetHealth(id, "unhealthy")
	task := r.waitTask(arn, "UNHEALTHY", func(t *types.Task) bool { return t.HealthStatus == types.HealthStatusUnhealthy })
	if task.Containers[0].HealthStatus != types.HealthStatusUnhealthy {
		t.Fatalf("container health %s", task.Containers[0].HealthStatus)
	}

	// An image that is not here and cannot be pulled fails the task cleanly.
	r.rt.PullError = fmt.Errorf("dial tcp: lookup registry-1.docker.io: no such host")
	r.register("missing", types.ContainerDefinition{Name: aws.String("app"), Image: aws.String("nowhere/none:1"), Memory: aws.Int32(64)})
	arn = r.run("missing")
	task = r.waitTask(arn, "STOPPED", status("STOPPED"))
	if task.StopCode != types.TaskStopCodeTaskFailedToStart || !strings.Contains(aws.ToString(task.StoppedReason), "CannotPullContainerError") ||
		!strings.Contains(aws.ToString(task.Containers[0].Reason), "no such host") {
		t.Fatalf("%s", describe(task))
	}
}

func TestRestartedAgentAdoptsItsTasks(t *testing.T) {
	r := newRig(t)
	r.register("long", ctr("app"))
	r.register("gone", ctr("app"))
	keep := r.run("long")
	lost := r.run("gone")
	r.waitTask(keep, "RUNNING", status("RUNNING"))
	r.waitTask(lost, "RUNNING", status("RUNNING"))
	before, _ := r.rt.ListContainers(context.Background(), nil)
	r.stopAgent()
	// While the agent is down, one container is removed behind its back.
	r.rt.RemoveContainer(context.Background(), r.containerID(lost, "app"))
	r.mu.Lock()
	startsBefore := len(r.starts)
	r.mu.Unlock()
	r.startAgent()
	task := r.waitTask(lost, "STOPPED", status("STOPPED"))
	if aws.ToString(task.Containers[0].Reason) != "The container was removed outside of Flotta." {
		t.Fatalf("%s", describe(task))
	}
	task = r.waitTask(keep, "RUNNING", status("RUNNING"))
	after, _ := r.rt.ListContainers(context.Background(), nil)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.starts) != startsBefore || len(after) != len(before)-1 {
		t.Fatalf("the restarted agent started containers again: %d starts before, %d after; %d containers before, %d after",
			startsBefore, len(r.starts), len(before), len(after))
	}
}

func contextTimeout(t *testing.T) <-chan time.Time { return time.After(20 * time.Second) }
