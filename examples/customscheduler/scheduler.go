package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// StartedBy marks the tasks this scheduler starts, so that it knows its own.
const StartedBy = "customscheduler"

// WeightAttribute is the container instance attribute the rule reads.
const WeightAttribute = "weight"

// Scheduler keeps Count tasks of TaskDefinition running in Cluster, spread
// over the instances in proportion to their weights.
type Scheduler struct {
	ECS            *ecs.Client
	Events         *eventReader
	Cluster        string
	TaskDefinition string
	Count          int
	Logf           func(format string, args ...any)

	// weights of the ACTIVE instances, by ARN.
	weights map[string]int
	// running is where each of our tasks that should run is, by task ARN.
	running map[string]string
	// gone are our tasks that stop or stopped: their late events are old news.
	gone map[string]bool
}

// Run schedules until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	cursor, err := s.sync(ctx)
	if err != nil {
		return err
	}
	for ctx.Err() == nil {
		if err := s.fill(ctx); err != nil {
			s.Logf("place: %v (trying again at the next event)", err)
		}
		page, err := s.Events.read(ctx, getEventsInput{Cursor: cursor, Cluster: s.Cluster, WaitSeconds: 20, MaxEvents: 1000})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			// The stream may be gone for a while, or our cursor too old:
			// start again from what the cluster is now.
			s.Logf("events: %v; reading the cluster again", err)
			time.Sleep(time.Second)
			if cursor, err = s.sync(ctx); err != nil {
				s.Logf("sync: %v", err)
			}
			continue
		}
		for _, ev := range page.Events {
			s.apply(ev)
		}
		cursor = page.Cursor
	}
	return ctx.Err()
}

// sync reads the cluster as it is now. The stream's cursor is taken first,
// so that whatever changes during the reading comes as events after it.
func (s *Scheduler) sync(ctx context.Context) (string, error) {
	now, err := s.Events.read(ctx, getEventsInput{MaxEvents: 1})
	if err != nil {
		return "", err
	}
	s.weights, s.running, s.gone = map[string]int{}, map[string]string{}, map[string]bool{}
	instances := ecs.NewListContainerInstancesPaginator(s.ECS, &ecs.ListContainerInstancesInput{
		Cluster: &s.Cluster, Status: types.ContainerInstanceStatusActive})
	for instances.HasMorePages() {
		page, err := instances.NextPage(ctx)
		if err != nil {
			return "", err
		}
		if len(page.ContainerInstanceArns) == 0 {
			continue
		}
		out, err := s.ECS.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{
			Cluster: &s.Cluster, ContainerInstances: page.ContainerInstanceArns})
		if err != nil {
			return "", err
		}
		for _, ci := range out.ContainerInstances {
			s.weights[aws.ToString(ci.ContainerInstanceArn)] = weightOf(ci.Attributes)
		}
	}
	tasks := ecs.NewListTasksPaginator(s.ECS, &ecs.ListTasksInput{
		Cluster: &s.Cluster, StartedBy: aws.String(StartedBy), DesiredStatus: types.DesiredStatusRunning})
	for tasks.HasMorePages() {
		page, err := tasks.NextPage(ctx)
		if err != nil {
			return "", err
		}
		if len(page.TaskArns) == 0 {
			continue
		}
		out, err := s.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: &s.Cluster, Tasks: page.TaskArns})
		if err != nil {
			return "", err
		}
		for _, t := range out.Tasks {
			s.running[aws.ToString(t.TaskArn)] = aws.ToString(t.ContainerInstanceArn)
		}
	}
	s.Logf("%d instances, %d of our tasks running", len(s.weights), len(s.running))
	return now.Cursor, nil
}

func weightOf(attrs []types.Attribute) int {
	for _, a := range attrs {
		if aws.ToString(a.Name) == WeightAttribute {
			if w, err := strconv.Atoi(aws.ToString(a.Value)); err == nil && w >= 0 {
				return w
			}
		}
	}
	return 1
}

// apply takes one event into the scheduler's view of the cluster.
func (s *Scheduler) apply(ev event) {
	switch ev.DetailType {
	case "ECS Task State Change":
		var t taskDetail
		if json.Unmarshal(ev.Detail, &t) != nil || t.StartedBy != StartedBy || s.gone[t.TaskArn] {
			return
		}
		if t.DesiredStatus == "STOPPED" || t.LastStatus == "STOPPED" {
			s.gone[t.TaskArn] = true
			if _, ours := s.running[t.TaskArn]; ours {
				delete(s.running, t.TaskArn)
				s.Logf("task %s stopped (%s): it will be replaced", t.TaskArn, t.StoppedReason)
			}
			return
		}
		s.running[t.TaskArn] = t.ContainerInstanceArn
	case "ECS Container Instance State Change":
		var ci instanceDetail
		if json.Unmarshal(ev.Detail, &ci) != nil {
			return
		}
		if ci.Status != "ACTIVE" {
			delete(s.weights, ci.ContainerInstanceArn)
			return
		}
		var attrs []types.Attribute
		for _, a := range ci.Attributes {
			attrs = append(attrs, types.Attribute{Name: aws.String(a.Name), Value: a.Value})
		}
		s.weights[ci.ContainerInstanceArn] = weightOf(attrs)
	}
}

// Targets is the rule: how many of count tasks each instance gets, in
// proportion to its weight. Shares are rounded down, and what is left goes
// one each to the largest remainders (ties to the first ARN).
func Targets(weights map[string]int, count int) map[string]int {
	total := 0
	arns := make([]string, 0, len(weights))
	for arn, w := range weights {
		total += w
		arns = append(arns, arn)
	}
	slices.Sort(arns)
	out := make(map[string]int, len(weights))
	if total == 0 {
		return out
	}
	left := count
	for _, arn := range arns {
		out[arn] = count * weights[arn] / total
		left -= out[arn]
	}
	rem := func(arn string) int { return count * weights[arn] % total }
	slices.SortStableFunc(arns, func(a, b string) int { return rem(b) - rem(a) })
	for _, arn := range arns[:left] {
		out[arn]++
	}
	return out
}

// fill stops what is above the rule's count on an instance and starts what
// is below it.
func (s *Scheduler) fill(ctx context.Context) error {
	want := Targets(s.weights, s.Count)
	have := map[string][]string{}
	for task, inst := range s.running {
		have[inst] = append(have[inst], task)
	}
	for inst, tasks := range have {
		slices.Sort(tasks)
		for _, task := range tasks[min(want[inst], len(tasks)):] {
			if _, err := s.ECS.StopTask(ctx, &ecs.StopTaskInput{Cluster: &s.Cluster, Task: aws.String(task),
				Reason: aws.String("customscheduler: more tasks than the instance's weight calls for")}); err != nil {
				return fmt.Errorf("stop %s: %w", task, err)
			}
			delete(s.running, task)
			s.gone[task] = true
		}
	}
	need := map[string]int{}
	for inst, n := range want {
		if d := n - len(have[inst]); d > 0 {
			need[inst] = d
		}
	}
	for len(need) > 0 {
		// StartTask starts one task on each instance it names, ten at most.
		batch := make([]string, 0, 10)
		for inst := range need {
			if len(batch) == 10 {
				break
			}
			batch = append(batch, inst)
		}
		out, err := s.ECS.StartTask(ctx, &ecs.StartTaskInput{Cluster: &s.Cluster, TaskDefinition: &s.TaskDefinition,
			ContainerInstances: batch, StartedBy: aws.String(StartedBy)})
		if err != nil {
			return err
		}
		if len(out.Tasks) == 0 && len(out.Failures) == 0 {
			return errors.New("StartTask started nothing and said nothing")
		}
		for _, t := range out.Tasks {
			inst := aws.ToString(t.ContainerInstanceArn)
			s.running[aws.ToString(t.TaskArn)] = inst
			if need[inst]--; need[inst] == 0 {
				delete(need, inst)
			}
		}
		if len(out.Failures) > 0 {
			f := out.Failures[0]
			return errors.New(aws.ToString(f.Arn) + ": " + aws.ToString(f.Reason))
		}
	}
	return nil
}
