package elbv2

import (
	"strings"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// ELB's ARNs:
//
//	loadbalancer/app/NAME/ID           (net for network load balancers)
//	targetgroup/NAME/ID
//	listener/app/LBNAME/LBID/ID
//	listener-rule/app/LBNAME/LBID/LISTENERID/ID
//
// where each ID is 16 random hex digits.

func (a *API) arn(resource string) string {
	sc := a.State.Scope
	return model.ARN{Partition: sc.Partition, Service: "elasticloadbalancing", Region: sc.Region, Account: sc.Account, Resource: resource}.String()
}

// typeSegment is the ARN segment of a load balancer type.
func typeSegment(lbType string) string {
	if lbType == "network" {
		return "net"
	}
	return "app"
}

// resourceOf is the resource part of an ELB ARN of this kind, or "" when s
// is not one.
func resourceOf(s, kind string) string {
	a, err := model.ParseARN(s)
	if err != nil || a.Service != "elasticloadbalancing" || !strings.HasPrefix(a.Resource, kind+"/") {
		return ""
	}
	return a.Resource
}

// checkARN refuses a value that is not an ARN of the kind, in ELB's words.
func checkARN(s, kind, what string) error {
	if resourceOf(s, kind) == "" {
		return invalid("'%s' is not a valid %s ARN", s, what)
	}
	return nil
}

func findLoadBalancer(cfg *state.ELBConfig, arn string) (*state.ELBLoadBalancer, error) {
	if arn == "" {
		return nil, needed("loadBalancerArn")
	}
	if err := checkARN(arn, "loadbalancer", "load balancer"); err != nil {
		return nil, err
	}
	lb := cfg.LoadBalancers[arn]
	if lb == nil {
		return nil, fail(CodeLoadBalancerNotFound, "Load balancer '%s' not found", arn)
	}
	return lb, nil
}

func findTargetGroup(cfg *state.ELBConfig, arn string) (*state.ELBTargetGroup, error) {
	if arn == "" {
		return nil, needed("targetGroupArn")
	}
	if err := checkARN(arn, "targetgroup", "target group"); err != nil {
		return nil, err
	}
	tg := cfg.TargetGroups[arn]
	if tg == nil {
		return nil, fail(CodeTargetGroupNotFound, "Target groups '%s' not found", arn)
	}
	return tg, nil
}

func findListener(cfg *state.ELBConfig, arn string) (*state.ELBListener, error) {
	if arn == "" {
		return nil, needed("listenerArn")
	}
	if err := checkARN(arn, "listener", "listener"); err != nil {
		return nil, err
	}
	l := cfg.Listeners[arn]
	if l == nil {
		return nil, fail(CodeListenerNotFound, "Listener '%s' not found", arn)
	}
	return l, nil
}

// findRule finds a rule; for a listener's default rule, r is nil and l is
// the listener.
func findRule(cfg *state.ELBConfig, arn string) (r *state.ELBRule, l *state.ELBListener, err error) {
	if arn == "" {
		return nil, nil, needed("ruleArn")
	}
	if err := checkARN(arn, "listener-rule", "rule"); err != nil {
		return nil, nil, err
	}
	if r := cfg.Rules[arn]; r != nil {
		return r, cfg.Listeners[r.ListenerArn], nil
	}
	for _, l := range cfg.Listeners {
		if l.DefaultRuleArn == arn {
			return nil, l, nil
		}
	}
	return nil, nil, fail(CodeRuleNotFound, "One or more rules not found")
}
