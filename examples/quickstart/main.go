// Command quickstart talks to Flotta with the official AWS SDK for Go, the way
// any ECS program does. Start `flotta dev`, export the three variables it
// prints, then:
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func main() {
	ctx := context.Background()
	// Region, endpoint and credentials all come from the files flotta dev wrote
	// (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE).
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	client := ecs.NewFromConfig(cfg)

	cluster, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("quickstart")})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("cluster:", aws.ToString(cluster.Cluster.ClusterArn))

	td, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("hello"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name:         aws.String("web"),
			Image:        aws.String("flotta/demo-app:latest"),
			Memory:       aws.Int32(64),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("task definition:", aws.ToString(td.TaskDefinition.TaskDefinitionArn))

	list, err := client.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("hello")})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("revisions of hello:", len(list.TaskDefinitionArns))
}
