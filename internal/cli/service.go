package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/spf13/cobra"

	"github.com/flotta-dev/flotta/internal/flottaapi"
)

// ServiceCommand is `flotta service`.
func ServiceCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{Use: "service", Aliases: []string{"svc"}, Short: "Create, deploy, scale and watch services"}
	var cluster string
	cmd.PersistentFlags().StringVar(&cluster, "cluster", "", "cluster (default: default)")
	cmd.AddCommand(serviceCreate(o, &cluster), serviceUpdate(o, &cluster, "update"), serviceUpdate(o, &cluster, "deploy"),
		serviceScale(o, &cluster), serviceList(o, &cluster), serviceDescribe(o, &cluster), serviceEvents(o, &cluster),
		serviceRemove(o, &cluster), serviceRollback(o, &cluster), servicePlan(o, &cluster), servicePromote(o, &cluster))
	return cmd
}

// deploymentFlags are the rollout settings create and update share.
type deploymentFlags struct {
	minHealthy, maxPercent int
	circuitBreaker         bool
	rollback               bool
}

func (d *deploymentFlags) add(cmd *cobra.Command) {
	cmd.Flags().IntVar(&d.minHealthy, "min-healthy", 0, "minimumHealthyPercent: tasks that must stay healthy during a deployment, % of the desired count")
	cmd.Flags().IntVar(&d.maxPercent, "max-percent", 0, "maximumPercent: tasks that may run during a deployment, % of the desired count")
	cmd.Flags().BoolVar(&d.circuitBreaker, "circuit-breaker", false, "stop a deployment whose tasks keep failing")
	cmd.Flags().BoolVar(&d.rollback, "rollback", false, "with --circuit-breaker: roll back to the last completed deployment")
}

// placementStrategyUsage is --placement-strategy's help; it was --strategy
// until --strategy became the deployment strategy.
const placementStrategyUsage = "placement strategy: spread:FIELD, binpack:cpu|memory or random (repeatable, in order; was --strategy before --strategy became the deployment strategy)"

// placementFlags parse --constraint and --placement-strategy.
func placementFlags(constraints, strategies []string) ([]types.PlacementConstraint, []types.PlacementStrategy, error) {
	var cs []types.PlacementConstraint
	for _, c := range constraints {
		typ, expr, _ := strings.Cut(c, ":")
		pc := types.PlacementConstraint{Type: types.PlacementConstraintType(typ)}
		if expr != "" {
			pc.Expression = aws.String(expr)
		}
		cs = append(cs, pc)
	}
	var ss []types.PlacementStrategy
	for _, s := range strategies {
		typ, field, _ := strings.Cut(s, ":")
		ps := types.PlacementStrategy{Type: types.PlacementStrategyType(typ)}
		if field != "" {
			ps.Field = aws.String(field)
		}
		ss = append(ss, ps)
	}
	return cs, ss, nil
}

func serviceCreate(o *Options, cluster *string) *cobra.Command {
	var taskDef string
	var desired, grace int
	var daemon, wait bool
	var tags, constraints, strategies []string
	var d deploymentFlags
	var sf strategyFlags
	var lbf lbFlags
	cmd := &cobra.Command{
		Use:   "create NAME --task-definition TASKDEF",
		Short: "Create a service: keep tasks of a task definition running",
		Long: `Create a service, as ECS CreateService does. A REPLICA service keeps --desired-count tasks
running, spread across availability zones and then instances unless --placement-strategy
says otherwise; a --daemon service runs one task on every container instance that fits it.

--strategy is the deployment strategy: rolling (the default), or blue-green, canary or
linear, which run the new revision beside the old one in a second target group and
move production traffic to it by a listener rule's weights (see flotta service deploy).
These need a load balancer with an advancedConfiguration; --lb makes one (below).

With --lb NAME:PORT the service takes the traffic of load balancer NAME's listener on
PORT (see flotta lb create). The traffic goes to --lb-container, or to the first
container with a port mapping, on that container's first mapped port. The CLI creates a
target group named after the service (HTTP, that port, target type ip for awsvpc tasks
and instance otherwise, health check path --lb-health-path) and a listener on PORT if
the load balancer has none (HTTP, or TCP for a network load balancer). The listener
forwards to the group by default, unless --lb-path is given and the listener already
serves something other than the 503 of flotta lb create: then a rule with one more than
the listener's highest priority forwards the requests whose path matches. If ECS refuses
the service, these changes are undone. The service's tasks are registered in the group
as they run; flotta service describe shows their health.

With --lb and --strategy blue-green, canary or linear, the CLI also creates the second
(green) target group, named after the service with -green, and makes the listener's
default action (or, with --lb-path, the new rule) forward to both groups, all traffic to
the first: that rule is the production listener rule of the load balancer's
advancedConfiguration, the green group its alternateTargetGroupArn. For a network load
balancer, or to name a test listener rule or a role, give the service's loadBalancers
with an advancedConfiguration through the AWS CLI or an SDK instead.

  flotta service create web -t web --lb front:80
  flotta service create web -t web --lb front:80 --strategy canary --canary-percent 10 --canary-bake 5m --bake 5m
  flotta service create api -t api --lb front:80 --lb-path '/api/*' --lb-container app`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			if err := lbf.check(cmd); err != nil {
				return err
			}
			cs, ss, err := placementFlags(constraints, strategies)
			if err != nil {
				return err
			}
			dc, _, err := deploymentConfig(cmd, nil, &d, &sf)
			if err != nil {
				return err
			}
			in := &ecs.CreateServiceInput{ServiceName: aws.String(args[0]), TaskDefinition: aws.String(taskDef), Cluster: optional(*cluster),
				DeploymentConfiguration: dc, PlacementConstraints: cs, PlacementStrategy: ss}
			lbf.shift = dc != nil && shiftsTraffic(dc.Strategy)
			if daemon {
				in.SchedulingStrategy = types.SchedulingStrategyDaemon
			} else {
				in.DesiredCount = aws.Int32(int32(desired))
			}
			if cmd.Flags().Changed("grace-period") {
				in.HealthCheckGracePeriodSeconds = aws.Int32(int32(grace))
			}
			for _, t := range tags {
				k, v, ok := strings.Cut(t, "=")
				if !ok {
					return fmt.Errorf("--tag %q: use KEY=VALUE", t)
				}
				in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
			var attached *lbAttachment
			if lbf.target != "" {
				if attached, err = lbf.attach(cmd.Context(), cmd.ErrOrStderr(), o, client, args[0], taskDef); err != nil {
					return err
				}
				in.LoadBalancers = []types.LoadBalancer{attached.LoadBalancer}
			}
			out, err := client.CreateService(cmd.Context(), in)
			if err != nil {
				if attached != nil {
					attached.rollback(context.WithoutCancel(cmd.Context()), cmd.ErrOrStderr())
				}
				return err
			}
			if wait {
				return o.follow(cmd, client, *cluster, args[0])
			}
			return printServices(cmd, o, []types.Service{*out.Service})
		},
	}
	cmd.Flags().StringVarP(&taskDef, "task-definition", "t", "", "task definition: family, family:revision or ARN (required)")
	cmd.MarkFlagRequired("task-definition")
	cmd.Flags().IntVarP(&desired, "desired-count", "n", 1, "how many tasks to keep running")
	cmd.Flags().BoolVar(&daemon, "daemon", false, "one task on every container instance (no desired count)")
	cmd.Flags().IntVar(&grace, "grace-period", 0, "healthCheckGracePeriodSeconds: how long failing health checks are ignored after a task starts")
	cmd.Flags().StringArrayVar(&tags, "tag", nil, "tag the service, KEY=VALUE (repeatable)")
	cmd.Flags().StringArrayVar(&constraints, "constraint", nil, "placement constraint: distinctInstance, or memberOf:EXPRESSION (repeatable)")
	cmd.Flags().StringArrayVar(&strategies, "placement-strategy", nil, placementStrategyUsage)
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the first deployment until it completes or fails")
	cmd.Flags().Duration("timeout", 30*time.Minute, "with --wait: stop following after this long")
	d.add(cmd)
	sf.add(cmd)
	lbf.add(cmd)
	return cmd
}

// updateFlags are the settings update, deploy and plan share.
type updateFlags struct {
	taskDef                 string
	desired, grace          int
	force                   bool
	constraints, strategies []string
	d                       deploymentFlags
	s                       strategyFlags
}

func (u *updateFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&u.taskDef, "task-definition", "t", "", "task definition to roll out: family, family:revision or ARN")
	cmd.Flags().IntVarP(&u.desired, "desired-count", "n", 0, "new desired count")
	cmd.Flags().IntVar(&u.grace, "grace-period", 0, "healthCheckGracePeriodSeconds")
	cmd.Flags().BoolVar(&u.force, "force-new-deployment", false, "replace every task, even with an unchanged task definition")
	cmd.Flags().StringArrayVar(&u.constraints, "constraint", nil, "replace the placement constraints (repeatable)")
	cmd.Flags().StringArrayVar(&u.strategies, "placement-strategy", nil, "replace the placement strategies: spread:FIELD, binpack:cpu|memory or random (repeatable, in order; was --strategy before --strategy became the deployment strategy)")
	u.d.add(cmd)
	u.s.add(cmd)
}

// deploymentFlagsNote is the part of update's help about the deployment
// flags.
const deploymentFlagsNote = `The deployment flags change only what they name: the rest of the service's
deploymentConfiguration (its strategy, bake times, lifecycle hooks, circuit breaker) is
kept. --strategy is the deployment strategy (rolling, blue-green, canary, linear);
placement strategies are --placement-strategy. Bake times are whole minutes (5m, 1h, 90).`

// serviceUpdate is `update` and `deploy`: deploy is update that follows the
// rollout by default.
func serviceUpdate(o *Options, cluster *string, verb string) *cobra.Command {
	var wait bool
	var u updateFlags
	cmd := &cobra.Command{
		Use:   verb + " NAME",
		Short: "Change a service: a new task definition rolls out a new deployment",
		Long: `Change a service, as ECS UpdateService does: a new task definition, --force-new-deployment
or new placement settings start a new deployment.

` + deploymentFlagsNote,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			in, err := updateInput(cmd, client, *cluster, args[0], &u)
			if err != nil {
				return err
			}
			out, err := client.UpdateService(cmd.Context(), in)
			if err != nil {
				return err
			}
			if wait {
				return o.follow(cmd, client, *cluster, args[0])
			}
			return printServices(cmd, o, []types.Service{*out.Service})
		},
	}
	if verb == "deploy" {
		cmd.Short = "Roll out a task definition and follow the deployment until it completes"
		cmd.Long = `Roll out a new task definition (or, with --force-new-deployment, fresh copies of the current
one) and follow the deployment: for each deployment its desired, pending, running, healthy
and failed tasks, and the service's events as they come. Exits non-zero if the deployment
fails (for example when its circuit breaker rolls it back).

With a blue/green, canary or linear strategy (--strategy, or the service's own) it also
shows, as they change, the deployment's lifecycle stage (PRE_SCALE_UP ... BAKE_TIME,
CLEAN_UP), the production traffic split between the old (blue) and new (green) target
group, read from each production listener rule's weights, the lifecycle hooks' results,
and how it ends: SUCCESSFUL, or ROLLBACK_SUCCESSFUL with the reason (exit status 1).
flotta service promote NAME, from another terminal, skips the remaining bakes.

  flotta service deploy web -t web:2 --strategy canary --canary-percent 10 --canary-bake 5m --bake 5m
  flotta service deploy web -t web:3 --strategy linear --linear-step 25 --step-bake 2m

` + deploymentFlagsNote
	}
	u.add(cmd)
	cmd.Flags().BoolVar(&wait, "wait", verb == "deploy", "follow the deployment until it completes or fails")
	cmd.Flags().Duration("timeout", 30*time.Minute, "with --wait: stop following after this long")
	return cmd
}

// updateInput is the UpdateService request the flags ask for. With
// deployment flags it reads the service's deployment configuration, to
// change only what the flags name.
func updateInput(cmd *cobra.Command, client *ecs.Client, cluster, name string, u *updateFlags) (*ecs.UpdateServiceInput, error) {
	in := &ecs.UpdateServiceInput{Service: aws.String(name), Cluster: optional(cluster), TaskDefinition: optional(u.taskDef),
		ForceNewDeployment: u.force}
	if deploymentChanged(cmd) {
		s, err := describeOne(cmd.Context(), client, cluster, name)
		if err != nil {
			return nil, err
		}
		dc, notes, err := deploymentConfig(cmd, s.DeploymentConfiguration, &u.d, &u.s)
		if err != nil {
			return nil, err
		}
		for _, n := range notes {
			fmt.Fprintf(cmd.ErrOrStderr(), "note: %s\n", n)
		}
		in.DeploymentConfiguration = dc
	}
	if cmd.Flags().Changed("desired-count") {
		in.DesiredCount = aws.Int32(int32(u.desired))
	}
	if cmd.Flags().Changed("grace-period") {
		in.HealthCheckGracePeriodSeconds = aws.Int32(int32(u.grace))
	}
	cs, ss, err := placementFlags(u.constraints, u.strategies)
	if err != nil {
		return nil, err
	}
	if cmd.Flags().Changed("constraint") {
		in.PlacementConstraints = cs
	}
	if cmd.Flags().Changed("placement-strategy") {
		in.PlacementStrategy = ss
	}
	return in, nil
}

func serviceScale(o *Options, cluster *string) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "scale NAME COUNT",
		Short: "Set a service's desired count",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var n int32
			if _, err := fmt.Sscanf(args[1], "%d", &n); err != nil {
				return fmt.Errorf("COUNT %q is not a number", args[1])
			}
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			out, err := client.UpdateService(cmd.Context(), &ecs.UpdateServiceInput{Service: aws.String(args[0]), Cluster: optional(*cluster), DesiredCount: aws.Int32(n)})
			if err != nil {
				return err
			}
			if wait {
				return o.follow(cmd, client, *cluster, args[0])
			}
			return printServices(cmd, o, []types.Service{*out.Service})
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the service runs COUNT tasks")
	return cmd
}

func serviceList(o *Options, cluster *string) *cobra.Command {
	return &cobra.Command{
		Use: "ls", Aliases: []string{"list"}, Short: "List services", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			var arns []string
			p := ecs.NewListServicesPaginator(client, &ecs.ListServicesInput{Cluster: optional(*cluster)})
			for p.HasMorePages() {
				page, err := p.NextPage(cmd.Context())
				if err != nil {
					return err
				}
				arns = append(arns, page.ServiceArns...)
			}
			var svcs []types.Service
			for start := 0; start < len(arns); start += 10 {
				out, err := client.DescribeServices(cmd.Context(), &ecs.DescribeServicesInput{Cluster: optional(*cluster), Services: arns[start:min(start+10, len(arns))]})
				if err != nil {
					return err
				}
				svcs = append(svcs, out.Services...)
			}
			return printServices(cmd, o, svcs)
		},
	}
}

func printServices(cmd *cobra.Command, o *Options, svcs []types.Service) error {
	if o.Output == "json" {
		return printJSON(cmd.OutOrStdout(), map[string]any{"services": svcs})
	}
	rows := make([][]string, 0, len(svcs))
	for _, s := range svcs {
		rollout := "-"
		if len(s.Deployments) > 0 {
			rollout = string(s.Deployments[0].RolloutState)
		}
		rows = append(rows, []string{aws.ToString(s.ServiceName), aws.ToString(s.Status), string(s.SchedulingStrategy),
			fmt.Sprint(s.DesiredCount), fmt.Sprint(s.RunningCount), fmt.Sprint(s.PendingCount), defName(aws.ToString(s.TaskDefinition)), rollout})
	}
	return table(cmd.OutOrStdout(), []string{"NAME", "STATUS", "STRATEGY", "DESIRED", "RUNNING", "PENDING", "DEFINITION", "ROLLOUT"}, rows)
}

func describeOne(ctx context.Context, client *ecs.Client, cluster, name string) (*types.Service, error) {
	out, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: optional(cluster), Services: []string{name},
		Include: []types.ServiceField{types.ServiceFieldTags}})
	if err != nil {
		return nil, err
	}
	if len(out.Services) == 0 {
		reason := "MISSING"
		if len(out.Failures) > 0 {
			reason = str(out.Failures[0].Reason)
		}
		return nil, fmt.Errorf("service %s: %s", name, reason)
	}
	return &out.Services[0], nil
}

func serviceDescribe(o *Options, cluster *string) *cobra.Command {
	return &cobra.Command{
		Use: "describe NAME", Short: "Describe a service, its load balancer targets' health, its deployments and latest events", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			s, err := describeOne(cmd.Context(), client, *cluster, args[0])
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(cmd.OutOrStdout(), s)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Service:     %s\nStatus:      %s\nStrategy:    %s\nDefinition:  %s\nTasks:       %d desired, %d running, %d pending\n",
				aws.ToString(s.ServiceArn), aws.ToString(s.Status), s.SchedulingStrategy, defName(aws.ToString(s.TaskDefinition)), s.DesiredCount, s.RunningCount, s.PendingCount)
			if dc := s.DeploymentConfiguration; dc != nil {
				cb := "off"
				if dc.DeploymentCircuitBreaker != nil && dc.DeploymentCircuitBreaker.Enable {
					cb = "on"
					if dc.DeploymentCircuitBreaker.Rollback {
						cb += ", rollback"
					}
				}
				fmt.Fprintf(w, "Rollout:     minimum healthy %d%%, maximum %d%%, circuit breaker %s\n", aws.ToInt32(dc.MinimumHealthyPercent), aws.ToInt32(dc.MaximumPercent), cb)
			}
			for _, t := range s.Tags {
				fmt.Fprintf(w, "Tag:         %s=%s\n", aws.ToString(t.Key), aws.ToString(t.Value))
			}
			if err := serviceTargetHealth(cmd.Context(), w, o, s); err != nil {
				return err
			}
			if err := serviceRegistries(cmd.Context(), w, o, s); err != nil {
				return err
			}
			fmt.Fprintln(w)
			rows := [][]string{}
			for _, d := range s.Deployments {
				rows = append(rows, []string{aws.ToString(d.Id), aws.ToString(d.Status), defName(aws.ToString(d.TaskDefinition)), fmt.Sprint(d.DesiredCount),
					fmt.Sprint(d.PendingCount), fmt.Sprint(d.RunningCount), fmt.Sprint(d.FailedTasks), string(d.RolloutState), aws.ToString(d.RolloutStateReason)})
			}
			if err := table(w, []string{"DEPLOYMENT", "STATUS", "DEFINITION", "DESIRED", "PENDING", "RUNNING", "FAILED", "ROLLOUT", "REASON"}, rows); err != nil {
				return err
			}
			fmt.Fprintln(w, "\nEvents (newest first):")
			for i, e := range s.Events {
				if i == 10 {
					fmt.Fprintf(w, "  ... %d more: flotta service events %s\n", len(s.Events)-10, args[0])
					break
				}
				fmt.Fprintf(w, "  %s  %s\n", when(e.CreatedAt), aws.ToString(e.Message))
			}
			return nil
		},
	}
}

func serviceEvents(o *Options, cluster *string) *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use: "events NAME", Short: "Show a service's events, oldest first (--follow for new ones)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			seen := map[string]bool{}
			for {
				s, err := describeOne(cmd.Context(), client, *cluster, args[0])
				if err != nil {
					return err
				}
				printNewEvents(cmd.OutOrStdout(), s.Events, seen)
				if !follow {
					return nil
				}
				select {
				case <-time.After(time.Second):
				case <-cmd.Context().Done():
					return nil
				}
			}
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new events until interrupted")
	return cmd
}

// printNewEvents prints, oldest first, the events not seen yet.
func printNewEvents(w io.Writer, events []types.ServiceEvent, seen map[string]bool) {
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		if seen[aws.ToString(e.Id)] {
			continue
		}
		seen[aws.ToString(e.Id)] = true
		fmt.Fprintf(w, "%s  %s\n", when(e.CreatedAt), aws.ToString(e.Message))
	}
}

func serviceRemove(o *Options, cluster *string) *cobra.Command {
	var force, wait bool
	cmd := &cobra.Command{
		Use: "rm NAME", Aliases: []string{"delete"}, Short: "Delete a service: its tasks stop, then it is INACTIVE", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			out, err := client.DeleteService(cmd.Context(), &ecs.DeleteServiceInput{Service: aws.String(args[0]), Cluster: optional(*cluster), Force: aws.Bool(force)})
			if err != nil {
				return err
			}
			if wait {
				for aws.ToString(out.Service.Status) != "INACTIVE" {
					select {
					case <-time.After(500 * time.Millisecond):
					case <-cmd.Context().Done():
						return cmd.Context().Err()
					}
					s, err := describeOne(cmd.Context(), client, *cluster, args[0])
					if err != nil {
						return err
					}
					out.Service = s
				}
			}
			return printServices(cmd, o, []types.Service{*out.Service})
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "delete even if the service still has a desired count above 0")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until its tasks have stopped and the service is INACTIVE")
	return cmd
}

func serviceRollback(o *Options, cluster *string) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "rollback NAME",
		Short: "Roll a service back: stop the deployment in progress, or return to the previous revision",
		Long: `Roll a service back. If a deployment is in progress, stop it with a rollback (ECS
StopServiceDeployment); otherwise deploy again the task definition the last deployment
replaced.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			list, err := client.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Service: aws.String(args[0]), Cluster: optional(*cluster)})
			if err != nil {
				return err
			}
			if len(list.ServiceDeployments) == 0 {
				return errors.New("the service has no deployment to roll back")
			}
			last := list.ServiceDeployments[0]
			switch last.Status {
			case types.ServiceDeploymentStatusPending, types.ServiceDeploymentStatusInProgress:
				if _, err := client.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: last.ServiceDeploymentArn,
					StopType: types.StopServiceDeploymentStopTypeRollback}); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "rolling back deployment %s\n", shortID(aws.ToString(last.ServiceDeploymentArn)))
			default:
				d, err := client.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(last.ServiceDeploymentArn)}})
				if err != nil {
					return err
				}
				if len(d.ServiceDeployments) == 0 || len(d.ServiceDeployments[0].SourceServiceRevisions) == 0 {
					return errors.New("the last deployment replaced nothing: there is no previous revision")
				}
				revs, err := client.DescribeServiceRevisions(ctx, &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: []string{aws.ToString(d.ServiceDeployments[0].SourceServiceRevisions[0].Arn)}})
				if err != nil {
					return err
				}
				if len(revs.ServiceRevisions) == 0 {
					return errors.New("the previous revision is no longer known")
				}
				prev := aws.ToString(revs.ServiceRevisions[0].TaskDefinition)
				if _, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String(args[0]), Cluster: optional(*cluster), TaskDefinition: aws.String(prev)}); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "deploying the previous revision, %s\n", defName(prev))
			}
			if wait {
				return o.follow(cmd, client, *cluster, args[0])
			}
			s, err := describeOne(ctx, client, *cluster, args[0])
			if err != nil {
				return err
			}
			return printServices(cmd, o, []types.Service{*s})
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the rollback until it completes")
	return cmd
}

// follow shows a service's deployments and new events until its rollout
// completes (nil) or fails (an error).
func (o *Options) follow(cmd *cobra.Command, client *ecs.Client, cluster, name string) error {
	ctx := cmd.Context()
	limit := 30 * time.Minute
	if f := cmd.Flags().Lookup("timeout"); f != nil {
		if d, err := time.ParseDuration(f.Value.String()); err == nil && d > 0 {
			limit = d
		}
	}
	w := cmd.ErrOrStderr()
	seen := map[string]bool{}
	first := true
	last, ours := "", ""
	deadline := time.Now().Add(limit)
	for {
		s, err := describeOne(ctx, client, cluster, name)
		if err != nil {
			return err
		}
		if first {
			if shiftsTrafficWith(s) {
				// A traffic-shifting deployment under way; a change that
				// started none (a new desired count) is followed as before.
				list, err := client.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Service: aws.String(name), Cluster: optional(cluster)})
				if err != nil {
					return err
				}
				if len(list.ServiceDeployments) > 0 && !serviceDeploymentDone(list.ServiceDeployments[0].Status) {
					return o.followShift(cmd, client, cluster, name, list.ServiceDeployments[0], limit)
				}
			}
			// Only the events from now on.
			for _, e := range s.Events {
				seen[aws.ToString(e.Id)] = true
			}
			first = false
		}
		if err := printProgress(ctx, w, client, cluster, name, s, seen, &last); err != nil {
			return err
		}
		if len(s.Deployments) > 0 {
			p := s.Deployments[0]
			if ours == "" {
				ours = aws.ToString(p.Id)
			}
			switch {
			case aws.ToString(p.Id) != ours:
				// Our deployment is no longer the primary one: rolled back, or
				// replaced by a newer update.
				why := lastEventAbout(s, ours)
				if strings.Contains(why, "rolling back") {
					return fmt.Errorf("deployment %s failed and was rolled back: %s", ours, why)
				}
				return fmt.Errorf("deployment %s did not complete: %s", ours, why)
			case p.RolloutState == types.DeploymentRolloutStateFailed:
				return fmt.Errorf("deployment %s failed: %s", ours, aws.ToString(p.RolloutStateReason))
			case p.RolloutState == types.DeploymentRolloutStateCompleted && len(s.Deployments) == 1 && s.RunningCount == s.DesiredCount && s.PendingCount == 0:
				fmt.Fprintf(w, "%s: %d of %d tasks running %s\n", name, s.RunningCount, s.DesiredCount, defName(aws.ToString(s.TaskDefinition)))
				return printServices(cmd, o, []types.Service{*s})
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gave up following after %s; the deployment goes on", limit)
		}
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// deploymentLines are a service's deployments, one line each: desired,
// pending, running, healthy and failed tasks, and the rollout state.
func deploymentLines(ctx context.Context, client *ecs.Client, cluster, name string, s *types.Service) (string, error) {
	healthy, err := healthyByDeployment(ctx, client, cluster, name)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, d := range s.Deployments {
		fmt.Fprintf(&b, "  %-7s %-22s desired %d  pending %d  running %d  healthy %d  failed %d  %s\n", aws.ToString(d.Status), defName(aws.ToString(d.TaskDefinition)),
			d.DesiredCount, d.PendingCount, d.RunningCount, healthy[aws.ToString(d.Id)], d.FailedTasks, d.RolloutState)
	}
	return b.String(), nil
}

// shiftsTrafficWith says whether a service deploys by shifting traffic:
// a blue/green, canary or linear strategy and a load balancer with an
// advancedConfiguration.
func shiftsTrafficWith(s *types.Service) bool {
	if s.DeploymentConfiguration == nil || !shiftsTraffic(s.DeploymentConfiguration.Strategy) {
		return false
	}
	for _, lb := range s.LoadBalancers {
		if lb.AdvancedConfiguration != nil {
			return true
		}
	}
	return false
}

// lastEventAbout returns the newest event that names a deployment.
func lastEventAbout(s *types.Service, deployment string) string {
	for _, e := range s.Events {
		if m := aws.ToString(e.Message); strings.Contains(m, "(deployment "+deployment+")") {
			return m
		}
	}
	return "it is no longer the service's primary deployment"
}

// healthyByDeployment counts each deployment's healthy running tasks.
func healthyByDeployment(ctx context.Context, client *ecs.Client, cluster, name string) (map[string]int, error) {
	tasks, err := listTasks(ctx, client, &ecs.ListTasksInput{Cluster: optional(cluster), ServiceName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, t := range tasks {
		if aws.ToString(t.LastStatus) == "RUNNING" && (t.HealthStatus == types.HealthStatusHealthy || !hasHealthCheck(t)) {
			out[aws.ToString(t.StartedBy)]++
		}
	}
	return out, nil
}

// hasHealthCheck says whether a task reports health at all.
func hasHealthCheck(t types.Task) bool {
	return t.HealthStatus != "" && t.HealthStatus != types.HealthStatusUnknown
}

func servicePlan(o *Options, cluster *string) *cobra.Command {
	var u updateFlags
	cmd := &cobra.Command{
		Use:   "plan NAME",
		Short: "Show what an update would do, without doing it",
		Long: `Plan an update (the same flags as update) without making it: which tasks the first
step would start and stop, and where; whether the cluster has room for the tasks
maximumPercent allows; and how many steps the rollout takes, with the fewest healthy
tasks in each. Later steps assume new tasks turn healthy between steps.

With a blue/green, canary or linear strategy (--strategy, or the service's own) it also
shows the production traffic shift: when each step moves how much traffic to the new
(green) target group, the bakes between them and after the last, and when the old (blue)
revision is removed. Times count from the first shift, which comes after the green tasks
are up, test traffic has moved and the hooks before it have run.

  flotta service plan web -t web:2 --strategy canary --canary-percent 10 --canary-bake 5m --bake 5m

` + deploymentFlagsNote,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			in, err := updateInput(cmd, client, *cluster, args[0], &u)
			if err != nil {
				return err
			}
			body, err := updateBody(in)
			if err != nil {
				return err
			}
			var plan flottaapi.RolloutPlan
			if err := o.callFlotta(cmd.Context(), "PlanServiceUpdate", body, &plan); err != nil {
				return err
			}
			dc := in.DeploymentConfiguration
			if dc == nil {
				s, err := describeOne(cmd.Context(), client, *cluster, args[0])
				if err != nil {
					return err
				}
				dc = s.DeploymentConfiguration
			}
			shift := planShift(dc)
			if o.Output == "json" {
				return printJSON(cmd.OutOrStdout(), struct {
					flottaapi.RolloutPlan
					TrafficShift *trafficShift `json:"trafficShift,omitempty"`
				}{plan, shift})
			}
			err = printPlan(cmd.OutOrStdout(), &plan, args[0])
			if shift != nil {
				if perr := printShift(cmd.OutOrStdout(), shift, plan.NewDeployment); perr != nil {
					return perr
				}
			}
			return err
		},
	}
	u.add(cmd)
	return cmd
}

// updateBody is an UpdateService request as the wire has it.
func updateBody(in *ecs.UpdateServiceInput) (map[string]any, error) {
	body := map[string]any{"service": aws.ToString(in.Service)}
	if in.Cluster != nil {
		body["cluster"] = *in.Cluster
	}
	if in.TaskDefinition != nil {
		body["taskDefinition"] = *in.TaskDefinition
	}
	if in.DesiredCount != nil {
		body["desiredCount"] = *in.DesiredCount
	}
	if in.HealthCheckGracePeriodSeconds != nil {
		body["healthCheckGracePeriodSeconds"] = *in.HealthCheckGracePeriodSeconds
	}
	if in.ForceNewDeployment {
		body["forceNewDeployment"] = true
	}
	if c := in.DeploymentConfiguration; c != nil {
		dc, err := wireConfig(c)
		if err != nil {
			return nil, err
		}
		body["deploymentConfiguration"] = dc
	}
	if in.PlacementConstraints != nil {
		var cs []map[string]any
		for _, c := range in.PlacementConstraints {
			cs = append(cs, map[string]any{"type": string(c.Type), "expression": aws.ToString(c.Expression)})
		}
		body["placementConstraints"] = cs
	}
	if in.PlacementStrategy != nil {
		var ss []map[string]any
		for _, s := range in.PlacementStrategy {
			ss = append(ss, map[string]any{"type": string(s.Type), "field": aws.ToString(s.Field)})
		}
		body["placementStrategy"] = ss
	}
	return body, nil
}

// printPlan shows a rollout plan, and fails when the rollout would stall.
func printPlan(w io.Writer, p *flottaapi.RolloutPlan, name string) error {
	what := "no new deployment (the tasks stay as they are; only counts change)"
	if p.NewDeployment {
		what = "a new deployment of " + defName(p.TaskDefinition)
	}
	fmt.Fprintf(w, "Plan for %s: %s. Nothing was changed.\n", name, what)
	fmt.Fprintf(w, "Desired %d (running now %d); during the rollout at least %d healthy and at most %d tasks.\n",
		p.DesiredCount, p.RunningCount, p.MinimumHealthyTasks, p.MaximumTasks)
	capacity := "enough"
	if p.Capacity < p.CapacityNeeded {
		capacity = "NOT enough"
	}
	fmt.Fprintf(w, "Capacity: room for %d new task(s); the first step starts %d: %s.\n", p.Capacity, p.CapacityNeeded, capacity)
	if len(p.Stops) > 0 || len(p.Starts) > 0 {
		fmt.Fprintln(w, "\nFirst step:")
		rows := [][]string{}
		for _, s := range p.Stops {
			rows = append(rows, []string{"stop", shortID(s.Task), defName(s.TaskDefinition), shortID(s.Instance), "-"})
		}
		for _, s := range p.Starts {
			rows = append(rows, []string{"start", "(new)", defName(s.TaskDefinition), shortID(s.Instance), orDefault(s.AvailabilityZone, "-")})
		}
		sort.SliceStable(rows, func(i, j int) bool { return rows[i][0] > rows[j][0] })
		if err := table(w, []string{"ACTION", "TASK", "DEFINITION", "INSTANCE", "ZONE"}, rows); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\nSteps: %d\n", len(p.Steps))
	rows := [][]string{}
	for i, s := range p.Steps {
		rows = append(rows, []string{fmt.Sprint(i + 1), fmt.Sprint(s.Stop), fmt.Sprint(s.Start), fmt.Sprint(s.MinHealthy), fmt.Sprint(s.Tasks)})
	}
	if len(rows) > 0 {
		if err := table(w, []string{"STEP", "STOP", "START", "FEWEST HEALTHY", "TASKS AFTER"}, rows); err != nil {
			return err
		}
	}
	if p.Note != "" {
		fmt.Fprintf(w, "\nNote: %s\n", p.Note)
	}
	if p.Stalls {
		return errors.New("the rollout would not finish as configured")
	}
	return nil
}

// printProgress prints a followed service's new events, and its
// deployments' lines when they changed since last.
func printProgress(ctx context.Context, w io.Writer, client *ecs.Client, cluster, name string, s *types.Service, seen map[string]bool, last *string) error {
	printNewEvents(w, s.Events, seen)
	lines, err := deploymentLines(ctx, client, cluster, name, s)
	if err != nil {
		return err
	}
	if lines != *last {
		fmt.Fprintf(w, "%s\n%s", time.Now().Format("15:04:05"), lines)
		*last = lines
	}
	return nil
}
