package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/spf13/cobra"

	"github.com/flotta-dev/flotta/internal/flottaapi"
)

// InstanceCommand is `flotta instance`.
func InstanceCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{Use: "instance", Short: "List, describe and drain container instances"}
	var cluster string
	cmd.PersistentFlags().StringVar(&cluster, "cluster", "", "cluster (default: default)")

	describeAll := func(cmd *cobra.Command, ids []string) ([]types.ContainerInstance, error) {
		client, err := o.ECS(cmd.Context())
		if err != nil {
			return nil, err
		}
		if ids == nil {
			p := ecs.NewListContainerInstancesPaginator(client, &ecs.ListContainerInstancesInput{Cluster: optional(cluster)})
			for p.HasMorePages() {
				page, err := p.NextPage(cmd.Context())
				if err != nil {
					return nil, err
				}
				ids = append(ids, page.ContainerInstanceArns...)
			}
		}
		var out []types.ContainerInstance
		for start := 0; start < len(ids); start += 100 {
			page, err := client.DescribeContainerInstances(cmd.Context(), &ecs.DescribeContainerInstancesInput{
				Cluster: optional(cluster), ContainerInstances: ids[start:min(start+100, len(ids))]})
			if err != nil {
				return nil, err
			}
			for _, f := range page.Failures {
				return nil, fmt.Errorf("container instance %s: %s", str(f.Arn), str(f.Reason))
			}
			out = append(out, page.ContainerInstances...)
		}
		return out, nil
	}
	print := func(cmd *cobra.Command, list []types.ContainerInstance) error {
		if o.Output == "json" {
			return printJSON(cmd.OutOrStdout(), map[string]any{"containerInstances": list})
		}
		rows := [][]string{}
		for _, ci := range list {
			rows = append(rows, []string{shortID(aws.ToString(ci.ContainerInstanceArn)), str(ci.Status), strconv.FormatBool(ci.AgentConnected),
				strconv.Itoa(int(ci.RunningTasksCount)), strconv.Itoa(int(ci.PendingTasksCount)),
				fmt.Sprintf("%d/%d", resource(ci.RemainingResources, "CPU"), resource(ci.RegisteredResources, "CPU")),
				fmt.Sprintf("%d/%d", resource(ci.RemainingResources, "MEMORY"), resource(ci.RegisteredResources, "MEMORY")),
				attribute(ci.Attributes, "ecs.availability-zone")})
		}
		return table(cmd.OutOrStdout(), []string{"INSTANCE", "STATUS", "AGENT", "RUNNING", "PENDING", "CPU FREE", "MEMORY FREE", "ZONE"}, rows)
	}
	ls := &cobra.Command{
		Use: "ls", Aliases: []string{"list"}, Short: "List container instances", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := describeAll(cmd, nil)
			if err != nil {
				return err
			}
			return print(cmd, list)
		},
	}
	describe := &cobra.Command{
		Use: "describe INSTANCE", Short: "Describe a container instance, its resources and attributes", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := describeAll(cmd, args)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(cmd.OutOrStdout(), map[string]any{"containerInstances": list})
			}
			ci := list[0]
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Instance:    %s\nStatus:      %s\nAgent:       connected=%v version=%s\nRegistered:  %s\n",
				aws.ToString(ci.ContainerInstanceArn), str(ci.Status), ci.AgentConnected, agentVersion(ci), when(ci.RegisteredAt))
			fmt.Fprintf(w, "Tasks:       %d running, %d pending\n", ci.RunningTasksCount, ci.PendingTasksCount)
			fmt.Fprintf(w, "CPU:         %d of %d free\nMemory:      %d of %d MiB free\n",
				resource(ci.RemainingResources, "CPU"), resource(ci.RegisteredResources, "CPU"),
				resource(ci.RemainingResources, "MEMORY"), resource(ci.RegisteredResources, "MEMORY"))
			var attrs []string
			for _, a := range ci.Attributes {
				if v := aws.ToString(a.Value); v != "" {
					attrs = append(attrs, str(a.Name)+"="+v)
				} else if !strings.HasPrefix(str(a.Name), "com.amazonaws.ecs.capability.docker-remote-api.") {
					attrs = append(attrs, str(a.Name))
				}
			}
			fmt.Fprintf(w, "Attributes:  %s\n", strings.Join(attrs, "\n             "))
			return nil
		},
	}
	setState := func(status types.ContainerInstanceStatus, use, short string) *cobra.Command {
		return &cobra.Command{
			Use: use + " INSTANCE...", Short: short, Args: cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				client, err := o.ECS(cmd.Context())
				if err != nil {
					return err
				}
				out, err := client.UpdateContainerInstancesState(cmd.Context(), &ecs.UpdateContainerInstancesStateInput{
					Cluster: optional(cluster), ContainerInstances: args, Status: status})
				if err != nil {
					return err
				}
				for _, f := range out.Failures {
					return fmt.Errorf("container instance %s: %s %s", str(f.Arn), str(f.Reason), aws.ToString(f.Detail))
				}
				return print(cmd, out.ContainerInstances)
			},
		}
	}
	cmd.AddCommand(ls, describe,
		setState(types.ContainerInstanceStatusDraining, "drain", "Drain container instances: no new tasks; service tasks move away"),
		setState(types.ContainerInstanceStatusActive, "activate", "Make drained container instances ACTIVE again"))
	return cmd
}

func resource(rs []types.Resource, name string) int {
	for _, r := range rs {
		if aws.ToString(r.Name) == name {
			return int(r.IntegerValue)
		}
	}
	return 0
}

func attribute(as []types.Attribute, name string) string {
	for _, a := range as {
		if aws.ToString(a.Name) == name {
			return aws.ToString(a.Value)
		}
	}
	return "-"
}

func agentVersion(ci types.ContainerInstance) string {
	if ci.VersionInfo == nil {
		return "-"
	}
	return aws.ToString(ci.VersionInfo.AgentVersion)
}

// TokenCommand is `flotta token`.
func TokenCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Make, list and revoke join tokens for agents"}
	var ttl time.Duration
	var uses int
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a join token: an agent exchanges it for its own credentials",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var out flottaapi.CreateJoinTokenOutput
			if err := o.callFlotta(cmd.Context(), "CreateJoinToken", flottaapi.CreateJoinTokenInput{TTLSeconds: int(ttl.Seconds()), Uses: uses}, &out); err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(cmd.OutOrStdout(), out)
			}
			exp := out.ExpiresAt.Time
			fmt.Fprintln(cmd.OutOrStdout(), out.Token)
			fmt.Fprintf(cmd.ErrOrStderr(), "\nValid for %d join(s) until %s. On each machine, run:\n\n  flotta agent --server ENDPOINT --cluster CLUSTER --join-token %s\n",
				out.Uses, exp.Local().Format("2006-01-02 15:04"), out.Token)
			return nil
		},
	}
	create.Flags().DurationVar(&ttl, "ttl", 24*time.Hour, "how long the token can be used")
	create.Flags().IntVar(&uses, "uses", 1, "how many agents can join with it")
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List join tokens: those that can be used, and those that ran out in the last day",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var out flottaapi.ListJoinTokensOutput
			if err := o.callFlotta(cmd.Context(), "ListJoinTokens", flottaapi.ListJoinTokensInput{}, &out); err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(cmd.OutOrStdout(), out)
			}
			rows := [][]string{}
			for _, t := range out.Tokens {
				state := "usable"
				if !t.Usable {
					state = "spent"
				}
				rows = append(rows, []string{t.ID, state, strconv.Itoa(t.UsesLeft), t.ExpiresAt.Time.Local().Format("2006-01-02 15:04"), t.CreatedBy})
			}
			return table(cmd.OutOrStdout(), []string{"ID", "STATE", "USES LEFT", "EXPIRES", "CREATED BY"}, rows)
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke ID|TOKEN",
		Short: "Revoke a join token: no agent can join with it any more (agents that joined keep their credentials)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.callFlotta(cmd.Context(), "RevokeJoinToken", flottaapi.RevokeJoinTokenInput{ID: args[0]}, nil); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "revoked")
			return nil
		},
	}
	cmd.AddCommand(create, ls, revoke)
	return cmd
}
