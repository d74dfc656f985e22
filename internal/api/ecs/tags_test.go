package ecs_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/testutil/fleet"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

func tagMap(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func TestTaggingClustersAndTaskDefinitions(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	c, err := e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("tagged"),
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}})
	if err != nil {
		t.Fatal(err)
	}
	td, err := e.ECS.RegisterTaskDefinition(ctx, simple("tagged"))
	if err != nil {
		t.Fatal(err)
	}
	for _, arn := range []string{aws.ToString(c.Cluster.ClusterArn), aws.ToString(td.TaskDefinition.TaskDefinitionArn)} {
		if _, err := e.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(arn),
			Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("2")}, {Key: aws.String("b"), Value: aws.String("3")}}}); err != nil {
			t.Fatalf("tag %s: %v", arn, err)
		}
		if _, err := e.ECS.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"b", "absent"}}); err != nil {
			t.Fatalf("untag %s: %v", arn, err)
		}
		out, err := e.ECS.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		if got := tagMap(out.Tags); len(got) != 1 || got["a"] != "2" {
			t.Fatalf("%s tags %v, want a=2", arn, got)
		}
	}
	d, _ := e.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"tagged"}, Include: []types.ClusterField{types.ClusterFieldTags}})
	if got := tagMap(d.Clusters[0].Tags); got["a"] != "2" {
		t.Fatalf("describe shows tags %v", got)
	}

	acct := e.Server.Account().ID
	tooMany := make([]types.Tag, 50)
	for i := range tooMany {
		tooMany[i] = types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")}
	}
	unchanged(t, e, func() {
		_, err := e.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: c.Cluster.ClusterArn, Tags: tooMany})
		wantAPIError(t, err, "InvalidParameterException", "at most 50 tags")
		_, err = e.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: c.Cluster.ClusterArn,
			Tags: []types.Tag{{Key: aws.String("AWS:thing"), Value: aws.String("v")}}})
		wantAPIError(t, err, "InvalidParameterException", "aws:")
		_, err = e.ECS.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: c.Cluster.ClusterArn, TagKeys: []string{"aws:cloudformation:stack-name"}})
		wantAPIError(t, err, "InvalidParameterException", "aws:")
		_, err = e.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String("arn:aws:ecs:us-east-1:" + acct + ":cluster/ghost"),
			Tags: []types.Tag{{Key: aws.String("x"), Value: aws.String("y")}}})
		wantAPIError(t, err, "ClusterNotFoundException")
		_, err = e.ECS.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:ecs:us-east-1:" + acct + ":task-definition/ghost:1")})
		wantAPIError(t, err, "ClientException", "Unable to describe task definition.")
		_, err = e.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String("arn:aws:ecs:us-east-1:" + acct + ":task-definition/ghost:1"),
			Tags: []types.Tag{{Key: aws.String("x"), Value: aws.String("y")}}})
		wantAPIError(t, err, "ResourceNotFoundException")
		_, err = e.ECS.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:s3:::bucket")})
		wantAPIError(t, err, "InvalidParameterException", "not an Amazon ECS resource ARN")
		_, err = e.ECS.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String("web")})
		wantAPIError(t, err, "InvalidParameterException")
	})
}

// TestTaggingServicesTasksAndInstances: the long ARNs of services, tasks
// and container instances take tags like clusters do; the short ones are
// refused as ECS refuses them, and missing ones are named as ECS names them.
func TestTaggingServicesTasksAndInstances(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	fleet.New(t, e).Add(1, fleet.Spec{CPU: 1024, Memory: 1024}, nil)
	if _, err := e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("app"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(fleet.Image), Memory: aws.Int32(64)}}}); err != nil {
		t.Fatal(err)
	}
	svc, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("app"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := e.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("app")})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("run: %v %+v", err, run)
	}
	task := run.Tasks[0]
	arns := map[string]string{
		"service":            aws.ToString(svc.Service.ServiceArn),
		"task":               aws.ToString(task.TaskArn),
		"container instance": aws.ToString(task.ContainerInstanceArn),
	}
	for what, arn := range arns {
		if _, err := e.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(arn),
			Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}, {Key: aws.String("drop"), Value: aws.String("me")}}}); err != nil {
			t.Fatalf("tag the %s: %v", what, err)
		}
		if _, err := e.ECS.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"drop"}}); err != nil {
			t.Fatalf("untag the %s: %v", what, err)
		}
		out, err := e.ECS.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("list the %s's tags: %v", what, err)
		}
		want := map[string]string{"env": "prod"}
		if what == "service" {
			want["team"] = "blue"
		}
		if got := tagMap(out.Tags); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("the %s's tags are %v, want %v", what, got, want)
		}
	}
	// The describes show them too.
	ds, err := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}, Include: []types.ServiceField{types.ServiceFieldTags}})
	if err != nil || len(ds.Services) != 1 {
		t.Fatalf("describe the service: %v %+v", err, ds)
	}
	dt, err := e.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{aws.ToString(task.TaskArn)}, Include: []types.TaskField{types.TaskFieldTags}})
	if err != nil || len(dt.Tasks) != 1 {
		t.Fatalf("describe the task: %v %+v", err, dt)
	}
	di, err := e.ECS.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{ContainerInstances: []string{arns["container instance"]},
		Include: []types.ContainerInstanceField{types.ContainerInstanceFieldTags}})
	if err != nil || len(di.ContainerInstances) != 1 {
		t.Fatalf("describe the container instance: %v %+v", err, di)
	}
	if tagMap(ds.Services[0].Tags)["env"] != "prod" || tagMap(dt.Tasks[0].Tags)["env"] != "prod" || tagMap(di.ContainerInstances[0].Tags)["env"] != "prod" {
		t.Fatalf("describes do not show the new tags: %v %v %v", ds.Services[0].Tags, dt.Tasks[0].Tags, di.ContainerInstances[0].Tags)
	}

	acct := e.Server.Account().ID
	arn := func(resource string) *string { return aws.String("arn:aws:ecs:us-east-1:" + acct + ":" + resource) }
	one := []types.Tag{{Key: aws.String("x"), Value: aws.String("y")}}
	cases := []struct {
		name string
		call func() error
		code string
		text string
	}{
		{"short service ARN", func() error {
			_, err := e.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: arn("service/web"), Tags: one})
			return err
		}, "InvalidParameterException", "Long arn format must be used for tagging operations"},
		{"short task ARN", func() error {
			_, err := e.ECS.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: arn("task/" + aws.ToString(task.TaskArn)[len(aws.ToString(task.TaskArn))-32:])})
			return err
		}, "InvalidParameterException", "Long arn format"},
		{"missing service", func() error {
			_, err := e.ECS.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: arn("service/default/ghost")})
			return err
		}, "ServiceNotFoundException", "Service not found."},
		{"tag a missing service", func() error {
			_, err := e.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: arn("service/default/ghost"), Tags: one})
			return err
		}, "ServiceNotFoundException", "Service not found."},
		{"service in a missing cluster", func() error {
			_, err := e.ECS.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: arn("service/nowhere/web")})
			return err
		}, "ClusterNotFoundException", "Cluster not found."},
		{"missing task", func() error {
			_, err := e.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: arn("task/default/0123456789abcdef0123456789abcdef"), Tags: one})
			return err
		}, "ResourceNotFoundException", ""},
		{"missing container instance", func() error {
			_, err := e.ECS.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: arn("container-instance/default/0123456789abcdef0123456789abcdef"), TagKeys: []string{"x"}})
			return err
		}, "ResourceNotFoundException", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantAPIError(t, c.call(), c.code, c.text)
		})
	}
}
