package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/spf13/cobra"
)

// lbDetail is everything `lb describe` shows, in JSON as the API names it.
type lbDetail struct {
	LoadBalancer elbtypes.LoadBalancer
	Listeners    []listenerDetail
	TargetGroups []targetGroupDetail
}

type listenerDetail struct {
	Listener elbtypes.Listener
	Rules    []elbtypes.Rule
}

type targetGroupDetail struct {
	TargetGroup              elbtypes.TargetGroup
	TargetHealthDescriptions []elbtypes.TargetHealthDescription
}

func lbDescribe(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "describe NAME",
		Short: "Describe a load balancer: its listeners and rules, and the health of every target they forward to",
		Args:  cobra.ExactArgs(1),
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
			d := lbDetail{LoadBalancer: *lb}
			ls, err := listenersOf(ctx, client, aws.ToString(lb.LoadBalancerArn))
			if err != nil {
				return err
			}
			var groupArns []string
			for _, l := range ls {
				rules, err := client.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: l.ListenerArn})
				if err != nil {
					return err
				}
				d.Listeners = append(d.Listeners, listenerDetail{Listener: l, Rules: rules.Rules})
				groupArns = appendGroups(groupArns, l.DefaultActions)
				for _, r := range rules.Rules {
					groupArns = appendGroups(groupArns, r.Actions)
				}
			}
			if d.TargetGroups, err = groupHealth(ctx, client, groupArns); err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(cmd.OutOrStdout(), d)
			}
			printLBDetail(cmd.OutOrStdout(), d)
			return nil
		},
	}
}

// groupHealth describes target groups and, one call per group, the health
// of their targets.
func groupHealth(ctx context.Context, client *elb.Client, arns []string) ([]targetGroupDetail, error) {
	if len(arns) == 0 {
		return nil, nil
	}
	var out []targetGroupDetail
	// DescribeTargetGroups takes at most 20 ARNs.
	for start := 0; start < len(arns); start += 20 {
		groups, err := client.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: arns[start:min(start+20, len(arns))]})
		if err != nil {
			return nil, err
		}
		for _, tg := range groups.TargetGroups {
			h, err := client.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
			if err != nil {
				return nil, fmt.Errorf("health of target group %s: %w", aws.ToString(tg.TargetGroupName), err)
			}
			out = append(out, targetGroupDetail{TargetGroup: tg, TargetHealthDescriptions: h.TargetHealthDescriptions})
		}
	}
	return out, nil
}

// appendGroups adds the target groups actions forward to, each once.
func appendGroups(arns []string, actions []elbtypes.Action) []string {
	for _, a := range actions {
		for _, arn := range forwardTargets(a) {
			if !slices.Contains(arns, arn) {
				arns = append(arns, arn)
			}
		}
	}
	return arns
}

// forwardTargets are the ARNs of the groups an action forwards to.
func forwardTargets(a elbtypes.Action) []string {
	if a.Type != elbtypes.ActionTypeEnumForward {
		return nil
	}
	var arns []string
	if a.TargetGroupArn != nil {
		arns = append(arns, *a.TargetGroupArn)
	}
	if a.ForwardConfig != nil {
		for _, t := range a.ForwardConfig.TargetGroups {
			if t.TargetGroupArn != nil && !slices.Contains(arns, *t.TargetGroupArn) {
				arns = append(arns, *t.TargetGroupArn)
			}
		}
	}
	return arns
}

func printLBDetail(w io.Writer, d lbDetail) {
	lb := d.LoadBalancer
	fmt.Fprintf(w, "Name:        %s\nARN:         %s\nType:        %s\nScheme:      %s\nState:       %s\nDNS name:    %s\n",
		aws.ToString(lb.LoadBalancerName), aws.ToString(lb.LoadBalancerArn), lb.Type, lb.Scheme, lbState(lb), aws.ToString(lb.DNSName))
	names := map[string]string{}
	for _, g := range d.TargetGroups {
		names[aws.ToString(g.TargetGroup.TargetGroupArn)] = aws.ToString(g.TargetGroup.TargetGroupName)
	}
	for _, l := range d.Listeners {
		fmt.Fprintf(w, "\nListener %s  %s\n", listenerName(l.Listener), aws.ToString(l.Listener.ListenerArn))
		for _, c := range l.Listener.Certificates {
			fmt.Fprintf(w, "  certificate  %s\n", aws.ToString(c.CertificateArn))
		}
		rows := [][]string{}
		var def []string
		for _, r := range l.Rules {
			row := []string{aws.ToString(r.Priority), describeConditions(r.Conditions), describeActions(r.Actions, names)}
			if aws.ToBool(r.IsDefault) {
				def = row
				continue
			}
			rows = append(rows, row)
		}
		if def == nil {
			def = []string{"default", "-", describeActions(l.Listener.DefaultActions, names)}
		}
		rows = append(rows, def)
		indentedTable(w, []string{"PRIORITY", "CONDITIONS", "ACTIONS"}, rows)
	}
	if len(d.Listeners) == 0 {
		fmt.Fprintln(w, "\nNo listeners.")
	}
	for _, g := range d.TargetGroups {
		fmt.Fprintln(w)
		printGroupHealth(w, g)
	}
}

// printGroupHealth shows a target group and how each of its targets is.
func printGroupHealth(w io.Writer, g targetGroupDetail) {
	tg := g.TargetGroup
	check := string(tg.HealthCheckProtocol)
	if p := aws.ToString(tg.HealthCheckPath); p != "" {
		check += " " + p
	}
	fmt.Fprintf(w, "Target group %s  %s:%d, target type %s, health check %s\n", aws.ToString(tg.TargetGroupName), tg.Protocol,
		aws.ToInt32(tg.Port), tg.TargetType, check)
	if len(g.TargetHealthDescriptions) == 0 {
		fmt.Fprintln(w, "  No targets registered.")
		return
	}
	rows := [][]string{}
	for _, t := range g.TargetHealthDescriptions {
		target, port, state, reason, desc := "-", "-", "-", "-", "-"
		if t.Target != nil {
			target = aws.ToString(t.Target.Id)
			if t.Target.Port != nil {
				port = fmt.Sprint(*t.Target.Port)
			}
		}
		if h := t.TargetHealth; h != nil {
			state = orDefault(string(h.State), "-")
			reason = orDefault(string(h.Reason), "-")
			desc = orDefault(aws.ToString(h.Description), "-")
		}
		rows = append(rows, []string{target, port, state, reason, desc})
	}
	indentedTable(w, []string{"TARGET", "PORT", "STATE", "REASON", "DESCRIPTION"}, rows)
}

// describeActions says in a few words what actions do, naming target groups
// by name where names knows them.
func describeActions(actions []elbtypes.Action, names map[string]string) string {
	var parts []string
	for _, a := range actions {
		switch a.Type {
		case elbtypes.ActionTypeEnumForward:
			var to []string
			weighted := a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 1
			for _, arn := range forwardTargets(a) {
				name := names[arn]
				if name == "" {
					name = groupNameOf(arn)
				}
				if weighted {
					for _, t := range a.ForwardConfig.TargetGroups {
						if aws.ToString(t.TargetGroupArn) == arn && t.Weight != nil {
							name = fmt.Sprintf("%s (weight %d)", name, *t.Weight)
						}
					}
				}
				to = append(to, name)
			}
			parts = append(parts, "forward to "+strings.Join(to, ", "))
		case elbtypes.ActionTypeEnumFixedResponse:
			s := "fixed response"
			if c := a.FixedResponseConfig; c != nil {
				s += " " + aws.ToString(c.StatusCode)
				if b := aws.ToString(c.MessageBody); b != "" {
					s += fmt.Sprintf(" %q", b)
				}
			}
			parts = append(parts, s)
		case elbtypes.ActionTypeEnumRedirect:
			s := "redirect"
			if c := a.RedirectConfig; c != nil {
				s += fmt.Sprintf(" %s to %s://%s:%s%s", c.StatusCode, orDefault(aws.ToString(c.Protocol), "#{protocol}"),
					orDefault(aws.ToString(c.Host), "#{host}"), orDefault(aws.ToString(c.Port), "#{port}"), orDefault(aws.ToString(c.Path), "/#{path}"))
			}
			parts = append(parts, s)
		default:
			parts = append(parts, string(a.Type))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}

// describeConditions is a rule's conditions as FIELD VALUE,... joined by
// " and ".
func describeConditions(cs []elbtypes.RuleCondition) string {
	var parts []string
	for _, c := range cs {
		values := c.Values
		switch {
		case c.PathPatternConfig != nil:
			values = c.PathPatternConfig.Values
		case c.HostHeaderConfig != nil:
			values = c.HostHeaderConfig.Values
		case c.HttpRequestMethodConfig != nil:
			values = c.HttpRequestMethodConfig.Values
		case c.SourceIpConfig != nil:
			values = c.SourceIpConfig.Values
		}
		parts = append(parts, aws.ToString(c.Field)+" "+strings.Join(values, ","))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " and ")
}

// groupNameOf is the NAME of arn:...:targetgroup/NAME/ID.
func groupNameOf(arn string) string {
	_, rest, ok := strings.Cut(arn, ":targetgroup/")
	if !ok {
		return arn
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// indentedTable is table, two spaces in.
func indentedTable(w io.Writer, header []string, rows [][]string) error {
	var b strings.Builder
	if err := table(&b, header, rows); err != nil {
		return err
	}
	return writeIndented(w, b.String())
}

// writeIndented writes text with every line two spaces in.
func writeIndented(w io.Writer, text string) error {
	for _, l := range strings.SplitAfter(text, "\n") {
		if l != "" {
			if _, err := io.WriteString(w, "  "+l); err != nil {
				return err
			}
		}
	}
	return nil
}
