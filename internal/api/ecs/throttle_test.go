package ecs_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestThrottlingPerPrincipal: past its rate a principal gets ECS's
// ThrottlingException with a retry hint that the SDK's retryer honours,
// and another principal is not slowed by it.
func TestThrottlingPerPrincipal(t *testing.T) {
	e := flottatest.StartServer(t, flottatest.Options{RequestRate: 2, RequestBurst: 3})
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := e.ECS.ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
			t.Fatalf("request %d within the burst: %v", i+1, err)
		}
	}
	_, err := e.ECS.ListClusters(ctx, &ecs.ListClustersInput{})
	wantAPIError(t, err, "ThrottlingException", "Rate exceeded")

	r := e.Raw(t, "ListClusters", []byte(`{}`), nil)
	ms, perr := strconv.Atoi(r.Header.Get("X-Amz-Retry-After"))
	secs, serr := strconv.Atoi(r.Header.Get("Retry-After"))
	if r.Status != 400 || r.Type != "ThrottlingException" || perr != nil || ms < 1 || ms > 500 || serr != nil || secs != 1 {
		t.Fatalf("throttled answer: %d %s, X-Amz-Retry-After %q, Retry-After %q", r.Status, r.Type, r.Header.Get("X-Amz-Retry-After"), r.Header.Get("Retry-After"))
	}

	// Another principal has its own bucket.
	other, err := e.Server.IAM().IssueTemporaryCredentials(ctx, "arn:aws:iam::"+e.Server.Account().ID+":user/other", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ECSClient(other).ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
		t.Fatalf("another principal while the first is throttled: %v", err)
	}

	// The SDK with its default retries waits as told and gets through.
	patient := ecs.New(ecs.Options{Region: e.Server.Account().Region, BaseEndpoint: aws.String(e.Server.Endpoint()),
		Credentials: credentials.NewStaticCredentialsProvider(e.Root.AccessKeyID, e.Root.SecretAccessKey, "")})
	for i := 0; i < 3; i++ {
		if _, err := patient.ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
			t.Fatalf("with the SDK's retries, call %d: %v", i+1, err)
		}
	}
}
