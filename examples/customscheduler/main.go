// Command customscheduler is a scheduler of your own for Flotta, the way ECS
// lets you write one: it decides where each task goes, starts it there with
// StartTask, and follows the event stream to react when tasks stop and
// instances come and go. Flotta still runs, tracks and reports the tasks.
//
// Its rule is one ECS's placement strategies do not have: each container
// instance gets a share of the tasks in proportion to its "weight" attribute
// (an instance without one weighs 1; weight 0 takes none). Ten tasks on
// instances of weights 1, 1, 3 put 2, 2 and 6 tasks on them. When a task it
// started stops, it starts another where the rule wants it; when an instance
// joins, leaves or changes weight, it moves tasks to match.
//
// Start `flotta dev`, export the variables it prints, register a task
// definition, give instances weights (`aws ecs put-attributes`), then:
//
//	go run ./examples/customscheduler -taskdef web -count 50
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

func main() {
	cluster := flag.String("cluster", "default", "cluster to schedule in")
	taskDef := flag.String("taskdef", "", "task definition to run (family, family:revision or ARN)")
	count := flag.Int("count", 10, "how many tasks to keep running")
	flag.Parse()
	if *taskDef == "" {
		log.Fatal("-taskdef is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	// Region, endpoint and credentials come from the AWS configuration, as
	// for any SDK program (flotta dev prints the variables to export).
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	endpoint := os.Getenv("AWS_ENDPOINT_URL_ECS")
	if endpoint == "" && cfg.BaseEndpoint != nil {
		endpoint = *cfg.BaseEndpoint
	}
	if endpoint == "" {
		log.Fatal("no endpoint: set AWS_ENDPOINT_URL to the Flotta server")
	}
	s := &Scheduler{
		ECS:            ecs.NewFromConfig(cfg),
		Events:         newEventReader(endpoint, cfg.Region, cfg.Credentials),
		Cluster:        *cluster,
		TaskDefinition: *taskDef,
		Count:          *count,
		Logf:           log.Printf,
	}
	if err := s.Run(ctx); err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}
