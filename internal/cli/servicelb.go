package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/spf13/cobra"
)

// lbFlags are service create's --lb settings: a load balancer for users who
// would rather not learn ELB's nouns.
type lbFlags struct {
	target     string // NAME:PORT
	container  string
	path       string
	healthPath string
	// shift makes the second (green) target group and a production rule
	// for a blue/green, canary or linear service.
	shift bool
}

func (f *lbFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.target, "lb", "", "send the traffic of load balancer NAME's listener on PORT to the service, NAME:PORT (makes the target group, and the listener if there is none on PORT)")
	cmd.Flags().StringVar(&f.container, "lb-container", "", "with --lb: the container that receives the traffic (default: the first with a port mapping)")
	cmd.Flags().StringVar(&f.path, "lb-path", "", "with --lb: only requests whose path matches this pattern, e.g. /api/* (a listener rule, unless the listener serves no service yet); default: all requests")
	cmd.Flags().StringVar(&f.healthPath, "lb-health-path", "/", "with --lb: the path the target group's health check requests")
}

// check refuses --lb-* settings without --lb.
func (f *lbFlags) check(cmd *cobra.Command) error {
	if f.target != "" {
		return nil
	}
	for _, name := range []string{"lb-container", "lb-path", "lb-health-path"} {
		if cmd.Flags().Changed(name) {
			return fmt.Errorf("--%s needs --lb NAME:PORT", name)
		}
	}
	return nil
}

// lbAttachment is what attach did: the service's loadBalancers entry, and
// how to take the changes back if the service cannot be created.
type lbAttachment struct {
	LoadBalancer types.LoadBalancer
	undo         []func(context.Context) error
}

// rollback undoes attach's changes, newest first, and says what it could
// not undo.
func (a *lbAttachment) rollback(ctx context.Context, w io.Writer) {
	for i := len(a.undo) - 1; i >= 0; i-- {
		if err := a.undo[i](ctx); err != nil {
			fmt.Fprintf(w, "could not undo a load balancer change: %s\n", Explain(err))
		}
	}
}

// attach readies load balancer NAME's listener on PORT for a service: the
// target group named after it, the listener, and a forward to the group.
// Progress goes to w.
func (f *lbFlags) attach(ctx context.Context, w io.Writer, o *Options, client *ecs.Client, service, taskDef string) (*lbAttachment, error) {
	lbName, portText, ok := strings.Cut(f.target, ":")
	port, err := strconv.Atoi(portText)
	if !ok || lbName == "" || err != nil || port < 1 || port > 65535 {
		return nil, fmt.Errorf("--lb %q: use NAME:PORT, the load balancer's name and the port its listener listens on, e.g. web:80", f.target)
	}
	td, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(taskDef)})
	if err != nil {
		return nil, err
	}
	container, containerPort, err := lbContainer(td.TaskDefinition, f.container)
	if err != nil {
		return nil, err
	}
	lbs, err := o.ELB(ctx)
	if err != nil {
		return nil, err
	}
	lb, err := findLB(ctx, lbs, lbName)
	if err != nil {
		return nil, err
	}
	network := lb.Type == elbtypes.LoadBalancerTypeEnumNetwork
	if network && f.path != "" {
		return nil, fmt.Errorf("--lb-path: %s is a network load balancer, which has no rules; paths need an application load balancer", lbName)
	}
	listeners, err := listenersOf(ctx, lbs, aws.ToString(lb.LoadBalancerArn))
	if err != nil {
		return nil, err
	}
	var listener *elbtypes.Listener
	for i, l := range listeners {
		if aws.ToInt32(l.Port) == int32(port) {
			listener = &listeners[i]
		}
	}

	if f.shift && network {
		return nil, fmt.Errorf("--lb %s with a blue-green, canary or linear --strategy: %s is a network load balancer; give the service's loadBalancers with an advancedConfiguration (the listener ARN as productionListenerRule) through the AWS CLI or an SDK", f.target, lbName)
	}

	a := &lbAttachment{}
	tg, err := f.targetGroup(ctx, w, lbs, a, targetGroupName(service), td.TaskDefinition.NetworkMode, containerPort, network)
	if err != nil {
		return nil, err
	}
	forward := []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroupArn}}
	tgName := aws.ToString(tg.TargetGroupName)
	var green *elbtypes.TargetGroup
	if f.shift {
		// The new revision's group: the production rule forwards to both,
		// all traffic to the first until a deployment shifts it.
		if green, err = f.targetGroup(ctx, w, lbs, a, greenGroupName(service), td.TaskDefinition.NetworkMode, containerPort, network); err != nil {
			a.rollback(ctx, w)
			return nil, err
		}
		forward = []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
			{TargetGroupArn: tg.TargetGroupArn, Weight: aws.Int32(1)}, {TargetGroupArn: green.TargetGroupArn, Weight: aws.Int32(0)}}}}}
		tgName += " (and " + aws.ToString(green.TargetGroupName) + ", weight 0)"
	}
	var productionRule *string
	switch {
	case listener == nil:
		protocol := elbtypes.ProtocolEnumHttp
		if network {
			protocol = elbtypes.ProtocolEnumTcp
		}
		out, err := lbs.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Port: aws.Int32(int32(port)),
			Protocol: protocol, DefaultActions: forward})
		if err != nil {
			a.rollback(ctx, w)
			return nil, fmt.Errorf("create a listener on port %d of %s: %w", port, lbName, err)
		}
		arn := out.Listeners[0].ListenerArn
		a.undo = append(a.undo, func(ctx context.Context) error {
			_, err := lbs.DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: arn})
			return err
		})
		if f.shift {
			if productionRule, err = defaultRule(ctx, lbs, arn); err != nil {
				a.rollback(ctx, w)
				return nil, err
			}
		}
		fmt.Fprintf(w, "created listener %s:%d on %s, forwarding to target group %s%s\n", protocol, port, lbName, tgName, f.wholeListener())
	case isPlaceholder(listener.DefaultActions) || f.path == "":
		before := listener.DefaultActions
		if _, err := lbs.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: listener.ListenerArn, DefaultActions: forward}); err != nil {
			a.rollback(ctx, w)
			return nil, fmt.Errorf("make listener %s of %s forward to %s: %w", listenerName(*listener), lbName, tgName, err)
		}
		a.undo = append(a.undo, func(ctx context.Context) error {
			_, err := lbs.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: listener.ListenerArn, DefaultActions: before})
			return err
		})
		if f.shift {
			if productionRule, err = defaultRule(ctx, lbs, listener.ListenerArn); err != nil {
				a.rollback(ctx, w)
				return nil, err
			}
		}
		was := ""
		if !isPlaceholder(before) {
			was = " (it did: " + describeActions(before, nil) + ")"
		}
		fmt.Fprintf(w, "listener %s of %s forwards to target group %s by default%s%s\n", listenerName(*listener), lbName, tgName, was, f.wholeListener())
	default:
		priority, err := nextPriority(ctx, lbs, listener.ListenerArn)
		if err != nil {
			a.rollback(ctx, w)
			return nil, err
		}
		out, err := lbs.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: listener.ListenerArn, Priority: aws.Int32(priority), Actions: forward,
			Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{f.path}}}}})
		if err != nil {
			a.rollback(ctx, w)
			return nil, fmt.Errorf("add a rule for %s to listener %s of %s: %w", f.path, listenerName(*listener), lbName, err)
		}
		arn := out.Rules[0].RuleArn
		a.undo = append(a.undo, func(ctx context.Context) error {
			_, err := lbs.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: arn})
			return err
		})
		productionRule = arn
		fmt.Fprintf(w, "listener %s of %s forwards path %s to target group %s (rule priority %d)\n", listenerName(*listener), lbName, f.path, tgName, priority)
	}
	a.LoadBalancer = types.LoadBalancer{TargetGroupArn: tg.TargetGroupArn, ContainerName: aws.String(container), ContainerPort: aws.Int32(containerPort)}
	if f.shift {
		a.LoadBalancer.AdvancedConfiguration = &types.AdvancedConfiguration{AlternateTargetGroupArn: green.TargetGroupArn, ProductionListenerRule: productionRule}
		fmt.Fprintf(w, "production listener rule %s; new revisions start in target group %s and take its traffic by the rule's weights\n",
			shortID(aws.ToString(productionRule)), aws.ToString(green.TargetGroupName))
	}
	return a, nil
}

// defaultRule is the ARN of a listener's default rule: the production
// listener rule of a service that takes the listener's whole traffic.
func defaultRule(ctx context.Context, lbs *elb.Client, listenerArn *string) (*string, error) {
	out, err := lbs.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: listenerArn})
	if err != nil {
		return nil, err
	}
	for _, r := range out.Rules {
		if aws.ToBool(r.IsDefault) {
			return r.RuleArn, nil
		}
	}
	return nil, fmt.Errorf("listener %s has no default rule", aws.ToString(listenerArn))
}

// greenGroupName is the name of a service's second target group, which a
// blue/green, canary or linear deployment's new revision starts in.
func greenGroupName(service string) string {
	name := targetGroupName(service)
	return strings.TrimRight(name[:min(len(name), 32-len("-green"))], "-") + "-green"
}

// wholeListener explains why --lb-path made no rule: a listener that served
// nothing yet now serves the service for every path.
func (f *lbFlags) wholeListener() string {
	if f.path == "" {
		return ""
	}
	return fmt.Sprintf(" for every path, not only %s, as it served no service yet", f.path)
}

// targetGroup creates a target group of the service named name (or takes
// the one of that name with the same settings).
func (f *lbFlags) targetGroup(ctx context.Context, w io.Writer, lbs *elb.Client, a *lbAttachment, name string, mode types.NetworkMode,
	port int32, network bool) (*elbtypes.TargetGroup, error) {
	existed := true
	if _, err := lbs.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{name}}); apiCode(err) == "TargetGroupNotFound" {
		existed = false
	} else if err != nil {
		return nil, err
	}
	targetType := elbtypes.TargetTypeEnumInstance
	if mode == types.NetworkModeAwsvpc {
		targetType = elbtypes.TargetTypeEnumIp
	}
	in := &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(port), TargetType: targetType,
		HealthCheckPath: aws.String(f.healthPath), Tags: []elbtypes.Tag{{Key: aws.String(createdByKey), Value: aws.String(createdByValue)}}}
	if network {
		in.Protocol = elbtypes.ProtocolEnumTcp
		in.HealthCheckPath = nil
		if f.healthPath != "/" {
			in.HealthCheckProtocol = elbtypes.ProtocolEnumHttp
			in.HealthCheckPath = aws.String(f.healthPath)
		}
	}
	out, err := lbs.CreateTargetGroup(ctx, in)
	if apiCode(err) == "DuplicateTargetGroupName" {
		return nil, fmt.Errorf("a target group named %s exists with other settings than the service needs (%s:%d, target type %s, health check path %s): delete it, or give the service another name",
			name, in.Protocol, port, targetType, aws.ToString(in.HealthCheckPath))
	}
	if err != nil {
		return nil, fmt.Errorf("create target group %s: %w", name, err)
	}
	tg := out.TargetGroups[0]
	if existed {
		fmt.Fprintf(w, "using target group %s (%s:%d, target type %s)\n", name, tg.Protocol, port, tg.TargetType)
		return &tg, nil
	}
	a.undo = append(a.undo, func(ctx context.Context) error {
		_, err := lbs.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: tg.TargetGroupArn})
		return err
	})
	fmt.Fprintf(w, "created target group %s (%s:%d, target type %s)\n", name, tg.Protocol, port, tg.TargetType)
	return &tg, nil
}

// lbContainer picks the container that receives the load balancer's
// traffic and its first mapped port.
func lbContainer(td *types.TaskDefinition, want string) (string, int32, error) {
	family := fmt.Sprintf("%s:%d", aws.ToString(td.Family), td.Revision)
	for _, c := range td.ContainerDefinitions {
		name := aws.ToString(c.Name)
		if want != "" && name != want {
			continue
		}
		for _, pm := range c.PortMappings {
			if pm.ContainerPort != nil {
				return name, *pm.ContainerPort, nil
			}
		}
		if want != "" {
			return "", 0, fmt.Errorf("container %s of task definition %s has no port mapping: the load balancer needs a containerPort to send traffic to", want, family)
		}
	}
	if want != "" {
		return "", 0, fmt.Errorf("task definition %s has no container named %s (--lb-container)", family, want)
	}
	return "", 0, fmt.Errorf("task definition %s has no container with a port mapping: the load balancer needs a containerPort to send traffic to (add portMappings)", family)
}

// nextPriority is one more than the highest priority of a listener's
// rules: a new path rule comes after those already there.
func nextPriority(ctx context.Context, lbs *elb.Client, listenerArn *string) (int32, error) {
	out, err := lbs.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: listenerArn})
	if err != nil {
		return 0, err
	}
	next := int32(1)
	for _, r := range out.Rules {
		if p, err := strconv.Atoi(aws.ToString(r.Priority)); err == nil && int32(p) >= next {
			next = int32(p) + 1
		}
	}
	if next > 50000 {
		return 0, errors.New("the listener's rules already use priority 50000, the highest there is")
	}
	return next, nil
}

// targetGroupName is a service name as ELB allows a target group to be
// named: at most 32 letters, digits and hyphens, no hyphen at either end
// and never two in a row.
func targetGroupName(service string) string {
	var b []byte
	for _, c := range []byte(service) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			c = '-'
		}
		if c == '-' && len(b) > 0 && b[len(b)-1] == '-' {
			continue
		}
		b = append(b, c)
	}
	name := strings.Trim(string(b[:min(len(b), 32)]), "-")
	if name == "" {
		name = "service"
	}
	return name
}

// serviceTargetHealth shows, for each target group a service names, how its
// targets are.
func serviceTargetHealth(ctx context.Context, w io.Writer, o *Options, s *types.Service) error {
	var arns []string
	for _, lb := range s.LoadBalancers {
		if arn := aws.ToString(lb.TargetGroupArn); arn != "" {
			arns = append(arns, arn)
		}
	}
	if len(arns) == 0 {
		return nil
	}
	lbs, err := o.ELB(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\nLoad balancing:")
	for _, lb := range s.LoadBalancers {
		fmt.Fprintf(w, "  target group %s -> container %s port %d\n", groupNameOf(aws.ToString(lb.TargetGroupArn)), aws.ToString(lb.ContainerName), aws.ToInt32(lb.ContainerPort))
	}
	groups, err := groupHealth(ctx, lbs, arns)
	if apiCode(err) == "TargetGroupNotFound" {
		// The service outlived its groups (deleted with their load balancer).
		fmt.Fprintf(w, "  %s\n", Explain(err))
		return nil
	}
	if err != nil {
		return err
	}
	for _, g := range groups {
		var b strings.Builder
		printGroupHealth(&b, g)
		if err := writeIndented(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}
