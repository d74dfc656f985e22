package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// promoteOutput is PromoteServiceDeployment's answer.
type promoteOutput struct {
	ServiceDeploymentArn string `json:"serviceDeploymentArn"`
	LifecycleStage       string `json:"lifecycleStage"`
	Strategy             string `json:"strategy"`
}

func servicePromote(o *Options, cluster *string) *cobra.Command {
	return &cobra.Command{
		Use:   "promote NAME",
		Short: "Skip the remaining bakes of a blue/green, canary or linear deployment under way",
		Long: `Promote the blue/green, canary or linear deployment under way: the traffic steps that
remain follow each other without their bakes, and the old (blue) revision is removed
without the final bake (bakeTimeInMinutes). Lifecycle hooks still run. This is
Flotta's own operation PromoteServiceDeployment; ECS has none.

  flotta service promote web`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{"service": args[0]}
			if *cluster != "" {
				body["cluster"] = *cluster
			}
			var out promoteOutput
			if err := o.callFlotta(cmd.Context(), "PromoteServiceDeployment", body, &out); err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "promoted %s deployment %s of %s (at %s): its remaining bakes are skipped\n",
				out.Strategy, shortID(out.ServiceDeploymentArn), args[0], orDefault(out.LifecycleStage, "its start"))
			return nil
		},
	}
}
