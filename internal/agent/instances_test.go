package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func attr(as []types.Attribute, name string) (string, bool) {
	for _, a := range as {
		if aws.ToString(a.Name) == name {
			return aws.ToString(a.Value), true
		}
	}
	return "", false
}

func TestContainerInstanceOperations(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	arn := r.agent.ContainerInstanceArn()
	d, err := r.env.ECS.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{ContainerInstances: []string{arn, "feedface"}})
	if err != nil {
		t.Fatal(err)
	}
	ci := d.ContainerInstances[0]
	if !ci.AgentConnected || aws.ToString(ci.Status) != "ACTIVE" || ci.VersionInfo == nil || ci.RegisteredAt == nil {
		t.Fatalf("instance %+v", ci)
	}
	if v, _ := attr(ci.Attributes, "ecs.availability-zone"); v != "local-1a" {
		t.Fatalf("zone attribute %q", v)
	}
	if _, ok := attr(ci.Attributes, "ecs.capability.task-eni"); ok {
		t.Fatal("an agent without a pause image must not claim awsvpc")
	}
	if len(d.Failures) != 1 || aws.ToString(d.Failures[0].Reason) != "MISSING" {
		t.Fatalf("failures %+v", d.Failures)
	}

	// Custom attributes.
	if _, err := r.env.ECS.PutAttributes(ctx, &ecs.PutAttributesInput{Attributes: []types.Attribute{
		{Name: aws.String("stack"), Value: aws.String("prod"), TargetId: aws.String(arn)}}}); err != nil {
		t.Fatal(err)
	}
	la, err := r.env.ECS.ListAttributes(ctx, &ecs.ListAttributesInput{TargetType: types.TargetTypeContainerInstance, AttributeName: aws.String("stack")})
	if err != nil || len(la.Attributes) != 1 || aws.ToString(la.Attributes[0].Value) != "prod" || aws.ToString(la.Attributes[0].TargetId) != arn {
		t.Fatalf("list attributes %+v %v", la, err)
	}
	many := make([]types.Attribute, 0, 10)
	for i := 0; i < 10; i++ {
		many = append(many, types.Attribute{Name: aws.String("k" + string(rune('a'+i))), TargetId: aws.String(arn)})
	}
	_, err = r.env.ECS.PutAttributes(ctx, &ecs.PutAttributesInput{Attributes: many})
	wantCode(t, err, "AttributeLimitExceededException", "at most 10 custom attributes")
	_, err = r.env.ECS.PutAttributes(ctx, &ecs.PutAttributesInput{Attributes: []types.Attribute{{Name: aws.String("x"), TargetId: aws.String("0000")}}})
	wantCode(t, err, "TargetNotFoundException", "")
	if _, err := r.env.ECS.DeleteAttributes(ctx, &ecs.DeleteAttributesInput{Attributes: []types.Attribute{{Name: aws.String("stack"), TargetId: aws.String(arn)}}}); err != nil {
		t.Fatal(err)
	}

	// A task, then drain: no new tasks land on a DRAINING instance.
	r.register("one", ctr("app"))
	task := r.run("one")
	r.waitTask(task, "RUNNING", status("RUNNING"))
	up, err := r.env.ECS.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{ContainerInstances: []string{arn}, Status: types.ContainerInstanceStatusDraining})
	if err != nil || aws.ToString(up.ContainerInstances[0].Status) != "DRAINING" || up.ContainerInstances[0].RunningTasksCount != 1 {
		t.Fatalf("drain %+v %v", up, err)
	}
	out, err := r.env.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("one")})
	if err != nil || len(out.Tasks) != 0 || aws.ToString(out.Failures[0].Reason) != "DRAINING" {
		t.Fatalf("RunTask on a draining instance: %+v %v", out, err)
	}
	list, _ := r.env.ECS.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Status: types.ContainerInstanceStatusDraining})
	if len(list.ContainerInstanceArns) != 1 {
		t.Fatalf("draining list %v", list.ContainerInstanceArns)
	}
	if _, err := r.env.ECS.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{ContainerInstances: []string{arn}, Status: types.ContainerInstanceStatusActive}); err != nil {
		t.Fatal(err)
	}

	// StartTask on the named instance. The scheduler learns that the
	// instance is ACTIVE again from its watch: a StartTask just after may
	// still find it DRAINING (seen once on a loaded CI machine).
	var st *ecs.StartTaskOutput
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		st, err = r.env.ECS.StartTask(ctx, &ecs.StartTaskInput{TaskDefinition: aws.String("one"), ContainerInstances: []string{arn}})
		if err != nil || len(st.Failures) == 0 || aws.ToString(st.Failures[0].Reason) != "DRAINING" || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || len(st.Tasks) != 1 || aws.ToString(st.Tasks[0].ContainerInstanceArn) != arn {
		reason := ""
		if st != nil && len(st.Failures) > 0 {
			reason = aws.ToString(st.Failures[0].Reason)
		}
		t.Fatalf("StartTask %+v (failure %q) %v", st, reason, err)
	}
	// Cluster counts follow the tasks.
	cl, _ := r.env.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{})
	if c := cl.Clusters[0]; c.RegisteredContainerInstancesCount != 1 || c.RunningTasksCount+c.PendingTasksCount != 2 {
		t.Fatalf("cluster counts %+v", c)
	}
	_, err = r.env.ECS.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("default")})
	wantCode(t, err, "ClusterContainsContainerInstancesException", "")

	// Deregistering needs force while tasks run; with force they stop.
	_, err = r.env.ECS.DeregisterContainerInstance(ctx, &ecs.DeregisterContainerInstanceInput{ContainerInstance: aws.String(arn)})
	wantCode(t, err, "InvalidParameterException", "Found running tasks on the instance.")
	dr, err := r.env.ECS.DeregisterContainerInstance(ctx, &ecs.DeregisterContainerInstanceInput{ContainerInstance: aws.String(arn), Force: aws.Bool(true)})
	if err != nil || aws.ToString(dr.ContainerInstance.Status) != "INACTIVE" {
		t.Fatalf("deregister %+v %v", dr, err)
	}
	stopped := r.waitTask(task, "STOPPED", status("STOPPED"))
	if stopped.StopCode != types.TaskStopCodeServiceSchedulerInitiated && aws.ToString(stopped.StoppedReason) != "Container instance deregistered" {
		t.Fatalf("%s", describe(stopped))
	}
	select {
	case err := <-r.done:
		if err == nil {
			t.Fatal("the agent of a deregistered instance must stop with an error")
		}
		r.cancel = nil
	case <-contextTimeout(t):
		t.Fatal("the agent of a deregistered instance kept running")
	}
}
