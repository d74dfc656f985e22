package scheduler_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/agent"
	"github.com/flotta-dev/flotta/internal/runtime/fake"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// startAgents joins n agents with the fake runtime, each offering cpu and memory.
func startAgents(t *testing.T, e *flottatest.Env, n, cpu, mem int, zone func(int) string) []*agent.Agent {
	t.Helper()
	rt := fake.New()
	rt.AddImage("demo")
	token, _, err := e.Server.IAM().CreateJoinToken(context.Background(), time.Hour, n, "test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	var agents []*agent.Agent
	for i := 0; i < n; i++ {
		a, err := agent.New(agent.Config{Server: e.Server.Endpoint(), JoinToken: token, DataDir: t.TempDir(), Runtime: rt,
			CPU: cpu, Memory: mem, Zone: zone(i), PollWait: 2 * time.Second, CleanupDelay: time.Hour,
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); a.Run(ctx) }()
		select {
		case <-a.Registered():
		case <-time.After(30 * time.Second):
			t.Fatal("agent did not register")
		}
		agents = append(agents, a)
	}
	return agents
}

// TestConcurrentRunTaskNeverOvercommits sends 50 concurrent RunTask calls
// for twice the capacity of 10 small instances.
func TestConcurrentRunTaskNeverOvercommits(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	agents := startAgents(t, e, 10, 1024, 512, func(i int) string { return fmt.Sprintf("zone-%d", i%3) })
	if _, err := e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("small"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("demo"), Cpu: 128, Memory: aws.Int32(100)}}}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	placed, refused := 0, 0
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := e.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("small"), Count: aws.Int32(2),
				PlacementStrategy: []types.PlacementStrategy{{Type: types.PlacementStrategyTypeBinpack, Field: aws.String("memory")}}})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			placed += len(out.Tasks)
			if len(out.Tasks) < 2 {
				refused += 2 - len(out.Tasks)
				if len(out.Failures) == 0 {
					t.Errorf("a RunTask placed %d of 2 tasks and gave no failure", len(out.Tasks))
				}
				for _, f := range out.Failures {
					if aws.ToString(f.Reason) == "" {
						t.Errorf("a failure without a reason: %+v", f)
					}
				}
			}
		}()
	}
	wg.Wait()
	// Each instance fits 5 tasks of 100 MiB: 50 in all.
	if placed != 50 || refused != 50 {
		t.Fatalf("placed %d and refused %d of 100; want 50 and 50", placed, refused)
	}
	var arns []string
	for _, a := range agents {
		arns = append(arns, a.ContainerInstanceArn())
	}
	d, err := e.ECS.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{ContainerInstances: arns})
	if err != nil {
		t.Fatal(err)
	}
	list, _ := e.ECS.ListTasks(ctx, &ecs.ListTasksInput{MaxResults: aws.Int32(100)})
	perInstance := map[string]int{}
	for i := 0; i < len(list.TaskArns); i += 100 {
		out, _ := e.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: list.TaskArns[i:min(i+100, len(list.TaskArns))]})
		for _, task := range out.Tasks {
			perInstance[aws.ToString(task.ContainerInstanceArn)]++
		}
	}
	for _, ci := range d.ContainerInstances {
		for _, r := range ci.RemainingResources {
			if (aws.ToString(r.Name) == "MEMORY" || aws.ToString(r.Name) == "CPU") && r.IntegerValue < 0 {
				t.Fatalf("instance %s is overcommitted: %s %d", aws.ToString(ci.ContainerInstanceArn), aws.ToString(r.Name), r.IntegerValue)
			}
		}
		if n := perInstance[aws.ToString(ci.ContainerInstanceArn)]; n*100 > 512 {
			t.Fatalf("instance %s runs %d tasks of 100 MiB in 512", aws.ToString(ci.ContainerInstanceArn), n)
		}
	}
}

func TestPlacementStrategiesThroughTheAPI(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	agents := startAgents(t, e, 6, 4096, 4096, func(i int) string { return fmt.Sprintf("zone-%d", i%3) })
	e.ECS.PutAttributes(ctx, &ecs.PutAttributesInput{Attributes: []types.Attribute{
		{Name: aws.String("stack"), Value: aws.String("prod"), TargetId: aws.String(agents[0].ContainerInstanceArn())}}})
	if _, err := e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("demo"), Memory: aws.Int32(64)}}}); err != nil {
		t.Fatal(err)
	}
	// Spread over zones.
	out, err := e.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("web"), Count: aws.Int32(3), Group: aws.String("spread"),
		PlacementStrategy: []types.PlacementStrategy{{Type: types.PlacementStrategyTypeSpread, Field: aws.String("attribute:ecs.availability-zone")}}})
	if err != nil || len(out.Tasks) != 3 {
		t.Fatalf("%v %+v", err, out)
	}
	zones := map[string]bool{}
	for _, task := range out.Tasks {
		zones[aws.ToString(task.AvailabilityZone)] = true
	}
	if len(zones) != 3 {
		t.Fatalf("spread placed into zones %v", zones)
	}
	// memberOf binds.
	out, err = e.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("web"), Count: aws.Int32(4),
		PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeMemberOf, Expression: aws.String("attribute:stack == prod")}}})
	if err != nil || len(out.Tasks) != 4 {
		t.Fatalf("%v %+v", err, out)
	}
	for _, task := range out.Tasks {
		if aws.ToString(task.ContainerInstanceArn) != agents[0].ContainerInstanceArn() {
			t.Fatalf("memberOf placed a task on %s", aws.ToString(task.ContainerInstanceArn))
		}
	}
	// A bad expression is refused.
	_, err = e.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("web"),
		PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeMemberOf, Expression: aws.String("attribute:stack === prod")}}})
	if err == nil {
		t.Fatal("a bad memberOf expression was accepted")
	}
	// distinctInstance with more tasks than instances.
	out, err = e.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("web"), Count: aws.Int32(8), Group: aws.String("distinct"),
		PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeDistinctInstance}}})
	if err != nil || len(out.Tasks) != 6 || len(out.Failures) == 0 {
		t.Fatalf("distinctInstance: %v, %d tasks, failures %+v", err, len(out.Tasks), out.Failures)
	}
}

func TestListContainerInstancesFilter(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	agents := startAgents(t, e, 4, 1024, 1024, func(i int) string { return fmt.Sprintf("zone-%d", i%2) })
	e.ECS.PutAttributes(ctx, &ecs.PutAttributesInput{Attributes: []types.Attribute{
		{Name: aws.String("stack"), Value: aws.String("prod"), TargetId: aws.String(agents[1].ContainerInstanceArn())}}})
	list := func(filter string) []string {
		t.Helper()
		out, err := e.ECS.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Filter: aws.String(filter)})
		if err != nil {
			t.Fatalf("%s: %v", filter, err)
		}
		return out.ContainerInstanceArns
	}
	if got := list("attribute:ecs.availability-zone == zone-0"); len(got) != 2 {
		t.Fatalf("zone-0: %v", got)
	}
	if got := list("attribute:stack == prod"); len(got) != 1 || got[0] != agents[1].ContainerInstanceArn() {
		t.Fatalf("stack == prod: %v", got)
	}
	if got := list("agentConnected == true and not(attribute:stack exists)"); len(got) != 3 {
		t.Fatalf("connected without stack: %v", got)
	}
	_, err := e.ECS.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Filter: aws.String("attribute:stack ==")})
	if err == nil || !strings.Contains(err.Error(), "InvalidParameterException") {
		t.Fatalf("bad filter: %v", err)
	}
}
