package ecs

import (
	"context"
	"fmt"
	"slices"

	"github.com/flotta-dev/flotta/internal/model"
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
		if (tg.TargetType == "ip") != (mode == "awsvpc") || tg.TargetType == "lambda" || tg.TargetType == "alb" {
			return model.InvalidParameter("The provided target group %s has target type %s, which is incompatible with the %s network mode specified in the task definition.", tg.Arn, tg.TargetType, mode)
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
