package cli

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"
)

// WhoamiCommand is `flotta whoami`: STS's GetCallerIdentity.
func WhoamiCommand(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Show who the credentials in use are: the ARN, the account and the user id",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, endpoint, err := o.config(cmd.Context())
			if err != nil {
				return err
			}
			client := sts.NewFromConfig(cfg, func(so *sts.Options) {
				if endpoint != "" {
					so.BaseEndpoint = aws.String(endpoint)
				}
			})
			out, err := client.GetCallerIdentity(cmd.Context(), &sts.GetCallerIdentityInput{})
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(cmd.OutOrStdout(), out)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\naccount %s, user id %s\n", aws.ToString(out.Arn), aws.ToString(out.Account), aws.ToString(out.UserId))
			return err
		},
	}
}
