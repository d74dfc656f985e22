package controller_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/state"
	"github.com/flotta-dev/flotta/internal/testutil/fleet"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// invariants follows every change to the services' tasks in the store, so
// that each state the cluster passes through is checked, not a sample.
type invariants struct {
	mu         sync.Mutex
	tasks      map[string]map[string]state.TaskSummary // service -> task id -> summary
	minHealthy map[string]int
	maxLive    map[string]int
	changes    int
	cancel     context.CancelFunc
	done       chan struct{}
}

func watchInvariants(t testing.TB, env *flottatest.Env) *invariants {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st := env.Server.State()
	w := &invariants{tasks: map[string]map[string]state.TaskSummary{}, minHealthy: map[string]int{}, maxLive: map[string]int{},
		cancel: cancel, done: make(chan struct{})}
	// The starting point: every summary as of rev, then every change after.
	all, rev, err := st.AllServiceTasks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range all {
		w.apply(t, ch)
	}
	for svc := range w.tasks {
		w.measure(svc)
	}
	changes, errc := st.WatchServiceTasks(ctx, rev)
	go func() {
		defer close(w.done)
		for {
			select {
			case batch, ok := <-changes:
				if !ok {
					if ctx.Err() == nil {
						t.Errorf("invariant watch ended: %v", <-errc)
					}
					return
				}
				w.mu.Lock()
				for _, ch := range batch {
					w.apply(t, ch)
					w.changes++
					w.measure(ch.Cluster + "/" + ch.Service)
				}
				w.mu.Unlock()
			case err := <-errc:
				if ctx.Err() == nil {
					t.Errorf("invariant watch: %v", err)
				}
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return w
}

// apply records one summary change (w.mu held, or before the watch starts).
func (w *invariants) apply(t testing.TB, ch state.ServiceTaskChange) {
	svc := ch.Cluster + "/" + ch.Service
	s, err := ch.Summary()
	if err != nil {
		t.Errorf("summary of %s: %v", ch.TaskID, err)
		return
	}
	if s == nil {
		delete(w.tasks[svc], ch.TaskID)
		return
	}
	if w.tasks[svc] == nil {
		w.tasks[svc] = map[string]state.TaskSummary{}
	}
	w.tasks[svc][ch.TaskID] = *s
}

// measure records a service's healthy and live task counts (w.mu held).
func (w *invariants) measure(svc string) {
	healthy, live := 0, 0
	for _, s := range w.tasks[svc] {
		if s.LastStatus == "STOPPED" {
			continue
		}
		live++
		if s.LastStatus == "RUNNING" && s.DesiredStatus == "RUNNING" && (!s.HasCheck || s.Health == "HEALTHY") {
			healthy++
		}
	}
	if m, ok := w.minHealthy[svc]; !ok || healthy < m {
		w.minHealthy[svc] = healthy
	}
	w.maxLive[svc] = max(w.maxLive[svc], live)
}

func (w *invariants) stop() {
	w.cancel()
	<-w.done
}

// rollAll runs services of tasks each on instances, rolls them all to a new
// revision at once, and checks minimumHealthyPercent 100 / maximumPercent
// 200 at every change of every service.
func rollAll(t testing.TB, instances, services, tasks int) (settle, roll time.Duration) {
	env := flottatest.StartServer(t)
	ctx := context.Background()
	f := fleet.New(t, env)
	f.Add(instances, fleet.Spec{CPU: 8192, Memory: 8192}, func(i int) string { return fmt.Sprintf("zone-%d", i%3) })
	register := func() string {
		out, err := env.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("scale"),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(fleet.Image), Memory: aws.Int32(64), Cpu: 32}}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	}
	v1, v2 := register(), register()
	names := make([]string, services)
	start := time.Now()
	for i := range names {
		names[i] = fmt.Sprintf("svc-%02d", i)
		if _, err := env.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String(names[i]), TaskDefinition: aws.String(v1),
			DesiredCount: aws.Int32(int32(tasks))}); err != nil {
			t.Fatal(err)
		}
	}
	allSteady(t, env.ECS, names, v1, tasks)
	settle = time.Since(start)

	w := watchInvariants(t, env)
	start = time.Now()
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := env.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String(name), TaskDefinition: aws.String(v2)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	allSteady(t, env.ECS, names, v2, tasks)
	roll = time.Since(start)
	w.stop()

	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.maxLive) != services || w.changes < 2*services*tasks {
		t.Fatalf("followed %d services (want %d) through %d task changes (want at least %d)", len(w.maxLive), services, w.changes, 2*services*tasks)
	}
	for svc, live := range w.maxLive {
		if h := w.minHealthy[svc]; h < tasks || live > 2*tasks {
			t.Errorf("%s: fewest healthy %d (minimum %d), most tasks %d (maximum %d)", svc, h, tasks, live, 2*tasks)
		}
	}
	t.Logf("%d instances, %d services x %d tasks: created and steady in %s; rolled to a new revision in %s; %d task changes checked",
		instances, services, tasks, settle.Round(10*time.Millisecond), roll.Round(10*time.Millisecond), w.changes)
	return settle, roll
}

// allSteady waits until every service runs tasks tasks of def, and only those.
func allSteady(t testing.TB, client *ecs.Client, names []string, def string, tasks int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	last := ""
	for time.Now().Before(deadline) {
		done := 0
		for i := 0; i < len(names); i += 10 {
			out, err := client.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Services: names[i:min(i+10, len(names))]})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range out.Services {
				if s.RunningCount == int32(tasks) && s.PendingCount == 0 && len(s.Deployments) == 1 &&
					aws.ToString(s.Deployments[0].TaskDefinition) == def && s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted {
					done++
				} else {
					last = aws.ToString(s.ServiceName) + ": " + describe(s)
				}
			}
		}
		if done == len(names) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("services not steady on %s within 5m; e.g. %s", def, last)
}

// TestRollAllServices rolls every service of a small fleet at once.
func TestRollAllServices(t *testing.T) {
	rollAll(t, 20, 5, 8)
}

// BenchmarkRollAllServices is the figure: 200 instances, 50 services
// of 40 tasks, all rolled to a new revision at once.
//
//	go test ./internal/controller -run '^$' -bench RollAllServices -benchtime 1x
func BenchmarkRollAllServices(b *testing.B) {
	for i := 0; i < b.N; i++ {
		settle, roll := rollAll(b, 200, 50, 40)
		b.ReportMetric(settle.Seconds(), "s-to-steady")
		b.ReportMetric(roll.Seconds(), "s-to-roll")
	}
}

// BenchmarkServiceOfFiveThousandTasks: a service at ECS's tasks-per-service
// quota reaches a steady state on real agents (in process, on fake
// runtimes). Its placements do not fit one store transaction (each task is
// four writes), so the scheduler commits them in parts; the spread over
// zones must hold across parts. CI runs the same on simulated instances
// (internal/e2e TestSimServiceOfFiveThousandTasks), which is lighter.
//
//	go test ./internal/controller -run '^$' -bench FiveThousand -benchtime 1x
func BenchmarkServiceOfFiveThousandTasks(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.ReportMetric(fiveThousandTasks(b).Seconds(), "s-to-steady")
	}
}

func fiveThousandTasks(t testing.TB) time.Duration {
	const tasks = 5000
	env := flottatest.StartServer(t)
	ctx := context.Background()
	f := fleet.New(t, env)
	f.Add(40, fleet.Spec{CPU: 32768, Memory: 32768}, func(i int) string { return fmt.Sprintf("zone-%d", i%3) })
	out, err := env.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("big"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(fleet.Image), Memory: aws.Int32(16), Cpu: 16}}})
	if err != nil {
		t.Fatal(err)
	}
	def := aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	start := time.Now()
	if _, err := env.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("big"), TaskDefinition: aws.String(def),
		DesiredCount: aws.Int32(tasks)}); err != nil {
		t.Fatal(err)
	}
	allSteady(t, env.ECS, []string{"big"}, def, tasks)
	running := 0
	perZone := map[string]int{}
	for _, m := range f.Members() {
		running += m.Running()
		perZone[m.Spec.Zone] += m.Running()
	}
	if running != tasks {
		t.Fatalf("the agents run %d containers, want %d", running, tasks)
	}
	// The default spread over zones holds across the parts placed one
	// after the other.
	least, most := tasks, 0
	for _, n := range perZone {
		least, most = min(least, n), max(most, n)
	}
	if len(perZone) != 3 || most-least > 1 {
		t.Fatalf("tasks per zone %v: the spread over zones did not hold", perZone)
	}
	// Events name a few tasks, not thousands.
	svc, err := env.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"big"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range svc.Services[0].Events {
		if len(aws.ToString(ev.Message)) > 1000 {
			t.Fatalf("an event of %d bytes: %.200s...", len(aws.ToString(ev.Message)), aws.ToString(ev.Message))
		}
	}
	took := time.Since(start)
	t.Logf("a service of %d tasks on 40 agents steady in %s", tasks, took.Round(10*time.Millisecond))
	return took
}
