package controller_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/flotta-dev/flotta/internal/runtime"
	"github.com/flotta-dev/flotta/internal/runtime/fake"
	"github.com/flotta-dev/flotta/internal/testutil/fleet"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// crashEnv marks a container that exits as soon as it starts, and
// neverHealthyEnv one whose health check never passes.
const (
	crashEnv        = "CRASH=1"
	neverHealthyEnv = "NEVER_HEALTHY=1"
)

// rig is a server with a fleet whose containers turn healthy shortly after
// they start, and exit at once when their environment says CRASH=1.
type rig struct {
	// healthDelay is how long a container with a health check takes to
	// turn healthy.
	healthDelay time.Duration
	t           *testing.T
	env         *flottatest.Env
	fleet       *fleet.Fleet
	ecs         *ecs.Client
}

func newRig(t *testing.T, opts ...flottatest.Options) *rig {
	env := flottatest.StartServer(t, opts...)
	f := fleet.New(t, env)
	r := &rig{t: t, env: env, fleet: f, ecs: env.ECS, healthDelay: 300 * time.Millisecond}
	f.OnStart = func(rt *fake.Runtime, id string, spec runtime.ContainerSpec) {
		if slices.Contains(spec.Env, crashEnv) {
			go rt.Exit(id, 1)
			return
		}
		if spec.Health != nil && !slices.Contains(spec.Env, neverHealthyEnv) {
			go func() {
				time.Sleep(r.healthDelay)
				rt.SetHealth(id, "healthy")
			}()
		}
	}
	return r
}

// family registers a revision of family; healthy adds a health check.
func (r *rig) family(family string, healthy bool, env ...string) string {
	r.t.Helper()
	c := types.ContainerDefinition{Name: aws.String("app"), Image: aws.String(fleet.Image), Memory: aws.Int32(128), Cpu: 128}
	if healthy {
		c.HealthCheck = &types.HealthCheck{Command: []string{"CMD", "true"}, Interval: aws.Int32(5)}
	}
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		c.Environment = append(c.Environment, types.KeyValuePair{Name: aws.String(k), Value: aws.String(v)})
	}
	out, err := r.ecs.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{Family: aws.String(family),
		ContainerDefinitions: []types.ContainerDefinition{c}})
	if err != nil {
		r.t.Fatal(err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

func (r *rig) service(name string) types.Service {
	r.t.Helper()
	out, err := r.ecs.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Services: []string{name}})
	if err != nil || len(out.Services) != 1 {
		r.t.Fatalf("describe service %s: %v %+v", name, err, out)
	}
	return out.Services[0]
}

// tasks describes the service's tasks with the given desired status.
func (r *rig) tasks(service string, desired types.DesiredStatus) []types.Task {
	r.t.Helper()
	ctx := context.Background()
	var arns []string
	p := ecs.NewListTasksPaginator(r.ecs, &ecs.ListTasksInput{ServiceName: aws.String(service), DesiredStatus: desired})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			r.t.Fatal(err)
		}
		arns = append(arns, page.TaskArns...)
	}
	var out []types.Task
	for len(arns) > 0 {
		n := min(100, len(arns))
		d, err := r.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: arns[:n]})
		if err != nil {
			r.t.Fatal(err)
		}
		out = append(out, d.Tasks...)
		arns = arns[n:]
	}
	return out
}

// eventually polls cond until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s; last seen: %s", what, timeout, last)
}

// steady waits until the service runs want tasks of taskDef and its only
// deployment is COMPLETED.
func (r *rig) steady(name, taskDef string, want int, timeout time.Duration) types.Service {
	r.t.Helper()
	var svc types.Service
	eventually(r.t, timeout, "service "+name+" steady", func() (bool, string) {
		svc = r.service(name)
		ok := svc.RunningCount == int32(want) && svc.PendingCount == 0 && len(svc.Deployments) == 1 &&
			aws.ToString(svc.Deployments[0].TaskDefinition) == taskDef && svc.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted
		return ok, describe(svc)
	})
	return svc
}

func describe(s types.Service) string {
	var b strings.Builder
	fmt.Fprintf(&b, "running=%d pending=%d desired=%d", s.RunningCount, s.PendingCount, s.DesiredCount)
	for _, d := range s.Deployments {
		fmt.Fprintf(&b, " [%s %s %s desired=%d running=%d pending=%d failed=%d]", aws.ToString(d.Status), aws.ToString(d.TaskDefinition),
			d.RolloutState, d.DesiredCount, d.RunningCount, d.PendingCount, d.FailedTasks)
	}
	if len(s.Events) > 0 {
		fmt.Fprintf(&b, " last event: %s", aws.ToString(s.Events[0].Message))
	}
	return b.String()
}

func hasEvent(s types.Service, fragment string) bool {
	for _, e := range s.Events {
		if strings.Contains(aws.ToString(e.Message), fragment) {
			return true
		}
	}
	return false
}

func wantCode(t *testing.T, err error, code, fragment string) {
	t.Helper()
	var apiErr smithy.APIError
	if err == nil || !errors.As(err, &apiErr) || apiErr.ErrorCode() != code || !strings.Contains(apiErr.ErrorMessage(), fragment) {
		t.Fatalf("want %s mentioning %q, got %v", code, fragment, err)
	}
}

func TestServiceKeepsDesiredCount(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.fleet.Add(3, fleet.Spec{CPU: 2048, Memory: 2048}, func(i int) string { return fmt.Sprintf("zone-%d", i) })
	v1 := r.family("web", false)
	out, err := r.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web"),
		DesiredCount: aws.Int32(4), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Service.SchedulingStrategy != types.SchedulingStrategyReplica || aws.ToInt32(out.Service.DeploymentConfiguration.MaximumPercent) != 200 ||
		aws.ToInt32(out.Service.DeploymentConfiguration.MinimumHealthyPercent) != 100 || len(out.Service.PlacementStrategy) != 2 {
		t.Fatalf("defaults: %+v", out.Service)
	}
	svc := r.steady("web", v1, 4, 30*time.Second)
	if !hasEvent(svc, "(service web) has reached a steady state.") || !hasEvent(svc, "(service web) has started 4 tasks:") {
		t.Fatalf("events: %s", describe(svc))
	}
	// The default strategy spreads over zones: 3 zones, 4 tasks.
	perZone := map[string]int{}
	for _, task := range r.tasks("web", types.DesiredStatusRunning) {
		perZone[aws.ToString(task.AvailabilityZone)]++
		if aws.ToString(task.Group) != "service:web" || aws.ToString(task.StartedBy) == "" {
			t.Fatalf("service task group %q startedBy %q", aws.ToString(task.Group), aws.ToString(task.StartedBy))
		}
	}
	if len(perZone) != 3 {
		t.Fatalf("tasks per zone: %v", perZone)
	}

	// A container that dies behind Flotta's back is replaced.
	victim := r.tasks("web", types.DesiredStatusRunning)[0]
	var m *fleet.Member
	for _, x := range r.fleet.Members() {
		if x.ARN() == aws.ToString(victim.ContainerInstanceArn) {
			m = x
		}
	}
	list, _ := m.Runtime.ListContainers(ctx, map[string]string{runtime.LabelTask: aws.ToString(victim.TaskArn)})
	if len(list) != 1 {
		t.Fatalf("containers of the victim: %d", len(list))
	}
	m.Runtime.Exit(list[0].ID, 137)
	eventually(t, 30*time.Second, "replacement", func() (bool, string) {
		running := r.tasks("web", types.DesiredStatusRunning)
		live := 0
		for _, task := range running {
			if aws.ToString(task.TaskArn) == aws.ToString(victim.TaskArn) {
				return false, "the dead task is still desired RUNNING"
			}
			if aws.ToString(task.LastStatus) == "RUNNING" {
				live++
			}
		}
		return live == 4, fmt.Sprintf("%d running", live)
	})
	svc = r.service("web")
	if !hasEvent(svc, "has started 1 tasks:") {
		t.Fatalf("no event for the replacement: %s", describe(svc))
	}

	// Scale down to 1, then delete: DRAINING, then INACTIVE.
	if _, err := r.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Service: aws.String("web")}); err == nil {
		t.Fatal("deleted a service scaled above 0 without force")
	}
	if _, err := r.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	r.steady("web", v1, 1, 30*time.Second)
	del, err := r.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Service: aws.String("web"), Force: aws.Bool(true)})
	if err != nil || aws.ToString(del.Service.Status) != "DRAINING" {
		t.Fatalf("delete: %v %+v", err, del)
	}
	eventually(t, 30*time.Second, "service INACTIVE", func() (bool, string) {
		s := r.service("web")
		return aws.ToString(s.Status) == "INACTIVE", describe(s)
	})
	if n := len(r.tasks("web", types.DesiredStatusRunning)); n != 0 {
		t.Fatalf("%d tasks still desired RUNNING after delete", n)
	}
	// The name is free again.
	if _, err := r.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatalf("re-create after delete: %v", err)
	}
}

// sampler watches a service's tasks through the API and records the worst
// moments of a rollout.
type sampler struct {
	minHealthy, maxLive int
	samples             int
	stop                chan struct{}
	done                sync.WaitGroup
}

func (r *rig) sample(service string, every time.Duration) *sampler {
	s := &sampler{minHealthy: 1 << 30, stop: make(chan struct{})}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		for {
			select {
			case <-s.stop:
				return
			case <-time.After(every):
			}
			healthy, live := 0, 0
			for _, t := range r.tasksQuiet(service) {
				if aws.ToString(t.LastStatus) == "STOPPED" {
					continue
				}
				live++
				if aws.ToString(t.LastStatus) == "RUNNING" && t.HealthStatus == types.HealthStatusHealthy && aws.ToString(t.DesiredStatus) == "RUNNING" {
					healthy++
				}
			}
			s.minHealthy, s.maxLive = min(s.minHealthy, healthy), max(s.maxLive, live)
			s.samples++
		}
	}()
	return s
}

func (s *sampler) finish() {
	close(s.stop)
	s.done.Wait()
}

// tasksQuiet lists every task of a service that is not yet STOPPED (desired
// RUNNING, or desired STOPPED and still stopping), from a goroutine.
func (r *rig) tasksQuiet(service string) []types.Task {
	ctx := context.Background()
	var arns []string
	for _, desired := range []types.DesiredStatus{types.DesiredStatusRunning, types.DesiredStatusStopped} {
		p := ecs.NewListTasksPaginator(r.ecs, &ecs.ListTasksInput{ServiceName: aws.String(service), DesiredStatus: desired})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil
			}
			arns = append(arns, page.TaskArns...)
		}
	}
	var out []types.Task
	for len(arns) > 0 {
		n := min(100, len(arns))
		d, err := r.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: arns[:n]})
		if err != nil {
			return nil
		}
		out = append(out, d.Tasks...)
		arns = arns[n:]
	}
	return out
}

func TestRollingUpdateAndCircuitBreaker(t *testing.T) {
	r := newRig(t)
	r.healthDelay = 1500 * time.Millisecond // a rollout of several sampled steps
	ctx := context.Background()
	r.fleet.Add(4, fleet.Spec{CPU: 2048, Memory: 2048}, func(i int) string { return fmt.Sprintf("zone-%d", i%2) })
	v1 := r.family("api", true)
	v2 := r.family("api", true)
	v3 := r.family("api", true, crashEnv)
	_, err := r.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("api"), TaskDefinition: aws.String(v1), DesiredCount: aws.Int32(4),
		DeploymentConfiguration: &types.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(50), MaximumPercent: aws.Int32(200),
			DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}}})
	if err != nil {
		t.Fatal(err)
	}
	r.steady("api", v1, 4, 30*time.Second)

	// v1 -> v2: never fewer than 2 healthy, never more than 8 tasks.
	s := r.sample("api", 200*time.Millisecond)
	if _, err := r.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("api"), TaskDefinition: aws.String(v2)}); err != nil {
		t.Fatal(err)
	}
	r.steady("api", v2, 4, 60*time.Second)
	s.finish()
	t.Logf("v1->v2: %d samples, fewest healthy %d, most tasks %d", s.samples, s.minHealthy, s.maxLive)
	if s.samples < 3 || s.minHealthy < 2 || s.maxLive > 8 {
		t.Fatalf("rollout broke its limits: %d samples, fewest healthy %d (min 2), most tasks %d (max 8)", s.samples, s.minHealthy, s.maxLive)
	}
	for _, task := range r.tasks("api", types.DesiredStatusRunning) {
		if aws.ToString(task.TaskDefinitionArn) != v2 {
			t.Fatalf("task of %s after the rollout to v2", aws.ToString(task.TaskDefinitionArn))
		}
	}

	// v3 crashes at once: the circuit breaker trips after 3 failed tasks and
	// the service rolls back to v2.
	up, err := r.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("api"), TaskDefinition: aws.String(v3)})
	if err != nil {
		t.Fatal(err)
	}
	if len(up.Service.Deployments) != 2 || up.Service.Deployments[0].RolloutState != types.DeploymentRolloutStateInProgress {
		t.Fatalf("deployments after update: %s", describe(*up.Service))
	}
	svc := r.steady("api", v2, 4, 60*time.Second)
	if !hasEvent(svc, "deployment failed: tasks failed to start") || !hasEvent(svc, "is rolling back to "+v2) {
		t.Fatalf("events: %s", describe(svc))
	}
	list, err := r.ecs.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Service: aws.String("api")})
	if err != nil || len(list.ServiceDeployments) != 3 {
		t.Fatalf("service deployments: %v %+v", err, list)
	}
	last := list.ServiceDeployments[0]
	if last.Status != types.ServiceDeploymentStatusRollbackSuccessful {
		t.Fatalf("newest service deployment: %s (%s)", last.Status, aws.ToString(last.StatusReason))
	}
	desc, err := r.ecs.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(last.ServiceDeploymentArn)}})
	if err != nil || len(desc.ServiceDeployments) != 1 {
		t.Fatalf("describe service deployment: %v %+v", err, desc)
	}
	sd := desc.ServiceDeployments[0]
	if sd.Rollback == nil || sd.DeploymentCircuitBreaker == nil || sd.DeploymentCircuitBreaker.Status != types.ServiceDeploymentRollbackMonitorsStatusTriggered ||
		sd.DeploymentCircuitBreaker.Threshold != 3 {
		t.Fatalf("rollback details: %+v %+v", sd.Rollback, sd.DeploymentCircuitBreaker)
	}
	revs, err := r.ecs.DescribeServiceRevisions(ctx, &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: []string{aws.ToString(sd.TargetServiceRevision.Arn)}})
	if err != nil || len(revs.ServiceRevisions) != 1 || aws.ToString(revs.ServiceRevisions[0].TaskDefinition) != v3 {
		t.Fatalf("target revision: %v %+v", err, revs)
	}
	for _, task := range r.tasks("api", types.DesiredStatusRunning) {
		if aws.ToString(task.TaskDefinitionArn) != v2 {
			t.Fatalf("task of %s after the rollback", aws.ToString(task.TaskDefinitionArn))
		}
	}
}

func TestDaemonFollowsInstances(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.fleet.Add(2, fleet.Spec{CPU: 1024, Memory: 1024}, nil)
	def := r.family("agentd", false)
	if _, err := r.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("agentd"), TaskDefinition: aws.String("agentd"),
		SchedulingStrategy: types.SchedulingStrategyDaemon}); err != nil {
		t.Fatal(err)
	}
	perInstance := func(want int) {
		t.Helper()
		// 60 s: on a loaded CI machine (2026-12-08) the third instance's
		// task took longer than 30 s once; alone it takes about 2 s.
		eventually(t, 60*time.Second, fmt.Sprintf("%d daemon tasks", want), func() (bool, string) {
			seen := map[string]int{}
			for _, task := range r.tasks("agentd", types.DesiredStatusRunning) {
				if aws.ToString(task.LastStatus) == "RUNNING" {
					seen[aws.ToString(task.ContainerInstanceArn)]++
				}
			}
			for _, m := range r.fleet.Members() {
				if seen[m.ARN()] != 1 {
					return false, fmt.Sprintf("%v", seen)
				}
			}
			return len(seen) == want, fmt.Sprintf("%v", seen)
		})
	}
	perInstance(2)
	r.fleet.Add(1, fleet.Spec{CPU: 1024, Memory: 1024}, nil)
	perInstance(3)
	if s := r.steady("agentd", def, 3, 30*time.Second); s.DesiredCount != 3 {
		t.Fatalf("daemon desired count %d", s.DesiredCount)
	}
	// Deregistering an instance takes its daemon task away.
	first := r.fleet.Members()[0]
	if _, err := r.ecs.DeregisterContainerInstance(ctx, &ecs.DeregisterContainerInstanceInput{ContainerInstance: aws.String(first.ARN()), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "daemon down to 2", func() (bool, string) {
		s := r.service("agentd")
		return s.DesiredCount == 2 && s.RunningCount == 2, describe(s)
	})
}

func TestLostInstanceTasksAreReplaced(t *testing.T) {
	r := newRig(t, flottatest.Options{LostInstanceGrace: time.Second})
	ctx := context.Background()
	members := r.fleet.Add(3, fleet.Spec{CPU: 2048, Memory: 2048}, nil)
	def := r.family("svc", false)
	if _, err := r.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("svc"), TaskDefinition: aws.String(def), DesiredCount: aws.Int32(6)}); err != nil {
		t.Fatal(err)
	}
	r.steady("svc", def, 6, 30*time.Second)
	victim := members[0]
	if victim.Running() == 0 {
		t.Fatal("the spread left the first instance empty")
	}
	onVictim := victim.Running()
	killed := time.Now()
	victim.Stop() // its containers keep running, as after a SIGKILL of the agent

	eventually(t, 20*time.Second, "instance shown disconnected", func() (bool, string) {
		d, err := r.ecs.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{ContainerInstances: []string{victim.ARN()}})
		if err != nil || len(d.ContainerInstances) != 1 {
			return false, fmt.Sprint(err)
		}
		return !d.ContainerInstances[0].AgentConnected, "agentConnected true"
	})
	eventually(t, 30*time.Second, "replacements running elsewhere", func() (bool, string) {
		n := 0
		for _, task := range r.tasks("svc", types.DesiredStatusRunning) {
			if aws.ToString(task.LastStatus) == "RUNNING" && aws.ToString(task.ContainerInstanceArn) != victim.ARN() {
				n++
			}
		}
		return n == 6, fmt.Sprintf("%d running elsewhere", n)
	})
	t.Logf("%d tasks replaced %s after the agent stopped (grace 1s)", onVictim, time.Since(killed).Round(10*time.Millisecond))
	stopped := r.tasks("svc", types.DesiredStatusStopped)
	lost := 0
	for _, task := range stopped {
		if strings.Contains(aws.ToString(task.StoppedReason), "agent of its container instance has been disconnected") {
			lost++
		}
	}
	if lost != onVictim {
		t.Fatalf("%d tasks recorded as stopped for the lost agent, want %d", lost, onVictim)
	}
	if victim.Running() != onVictim {
		t.Fatalf("the stale copies should still run while the agent is away")
	}
	// The agent returns: it stops the copies nobody wants any more.
	victim.Start()
	eventually(t, 30*time.Second, "stale copies stopped", func() (bool, string) {
		total := 0
		for _, m := range r.fleet.Members() {
			total += m.Running()
		}
		return victim.Running() == 0 && total == 6, fmt.Sprintf("victim runs %d, fleet %d", victim.Running(), total)
	})
	if s := r.service("svc"); s.RunningCount != 6 {
		t.Fatalf("after the agent returned: %s", describe(s))
	}
}

func TestDrainMovesTasksWithinLimits(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	members := r.fleet.Add(3, fleet.Spec{CPU: 2048, Memory: 2048}, nil)
	def := r.family("drain", true)
	if _, err := r.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("drain"), TaskDefinition: aws.String(def), DesiredCount: aws.Int32(6),
		DeploymentConfiguration: &types.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(50), MaximumPercent: aws.Int32(100)}}); err != nil {
		t.Fatal(err)
	}
	r.steady("drain", def, 6, 30*time.Second)
	s := r.sample("drain", 100*time.Millisecond)
	if _, err := r.ecs.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{ContainerInstances: []string{members[0].ARN()},
		Status: types.ContainerInstanceStatusDraining}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "drained", func() (bool, string) {
		n := 0
		for _, task := range r.tasks("drain", types.DesiredStatusRunning) {
			if aws.ToString(task.LastStatus) == "RUNNING" && task.HealthStatus == types.HealthStatusHealthy && aws.ToString(task.ContainerInstanceArn) != members[0].ARN() {
				n++
			}
		}
		return members[0].Running() == 0 && n == 6, fmt.Sprintf("%d on the draining instance, %d healthy elsewhere", members[0].Running(), n)
	})
	s.finish()
	t.Logf("drain: %d samples, fewest healthy %d, most tasks %d", s.samples, s.minHealthy, s.maxLive)
	if s.minHealthy < 3 || s.maxLive > 6 {
		t.Fatalf("drain broke the limits: fewest healthy %d (min 3), most tasks %d (max 6)", s.minHealthy, s.maxLive)
	}
}

func TestProtectedTasksSurviveScaleIn(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.fleet.Add(2, fleet.Spec{CPU: 2048, Memory: 2048}, nil)
	def := r.family("prot", false)
	if _, err := r.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("prot"), TaskDefinition: aws.String(def), DesiredCount: aws.Int32(4)}); err != nil {
		t.Fatal(err)
	}
	r.steady("prot", def, 4, 30*time.Second)
	tasks := r.tasks("prot", types.DesiredStatusRunning)
	keep := []string{aws.ToString(tasks[0].TaskArn), aws.ToString(tasks[1].TaskArn)}
	p, err := r.ecs.UpdateTaskProtection(ctx, &ecs.UpdateTaskProtectionInput{Cluster: aws.String("default"), Tasks: keep, ProtectionEnabled: true, ExpiresInMinutes: aws.Int32(60)})
	if err != nil || len(p.ProtectedTasks) != 2 || !p.ProtectedTasks[0].ProtectionEnabled {
		t.Fatalf("protect: %v %+v", err, p)
	}
	g, err := r.ecs.GetTaskProtection(ctx, &ecs.GetTaskProtectionInput{Cluster: aws.String("default"), Tasks: append(keep, "0123456789abcdef0123456789abcdef")})
	if err != nil || len(g.ProtectedTasks) != 2 || len(g.Failures) != 1 || g.ProtectedTasks[0].ExpirationDate == nil {
		t.Fatalf("get protection: %v %+v", err, g)
	}
	_, err = r.ecs.UpdateTaskProtection(ctx, &ecs.UpdateTaskProtectionInput{Cluster: aws.String("default"), Tasks: keep, ProtectionEnabled: true, ExpiresInMinutes: aws.Int32(3000)})
	wantCode(t, err, "InvalidParameterException", "expiresInMinutes")
	if _, err := r.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("prot"), DesiredCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	r.steady("prot", def, 2, 30*time.Second)
	var left []string
	for _, task := range r.tasks("prot", types.DesiredStatusRunning) {
		left = append(left, aws.ToString(task.TaskArn))
	}
	slices.Sort(left)
	slices.Sort(keep)
	if !slices.Equal(left, keep) {
		t.Fatalf("scale-in stopped a protected task: kept %v, protected %v", left, keep)
	}
}

func TestServiceBadInputChangesNothing(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.fleet.Add(1, fleet.Spec{CPU: 1024, Memory: 1024}, nil)
	ok := r.family("ok", false)
	if _, err := r.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("taken"), TaskDefinition: aws.String("ok"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	r.steady("taken", ok, 1, 30*time.Second)
	before := r.env.Revision(t)
	create := func(edit func(*ecs.CreateServiceInput)) error {
		in := &ecs.CreateServiceInput{ServiceName: aws.String("new"), TaskDefinition: aws.String("ok"), DesiredCount: aws.Int32(1)}
		edit(in)
		_, err := r.ecs.CreateService(ctx, in)
		return err
	}
	wantCode(t, create(func(in *ecs.CreateServiceInput) { in.TaskDefinition = aws.String("ghost") }), "ClientException", "TaskDefinition not found.")
	wantCode(t, create(func(in *ecs.CreateServiceInput) { in.DesiredCount = aws.Int32(-1) }), "InvalidParameterException", "desiredCount")
	wantCode(t, create(func(in *ecs.CreateServiceInput) {
		in.DeploymentConfiguration = &types.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(100), MaximumPercent: aws.Int32(100)}
	}), "InvalidParameterException", "maximumPercent")
	wantCode(t, create(func(in *ecs.CreateServiceInput) {
		in.DeploymentConfiguration = &types.DeploymentConfiguration{MaximumPercent: aws.Int32(50)}
	}), "InvalidParameterException", "maximumPercent")
	wantCode(t, create(func(in *ecs.CreateServiceInput) { in.SchedulingStrategy = types.SchedulingStrategyDaemon }),
		"InvalidParameterException", "The daemon scheduling strategy does not support a desired count for services.")
	wantCode(t, create(func(in *ecs.CreateServiceInput) { in.ServiceName = aws.String("taken"); in.DesiredCount = aws.Int32(3) }),
		"InvalidParameterException", "Creation of service was not idempotent.")
	wantCode(t, create(func(in *ecs.CreateServiceInput) { in.Cluster = aws.String("nope") }), "ClusterNotFoundException", "Cluster not found.")
	wantCode(t, create(func(in *ecs.CreateServiceInput) { in.ServiceName = aws.String("bad name!") }), "InvalidParameterException", "bad name!")
	_, err := r.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Service: aws.String("taken")})
	wantCode(t, err, "InvalidParameterException", "The service cannot be stopped while it is scaled above 0.")
	_, err = r.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("ghost"), DesiredCount: aws.Int32(1)})
	wantCode(t, err, "ServiceNotFoundException", "Service not found.")
	_, err = r.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("taken"), DesiredCount: aws.Int32(-5)})
	wantCode(t, err, "InvalidParameterException", "desiredCount")
	if after := r.env.Revision(t); after != before {
		t.Fatalf("refused requests changed the store (%d -> %d)", before, after)
	}
	// The same request again is an idempotent retry, not a clash.
	again, err := r.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("taken"), TaskDefinition: aws.String("ok"), DesiredCount: aws.Int32(1)})
	if err != nil || aws.ToString(again.Service.ServiceName) != "taken" {
		t.Fatalf("retried CreateService: %v", err)
	}
}

func TestStopServiceDeployment(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.fleet.Add(2, fleet.Spec{CPU: 4096, Memory: 4096}, nil)
	v1 := r.family("stuck", false)
	v2 := r.family("stuck", true, neverHealthyEnv) // its rollout never finishes
	if _, err := r.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("stuck"), TaskDefinition: aws.String(v1), DesiredCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	r.steady("stuck", v1, 2, 30*time.Second)
	newest := func() types.ServiceDeploymentBrief {
		t.Helper()
		out, err := r.ecs.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Service: aws.String("stuck")})
		if err != nil || len(out.ServiceDeployments) == 0 {
			t.Fatalf("list service deployments: %v", err)
		}
		return out.ServiceDeployments[0]
	}
	// A completed deployment cannot be stopped; a bad stop type is refused.
	_, err := r.ecs.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: newest().ServiceDeploymentArn})
	wantCode(t, err, "ConflictException", "only a deployment in progress can be stopped")
	_, err = r.ecs.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: newest().ServiceDeploymentArn, StopType: "PAUSE"})
	wantCode(t, err, "InvalidParameterException", "stopType")

	// ROLLBACK: back to v1.
	if _, err := r.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("stuck"), TaskDefinition: aws.String(v2)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "v2 tasks running", func() (bool, string) {
		s := r.service("stuck")
		return len(s.Deployments) == 2 && s.Deployments[0].RunningCount == 2, describe(s)
	})
	sd := newest()
	if sd.Status != types.ServiceDeploymentStatusInProgress {
		t.Fatalf("the rollout to v2 is %s", sd.Status)
	}
	if _, err := r.ecs.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: sd.ServiceDeploymentArn,
		StopType: types.StopServiceDeploymentStopTypeRollback}); err != nil {
		t.Fatal(err)
	}
	r.steady("stuck", v1, 2, 30*time.Second)
	if got := newest(); aws.ToString(got.ServiceDeploymentArn) != aws.ToString(sd.ServiceDeploymentArn) || got.Status != types.ServiceDeploymentStatusRollbackSuccessful {
		t.Fatalf("after the rollback the newest service deployment is %s (%s)", got.Status, aws.ToString(got.ServiceDeploymentArn))
	}

	// ABORT: the deployment stops where it stands, and nothing more starts.
	if _, err := r.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("stuck"), TaskDefinition: aws.String(v2)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "v2 tasks running", func() (bool, string) {
		s := r.service("stuck")
		return len(s.Deployments) == 2 && s.Deployments[0].RunningCount == 2, describe(s)
	})
	sd = newest()
	if _, err := r.ecs.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: sd.ServiceDeploymentArn,
		StopType: types.StopServiceDeploymentStopTypeAbort}); err != nil {
		t.Fatal(err)
	}
	if got := newest(); got.Status != types.ServiceDeploymentStatusStopped {
		t.Fatalf("after ABORT the service deployment is %s", got.Status)
	}
	before := len(r.tasks("stuck", types.DesiredStatusRunning))
	time.Sleep(3 * time.Second) // more than a resync
	s := r.service("stuck")
	if after := len(r.tasks("stuck", types.DesiredStatusRunning)); after != before || s.Deployments[0].RolloutState != types.DeploymentRolloutStateFailed {
		t.Fatalf("after ABORT: %d tasks before, %d after; %s", before, after, describe(s))
	}
}

func TestForceNewDeploymentAndPropagatedTags(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.fleet.Add(2, fleet.Spec{CPU: 4096, Memory: 4096}, nil)
	def := r.family("tagged", false)
	if _, err := r.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("tagged"), TaskDefinition: aws.String(def), DesiredCount: aws.Int32(2),
		PropagateTags: types.PropagateTagsService, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}); err != nil {
		t.Fatal(err)
	}
	r.steady("tagged", def, 2, 30*time.Second)
	first := map[string]bool{}
	for _, task := range r.tasks("tagged", types.DesiredStatusRunning) {
		first[aws.ToString(task.TaskArn)] = true
		d, err := r.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{aws.ToString(task.TaskArn)}, Include: []types.TaskField{types.TaskFieldTags}})
		if err != nil || len(d.Tasks) != 1 || len(d.Tasks[0].Tags) != 1 || aws.ToString(d.Tasks[0].Tags[0].Value) != "blue" {
			t.Fatalf("the service's tags did not reach its task: %v %+v", err, d)
		}
	}
	// propagateTags TASK_DEFINITION and ECS managed tags.
	td, err := r.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("managed"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(fleet.Image), Memory: aws.Int32(64)}},
		Tags:                 []types.Tag{{Key: aws.String("owner"), Value: aws.String("td")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("managed"), TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
		DesiredCount: aws.Int32(1), PropagateTags: types.PropagateTagsTaskDefinition, EnableECSManagedTags: true}); err != nil {
		t.Fatal(err)
	}
	r.steady("managed", aws.ToString(td.TaskDefinition.TaskDefinitionArn), 1, 30*time.Second)
	mt := r.tasks("managed", types.DesiredStatusRunning)
	d, err := r.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{aws.ToString(mt[0].TaskArn)}, Include: []types.TaskField{types.TaskFieldTags}})
	if err != nil || len(d.Tasks) != 1 {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tag := range d.Tasks[0].Tags {
		got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	if got["owner"] != "td" || got["aws:ecs:serviceName"] != "managed" || got["aws:ecs:clusterName"] != "default" || len(got) != 3 {
		t.Fatalf("task tags %v", got)
	}

	// forceNewDeployment replaces every task with a fresh copy of the same revision.
	if _, err := r.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("tagged"), ForceNewDeployment: true}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "fresh copies", func() (bool, string) {
		s := r.service("tagged")
		tasks := r.tasks("tagged", types.DesiredStatusRunning)
		for _, task := range tasks {
			if first[aws.ToString(task.TaskArn)] {
				return false, "an old task is still desired RUNNING; " + describe(s)
			}
		}
		return len(tasks) == 2 && len(s.Deployments) == 1 && s.RunningCount == 2, describe(s)
	})
}

func TestReaperRemovesOldStoppedTasks(t *testing.T) {
	r := newRig(t, flottatest.Options{StoppedTaskRetention: 2 * time.Second})
	ctx := context.Background()
	r.fleet.Add(1, fleet.Spec{CPU: 1024, Memory: 1024}, nil)
	def := r.family("short", false)
	out, err := r.ecs.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String(def)})
	if err != nil || len(out.Tasks) != 1 {
		t.Fatalf("run: %v %+v", err, out)
	}
	arn := aws.ToString(out.Tasks[0].TaskArn)
	if _, err := r.ecs.StopTask(ctx, &ecs.StopTaskInput{Task: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	var stoppedAt time.Time
	eventually(t, 20*time.Second, "task STOPPED", func() (bool, string) {
		d, err := r.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{arn}})
		if err != nil || len(d.Tasks) != 1 {
			return false, fmt.Sprint(err)
		}
		if d.Tasks[0].StoppedAt != nil {
			stoppedAt = *d.Tasks[0].StoppedAt
		}
		return aws.ToString(d.Tasks[0].LastStatus) == "STOPPED", aws.ToString(d.Tasks[0].LastStatus)
	})
	eventually(t, 20*time.Second, "task reaped", func() (bool, string) {
		d, err := r.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{arn}})
		if err != nil {
			return false, err.Error()
		}
		return len(d.Tasks) == 0 && len(d.Failures) == 1 && aws.ToString(d.Failures[0].Reason) == "MISSING", "still describable"
	})
	if kept := time.Since(stoppedAt); kept < 2*time.Second {
		t.Fatalf("reaped %s after it stopped, before the 2s retention", kept)
	}
}

func TestUnhealthyTaskIsReplaced(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.fleet.Add(2, fleet.Spec{CPU: 4096, Memory: 4096}, nil)
	def := r.family("checked", true)
	if _, err := r.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("checked"), TaskDefinition: aws.String(def), DesiredCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	r.steady("checked", def, 2, 30*time.Second)
	sick := r.tasks("checked", types.DesiredStatusRunning)[0]
	for _, m := range r.fleet.Members() {
		list, _ := m.Runtime.ListContainers(ctx, map[string]string{runtime.LabelTask: aws.ToString(sick.TaskArn)})
		for _, c := range list {
			m.Runtime.SetHealth(c.ID, "unhealthy")
		}
	}
	eventually(t, 30*time.Second, "the unhealthy task replaced", func() (bool, string) {
		d, err := r.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{aws.ToString(sick.TaskArn)}})
		if err != nil || len(d.Tasks) != 1 {
			return false, fmt.Sprint(err)
		}
		healthy := 0
		for _, task := range r.tasks("checked", types.DesiredStatusRunning) {
			if task.HealthStatus == types.HealthStatusHealthy {
				healthy++
			}
		}
		return aws.ToString(d.Tasks[0].DesiredStatus) == "STOPPED" && healthy == 2,
			fmt.Sprintf("sick task desired %s (%s); %d healthy", aws.ToString(d.Tasks[0].DesiredStatus), aws.ToString(d.Tasks[0].StoppedReason), healthy)
	})
	d, _ := r.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{aws.ToString(sick.TaskArn)}})
	if !strings.Contains(aws.ToString(d.Tasks[0].StoppedReason), "Task failed container health checks") {
		t.Fatalf("stopped reason %q", aws.ToString(d.Tasks[0].StoppedReason))
	}
	if s := r.service("checked"); s.Deployments[0].FailedTasks != 1 {
		t.Fatalf("the unhealthy task is not counted as failed: %s", describe(s))
	}
}
