package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/spf13/cobra"

	"github.com/flotta-dev/flotta/internal/flottaapi"
)

// RunCommand is `flotta run`.
func RunCommand(o *Options) *cobra.Command {
	var cluster, startedBy, group string
	var count int
	var wait, dryRun bool
	var env []string
	cmd := &cobra.Command{
		Use:   "run TASKDEF",
		Short: "Run tasks of a task definition (family, family:revision or ARN)",
		Long: `Run tasks of a task definition, as ECS RunTask does: Flotta places them on container
instances with room for them and answers at once. With --wait, follow them until
they run (or stop), showing their progress.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			in := &ecs.RunTaskInput{TaskDefinition: aws.String(args[0]), Count: aws.Int32(int32(count))}
			if cluster != "" {
				in.Cluster = aws.String(cluster)
			}
			if startedBy != "" {
				in.StartedBy = aws.String(startedBy)
			}
			if group != "" {
				in.Group = aws.String(group)
			}
			if len(env) > 0 {
				td, err := client.DescribeTaskDefinition(cmd.Context(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(args[0])})
				if err != nil {
					return err
				}
				var kvs []types.KeyValuePair
				for _, e := range env {
					k, v, ok := strings.Cut(e, "=")
					if !ok {
						return fmt.Errorf("--env %q: use NAME=VALUE", e)
					}
					kvs = append(kvs, types.KeyValuePair{Name: aws.String(k), Value: aws.String(v)})
				}
				in.Overrides = &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{
					Name: td.TaskDefinition.ContainerDefinitions[0].Name, Environment: kvs}}}
			}
			if dryRun {
				return o.plan(cmd, in)
			}
			out, err := client.RunTask(cmd.Context(), in)
			if err != nil {
				return err
			}
			for _, f := range out.Failures {
				fmt.Fprintf(cmd.ErrOrStderr(), "not placed: %s %s %s\n", str(f.Reason), str(f.Arn), aws.ToString(f.Detail))
			}
			if len(out.Tasks) == 0 {
				return fmt.Errorf("no task was placed")
			}
			tasks := out.Tasks
			if wait {
				if tasks, err = waitTasks(cmd.Context(), client, cluster, tasks, cmd.ErrOrStderr(), func(t types.Task) bool {
					return aws.ToString(t.LastStatus) == "RUNNING" || aws.ToString(t.LastStatus) == "STOPPED"
				}); err != nil {
					return err
				}
			}
			if err := printTasks(cmd, o, tasks); err != nil {
				return err
			}
			for _, t := range tasks {
				if aws.ToString(t.LastStatus) == "STOPPED" {
					return fmt.Errorf("task %s stopped: %s", shortID(aws.ToString(t.TaskArn)), aws.ToString(t.StoppedReason))
				}
			}
			if len(out.Tasks) < count {
				return fmt.Errorf("%d of %d tasks placed", len(out.Tasks), count)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&cluster, "cluster", "", "cluster (default: default)")
	cmd.Flags().IntVar(&count, "count", 1, "how many tasks (1 to 10)")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the tasks run (or stop), showing progress")
	cmd.Flags().StringVar(&startedBy, "started-by", "", "startedBy tag for the tasks")
	cmd.Flags().StringVar(&group, "group", "", "task group")
	cmd.Flags().StringArrayVar(&env, "env", nil, "NAME=VALUE for the first container (repeatable)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show where the tasks would go, and why not, without running them")
	return cmd
}

// plan asks where RunTask would place the tasks, without placing them.
func (o *Options) plan(cmd *cobra.Command, in *ecs.RunTaskInput) error {
	body := map[string]any{"taskDefinition": aws.ToString(in.TaskDefinition), "count": aws.ToInt32(in.Count)}
	if in.Cluster != nil {
		body["cluster"] = *in.Cluster
	}
	if in.Group != nil {
		body["group"] = *in.Group
	}
	var out flottaapi.PlanTasksOutput
	if err := o.callFlotta(cmd.Context(), "PlanTasks", body, &out); err != nil {
		return err
	}
	if o.Output == "json" {
		return printJSON(cmd.OutOrStdout(), out)
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "Dry run: %d of %d tasks would be placed; nothing was started.\n\n", len(out.Placements), aws.ToInt32(in.Count))
	rows := [][]string{}
	for i, p := range out.Placements {
		rows = append(rows, []string{fmt.Sprint(i + 1), shortID(p.ContainerInstanceArn), orDefault(p.AvailabilityZone, "-")})
	}
	if err := table(w, []string{"TASK", "INSTANCE", "ZONE"}, rows); err != nil {
		return err
	}
	if len(out.Reasons) > 0 {
		fmt.Fprintln(w, "\nWhy the next task fits nowhere:")
		for _, r := range out.Reasons {
			fmt.Fprintf(w, "  %-45s %d instance(s)\n", r.Reason, r.Instances)
		}
	}
	return nil
}

// waitTasks polls tasks until done holds for each, printing each change.
func waitTasks(ctx context.Context, client *ecs.Client, cluster string, tasks []types.Task, w io.Writer, done func(types.Task) bool) ([]types.Task, error) {
	arns := make([]string, len(tasks))
	for i, t := range tasks {
		arns[i] = aws.ToString(t.TaskArn)
	}
	seen := map[string]string{}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		out, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: optional(cluster), Tasks: arns})
		if err != nil {
			return nil, err
		}
		all := true
		for _, t := range out.Tasks {
			line := aws.ToString(t.LastStatus)
			if h := t.HealthStatus; h != "" && h != types.HealthStatusUnknown {
				line += " " + string(h)
			}
			if seen[aws.ToString(t.TaskArn)] != line {
				seen[aws.ToString(t.TaskArn)] = line
				fmt.Fprintf(w, "%s  %s  %s\n", time.Now().Format("15:04:05"), shortID(aws.ToString(t.TaskArn)), line)
			}
			if !done(t) {
				all = false
			}
		}
		if all {
			return out.Tasks, nil
		}
		if time.Now().After(deadline) {
			return out.Tasks, errors.New("gave up waiting after 10 minutes")
		}
		select {
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func shortID(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

func defName(taskDefArn string) string { return shortID(taskDefArn) }

func ports(t types.Task) string {
	var out []string
	for _, c := range t.Containers {
		for _, b := range c.NetworkBindings {
			out = append(out, fmt.Sprintf("%d->%d/%s", aws.ToInt32(b.HostPort), aws.ToInt32(b.ContainerPort), b.Protocol))
		}
		for _, n := range c.NetworkInterfaces {
			if ip := aws.ToString(n.PrivateIpv4Address); ip != "" && !strings.Contains(strings.Join(out, ","), ip) {
				out = append(out, ip)
			}
		}
	}
	return orDefault(strings.Join(out, ","), "-")
}

func printTasks(cmd *cobra.Command, o *Options, tasks []types.Task) error {
	if o.Output == "json" {
		return printJSON(cmd.OutOrStdout(), map[string]any{"tasks": tasks})
	}
	rows := make([][]string, 0, len(tasks))
	for _, t := range tasks {
		rows = append(rows, []string{shortID(aws.ToString(t.TaskArn)), defName(aws.ToString(t.TaskDefinitionArn)),
			aws.ToString(t.LastStatus), aws.ToString(t.DesiredStatus), orDefault(string(t.HealthStatus), "-"),
			shortID(orDefault(aws.ToString(t.ContainerInstanceArn), "-")), when(t.StartedAt), ports(t)})
	}
	return table(cmd.OutOrStdout(), []string{"TASK", "DEFINITION", "LAST", "DESIRED", "HEALTH", "INSTANCE", "STARTED", "PORTS"}, rows)
}

// TaskCommand is `flotta task`.
func TaskCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{Use: "task", Short: "List, describe and stop tasks"}
	var cluster string
	cmd.PersistentFlags().StringVar(&cluster, "cluster", "", "cluster (default: default)")

	var family, status, instance string
	ls := &cobra.Command{
		Use: "ls", Aliases: []string{"list"}, Short: "List tasks (those meant to run, unless --status stopped)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			in := &ecs.ListTasksInput{Cluster: optional(cluster), Family: optional(family), ContainerInstance: optional(instance),
				DesiredStatus: types.DesiredStatus(strings.ToUpper(status))}
			tasks, err := listTasks(cmd.Context(), client, in)
			if err != nil {
				return err
			}
			return printTasks(cmd, o, tasks)
		},
	}
	ls.Flags().StringVar(&family, "family", "", "only tasks of this family")
	ls.Flags().StringVar(&status, "status", "running", "running or stopped (the desired status)")
	ls.Flags().StringVar(&instance, "instance", "", "only tasks on this container instance")

	describe := &cobra.Command{
		Use: "describe TASK", Short: "Describe a task and its containers", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			out, err := client.DescribeTasks(cmd.Context(), &ecs.DescribeTasksInput{Cluster: optional(cluster), Tasks: args,
				Include: []types.TaskField{types.TaskFieldTags}})
			if err != nil {
				return err
			}
			if len(out.Failures) > 0 {
				return fmt.Errorf("task %s: %s", args[0], str(out.Failures[0].Reason))
			}
			if o.Output == "json" {
				return printJSON(cmd.OutOrStdout(), out)
			}
			t := out.Tasks[0]
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Task:        %s\nDefinition:  %s\nStatus:      %s (desired %s)\nHealth:      %s\nInstance:    %s\n",
				aws.ToString(t.TaskArn), defName(aws.ToString(t.TaskDefinitionArn)), aws.ToString(t.LastStatus), aws.ToString(t.DesiredStatus),
				orDefault(string(t.HealthStatus), "-"), orDefault(aws.ToString(t.ContainerInstanceArn), "-"))
			fmt.Fprintf(w, "Created:     %s\nStarted:     %s\nStopped:     %s\n", when(t.CreatedAt), when(t.StartedAt), when(t.StoppedAt))
			if t.StopCode != "" {
				fmt.Fprintf(w, "Stop code:   %s\nReason:      %s\n", t.StopCode, aws.ToString(t.StoppedReason))
			}
			rows := [][]string{}
			for _, c := range t.Containers {
				exit := "-"
				if c.ExitCode != nil {
					exit = strconv.Itoa(int(*c.ExitCode))
				}
				rows = append(rows, []string{str(c.Name), str(c.LastStatus), orDefault(string(c.HealthStatus), "-"), exit,
					orDefault(shortRuntime(aws.ToString(c.RuntimeId)), "-"), ports(types.Task{Containers: []types.Container{c}}), orDefault(aws.ToString(c.Reason), "")})
			}
			fmt.Fprintln(w)
			return table(w, []string{"CONTAINER", "STATUS", "HEALTH", "EXIT", "RUNTIME ID", "PORTS", "REASON"}, rows)
		},
	}

	var reason string
	var wait bool
	stop := &cobra.Command{
		Use: "stop TASK", Short: "Stop a task (SIGTERM, then SIGKILL after each container's stopTimeout)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			out, err := client.StopTask(cmd.Context(), &ecs.StopTaskInput{Cluster: optional(cluster), Task: aws.String(args[0]), Reason: optional(reason)})
			if err != nil {
				return err
			}
			tasks := []types.Task{*out.Task}
			if wait {
				if tasks, err = waitTasks(cmd.Context(), client, cluster, tasks, cmd.ErrOrStderr(), func(t types.Task) bool {
					return aws.ToString(t.LastStatus) == "STOPPED"
				}); err != nil {
					return err
				}
			}
			return printTasks(cmd, o, tasks)
		},
	}
	stop.Flags().StringVar(&reason, "reason", "", "why (shown as the task's stoppedReason)")
	stop.Flags().BoolVar(&wait, "wait", false, "wait until the task has stopped")
	cmd.AddCommand(ls, describe, stop)
	return cmd
}

// listTasks lists every page of ListTasks and describes the tasks.
func listTasks(ctx context.Context, client *ecs.Client, in *ecs.ListTasksInput) ([]types.Task, error) {
	var arns []string
	p := ecs.NewListTasksPaginator(client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		arns = append(arns, page.TaskArns...)
	}
	var tasks []types.Task
	for start := 0; start < len(arns); start += 100 {
		out, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: in.Cluster, Tasks: arns[start:min(start+100, len(arns))]})
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, out.Tasks...)
	}
	return tasks, nil
}

func shortRuntime(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
