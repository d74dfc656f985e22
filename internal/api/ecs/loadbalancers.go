package ecs

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// maxServiceLoadBalancers is how many target groups one service may
// register its tasks with (ECS's quota).
const maxServiceLoadBalancers = 5

// checkLoadBalancers validates a service's loadBalancers as ECS does: each
// names a target group of an Application or Network Load Balancer that
// exists and is in use by a listener or rule, and a container and port of
// the task definition, with a target type that fits its network mode. The
// messages are ECS's own where ECS has them.
func (a *API) checkLoadBalancers(ctx context.Context, lbs []model.LoadBalancer, td *model.TaskDefinition) error {
	if len(lbs) == 0 {
		return nil
	}
	if len(lbs) > maxServiceLoadBalancers {
		return model.InvalidParameter("A service can be registered with at most %d target groups; got %d.", maxServiceLoadBalancers, len(lbs))
	}
	cfg, err := a.State.ReadELB(ctx)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, lb := range lbs {
		if lb.TargetGroupArn == "" {
			if lb.LoadBalancerName != "" {
				return model.InvalidParameter("Classic Load Balancers are not supported: name the target group (targetGroupArn) of an Application or Network Load Balancer instead of %s.", model.Truncate(lb.LoadBalancerName, 300))
			}
			return model.InvalidParameter("targetGroupArn is required for a load balancer of a service.")
		}
		if lb.ContainerName == "" {
			return model.InvalidParameter("Container Name can not be blank.")
		}
		if lb.ContainerPort == nil {
			return model.InvalidParameter("Container Port can not be blank.")
		}
		c := containerDef(td, lb.ContainerName)
		if c == nil {
			return model.InvalidParameter("The container %s does not exist in the task definition.", model.Truncate(lb.ContainerName, 300))
		}
		if !slices.ContainsFunc(c.PortMappings, func(pm model.PortMapping) bool {
			return pm.ContainerPort != nil && *pm.ContainerPort == *lb.ContainerPort
		}) {
			return model.InvalidParameter("The container %s did not have a container port %d defined.", c.Name, *lb.ContainerPort)
		}
		tg := cfg.TargetGroups[lb.TargetGroupArn]
		if tg == nil {
			return model.InvalidParameter("Unable to assume role and validate the specified targetGroupArn. Please verify that the ECS service role being passed has the proper permissions.")
		}
		if len(cfg.LoadBalancersOf(tg.Arn)) == 0 {
			return model.InvalidParameter("The target group with targetGroupArn %s does not have an associated load balancer.", tg.Arn)
		}
		mode := td.NetworkMode
		if mode == "" {
			mode = "bridge"
		}
		if !targetTypeFits(tg, mode) {
			return model.InvalidParameter("The provided target group %s has target type %s, which is incompatible with the %s network mode specified in the task definition.", tg.Arn, tg.TargetType, mode)
		}
		if lb.AdvancedConfiguration != nil {
			if err := checkAdvancedConfiguration(cfg, tg, lb.AdvancedConfiguration, mode); err != nil {
				return err
			}
		}
		key := fmt.Sprintf("%s %s:%d", tg.Arn, c.Name, *lb.ContainerPort)
		if seen[key] {
			return model.InvalidParameter("The target group %s is named twice for container %s port %d.", tg.Arn, c.Name, *lb.ContainerPort)
		}
		seen[key] = true
	}
	return nil
}

// containerDef finds a container of a task definition by name.
func containerDef(td *model.TaskDefinition, name string) *model.ContainerDefinition {
	for i := range td.ContainerDefinitions {
		if td.ContainerDefinitions[i].Name == name {
			return &td.ContainerDefinitions[i]
		}
	}
	return nil
}

// targetTypeFits says whether tasks of a network mode can be targets of a
// group: by IP address for awsvpc, by instance and port otherwise.
func targetTypeFits(tg *state.ELBTargetGroup, mode string) bool {
	return (tg.TargetType == "ip") == (mode == "awsvpc") && tg.TargetType != "lambda" && tg.TargetType != "alb"
}

// checkAdvancedConfiguration validates a load balancer's settings for
// blue/green, linear and canary deployments against the ELB records: the
// alternate target group exists, differs from the primary and is in use by
// the same load balancer; the production and test listener rules (rule ARNs
// of an Application Load Balancer, listener ARNs of a Network Load
// Balancer) exist, differ, belong to that load balancer and forward to one
// of the two groups. The messages are ECS's own where its troubleshooting
// guide gives them.
func checkAdvancedConfiguration(cfg *state.ELBConfig, tg *state.ELBTargetGroup, ac *model.AdvancedConfiguration, mode string) error {
	if ac.AlternateTargetGroupArn == "" {
		return model.InvalidParameter("alternateTargetGroupArn is required in the advancedConfiguration of a load balancer.")
	}
	if ac.AlternateTargetGroupArn == tg.Arn {
		return model.InvalidParameter("The alternateTargetGroupArn must differ from the targetGroupArn %s: blue/green, linear and canary deployments shift traffic between two target groups.", tg.Arn)
	}
	alt := cfg.TargetGroups[ac.AlternateTargetGroupArn]
	if alt == nil {
		return model.InvalidParameter("The alternate target group %s does not exist.", model.Truncate(ac.AlternateTargetGroupArn, 300))
	}
	if !targetTypeFits(alt, mode) {
		return model.InvalidParameter("The provided target group %s has target type %s, which is incompatible with the %s network mode specified in the task definition.", alt.Arn, alt.TargetType, mode)
	}
	lbArns := cfg.LoadBalancersOf(tg.Arn)
	if !slices.ContainsFunc(cfg.LoadBalancersOf(alt.Arn), func(arn string) bool { return slices.Contains(lbArns, arn) }) {
		return model.InvalidParameter("The alternate target group %s is not associated with the load balancer of the target group %s: a listener or listener rule of %s must forward to it.", alt.Arn, tg.Arn, strings.Join(lbArns, ", "))
	}
	if ac.ProductionListenerRule == "" {
		return model.InvalidParameter("productionListenerRule is required in the advancedConfiguration of a load balancer.")
	}
	if ac.TestListenerRule != "" && ac.TestListenerRule == ac.ProductionListenerRule {
		// ECS's words (its guide, "Troubleshooting Amazon ECS blue/green deployments").
		return model.InvalidParameter("The following rules cannot be used as both production and test listener rules: %s", model.Truncate(ac.TestListenerRule, 300))
	}
	for _, r := range []struct{ name, arn string }{{"productionListenerRule", ac.ProductionListenerRule}, {"testListenerRule", ac.TestListenerRule}} {
		if r.arn == "" {
			continue
		}
		if err := checkListenerRule(cfg, r.name, r.arn, lbArns, tg.Arn, alt.Arn); err != nil {
			return err
		}
	}
	if ac.RoleArn != "" {
		a, err := model.ParseARN(ac.RoleArn)
		if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
			return model.InvalidParameter("The roleArn of an advancedConfiguration must be an IAM role ARN; got %s.", model.Truncate(ac.RoleArn, 300))
		}
	}
	return nil
}

// checkListenerRule checks a production or test listener rule: a rule ARN
// (a listener's default rule included) for an Application Load Balancer, a
// listener ARN for a Network Load Balancer; of one of the load balancers
// lbArns; forwarding to the primary or the alternate target group.
func checkListenerRule(cfg *state.ELBConfig, name, arn string, lbArns []string, primary, alternate string) error {
	// ECS's words (its guide, "Troubleshooting Amazon ECS blue/green deployments").
	badFormat := model.InvalidParameter("%s has an invalid ARN format. Must be RuleArn for ALB or ListenerArn for NLB. Got: %s", name, model.Truncate(arn, 300))
	a, err := model.ParseARN(arn)
	if err != nil || a.Service != "elasticloadbalancing" {
		return badFormat
	}
	var listener *state.ELBListener
	var actions []state.ELBAction
	isRule := strings.HasPrefix(a.Resource, "listener-rule/")
	switch {
	case isRule:
		if r := cfg.Rules[arn]; r != nil {
			listener, actions = cfg.Listeners[r.ListenerArn], r.Actions
		} else {
			for _, l := range cfg.Listeners {
				if l.DefaultRuleArn == arn {
					listener, actions = l, l.DefaultActions
				}
			}
		}
	case strings.HasPrefix(a.Resource, "listener/"):
		if l := cfg.Listeners[arn]; l != nil {
			listener, actions = l, l.DefaultActions
		}
	default:
		return badFormat
	}
	if listener == nil {
		return model.InvalidParameter("The %s %s does not exist.", name, model.Truncate(arn, 300))
	}
	lb := cfg.LoadBalancers[listener.LoadBalancerArn]
	if lb == nil {
		return model.InvalidParameter("The %s %s does not exist.", name, model.Truncate(arn, 300))
	}
	if isRule == (lb.Type == "network") {
		return badFormat
	}
	if !slices.Contains(lbArns, lb.Arn) {
		return model.InvalidParameter("The %s %s belongs to the load balancer %s, which is not associated with the target group %s.", name, arn, lb.Arn, primary)
	}
	forwards := false
	for _, act := range actions {
		for _, g := range act.TargetGroupArns() {
			forwards = forwards || g == primary || g == alternate
		}
	}
	if !forwards {
		return model.InvalidParameter("The %s %s does not forward to the target group %s or the alternate target group %s.", name, arn, primary, alternate)
	}
	return nil
}
