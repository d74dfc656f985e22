package main

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/testutil/fleet"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

func TestTargets(t *testing.T) {
	for _, c := range []struct {
		weights map[string]int
		count   int
		want    map[string]int
	}{
		{map[string]int{"a": 1, "b": 1, "c": 3}, 10, map[string]int{"a": 2, "b": 2, "c": 6}},
		{map[string]int{"a": 1, "b": 1, "c": 2, "d": 2, "e": 4}, 50, map[string]int{"a": 5, "b": 5, "c": 10, "d": 10, "e": 20}},
		// 50 over weights 1,1,2,2: 8.33 and 16.67; the two largest remainders get one more.
		{map[string]int{"a": 1, "b": 1, "c": 2, "d": 2, "e": 0}, 50, map[string]int{"a": 8, "b": 8, "c": 17, "d": 17, "e": 0}},
		// Equal remainders: the first ARNs get them.
		{map[string]int{"a": 1, "b": 1, "c": 1}, 4, map[string]int{"a": 2, "b": 1, "c": 1}},
		{map[string]int{"a": 0}, 5, map[string]int{}},
		{map[string]int{}, 5, map[string]int{}},
	} {
		got := Targets(c.weights, c.count)
		total := 0
		for arn, n := range got {
			total += n
			if n != c.want[arn] {
				t.Errorf("Targets(%v, %d) = %v, want %v", c.weights, c.count, got, c.want)
				break
			}
		}
		for arn, n := range c.want {
			if n != 0 && got[arn] != n {
				t.Errorf("Targets(%v, %d) = %v, want %v", c.weights, c.count, got, c.want)
			}
		}
		if sum := sumOf(c.weights); sum > 0 && total != c.count {
			t.Errorf("Targets(%v, %d) places %d tasks", c.weights, c.count, total)
		}
	}
}

func sumOf(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestSchedulerKeepsItsRule runs the example against a real server with five
// instances of weights 1, 1, 2, 2 and 4: it places 50 tasks as 5, 5, 10, 10
// and 20, replaces tasks that someone else stops, and moves the tasks of an
// instance whose weight drops to 0.
func TestSchedulerKeepsItsRule(t *testing.T) {
	e := flottatest.StartServer(t)
	f := fleet.New(t, e)
	weights := []int{1, 1, 2, 2, 4}
	var members []*fleet.Member
	for _, w := range weights {
		members = append(members, f.Add(1, fleet.Spec{CPU: 4096, Memory: 4096,
			Attributes: map[string]string{WeightAttribute: fmt.Sprint(w)}}, nil)...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(fleet.Image), Memory: aws.Int32(32)}}}); err != nil {
		t.Fatal(err)
	}
	creds := credentials.NewStaticCredentialsProvider(e.Root.AccessKeyID, e.Root.SecretAccessKey, "")
	s := &Scheduler{ECS: e.ECS, Events: newEventReader(e.Server.Endpoint(), e.Server.Account().Region, creds),
		Cluster: "default", TaskDefinition: "web", Count: 50, Logf: t.Logf}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	// spread is where our running tasks are: one count per member, in order.
	spread := func() ([]int, []types.Task) {
		var tasks []types.Task
		list := ecs.NewListTasksPaginator(e.ECS, &ecs.ListTasksInput{StartedBy: aws.String(StartedBy)})
		for list.HasMorePages() {
			page, err := list.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(page.TaskArns); i += 100 {
				out, err := e.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: page.TaskArns[i:min(i+100, len(page.TaskArns))]})
				if err != nil {
					t.Fatal(err)
				}
				tasks = append(tasks, out.Tasks...)
			}
		}
		counts := make([]int, len(members))
		for _, task := range tasks {
			if aws.ToString(task.LastStatus) != "RUNNING" || aws.ToString(task.DesiredStatus) != "RUNNING" {
				continue
			}
			for i, m := range members {
				if m.ARN() == aws.ToString(task.ContainerInstanceArn) {
					counts[i]++
				}
			}
		}
		return counts, tasks
	}
	waitSpread := func(what string, want []int) []types.Task {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			got, tasks := spread()
			if fmt.Sprint(got) == fmt.Sprint(want) && settled(tasks) {
				return tasks
			}
			select {
			case err := <-done:
				t.Fatalf("%s: the scheduler ended: %v", what, err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: tasks per instance %v, want %v", what, got, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	tasks := waitSpread("first placement", []int{5, 5, 10, 10, 20})
	if len(tasks) != 50 {
		t.Fatalf("%d tasks started for 50", len(tasks))
	}

	// Someone stops five of them: each is replaced where the rule says.
	var stopped []string
	quota := map[string]int{members[4].ARN(): 4, members[0].ARN(): 1}
	for _, task := range tasks {
		on := aws.ToString(task.ContainerInstanceArn)
		if quota[on] == 0 {
			continue
		}
		quota[on]--
		if _, err := e.ECS.StopTask(ctx, &ecs.StopTaskInput{Task: task.TaskArn, Reason: aws.String("test")}); err != nil {
			t.Fatal(err)
		}
		stopped = append(stopped, aws.ToString(task.TaskArn))
	}
	if len(stopped) != 5 {
		t.Fatalf("stopped %d tasks, want 5", len(stopped))
	}
	tasks = waitSpread("after five stops", []int{5, 5, 10, 10, 20})
	running := 0
	for _, task := range tasks {
		if aws.ToString(task.DesiredStatus) == "RUNNING" {
			running++
			if slices.Contains(stopped, aws.ToString(task.TaskArn)) {
				t.Fatalf("a stopped task %s runs again", aws.ToString(task.TaskArn))
			}
		}
	}
	if running != 50 {
		t.Fatalf("%d tasks should run, want 50", running)
	}

	// The heaviest instance's weight drops to 0: its tasks move.
	if _, err := e.ECS.PutAttributes(ctx, &ecs.PutAttributesInput{Attributes: []types.Attribute{{Name: aws.String(WeightAttribute),
		Value: aws.String("0"), TargetType: types.TargetTypeContainerInstance, TargetId: aws.String(members[4].ARN())}}}); err != nil {
		t.Fatal(err)
	}
	waitSpread("after a weight of 0", []int{8, 8, 17, 17, 0})

	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run ended with %v, want context.Canceled", err)
	}
}

// settled says whether every task that should run runs and every other has stopped.
func settled(tasks []types.Task) bool {
	for _, task := range tasks {
		last, desired := aws.ToString(task.LastStatus), aws.ToString(task.DesiredStatus)
		if desired == "RUNNING" && last != "RUNNING" || desired == "STOPPED" && last != "STOPPED" {
			return false
		}
	}
	return true
}
