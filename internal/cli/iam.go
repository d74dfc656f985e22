package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/spf13/cobra"
)

// iamClient builds an SDK IAM client from the flags and environment.
func (o *Options) iamClient(ctx context.Context) (*iam.Client, error) {
	cfg, endpoint, err := o.config(ctx)
	if err != nil {
		return nil, err
	}
	return iam.NewFromConfig(cfg, func(io *iam.Options) {
		if endpoint != "" {
			io.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// policyARN takes a managed policy's ARN or its name in the caller's account.
func policyARN(ctx context.Context, c *iam.Client, ref string) (string, error) {
	if strings.HasPrefix(ref, "arn:") {
		return ref, nil
	}
	pages := iam.NewListPoliciesPaginator(c, &iam.ListPoliciesInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return "", err
		}
		for _, p := range page.Policies {
			if aws.ToString(p.PolicyName) == ref {
				return aws.ToString(p.Arn), nil
			}
		}
	}
	return "", fmt.Errorf("no managed policy named %q (flotta iam policy ls)", ref)
}

// readDocument reads a policy document from a file, or "-" for stdin.
func readDocument(cmd *cobra.Command, file string) (string, error) {
	if file == "" {
		return "", fmt.Errorf("a policy document is required: -f FILE (or - for stdin)")
	}
	if file == "-" {
		b, err := readAll(cmd.InOrStdin())
		return string(b), err
	}
	b, err := os.ReadFile(file)
	return string(b), err
}

// IAMCommand is `flotta iam`: users, roles and policies for the common cases.
func IAMCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{Use: "iam", Short: "Manage IAM users, roles and policies (the common cases of the IAM API)"}
	cmd.AddCommand(iamUserCommand(o), iamRoleCommand(o), iamPolicyCommand(o))
	return cmd
}

func iamUserCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Create, list and delete IAM users, and make their access keys"}
	var policies []string
	create := &cobra.Command{
		Use: "create NAME", Short: "Create a user, and attach managed policies to it (--policy, repeatable)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.iamClient(cmd.Context())
			if err != nil {
				return err
			}
			out, err := c.CreateUser(cmd.Context(), &iam.CreateUserInput{UserName: aws.String(args[0])})
			if err != nil {
				return err
			}
			for _, p := range policies {
				arn, err := policyARN(cmd.Context(), c, p)
				if err != nil {
					return err
				}
				if _, err := c.AttachUserPolicy(cmd.Context(), &iam.AttachUserPolicyInput{UserName: aws.String(args[0]), PolicyArn: aws.String(arn)}); err != nil {
					return err
				}
			}
			fmt.Fprintln(cmd.OutOrStdout(), aws.ToString(out.User.Arn))
			return nil
		},
	}
	create.Flags().StringArrayVar(&policies, "policy", nil, "a managed policy (name or ARN) to attach")
	ls := &cobra.Command{
		Use: "ls", Short: "List users", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.iamClient(cmd.Context())
			if err != nil {
				return err
			}
			rows := [][]string{}
			pages := iam.NewListUsersPaginator(c, &iam.ListUsersInput{})
			for pages.HasMorePages() {
				page, err := pages.NextPage(cmd.Context())
				if err != nil {
					return err
				}
				for _, u := range page.Users {
					rows = append(rows, []string{aws.ToString(u.UserName), aws.ToString(u.Arn), when(u.CreateDate)})
				}
			}
			return table(cmd.OutOrStdout(), []string{"NAME", "ARN", "CREATED"}, rows)
		},
	}
	key := &cobra.Command{
		Use: "key NAME", Short: "Make an access key for a user; its secret is shown this once, as a credentials-file profile", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.iamClient(cmd.Context())
			if err != nil {
				return err
			}
			out, err := c.CreateAccessKey(cmd.Context(), &iam.CreateAccessKeyInput{UserName: aws.String(args[0])})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", args[0],
				aws.ToString(out.AccessKey.AccessKeyId), aws.ToString(out.AccessKey.SecretAccessKey))
			return nil
		},
	}
	rm := &cobra.Command{
		Use: "rm NAME", Short: "Delete a user, with its access keys and policies", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, name := cmd.Context(), aws.String(args[0])
			c, err := o.iamClient(ctx)
			if err != nil {
				return err
			}
			keys, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: name})
			if err != nil {
				return err
			}
			for _, k := range keys.AccessKeyMetadata {
				if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: name, AccessKeyId: k.AccessKeyId}); err != nil {
					return err
				}
			}
			inline, err := c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: name})
			if err != nil {
				return err
			}
			for _, p := range inline.PolicyNames {
				if _, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: name, PolicyName: aws.String(p)}); err != nil {
					return err
				}
			}
			attached, err := c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: name})
			if err != nil {
				return err
			}
			for _, p := range attached.AttachedPolicies {
				if _, err := c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: name, PolicyArn: p.PolicyArn}); err != nil {
					return err
				}
			}
			groups, err := c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: name})
			if err != nil {
				return err
			}
			for _, g := range groups.Groups {
				if _, err := c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: name, GroupName: g.GroupName}); err != nil {
					return err
				}
			}
			if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: name}); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "deleted")
			return nil
		},
	}
	cmd.AddCommand(create, ls, key, rm)
	return cmd
}

func iamRoleCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{Use: "role", Short: "Create, list and delete IAM roles"}
	var trustFile, service string
	var policies []string
	create := &cobra.Command{
		Use: "create NAME", Short: "Create a role that a service (--service ecs-tasks.amazonaws.com) or a trust policy (-f FILE) may assume", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var trust string
			switch {
			case service != "" && trustFile != "":
				return fmt.Errorf("give --service or --trust-policy, not both")
			case service != "":
				trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + service + `"},"Action":"sts:AssumeRole"}]}`
			default:
				var err error
				if trust, err = readDocument(cmd, trustFile); err != nil {
					return fmt.Errorf("--trust-policy: %w", err)
				}
			}
			c, err := o.iamClient(cmd.Context())
			if err != nil {
				return err
			}
			out, err := c.CreateRole(cmd.Context(), &iam.CreateRoleInput{RoleName: aws.String(args[0]), AssumeRolePolicyDocument: aws.String(trust)})
			if err != nil {
				return err
			}
			for _, p := range policies {
				arn, err := policyARN(cmd.Context(), c, p)
				if err != nil {
					return err
				}
				if _, err := c.AttachRolePolicy(cmd.Context(), &iam.AttachRolePolicyInput{RoleName: aws.String(args[0]), PolicyArn: aws.String(arn)}); err != nil {
					return err
				}
			}
			fmt.Fprintln(cmd.OutOrStdout(), aws.ToString(out.Role.Arn))
			return nil
		},
	}
	create.Flags().StringVar(&service, "service", "", "the service principal that may assume the role (ecs-tasks.amazonaws.com for task roles)")
	create.Flags().StringVarP(&trustFile, "trust-policy", "f", "", "the trust policy document (a file, or - for stdin)")
	create.Flags().StringArrayVar(&policies, "policy", nil, "a managed policy (name or ARN) to attach")
	ls := &cobra.Command{
		Use: "ls", Short: "List roles", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.iamClient(cmd.Context())
			if err != nil {
				return err
			}
			rows := [][]string{}
			pages := iam.NewListRolesPaginator(c, &iam.ListRolesInput{})
			for pages.HasMorePages() {
				page, err := pages.NextPage(cmd.Context())
				if err != nil {
					return err
				}
				for _, r := range page.Roles {
					rows = append(rows, []string{aws.ToString(r.RoleName), aws.ToString(r.Arn), when(r.CreateDate)})
				}
			}
			return table(cmd.OutOrStdout(), []string{"NAME", "ARN", "CREATED"}, rows)
		},
	}
	rm := &cobra.Command{
		Use: "rm NAME", Short: "Delete a role, with its policies", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, name := cmd.Context(), aws.String(args[0])
			c, err := o.iamClient(ctx)
			if err != nil {
				return err
			}
			inline, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: name})
			if err != nil {
				return err
			}
			for _, p := range inline.PolicyNames {
				if _, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: name, PolicyName: aws.String(p)}); err != nil {
					return err
				}
			}
			attached, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: name})
			if err != nil {
				return err
			}
			for _, p := range attached.AttachedPolicies {
				if _, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: name, PolicyArn: p.PolicyArn}); err != nil {
					return err
				}
			}
			if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: name}); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "deleted")
			return nil
		},
	}
	cmd.AddCommand(create, ls, rm)
	return cmd
}

func iamPolicyCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Create, list and attach managed policies"}
	var file, user, role string
	create := &cobra.Command{
		Use: "create NAME -f FILE", Short: "Create a managed policy from a document", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := readDocument(cmd, file)
			if err != nil {
				return err
			}
			c, err := o.iamClient(cmd.Context())
			if err != nil {
				return err
			}
			out, err := c.CreatePolicy(cmd.Context(), &iam.CreatePolicyInput{PolicyName: aws.String(args[0]), PolicyDocument: aws.String(doc)})
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), aws.ToString(out.Policy.Arn))
			return nil
		},
	}
	create.Flags().StringVarP(&file, "file", "f", "", "the policy document (a file, or - for stdin)")
	ls := &cobra.Command{
		Use: "ls", Short: "List managed policies", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.iamClient(cmd.Context())
			if err != nil {
				return err
			}
			rows := [][]string{}
			pages := iam.NewListPoliciesPaginator(c, &iam.ListPoliciesInput{})
			for pages.HasMorePages() {
				page, err := pages.NextPage(cmd.Context())
				if err != nil {
					return err
				}
				for _, p := range page.Policies {
					rows = append(rows, []string{aws.ToString(p.PolicyName), aws.ToString(p.Arn), fmt.Sprint(aws.ToInt32(p.AttachmentCount)), aws.ToString(p.DefaultVersionId)})
				}
			}
			return table(cmd.OutOrStdout(), []string{"NAME", "ARN", "ATTACHED", "VERSION"}, rows)
		},
	}
	attach := func(detach bool) *cobra.Command {
		verb := "attach"
		if detach {
			verb = "detach"
		}
		c := &cobra.Command{
			Use: verb + " POLICY (--user NAME | --role NAME)", Short: strings.ToUpper(verb[:1]) + verb[1:] + " a managed policy (name or ARN) to a user or a role", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if (user == "") == (role == "") {
					return fmt.Errorf("give --user or --role")
				}
				ctx := cmd.Context()
				client, err := o.iamClient(ctx)
				if err != nil {
					return err
				}
				arn, err := policyARN(ctx, client, args[0])
				if err != nil {
					return err
				}
				switch {
				case user != "" && !detach:
					_, err = client.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(user), PolicyArn: aws.String(arn)})
				case user != "":
					_, err = client.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String(user), PolicyArn: aws.String(arn)})
				case !detach:
					_, err = client.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(arn)})
				default:
					_, err = client.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(arn)})
				}
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), verb+"ed")
				return nil
			},
		}
		c.Flags().StringVar(&user, "user", "", "the user")
		c.Flags().StringVar(&role, "role", "", "the role")
		return c
	}
	cmd.AddCommand(create, ls, attach(false), attach(true))
	return cmd
}
