package ecs_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

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
		wantAPIError(t, err, "ResourceNotFoundException")
		_, err = e.ECS.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:s3:::bucket")})
		wantAPIError(t, err, "InvalidParameterException", "not an Amazon ECS resource ARN")
		_, err = e.ECS.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String("web")})
		wantAPIError(t, err, "InvalidParameterException")
	})
}
