package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/spf13/cobra"
)

// ClusterCommand is `flotta cluster`.
func ClusterCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{Use: "cluster", Short: "Create, list, describe and delete clusters"}
	cmd.AddCommand(clusterCreate(o), clusterList(o), clusterDescribe(o), clusterRemove(o))
	return cmd
}

func clusterCreate(o *Options) *cobra.Command {
	var tags []string
	var insights string
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a cluster (or show the one of that name that exists)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			in := &ecs.CreateClusterInput{ClusterName: aws.String(args[0])}
			for _, t := range tags {
				k, v, ok := strings.Cut(t, "=")
				if !ok {
					return fmt.Errorf("--tag %q: use KEY=VALUE", t)
				}
				in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
			if insights != "" {
				in.Settings = []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String(insights)}}
			}
			out, err := client.CreateCluster(cmd.Context(), in)
			if err != nil {
				return err
			}
			return printClusters(cmd, o, []types.Cluster{*out.Cluster})
		},
	}
	cmd.Flags().StringArrayVar(&tags, "tag", nil, "tag the cluster, KEY=VALUE (repeatable)")
	cmd.Flags().StringVar(&insights, "container-insights", "", "containerInsights setting: enabled, disabled or enhanced")
	return cmd
}

func clusterList(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List active clusters",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			var arns []string
			p := ecs.NewListClustersPaginator(client, &ecs.ListClustersInput{})
			for p.HasMorePages() {
				page, err := p.NextPage(cmd.Context())
				if err != nil {
					return err
				}
				arns = append(arns, page.ClusterArns...)
			}
			var clusters []types.Cluster
			for start := 0; start < len(arns); start += 100 {
				out, err := client.DescribeClusters(cmd.Context(), &ecs.DescribeClustersInput{Clusters: arns[start:min(start+100, len(arns))]})
				if err != nil {
					return err
				}
				clusters = append(clusters, out.Clusters...)
			}
			return printClusters(cmd, o, clusters)
		},
	}
}

func clusterDescribe(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "describe [NAME|ARN]...",
		Short: "Describe clusters with their settings, statistics and tags (default: the default cluster)",
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			out, err := client.DescribeClusters(cmd.Context(), &ecs.DescribeClustersInput{
				Clusters: args,
				Include:  []types.ClusterField{types.ClusterFieldSettings, types.ClusterFieldStatistics, types.ClusterFieldTags, types.ClusterFieldConfigurations},
			})
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(cmd.OutOrStdout(), out)
			}
			w := cmd.OutOrStdout()
			for i, c := range out.Clusters {
				if i > 0 {
					fmt.Fprintln(w)
				}
				fmt.Fprintf(w, "Name:        %s\nARN:         %s\nStatus:      %s\n", str(c.ClusterName), str(c.ClusterArn), str(c.Status))
				fmt.Fprintf(w, "Instances:   %d\nServices:    %d\nTasks:       %d running, %d pending\n",
					c.RegisteredContainerInstancesCount, c.ActiveServicesCount, c.RunningTasksCount, c.PendingTasksCount)
				for _, s := range c.Settings {
					fmt.Fprintf(w, "Setting:     %s=%s\n", s.Name, str(s.Value))
				}
				for _, t := range c.Tags {
					fmt.Fprintf(w, "Tag:         %s=%s\n", str(t.Key), str(t.Value))
				}
			}
			for _, f := range out.Failures {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s\n", str(f.Arn), str(f.Reason))
			}
			if len(out.Failures) > 0 {
				return fmt.Errorf("%d of %d clusters not found", len(out.Failures), len(out.Failures)+len(out.Clusters))
			}
			return nil
		},
	}
}

func clusterRemove(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:     "rm NAME|ARN",
		Aliases: []string{"delete"},
		Short:   "Delete an empty cluster",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.ECS(cmd.Context())
			if err != nil {
				return err
			}
			out, err := client.DeleteCluster(cmd.Context(), &ecs.DeleteClusterInput{Cluster: aws.String(args[0])})
			if err != nil {
				return err
			}
			return printClusters(cmd, o, []types.Cluster{*out.Cluster})
		},
	}
}

func printClusters(cmd *cobra.Command, o *Options, clusters []types.Cluster) error {
	if o.Output == "json" {
		return printJSON(cmd.OutOrStdout(), map[string]any{"clusters": clusters})
	}
	rows := make([][]string, 0, len(clusters))
	for _, c := range clusters {
		rows = append(rows, []string{str(c.ClusterName), str(c.Status),
			strconv.Itoa(int(c.RegisteredContainerInstancesCount)), strconv.Itoa(int(c.ActiveServicesCount)),
			strconv.Itoa(int(c.RunningTasksCount)), strconv.Itoa(int(c.PendingTasksCount)), str(c.ClusterArn)})
	}
	return table(cmd.OutOrStdout(), []string{"NAME", "STATUS", "INSTANCES", "SERVICES", "RUNNING", "PENDING", "ARN"}, rows)
}
