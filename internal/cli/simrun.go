package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// simSteadyTimeout bounds how long sim --run waits for services to be steady.
const simSteadyTimeout = 10 * time.Minute

// simRunServices plays the simulated instances' agents: each task placed on
// them is reported RUNNING (SubmitTaskStateChange, as an agent reports a
// container it started), until every service runs its desired count with its
// deployment COMPLETED. It returns how many tasks run then.
func (o *Options) simRunServices(ctx context.Context, client *ecs.Client, cluster string, names []string, so SimOptions, w io.Writer) (int, error) {
	fmt.Fprintf(w, "Running the placed tasks (each reported RUNNING by its simulated agent)...\n")
	deadline := time.Now().Add(simSteadyTimeout)
	var mu sync.Mutex
	reported := map[string]bool{}
	for {
		var todo []string
		p := ecs.NewListTasksPaginator(client, &ecs.ListTasksInput{Cluster: aws.String(cluster), DesiredStatus: types.DesiredStatusRunning})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return 0, err
			}
			for _, arn := range page.TaskArns {
				if !reported[arn] {
					todo = append(todo, arn)
				}
			}
		}
		if err := parallel(ctx, len(todo), so.Concurrency, func(i int) error {
			_, err := client.SubmitTaskStateChange(ctx, &ecs.SubmitTaskStateChangeInput{Cluster: aws.String(cluster), Task: aws.String(todo[i]),
				Status: aws.String("RUNNING"), Containers: []types.ContainerStateChange{{ContainerName: aws.String("app"), Status: aws.String("RUNNING")}}})
			if err != nil {
				return fmt.Errorf("report %s running: %w", todo[i], err)
			}
			mu.Lock()
			reported[todo[i]] = true
			mu.Unlock()
			return nil
		}); err != nil {
			return 0, err
		}
		running, steady, err := servicesSteady(ctx, client, cluster, names)
		if err != nil {
			return 0, err
		}
		if steady {
			return running, nil
		}
		if time.Now().After(deadline) {
			return running, fmt.Errorf("the services were not steady within %s: %d tasks running", simSteadyTimeout, running)
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// servicesSteady says whether every named service runs its desired count,
// with one deployment, COMPLETED; and how many tasks they run.
func servicesSteady(ctx context.Context, client *ecs.Client, cluster string, names []string) (running int, steady bool, err error) {
	steady = true
	for i := 0; i < len(names); i += 10 {
		out, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: names[i:min(i+10, len(names))]})
		if err != nil {
			return 0, false, err
		}
		for _, s := range out.Services {
			running += int(s.RunningCount)
			if s.RunningCount != s.DesiredCount || s.PendingCount != 0 || len(s.Deployments) != 1 ||
				s.Deployments[0].RolloutState != types.DeploymentRolloutStateCompleted {
				steady = false
			}
		}
	}
	return running, steady, nil
}
