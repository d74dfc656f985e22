package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/runtime"
	"github.com/flotta-dev/flotta/internal/runtime/docker"
)

// svcTasks describes a service's tasks with the given desired status.
func svcTasks(client *ecs.Client, service string, desired types.DesiredStatus) ([]types.Task, error) {
	ctx := context.Background()
	var arns []string
	p := ecs.NewListTasksPaginator(client, &ecs.ListTasksInput{ServiceName: aws.String(service), DesiredStatus: desired})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		arns = append(arns, page.TaskArns...)
	}
	var out []types.Task
	for len(arns) > 0 {
		n := min(100, len(arns))
		d, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: arns[:n]})
		if err != nil {
			return nil, err
		}
		out = append(out, d.Tasks...)
		arns = arns[n:]
	}
	return out, nil
}

func describeService(t *testing.T, client *ecs.Client, name string) types.Service {
	t.Helper()
	out, err := client.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Services: []string{name}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("describe service %s: %v", name, err)
	}
	return out.Services[0]
}

func serviceState(s types.Service) string {
	var b strings.Builder
	fmt.Fprintf(&b, "running=%d pending=%d desired=%d", s.RunningCount, s.PendingCount, s.DesiredCount)
	for _, d := range s.Deployments {
		fmt.Fprintf(&b, " [%s %s %s running=%d failed=%d]", aws.ToString(d.Status), trimARN(aws.ToString(d.TaskDefinition)), d.RolloutState, d.RunningCount, d.FailedTasks)
	}
	if len(s.Events) > 0 {
		fmt.Fprintf(&b, " last event: %s", aws.ToString(s.Events[0].Message))
	}
	return b.String()
}

// waitSteady waits until the service runs want tasks of def, its only
// deployment COMPLETED.
func waitSteady(t *testing.T, client *ecs.Client, name, def string, want int, timeout time.Duration) types.Service {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var s types.Service
	for time.Now().Before(deadline) {
		s = describeService(t, client, name)
		if s.RunningCount == int32(want) && s.PendingCount == 0 && len(s.Deployments) == 1 &&
			aws.ToString(s.Deployments[0].TaskDefinition) == def && s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted {
			return s
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("service %s not steady on %s within %s: %s", name, trimARN(def), timeout, serviceState(s))
	return s
}

// rolloutSampler samples a service's tasks through the API every 200 ms.
type rolloutSampler struct {
	minHealthy, maxRunning, samples int
	stop                            chan struct{}
	wg                              sync.WaitGroup
}

func sampleRollout(client *ecs.Client, service string) *rolloutSampler {
	s := &rolloutSampler{minHealthy: 1 << 30, stop: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
			var all []types.Task
			for _, d := range []types.DesiredStatus{types.DesiredStatusRunning, types.DesiredStatusStopped} {
				tasks, err := svcTasks(client, service, d)
				if err != nil {
					continue
				}
				all = append(all, tasks...)
			}
			healthy, live := 0, 0
			for _, task := range all {
				if aws.ToString(task.LastStatus) == "STOPPED" {
					continue
				}
				live++
				if aws.ToString(task.LastStatus) == "RUNNING" && aws.ToString(task.DesiredStatus) == "RUNNING" && task.HealthStatus == types.HealthStatusHealthy {
					healthy++
				}
			}
			s.minHealthy, s.maxRunning = min(s.minHealthy, healthy), max(s.maxRunning, live)
			s.samples++
		}
	}()
	return s
}

func (s *rolloutSampler) finish() { close(s.stop); s.wg.Wait() }

// webDef is the demo app with a health check; message tells revisions apart.
// The check's timeout leaves room for a docker exec on a loaded CI machine
// (at 2 s, healthy tasks of a good revision failed their checks there and
// tripped the circuit breaker of the rollback this test waits for).
func webDef(img, message string, extra ...string) types.ContainerDefinition {
	c := demo("web", img, append([]string{"--message", message}, extra...)...)
	c.HealthCheck = &types.HealthCheck{Command: []string{"CMD", "/flotta", "demo-app", "--check"},
		Interval: aws.Int32(5), Timeout: aws.Int32(5), Retries: aws.Int32(3), StartPeriod: aws.Int32(0)}
	return c
}

func register(t *testing.T, client *ecs.Client, family string, c types.ContainerDefinition) string {
	t.Helper()
	out, err := client.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), ContainerDefinitions: []types.ContainerDefinition{c}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

// TestServicesOnDocker: a service of 4 reaches a steady state, a container
// killed behind Flotta's back is replaced, a rolling update keeps its limits,
// a revision that crashes is rolled back, an instance drains within the
// limits, and a DAEMON service follows an instance that joins.
func TestServicesOnDocker(t *testing.T) {
	rt := requireDocker(t)
	srv := startServer(t, t.TempDir())
	client := srv.retryingClient(t)
	ctx := context.Background()
	token := cli(t, srv.dataDir, "token", "create", "--uses", "3")
	a1 := startAgent(t, srv, t.TempDir(), token, "--cpu", "4096", "--memory", "4096", "--zone", "zone-a")
	a2 := startAgent(t, srv, t.TempDir(), token, "--cpu", "4096", "--memory", "4096", "--zone", "zone-b")
	removeAgentContainers(t, rt, a1, a2)
	img := workloadImage(t, rt)
	v1 := register(t, client, "web", webDef(img, "v1"))
	v2 := register(t, client, "web", webDef(img, "v2"))
	v3 := register(t, client, "web", webDef(img, "v3", "--no-server", "--exit-after", "200ms", "--exit-code", "3"))

	_, err := client.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String(v1), DesiredCount: aws.Int32(4),
		DeploymentConfiguration: &types.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(50), MaximumPercent: aws.Int32(200),
			DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s := waitSteady(t, client, "web", v1, 4, 90*time.Second)
	t.Logf("service of 4 steady in %s", time.Since(start).Round(100*time.Millisecond))
	if !hasMessage(s, "(service web) has reached a steady state.") {
		t.Fatalf("no steady-state event: %s", serviceState(s))
	}

	// docker kill a container behind Flotta's back: the task is replaced.
	tasks, err := svcTasks(client, "web", types.DesiredStatusRunning)
	if err != nil || len(tasks) != 4 {
		t.Fatalf("%d tasks, %v", len(tasks), err)
	}
	victim := aws.ToString(tasks[0].TaskArn)
	killTaskContainers(t, rt, victim)
	killed := time.Now()
	waitFor(t, client, []string{victim}, "STOPPED", 60*time.Second, func(task types.Task) bool { return aws.ToString(task.LastStatus) == "STOPPED" })
	deadline := time.Now().Add(60 * time.Second)
	for {
		healthy := 0
		for _, task := range mustTasks(t, client, "web") {
			if task.HealthStatus == types.HealthStatusHealthy {
				healthy++
			}
		}
		if healthy == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("killed task not replaced within 60s: %s", serviceState(describeService(t, client, "web")))
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("killed container replaced by a healthy task in %s", time.Since(killed).Round(100*time.Millisecond))

	// v1 -> v2 with minimum 50% and maximum 200%.
	sampler := sampleRollout(client, "web")
	if _, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String(v2)}); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	waitSteady(t, client, "web", v2, 4, 120*time.Second)
	sampler.finish()
	t.Logf("v1->v2 in %s: %d samples, fewest healthy %d, most running %d", time.Since(start).Round(100*time.Millisecond), sampler.samples, sampler.minHealthy, sampler.maxRunning)
	if sampler.samples < 5 || sampler.minHealthy < 2 || sampler.maxRunning > 8 {
		t.Fatalf("rolling update broke its limits: %d samples, fewest healthy %d (min 2), most running %d (max 8)", sampler.samples, sampler.minHealthy, sampler.maxRunning)
	}

	// v3 exits at once: the circuit breaker trips, the service returns to v2.
	if _, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String(v3)}); err != nil {
		t.Fatal(err)
	}
	s = waitSteady(t, client, "web", v2, 4, 120*time.Second)
	if !hasMessage(s, "deployment failed: tasks failed to start") {
		t.Fatalf("no circuit breaker event: %s", serviceState(s))
	}
	list, err := client.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Service: aws.String("web")})
	if err != nil || len(list.ServiceDeployments) == 0 || list.ServiceDeployments[0].Status != types.ServiceDeploymentStatusRollbackSuccessful {
		t.Fatalf("service deployments: %v %+v", err, list)
	}
	for _, task := range mustTasks(t, client, "web") {
		if aws.ToString(task.TaskDefinitionArn) != v2 || aws.ToString(task.LastStatus) != "RUNNING" {
			t.Fatalf("after the rollback: task of %s is %s", trimARN(aws.ToString(task.TaskDefinitionArn)), aws.ToString(task.LastStatus))
		}
	}

	// Drain a1: its tasks move to a2, at least 2 healthy throughout.
	sampler = sampleRollout(client, "web")
	if _, err := client.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{ContainerInstances: []string{a1.arn},
		Status: types.ContainerInstanceStatusDraining}); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(120 * time.Second)
	for {
		onA1, healthy := 0, 0
		for _, task := range mustTasks(t, client, "web") {
			if aws.ToString(task.ContainerInstanceArn) == a1.arn {
				onA1++
			} else if task.HealthStatus == types.HealthStatusHealthy {
				healthy++
			}
		}
		if onA1 == 0 && healthy == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("drain not done within 120s: %d tasks on the draining instance, %d healthy elsewhere", onA1, healthy)
		}
		time.Sleep(250 * time.Millisecond)
	}
	sampler.finish()
	t.Logf("drain: %d samples, fewest healthy %d, most running %d", sampler.samples, sampler.minHealthy, sampler.maxRunning)
	if sampler.minHealthy < 2 || sampler.maxRunning > 8 {
		t.Fatalf("drain broke the limits: fewest healthy %d (min 2), most running %d (max 8)", sampler.minHealthy, sampler.maxRunning)
	}
	if _, err := client.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{ContainerInstances: []string{a1.arn},
		Status: types.ContainerInstanceStatusActive}); err != nil {
		t.Fatal(err)
	}

	// DAEMON: one task per instance, and on an instance that joins.
	daemon := register(t, client, "logger", demo("logger", img, "--no-server"))
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("logger"), TaskDefinition: aws.String(daemon),
		SchedulingStrategy: types.SchedulingStrategyDaemon}); err != nil {
		t.Fatal(err)
	}
	waitSteady(t, client, "logger", daemon, 2, 60*time.Second)
	a3 := startAgent(t, srv, t.TempDir(), token, "--cpu", "4096", "--memory", "4096", "--zone", "zone-c")
	removeAgentContainers(t, rt, a3)
	waitSteady(t, client, "logger", daemon, 3, 60*time.Second)
	perInstance := map[string]int{}
	for _, task := range mustTasks(t, client, "logger") {
		perInstance[aws.ToString(task.ContainerInstanceArn)]++
	}
	if len(perInstance) != 3 || perInstance[a1.arn] != 1 || perInstance[a2.arn] != 1 || perInstance[a3.arn] != 1 {
		t.Fatalf("daemon tasks per instance: %v", perInstance)
	}
}

// TestLostInstanceOnDocker kills an agent that runs service tasks, measures
// how long until their replacements run elsewhere (server defaults), and
// restarts it: the stale copies stop, and exactly desiredCount run.
func TestLostInstanceOnDocker(t *testing.T) {
	rt := requireDocker(t)
	srv := startServer(t, t.TempDir())
	client := srv.retryingClient(t)
	ctx := context.Background()
	token := cli(t, srv.dataDir, "token", "create", "--uses", "2")
	dirA := t.TempDir()
	a := startAgent(t, srv, dirA, token, "--cpu", "4096", "--memory", "4096", "--zone", "zone-a")
	b := startAgent(t, srv, t.TempDir(), token, "--cpu", "4096", "--memory", "4096", "--zone", "zone-b")
	removeAgentContainers(t, rt, a, b)
	img := workloadImage(t, rt)
	def := register(t, client, "keep", demo("app", img, "--no-server"))
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("keep"), TaskDefinition: aws.String(def), DesiredCount: aws.Int32(4)}); err != nil {
		t.Fatal(err)
	}
	waitSteady(t, client, "keep", def, 4, 60*time.Second)
	onA := 0
	for _, task := range mustTasks(t, client, "keep") {
		if aws.ToString(task.ContainerInstanceArn) == a.arn {
			onA++
		}
	}
	if onA == 0 {
		t.Fatal("the spread placed nothing on the agent to kill")
	}

	a.kill()
	killed := time.Now()
	var disconnected time.Duration
	for {
		if disconnected == 0 {
			d, err := client.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{ContainerInstances: []string{a.arn}})
			if err == nil && len(d.ContainerInstances) == 1 && !d.ContainerInstances[0].AgentConnected {
				disconnected = time.Since(killed)
			}
		}
		elsewhere := 0
		for _, task := range mustTasks(t, client, "keep") {
			if aws.ToString(task.LastStatus) == "RUNNING" && aws.ToString(task.ContainerInstanceArn) == b.arn {
				elsewhere++
			}
		}
		if elsewhere == 4 {
			break
		}
		if time.Since(killed) > 90*time.Second {
			t.Fatalf("replacements not running within 90s: %s", serviceState(describeService(t, client, "keep")))
		}
		time.Sleep(100 * time.Millisecond)
	}
	replaced := time.Since(killed)
	t.Logf("SIGKILL of an agent with %d service tasks: shown disconnected after %s, last replacement RUNNING after %s (grace 10s)",
		onA, disconnected.Round(100*time.Millisecond), replaced.Round(100*time.Millisecond))
	if n := runningContainers(t, rt, a.arn); n != onA {
		t.Fatalf("the killed agent's containers should still run until it returns: %d of %d", n, onA)
	}

	start := time.Now()
	startAgent(t, srv, dirA, "", "--cpu", "4096", "--memory", "4096", "--zone", "zone-a")
	for {
		stale, total := runningContainers(t, rt, a.arn), runningContainers(t, rt, a.arn)+runningContainers(t, rt, b.arn)
		if stale == 0 && total == 4 {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("30s after the agent returned: %d stale containers, %d running in all (want 0 and 4)", stale, total)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("agent back: stale copies stopped after %s", time.Since(start).Round(100*time.Millisecond))
	if s := describeService(t, client, "keep"); s.RunningCount != 4 {
		t.Fatalf("after the agent returned: %s", serviceState(s))
	}
}

func hasMessage(s types.Service, fragment string) bool {
	for _, e := range s.Events {
		if strings.Contains(aws.ToString(e.Message), fragment) {
			return true
		}
	}
	return false
}

func mustTasks(t *testing.T, client *ecs.Client, service string) []types.Task {
	t.Helper()
	tasks, err := svcTasks(client, service, types.DesiredStatusRunning)
	if err != nil {
		t.Fatal(err)
	}
	return tasks
}

// killTaskContainers kills a task's containers through the engine, as an
// operator's `docker kill` would.
func killTaskContainers(t *testing.T, rt *docker.Driver, taskArn string) {
	t.Helper()
	list, err := rt.ListContainers(context.Background(), map[string]string{runtime.LabelTask: taskArn})
	if err != nil || len(list) == 0 {
		t.Fatalf("containers of %s: %d, %v", taskArn, len(list), err)
	}
	for _, c := range list {
		if err := rt.StopContainer(context.Background(), c.ID, 0); err != nil {
			t.Fatal(err)
		}
	}
}

// runningContainers counts an instance's running containers on the engine.
func runningContainers(t *testing.T, rt *docker.Driver, instanceArn string) int {
	t.Helper()
	list, err := rt.ListContainers(context.Background(), map[string]string{runtime.LabelInstance: instanceID(instanceArn)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range list {
		if c.Running {
			n++
		}
	}
	return n
}
