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
	"time"

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

	// Run it on the default cluster, where flotta dev's agent is.
	run, err := client.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("hello")})
	if err != nil {
		log.Fatal(err)
	}
	if len(run.Tasks) == 0 {
		log.Fatalf("not placed: %s", aws.ToString(run.Failures[0].Reason))
	}
	arn := run.Tasks[0].TaskArn
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		out, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{aws.ToString(arn)}})
		if err != nil {
			log.Fatal(err)
		}
		t := out.Tasks[0]
		if aws.ToString(t.LastStatus) == "RUNNING" {
			b := t.Containers[0].NetworkBindings[0]
			fmt.Printf("task RUNNING: curl localhost:%d/\n", aws.ToInt32(b.HostPort))
			return
		}
		if aws.ToString(t.LastStatus) == "STOPPED" {
			log.Fatalf("task stopped: %s", aws.ToString(t.StoppedReason))
		}
	}
	log.Fatal("the task did not start within a minute")
}
