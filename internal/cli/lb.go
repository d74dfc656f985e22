package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"
)

// The CLI marks what it makes for a load balancer, so that `lb rm` deletes
// its own target groups and no one else's.
const (
	createdByKey   = "flotta:created-by"
	createdByValue = "cli"
)

// The default action of a listener the CLI creates before any service is
// attached: `service create --lb` replaces it with a forward.
const (
	placeholderStatus = "503"
	placeholderBody   = "no service is attached yet"
)

// LBCommand is `flotta lb`: load balancers through the ELBv2 API. Other
// packages may add subcommands to the group it returns.
func LBCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "lb",
		Aliases: []string{"loadbalancer"},
		Short:   "Create, list, describe and delete load balancers",
		Long: `Manage Flotta's load balancers through the Elastic Load Balancing v2 API. To send a
service's traffic through one, create the load balancer here and then the service with
flotta service create --lb NAME:PORT, which makes the target group, listener and rules.`,
	}
	cmd.AddCommand(lbCreate(o), lbList(o), lbDescribe(o), lbRemove(o))
	return cmd
}

func lbCreate(o *Options) *cobra.Command {
	var typ, protocol, cert string
	var port int
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a load balancer and, with --port, a listener that answers 503 until a service is attached",
		Long: `Create a load balancer (ELB CreateLoadBalancer) and print its ARN and DNS name. Creating
one that exists with the same settings shows it, with its listener on --port if it has
one. With --port, also create a listener on that port whose default action is a fixed
response, 503 "` + placeholderBody + `", until flotta service create --lb NAME:PORT makes
it forward to a service. An HTTPS listener serves the IAM server certificate that
--certificate names. A network load balancer's listener can only forward, so for
--type network leave --port out and let flotta service create --lb make the listener.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if typ != "application" && typ != "network" {
				return fmt.Errorf("--type must be application or network, not %q", typ)
			}
			withListener := cmd.Flags().Changed("port")
			if !withListener && (cmd.Flags().Changed("protocol") || cert != "") {
				return errors.New("--protocol and --certificate describe a listener: give its --port too")
			}
			if withListener {
				if typ == "network" {
					return errors.New("a network load balancer's listener can only forward to a target group: leave --port out, and flotta service create --lb NAME:PORT creates the listener")
				}
				if protocol == "" {
					protocol = "HTTP"
				}
				if protocol == "HTTPS" && cert == "" {
					return errors.New("an HTTPS listener needs --certificate (the ARN of an IAM server certificate)")
				}
				if protocol != "HTTP" && protocol != "HTTPS" {
					return fmt.Errorf("an application load balancer listens on HTTP or HTTPS, not %q", protocol)
				}
				if cert != "" && protocol != "HTTPS" {
					return errors.New("--certificate is for an HTTPS listener: add --protocol HTTPS")
				}
			}
			ctx := cmd.Context()
			client, err := o.ELB(ctx)
			if err != nil {
				return err
			}
			out, err := client.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String(args[0]), Type: elbtypes.LoadBalancerTypeEnum(typ)})
			if err != nil {
				return err
			}
			lb := out.LoadBalancers[0]
			view := lbView{LoadBalancer: lb}
			var existing *elbtypes.Listener
			if withListener {
				ls, err := listenersOf(ctx, client, aws.ToString(lb.LoadBalancerArn))
				if err != nil {
					return err
				}
				for i, l := range ls {
					if aws.ToInt32(l.Port) == int32(port) {
						existing = &ls[i]
					}
				}
			}
			if existing != nil {
				// Created before: show it, as CreateLoadBalancer shows the
				// load balancer.
				view.Listeners = []elbtypes.Listener{*existing}
			} else if withListener {
				in := &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Port: aws.Int32(int32(port)),
					Protocol: elbtypes.ProtocolEnum(protocol), DefaultActions: []elbtypes.Action{placeholderAction()}}
				if cert != "" {
					in.Certificates = []elbtypes.Certificate{{CertificateArn: aws.String(cert)}}
				}
				l, err := client.CreateListener(ctx, in)
				if err != nil {
					return fmt.Errorf("load balancer %s was created, but not its listener: %w", args[0], err)
				}
				view.Listeners = l.Listeners
			}
			if o.Output == "json" {
				return printJSON(cmd.OutOrStdout(), view)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "ARN:         %s\nDNS name:    %s\n", aws.ToString(lb.LoadBalancerArn), aws.ToString(lb.DNSName))
			for _, l := range view.Listeners {
				fmt.Fprintf(w, "Listener:    %s -> %s\n", listenerName(l), describeActions(l.DefaultActions, nil))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&typ, "type", "application", "load balancer type: application (HTTP, HTTPS) or network (TCP)")
	cmd.Flags().IntVar(&port, "port", 0, "create a listener on this port, e.g. 80 (default: no listener)")
	cmd.Flags().StringVar(&protocol, "protocol", "", "the listener's protocol: HTTP or HTTPS (default HTTP)")
	cmd.Flags().StringVar(&cert, "certificate", "", "for an HTTPS listener: the ARN of the IAM server certificate it serves")
	return cmd
}

// lbView is a load balancer with its listeners, as ls and create show them
// in JSON.
type lbView struct {
	LoadBalancer elbtypes.LoadBalancer
	Listeners    []elbtypes.Listener
}

func lbList(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List load balancers with their listeners",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			client, err := o.ELB(ctx)
			if err != nil {
				return err
			}
			var views []lbView
			p := elb.NewDescribeLoadBalancersPaginator(client, &elb.DescribeLoadBalancersInput{})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				for _, lb := range page.LoadBalancers {
					ls, err := listenersOf(ctx, client, aws.ToString(lb.LoadBalancerArn))
					if err != nil {
						return err
					}
					views = append(views, lbView{LoadBalancer: lb, Listeners: ls})
				}
			}
			if o.Output == "json" {
				return printJSON(cmd.OutOrStdout(), map[string]any{"loadBalancers": views})
			}
			rows := make([][]string, 0, len(views))
			for _, v := range views {
				var ls []string
				for _, l := range v.Listeners {
					ls = append(ls, listenerName(l))
				}
				listeners := strings.Join(ls, ",")
				if listeners == "" {
					listeners = "-"
				}
				rows = append(rows, []string{aws.ToString(v.LoadBalancer.LoadBalancerName), string(v.LoadBalancer.Type), lbState(v.LoadBalancer),
					aws.ToString(v.LoadBalancer.DNSName), listeners})
			}
			return table(cmd.OutOrStdout(), []string{"NAME", "TYPE", "STATE", "DNS NAME", "LISTENERS"}, rows)
		},
	}
}

func lbRemove(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"delete"},
		Short:   "Delete a load balancer, its listeners, and the target groups the CLI made for it",
		Long: `Delete a load balancer and its listeners and rules (ELB DeleteLoadBalancer). The target
groups that flotta service create --lb made for it (tagged ` + createdByKey + `=` + createdByValue + `) are
deleted too once no load balancer uses them; other target groups are kept. Services that
named those groups keep their loadBalancers setting: delete or update them as well.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			client, err := o.ELB(ctx)
			if err != nil {
				return err
			}
			lb, err := findLB(ctx, client, args[0])
			if err != nil {
				return err
			}
			var groups []elbtypes.TargetGroup
			p := elb.NewDescribeTargetGroupsPaginator(client, &elb.DescribeTargetGroupsInput{LoadBalancerArn: lb.LoadBalancerArn})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				groups = append(groups, page.TargetGroups...)
			}
			if _, err := client.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn}); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "deleted load balancer %s\n", args[0])
			ours, err := createdByCLI(ctx, client, groups)
			if err != nil {
				return fmt.Errorf("load balancer %s was deleted, but not its target groups: %w", args[0], err)
			}
			var failed []string
			for _, tg := range groups {
				name := aws.ToString(tg.TargetGroupName)
				if !ours[aws.ToString(tg.TargetGroupArn)] {
					fmt.Fprintf(w, "kept target group %s (not made by the flotta CLI)\n", name)
					continue
				}
				if _, err := client.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: tg.TargetGroupArn}); err != nil {
					if apiCode(err) == "ResourceInUse" {
						fmt.Fprintf(w, "kept target group %s (another load balancer uses it)\n", name)
						continue
					}
					failed = append(failed, name+": "+Explain(err))
					continue
				}
				fmt.Fprintf(w, "deleted target group %s\n", name)
			}
			if len(failed) > 0 {
				return fmt.Errorf("target groups not deleted: %s", strings.Join(failed, "; "))
			}
			return nil
		},
	}
}

// createdByCLI says which of the groups carry the CLI's tag.
func createdByCLI(ctx context.Context, client *elb.Client, groups []elbtypes.TargetGroup) (map[string]bool, error) {
	ours := map[string]bool{}
	for start := 0; start < len(groups); start += 20 {
		var arns []string
		for _, tg := range groups[start:min(start+20, len(groups))] {
			arns = append(arns, aws.ToString(tg.TargetGroupArn))
		}
		out, err := client.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: arns})
		if err != nil {
			return nil, err
		}
		for _, d := range out.TagDescriptions {
			for _, t := range d.Tags {
				if aws.ToString(t.Key) == createdByKey && aws.ToString(t.Value) == createdByValue {
					ours[aws.ToString(d.ResourceArn)] = true
				}
			}
		}
	}
	return ours, nil
}

// findLB finds a load balancer by name, or says how to make one.
func findLB(ctx context.Context, client *elb.Client, name string) (*elbtypes.LoadBalancer, error) {
	out, err := client.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{name}})
	if apiCode(err) == "LoadBalancerNotFound" || (err == nil && len(out.LoadBalancers) == 0) {
		return nil, fmt.Errorf("load balancer %s not found (create it with: flotta lb create %s --port 80)", name, name)
	}
	if err != nil {
		return nil, err
	}
	return &out.LoadBalancers[0], nil
}

// listenersOf lists a load balancer's listeners.
func listenersOf(ctx context.Context, client *elb.Client, lbArn string) ([]elbtypes.Listener, error) {
	var ls []elbtypes.Listener
	p := elb.NewDescribeListenersPaginator(client, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(lbArn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		ls = append(ls, page.Listeners...)
	}
	return ls, nil
}

// placeholderAction is the default action of a listener no service uses yet.
func placeholderAction() elbtypes.Action {
	return elbtypes.Action{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{
		StatusCode: aws.String(placeholderStatus), ContentType: aws.String("text/plain"), MessageBody: aws.String(placeholderBody)}}
}

// isPlaceholder says whether actions are the CLI's 503 and nothing else.
func isPlaceholder(actions []elbtypes.Action) bool {
	if len(actions) != 1 || actions[0].Type != elbtypes.ActionTypeEnumFixedResponse || actions[0].FixedResponseConfig == nil {
		return false
	}
	c := actions[0].FixedResponseConfig
	return aws.ToString(c.StatusCode) == placeholderStatus && aws.ToString(c.MessageBody) == placeholderBody
}

// apiCode is the error code of an API error, "" for anything else.
func apiCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func lbState(lb elbtypes.LoadBalancer) string {
	if lb.State == nil {
		return "-"
	}
	return string(lb.State.Code)
}

// listenerName is PROTOCOL:PORT.
func listenerName(l elbtypes.Listener) string {
	return fmt.Sprintf("%s:%d", l.Protocol, aws.ToInt32(l.Port))
}
