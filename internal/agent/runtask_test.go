package agent_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
)

func wantCode(t *testing.T, err error, code, fragment string) {
	t.Helper()
	var apiErr smithy.APIError
	if err == nil || !errorsAs(err, &apiErr) || apiErr.ErrorCode() != code || !strings.Contains(apiErr.ErrorMessage(), fragment) {
		t.Fatalf("want %s mentioning %q, got %v", code, fragment, err)
	}
}

func errorsAs(err error, target *smithy.APIError) bool {
	for err != nil {
		if e, ok := err.(smithy.APIError); ok {
			*target = e
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func TestRunTaskClientToken(t *testing.T) {
	r := newRig(t)
	r.register("idem", ctr("app"))
	r.register("other", ctr("app"))
	ctx := context.Background()
	first, err := r.env.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("idem"), Count: aws.Int32(2), ClientToken: aws.String("tok-1")})
	if err != nil || len(first.Tasks) != 2 {
		t.Fatalf("%v %v", first, err)
	}
	again, err := r.env.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("idem"), Count: aws.Int32(2), ClientToken: aws.String("tok-1")})
	if err != nil || len(again.Tasks) != 2 {
		t.Fatalf("%v %v", again, err)
	}
	for i := range first.Tasks {
		if aws.ToString(first.Tasks[i].TaskArn) != aws.ToString(again.Tasks[i].TaskArn) {
			t.Fatalf("the same clientToken started new tasks: %s vs %s", aws.ToString(first.Tasks[i].TaskArn), aws.ToString(again.Tasks[i].TaskArn))
		}
	}
	_, err = r.env.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("other"), ClientToken: aws.String("tok-1")})
	wantCode(t, err, "ConflictException", aws.ToString(first.Tasks[0].TaskArn))
	list, _ := r.env.ECS.ListTasks(ctx, &ecs.ListTasksInput{})
	if len(list.TaskArns) != 2 {
		t.Fatalf("%d tasks exist, want 2", len(list.TaskArns))
	}

	// Concurrent callers with one token get one set of tasks.
	var wg sync.WaitGroup
	arns := make(chan string, 20)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := r.env.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("other"), ClientToken: aws.String("tok-2")})
			if err != nil {
				t.Error(err)
				return
			}
			for _, task := range out.Tasks {
				arns <- aws.ToString(task.TaskArn)
			}
		}()
	}
	wg.Wait()
	close(arns)
	distinct := map[string]bool{}
	for a := range arns {
		distinct[a] = true
	}
	if len(distinct) != 1 {
		t.Fatalf("10 concurrent RunTask calls with one clientToken started %d tasks", len(distinct))
	}
}

func TestRunTaskBadInput(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.register("ok", ctr("app", func(c *types.ContainerDefinition) {
		c.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(80), HostPort: aws.Int32(8088)}}
	}))
	r.register("huge", ctr("app", func(c *types.ContainerDefinition) { c.Memory = aws.Int32(100000) }))
	before := r.env.Revision(t)
	_, err := r.env.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("ok"), Cluster: aws.String("nope")})
	wantCode(t, err, "ClusterNotFoundException", "Cluster not found.")
	_, err = r.env.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("unknown")})
	wantCode(t, err, "ClientException", "Unable to find task definition")
	_, err = r.env.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("ok"), Count: aws.Int32(11)})
	wantCode(t, err, "InvalidParameterException", "count must be between 1 and 10")
	_, err = r.env.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("ok"), Overrides: &types.TaskOverride{
		ContainerOverrides: []types.ContainerOverride{{Name: aws.String("ghost"), Command: []string{"x"}}}}})
	wantCode(t, err, "InvalidParameterException", "Override for container named ghost is not a container in the TaskDefinition.")
	out, err := r.env.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("huge")})
	if err != nil || len(out.Tasks) != 0 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "RESOURCE:MEMORY" ||
		aws.ToString(out.Failures[0].Arn) != r.agent.ContainerInstanceArn() {
		t.Fatalf("no capacity: %+v %v", out, err)
	}
	if after := r.env.Revision(t); after != before {
		t.Fatalf("refused RunTask calls changed the store (%d -> %d)", before, after)
	}
	// A fixed host port fits once.
	out, err = r.env.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("ok"), Count: aws.Int32(2)})
	if err != nil || len(out.Tasks) != 1 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "RESOURCE:PORTS" {
		t.Fatalf("port taken: %+v %v", out, err)
	}
	_, err = r.env.ECS.StopTask(ctx, &ecs.StopTaskInput{Task: aws.String("0123456789abcdef0123456789abcdef")})
	wantCode(t, err, "InvalidParameterException", "The referenced task was not found.")
}

func TestOverridesReachTheContainer(t *testing.T) {
	r := newRig(t)
	r.register("env", ctr("app", func(c *types.ContainerDefinition) {
		c.Environment = []types.KeyValuePair{{Name: aws.String("A"), Value: aws.String("1")}, {Name: aws.String("B"), Value: aws.String("2")}}
		c.Command = []string{"serve"}
	}))
	out, err := r.env.ECS.RunTask(context.Background(), &ecs.RunTaskInput{TaskDefinition: aws.String("env"), StartedBy: aws.String("ci"),
		Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{Name: aws.String("app"), Command: []string{"migrate"},
			Environment: []types.KeyValuePair{{Name: aws.String("B"), Value: aws.String("3")}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.Tasks[0].TaskArn)
	r.waitTask(arn, "RUNNING", status("RUNNING"))
	spec := r.rt.Spec(r.containerID(arn, "app"))
	if strings.Join(spec.Cmd, " ") != "migrate" || strings.Join(spec.Env, " ") != "A=1 AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 B=3" {
		t.Fatalf("container got cmd %v env %v", spec.Cmd, spec.Env)
	}
	list, _ := r.env.ECS.ListTasks(context.Background(), &ecs.ListTasksInput{StartedBy: aws.String("ci")})
	if len(list.TaskArns) != 1 {
		t.Fatalf("ListTasks by startedBy: %v", list.TaskArns)
	}
}

func TestListTasksPaging(t *testing.T) {
	r := newRig(t)
	r.register("many", ctr("app", func(c *types.ContainerDefinition) { c.Memory = aws.Int32(8) }))
	ctx := context.Background()
	for i := 0; i < 12; i++ {
		out, err := r.env.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("many"), Count: aws.Int32(10), StartedBy: aws.String("batch")})
		if err != nil || len(out.Tasks) != 10 {
			t.Fatalf("%v %+v", err, out)
		}
	}
	first, err := r.env.ECS.ListTasks(ctx, &ecs.ListTasksInput{})
	if err != nil || len(first.TaskArns) != 100 || first.NextToken == nil {
		t.Fatalf("first page: %d, token %v, %v", len(first.TaskArns), first.NextToken, err)
	}
	seen := map[string]bool{}
	p := ecs.NewListTasksPaginator(r.env.ECS, &ecs.ListTasksInput{Family: aws.String("many"), MaxResults: aws.Int32(7),
		ContainerInstance: aws.String(r.agent.ContainerInstanceArn()), LaunchType: types.LaunchTypeEc2})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.TaskArns {
			if seen[a] {
				t.Fatalf("%s listed twice", a)
			}
			seen[a] = true
		}
	}
	if len(seen) != 120 {
		t.Fatalf("paged through %d tasks, want 120", len(seen))
	}
	stopped, _ := r.env.ECS.ListTasks(ctx, &ecs.ListTasksInput{DesiredStatus: types.DesiredStatusStopped})
	if len(stopped.TaskArns) != 0 {
		t.Fatalf("stopped tasks listed: %v", stopped.TaskArns)
	}
	_, err = r.env.ECS.ListTasks(ctx, &ecs.ListTasksInput{MaxResults: aws.Int32(101)})
	wantCode(t, err, "InvalidParameterException", "maxResults")
}
