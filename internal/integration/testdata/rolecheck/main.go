// Command rolecheck runs in a task with a task role: through the SDK's
// default credential chain alone (the container credentials provider), it
// calls ECS's ListClusters, which its role allows, and DeleteCluster, which
// its role denies. It prints what happened and exits 0 only when both went
// as the role says.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"
)

func main() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRetryMaxAttempts(1))
	if err != nil {
		fail(2, "load the default config: %v", err)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		fail(3, "retrieve credentials: %v", err)
	}
	fmt.Printf("credentials from %s, region %s\n", creds.Source, cfg.Region)
	client := ecs.NewFromConfig(cfg)
	if _, err := client.ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
		fail(4, "ListClusters: %v", err)
	}
	fmt.Println("ListClusters: allowed")
	_, err = client.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("default")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" {
		fail(5, "DeleteCluster: want AccessDeniedException, got %v", err)
	}
	fmt.Println("DeleteCluster: AccessDeniedException")
}

func fail(code int, format string, args ...any) {
	fmt.Printf(format+"\n", args...)
	os.Exit(code)
}
