package elbv2

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// resources is what an ELB action is authorized on, as the service
// authorization reference for elasticloadbalancing lists it: the load
// balancer, target group, listener or listener rule it names (a new one's
// ARN with "*" for its id), every ARN AddTags and RemoveTags name, the rules
// SetRulePriorities names, and "*" for the Describe actions.
func (a *API) resources(_ context.Context, action string, params url.Values) ([]string, map[string][]string) {
	if strings.HasPrefix(action, "Describe") {
		return []string{"*"}, nil
	}
	one := func(name string) []string {
		if v := params.Get(name); v != "" {
			return []string{v}
		}
		return []string{"*"}
	}
	switch action {
	case "CreateLoadBalancer":
		t := "app"
		if params.Get("Type") == "network" {
			t = "net"
		}
		return []string{a.arn("loadbalancer/" + t + "/" + params.Get("Name") + "/*")}, nil
	case "CreateTargetGroup":
		return []string{a.arn("targetgroup/" + params.Get("Name") + "/*")}, nil
	case "DeleteLoadBalancer", "ModifyLoadBalancerAttributes", "CreateListener", "SetSecurityGroups", "SetSubnets", "SetIpAddressType":
		return one("LoadBalancerArn"), nil
	case "ModifyTargetGroup", "ModifyTargetGroupAttributes", "DeleteTargetGroup", "RegisterTargets", "DeregisterTargets":
		return one("TargetGroupArn"), nil
	case "ModifyListener", "DeleteListener", "CreateRule", "ModifyListenerAttributes", "AddListenerCertificates", "RemoveListenerCertificates":
		return one("ListenerArn"), nil
	case "ModifyRule", "DeleteRule":
		return one("RuleArn"), nil
	case "SetRulePriorities":
		return members(params, "RulePriorities.member.%d.RuleArn"), nil
	case "AddTags", "RemoveTags":
		return members(params, "ResourceArns.member.%d"), nil
	}
	return []string{"*"}, nil
}

// members are the values of a numbered list parameter; "*" when none.
func members(params url.Values, pattern string) []string {
	var out []string
	for i := 1; i <= 100; i++ {
		v := params.Get(fmt.Sprintf(pattern, i))
		if v == "" {
			break
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return []string{"*"}
	}
	return out
}
