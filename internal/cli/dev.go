package cli

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// DemoFamily is the task definition flotta dev registers for the tour.
const DemoFamily = "demo"

// EnsureDemoTaskDefinition registers the demo task definition, through the
// API like any client, unless an ACTIVE revision of it exists.
func EnsureDemoTaskDefinition(ctx context.Context, dataDir, image string) error {
	o := &Options{DataDir: dataDir, Output: "table"}
	client, err := o.ECS(ctx)
	if err != nil {
		return err
	}
	if _, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(DemoFamily)}); err == nil {
		return nil
	}
	_, err = client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(DemoFamily),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name:         aws.String("web"),
			Image:        aws.String(image),
			Memory:       aws.Int32(64),
			Essential:    aws.Bool(true),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0)}},
			Environment:  []types.KeyValuePair{{Name: aws.String("GREETING"), Value: aws.String("Hello from Flotta!")}},
			HealthCheck: &types.HealthCheck{Command: []string{"CMD", "/flotta", "demo-app", "--check"},
				Interval: aws.Int32(5), Timeout: aws.Int32(2), Retries: aws.Int32(3)},
		}},
	})
	return err
}
